/* mcz/quantize.h - weight-only quantization of a whole model (what mcz-quantize does).
 *
 * The weights quantized are the weight inputs of Conv, ConvTranspose, Gemm and MatMul
 * (mcz/roles.h), wherever they live, that are float, float16, bfloat16 or double and have at
 * least min_elements elements; per-channel schemes use the weight's output-channel axis,
 * block-wise ones its reduction axis. Each is quantized with the scheme the parameters say
 * (mcz/quant.h) and written back in QDQ form (mcz/qdq.h), raising the opset only as far as
 * needed. Weights already in QDQ form are reported and left alone, so quantizing twice changes
 * nothing. The work is spread over threads by weight; the result does not depend on the
 * thread count.
 */
#ifndef MCZ_QUANTIZE_H
#define MCZ_QUANTIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mcz/model.h"
#include "mcz/quant.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCZ_SENSITIVE_DB 6.0

typedef struct mcz_quantize_params {
    int bits;                     /* 8 or 4 */
    mcz_qgranularity granularity; /* TENSOR, CHANNEL (output channel) or BLOCK (reduction) */
    uint32_t block_size;          /* BLOCK: 16..256 */
    bool asymmetric;              /* uint8/uint4 with zero points instead of int8/int4 */
    mcz_qmethod method;
    bool keep_sensitive;          /* 4 bits: the weights a data-free rule calls sensitive take 8
                                     bits (per channel) instead: embeddings and tied heads, the
                                     first and the last weight layers, and any weight whose 4-bit
                                     SQNR is more than MCZ_SENSITIVE_DB below the median of the
                                     model's 4-bit weights (as llama.cpp's Q4_K_M keeps a few
                                     tensors at higher precision) */
    bool mixed;                   /* mixed precision: see target_sqnr_db */
    double target_sqnr_db;        /* with `mixed`: a weight whose SQNR would fall below this
                                     takes the next higher precision: 4 bits -> 8 bits
                                     (per-channel when 4 bits were block-wise) -> float */
    uint64_t min_elements;        /* smaller weights stay float */
    const char *const *exclude;   /* glob patterns (fnmatch) on weight names and on the names of
                                     the nodes that hold or consume them; each must match some
                                     weight or node name of the model */
    size_t nexclude;
    int threads;                  /* <= 0: one per online CPU */
    mcz_progress_fn progress;     /* optional: called as weights finish (see model.h) */
    void *progress_ctx;
} mcz_quantize_params;

/* Defaults: 8 bits, per-channel, symmetric, MCZ_QMETHOD_DEFAULT (minmax at 8 bits, weighted
 * at 4), block size 32, no target, min_elements 1024, no exclusions, all cores. */
mcz_quantize_params mcz_quantize_default_params(void);

/* What happened to one weight. Strings are owned by the report. */
typedef struct mcz_quantize_result {
    const char *name;        /* the weight (for an already quantized one: the tensor its
                                DequantizeLinear produces) */
    const char *op_type;     /* the consuming op ("Conv", ...), "" if unknown */
    int rank;
    int64_t dims[MCZ_MAX_RANK];
    int32_t dtype;           /* the weight's element type before */
    int bits;                /* 8 or 4 when quantized (now or before); 0 when it stays as is */
    mcz_qgranularity granularity;
    int axis;                /* channel or block axis; -1 for per-tensor or not quantized */
    uint32_t block_size;     /* block-wise only */
    bool asymmetric;
    mcz_qmethod method;      /* quantized now: the method that chose its scales */
    double sqnr_db;          /* of the scheme chosen (+inf: exact); NAN when not measured */
    double sqnr_lower_db;    /* mixed precision: SQNR the lower precision tried would have
                                given (NAN when none was tried) */
    const char *sensitive;   /* keep_sensitive moved it up to 8 bits: why (static), else NULL */
    uint64_t count;          /* elements */
    uint64_t bytes_before;   /* the weight's values */
    uint64_t bytes_after;    /* codes + scales + zero points (bytes_before when unchanged) */
    bool already;            /* found quantized (QDQ form) in the input */
    const char *skipped;     /* NULL when quantized now or before, else why it stays float */
} mcz_quantize_result;

typedef struct mcz_quantize_report {
    mcz_quantize_result *w;  /* weight-table order: every weight feeding a supported op
                                (quantized or skipped with the reason), then the already
                                quantized ones */
    size_t n;
    size_t quantized;        /* quantized now */
    size_t at_bits[9];       /* of those, how many at 4 and at 8 bits */
    size_t skipped, already;
    uint64_t model_bytes_before;  /* all weight values of the model */
    uint64_t model_bytes_after;
    uint64_t bytes_before;   /* the weights quantized now: their float values */
    uint64_t bytes_after;    /* ... their codes, scales and zero points */
    double signal, noise;    /* summed over the weights quantized now */
    int64_t opset_before, opset_after; /* default-domain opset */
    int64_t ir_before, ir_after;
    int threads;             /* threads used */
    double seconds;          /* wall time of the quantization (not of reading or writing) */
    char *strings;           /* storage behind the names (internal) */
} mcz_quantize_report;

/* Quantize the model's weights as `p` says and rewrite them in QDQ form. On success *report
 * (NULL if not wanted) is a new report to free with mcz_quantize_report_free. Errors:
 * MCZ_ERR_ARG (bad parameters; a weight holding NaN or infinity, named with the element's
 * index), MCZ_ERR_NOT_FOUND (an --exclude pattern that matches nothing; the message suggests
 * the nearest names), MCZ_ERR_UNSUPPORTED (the opset cannot be raised), MCZ_ERR_NOMEM, and
 * what reading a weight gives. Parameter and pattern errors leave the model unchanged;
 * otherwise discard the model after an error. The weight table is rebuilt (indices change). */
mcz_status mcz_quantize_model(mcz_model *m, const mcz_quantize_params *p,
                              mcz_quantize_report **report, mcz_error *err);

void mcz_quantize_report_free(mcz_quantize_report *r);

/* Names the CLI and the reports use: "tensor", "channel", "block"; "mse", "minmax". */
const char *mcz_qgranularity_name(mcz_qgranularity g);
const char *mcz_qmethod_name(mcz_qmethod m);

#ifdef __cplusplus
}
#endif
#endif
