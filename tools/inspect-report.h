/* inspect-report.h - the one report mcz-inspect computes about an ONNX model or an .mcz
 * container, whatever it then prints: filled once from either input kind
 * (inspect_report_open), rendered as text (inspect-text.c), JSON (inspect-json.c) or HTML
 * (inspect-html.c). The JSON vocabulary of every field: docs/inspect.md. */
#ifndef MCZ_INSPECT_REPORT_H
#define MCZ_INSPECT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "mcz/load.h"
#include "mcz/model.h"
#include "mcz/qdq.h"
#include "mcz/tensorstats.h"

/* Elements above which sparsity is estimated from evenly spaced samples, not every value. */
#define INSPECT_SAMPLE_CAP (1u << 22)

enum { INSPECT_NTYPES = 32, INSPECT_NENC = 4 /* raw, zstd, planes, sparse */, INSPECT_NLOC = 5 };

/* Where a weight lives in the model (index into inspect_location_names). */
enum { INSPECT_LOC_INITIALIZER, INSPECT_LOC_CONSTANT, INSPECT_LOC_SUB_INITIALIZER,
       INSPECT_LOC_SUB_CONSTANT, INSPECT_LOC_EXTERNAL };

/* "initializer", "constant", "subgraph-initializer", "subgraph-constant", "external". */
extern const char *const inspect_location_names[INSPECT_NLOC];

/* What to compute beyond the summary and the tensor list (inspect_report_open `what`). */
enum {
    INSPECT_MODEL = 1,  /* load the model: opsets, operators, locations (every summary) */
    INSPECT_ROLES = 2,  /* ONNX: each weight's consuming op (--tensors text) */
    INSPECT_VALUES = 4, /* every tensor's sparsity; quantized: dequantized sparsity, SQNR */
    INSPECT_VERIFY = 8, /* .mcz: decode every payload and check every checksum */
};

/* Tensors, parameters and bytes of a group of tensors (by type, by encoding, by location). */
typedef struct inspect_group {
    uint64_t tensor_count, parameter_count, raw_bytes, stored_bytes;
} inspect_group;

/* How quantized codes dequantize: (code - zero point) x scale. */
typedef struct inspect_quant {
    int32_t dtype;           /* of the codes */
    const char *granularity; /* "tensor", "channel", "block" */
    int axis;                /* -1 per tensor */
    uint32_t block_size;     /* block only, else 0 */
    const char *scale;       /* name of the scales tensor */
    const char *zero_point;  /* name of the zero points tensor, NULL when 0 */
} inspect_quant;

typedef struct inspect_tensor {
    const char *name;
    int32_t dtype;
    int rank;
    const int64_t *dims;
    uint64_t count;                /* elements */
    uint64_t raw_bytes;            /* decoded (ONNX: as the file holds them) */
    uint64_t stored_bytes;         /* in the file (ONNX: raw_bytes; .mcz in skeleton: 0 below) */
    int location;                  /* INSPECT_LOC_* of the model's weight; -1 unknown */
    int external;                  /* ONNX external data */
    const char *graph, *field;     /* the model's weight: graph path, field; NULL unknown */
    long model_index;              /* the model's weight table index, -1 none */
    /* .mcz only (encoding NULL for ONNX) */
    const char *encoding;
    unsigned planes, transform, block_size;
    uint64_t offset;
    int in_skeleton, shared;       /* shared: its payload is an identical tensor's */
    long part;                     /* partitioned .mcz: its part; else -1 */
    /* quantization: codes (quantized), a QDQ scale or zero point (qdq_role) */
    int quantized;
    inspect_quant quant;
    char scheme[96];               /* "int8 channel (axis 0)", "" when not quantized */
    int bits;                      /* 8 or 4 when quantized */
    const char *qdq_role;          /* "scale", "zero point" of a QDQ weight, else NULL */
    uint64_t float_bytes;          /* QDQ codes: the bytes they stand for as float */
    int32_t float_dtype;           /* QDQ codes: the type DequantizeLinear outputs */
    const char *role_op;           /* INSPECT_ROLES: consuming op ("Conv"), NULL none */
    int role_axis;                 /* its output-channel axis */
    /* INSPECT_VALUES */
    double sparsity;               /* fraction of zero values (-0 too) as stored (codes); < 0 unknown */
    int sampled;                   /* sparsity estimated from INSPECT_SAMPLE_CAP samples */
    double value_sparsity;         /* quantized: of the dequantized values; < 0 unknown */
    double sqnr;                   /* quantized: dB against the float original; NAN unknown */
} inspect_tensor;

typedef struct inspect_partition {
    size_t node_count, tensor_count, input_count, output_count;
    uint64_t weight_bytes, skeleton_bytes;
    const char *const *inputs, *const *outputs;
} inspect_partition;

typedef struct inspect_op {
    char name[96]; /* "Conv", "com.microsoft.QLinearConv" */
    size_t count;
} inspect_op;

typedef struct inspect_opset {
    const char *domain; /* "ai.onnx" for the default domain */
    int64_t version;
} inspect_opset;

/* What --tensor NAME adds about one tensor: its values decoded. */
typedef struct inspect_detail {
    int have_stats, have_codes;  /* stats: of the values (dequantized for codes); codes */
    mcz_tensor_stats stats, codes;
    uint64_t zero_count;         /* elements equal to zero as stored (codes for quantized) */
} inspect_detail;

typedef struct inspect_report {
    const char *path;
    int is_mcz;
    uint32_t format_version;       /* .mcz */
    uint64_t file_bytes;
    int have_model;                /* INSPECT_MODEL: info, opsets, ops below are set */
    mcz_model_info info;
    inspect_opset *opsets;
    inspect_op *ops;               /* by count, most first */
    size_t op_count;
    inspect_tensor *tensors;
    size_t tensor_count;
    uint64_t parameter_count, raw_bytes, stored_bytes; /* stored: shared payloads once */
    size_t quantized_count, shared_count, skeleton_count, qdq_count;
    inspect_group by_type[INSPECT_NTYPES], by_encoding[INSPECT_NENC], by_location[INSPECT_NLOC];
    inspect_partition *partitions;
    size_t partition_count;
    int verified, verify_ok;       /* INSPECT_VERIFY */
    long bad_tensor;               /* the first bad tensor, -1 none */
    mcz_error verify_error;
    mcz_model *model;              /* owned; NULL without INSPECT_MODEL */
    mcz_file *file;                /* owned; .mcz only */
} inspect_report;

/* Fill `r` about `path` (ONNX or .mcz, by content) with the parts `what` asks for. Returns a
 * tool exit status (TOOL_OK, TOOL_FAIL), having printed any error; free with
 * inspect_report_free in every case. A failed --verify is TOOL_OK with r->verify_ok 0. */
int inspect_report_open(inspect_report *r, const char *path, unsigned what);
void inspect_report_free(inspect_report *r);

/* Index of the tensor named `name`, or -1 having printed "no tensor 'NAME'" (with
 * suggestions). */
long inspect_report_find(const inspect_report *r, const char *name);

/* Decode tensor i for --tensor. Returns a tool exit status, having printed any error. */
int inspect_report_detail(const inspect_report *r, size_t i, inspect_detail *d);


/* How codes of `dtype` dequantize, as mcz-quantize --granularity names it: "int8 channel
 * (axis 0)", "uint4 block 32 (axis 1)", "int8 tensor". */
void inspect_scheme_str(int32_t dtype, int axis, uint32_t block_size, char *buf, size_t cap);

/* raw / stored; 0 when stored is 0. */
double inspect_ratio(uint64_t raw, uint64_t stored);

#endif
