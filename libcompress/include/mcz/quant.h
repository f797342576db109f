/* mcz/quant.h - the weight quantizers, on plain arrays.
 *
 * Linear quantization as ONNX's QuantizeLinear / DequantizeLinear define it:
 *     q = saturate(round_half_even(x / scale) + zero_point),   x' = (q - zero_point) * scale
 * with the dequantized value x' computed in float32. Schemes:
 *   - int8 symmetric (codes -127..127, zero point 0), uint8 asymmetric (0..255 + zero point);
 *   - int4 symmetric (-8..7, zero point 0), uint4 asymmetric (0..15 + zero point);
 * over groups of elements that share one scale (and zero point):
 *   - the whole tensor (per-tensor), one output channel (per-channel), or a block of
 *     consecutive elements along one axis (block-wise; the last block may be shorter).
 * The range is either the group's min/max (symmetric: max |x|; asymmetric: [min(x,0),
 * max(x,0)], so 0 is always a code) or, with MCZ_QMETHOD_MSE, that range shrunk by the clip
 * ratio whose codes, with their least-squares scale, leave the least squared error (a
 * coarse-to-fine search over a handful of ratios; min/max is kept when it is not worse, so mse
 * is never worse than min/max for any group). The least-squares scale makes the error
 * orthogonal to the codes, so clipping does not shrink a filter's gain. MCZ_QMETHOD_WEIGHTED
 * minimises the error weighted by w_i = sqrt(mean x^2) + |x_i| instead (large values count
 * more), over a grid of 21 steps around the min/max one (and, asymmetric, the integer zero
 * points next to the rounded one), each with the weighted least-squares scale of its codes;
 * min/max is kept when it is not worse under that weighted error. Zero stays exactly zero in
 * every scheme. See docs/quantize.md.
 *
 * Everything here is deterministic and uses no global state; the functions are safe to call
 * from several threads at once on different outputs.
 */
#ifndef MCZ_QUANT_H
#define MCZ_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mcz/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mcz_qgranularity {
    MCZ_QGRAN_TENSOR = 0,  /* one scale for the whole tensor */
    MCZ_QGRAN_CHANNEL = 1, /* one scale per index of the channel axis (ONNX per-axis) */
    MCZ_QGRAN_BLOCK = 2,   /* one scale per block of block_size elements along an axis */
} mcz_qgranularity;

typedef enum mcz_qmethod {
    MCZ_QMETHOD_MSE = 0,      /* clip ratio searched per group for the least squared error */
    MCZ_QMETHOD_MINMAX = 1,   /* the group's full range (round to nearest: ONNX Runtime's) */
    MCZ_QMETHOD_WEIGHTED = 2, /* importance-weighted search: least sum w_i (x_i - x'_i)^2,
                                 w_i = rms(x) + |x_i| */
    MCZ_QMETHOD_DEFAULT = 3,  /* by bit width: MINMAX at 8 bits, WEIGHTED at 4 (so a weight
                                 that mixed precision moves up to 8 bits gets min/max) */
} mcz_qmethod;

/* The method `m` means at `bits`: MCZ_QMETHOD_DEFAULT resolved, any other returned as is. */
mcz_qmethod mcz_qmethod_for_bits(mcz_qmethod m, int bits);

#define MCZ_QBLOCK_MIN 16
#define MCZ_QBLOCK_MAX 256

/* How to quantize one tensor. */
typedef struct mcz_qscheme {
    int bits;                     /* 8 or 4 */
    bool asymmetric;              /* false: int8/int4, zero point 0; true: uint8/uint4 */
    mcz_qgranularity granularity;
    int axis;                     /* CHANNEL: the channel axis; BLOCK: the axis the blocks run
                                     along (the reduction axis); ignored for TENSOR */
    uint32_t block_size;          /* BLOCK: MCZ_QBLOCK_MIN..MCZ_QBLOCK_MAX */
    mcz_qmethod method;
    bool f16_scales;              /* round every scale to a value float16 holds exactly (when
                                     it is a normal float16), so a container can store the
                                     scales in half the bytes without changing them */
} mcz_qscheme;

/* Codes of a scheme: [*qmin, *qmax]. int8 symmetric uses -127..127 (as ONNX Runtime's own
 * quantizer does for symmetric weights), int4 symmetric -8..7, uint8 0..255, uint4 0..15. */
void mcz_qrange(int bits, bool asymmetric, int *qmin, int *qmax);

/* ONNX element type of the codes: MCZ_DT_INT8, UINT8, INT4 or UINT4 (0 for bad bits). */
int32_t mcz_qdtype(int bits, bool asymmetric);

/* Check a scheme against a tensor shape. MCZ_OK, or MCZ_ERR_ARG with a message (bad bits,
 * axis out of range, block size outside 16..256). */
mcz_status mcz_qscheme_check(const mcz_qscheme *s, int rank, const int64_t *dims,
                             mcz_error *err);

/* ---- one group ---------------------------------------------------------------------------- */

/* Quantization parameters of one group. */
typedef struct mcz_qparams {
    float scale;        /* > 0 */
    int32_t zero_point; /* 0 for symmetric schemes */
} mcz_qparams;

/* Quantize the `n` finite values x[0..n) (n >= 1) for `bits`/`asymmetric` with `method`:
 * choose the group's parameters and, when `codes` is not NULL, write its n codes (absolute,
 * zero point included). min/max: scale = range / (qmax - qmin) (symmetric: max|x| / qmax) and
 * codes = clamp(round_half_even(x / scale) + zero_point). mse: codes rounded with a clipped
 * step, and the scale the least-squares fit of x by (code - zero_point) * scale, so the codes
 * need not be round(x / scale); min/max wins when it is not worse. weighted: the same with
 * the error weighted by sqrt(mean x^2) + |x_i|, over a grid of steps (and zero points), and
 * min/max wins when its weighted error is not larger. An all-zero group gets
 * scale 1 (every code is the zero point). Returns the squared error sum((x - x')^2) in
 * double, with x' = (code - zero_point) * scale in float32. */
double mcz_qgroup_quantize(const float *x, size_t n, int bits, bool asymmetric,
                           mcz_qmethod method, mcz_qparams *p, int32_t *codes);

/* The codes of x[0..n) under p: codes[i] = clamp(round_half_even(x[i] / scale) +
 * zero_point, qmin, qmax) (QuantizeLinear). Returns the squared error in double. */
double mcz_qgroup_codes(const float *x, size_t n, const mcz_qparams *p, int qmin, int qmax,
                        int32_t *codes);

/* ---- one tensor --------------------------------------------------------------------------- */

/* A quantized tensor: codes in ONNX raw layout, scales, zero points, and what was lost. */
typedef struct mcz_qtensor {
    int32_t dtype;                /* MCZ_DT_INT8, UINT8, INT4 or UINT4 */
    mcz_qgranularity granularity;
    int axis;                     /* channel or block axis; -1 for per-tensor */
    uint32_t block_size;          /* 0 unless BLOCK */
    int rank;
    int64_t dims[MCZ_MAX_RANK];   /* shape of the codes (the original tensor's) */
    uint64_t count;
    uint8_t *codes;               /* raw layout: one byte per code, or int4 two per byte
                                     (element 2k in the low nibble, 2k+1 in the high one) */
    uint64_t codes_bytes;
    int scale_rank;               /* 0 per-tensor, 1 per-channel, rank block-wise */
    int64_t scale_dims[MCZ_MAX_RANK];
    uint64_t nscales;
    float *scales;                /* nscales, row-major in scale_dims */
    uint8_t *zero_points;         /* asymmetric: nscales codes in the raw layout of dtype
                                     (packed like the codes); NULL when symmetric */
    uint64_t zp_bytes;
    double signal;                /* sum of x^2 */
    double noise;                 /* sum of (x - x')^2 */
} mcz_qtensor;

/* Quantize the tensor `x` (`count` = product of dims elements of `dtype`: MCZ_DT_FLOAT,
 * FLOAT16, BFLOAT16 or DOUBLE, little-endian raw layout, any alignment) with scheme `s`.
 * `scratch` may be NULL. On success fills *out (the caller frees it with mcz_qtensor_free).
 * Errors: MCZ_ERR_ARG (bad scheme, or a NaN or infinite value: the message gives its index),
 * MCZ_ERR_UNSUPPORTED (dtype), MCZ_ERR_LIMIT (shape too large), MCZ_ERR_NOMEM. On error
 * *out holds nothing to free. */
mcz_status mcz_quantize_tensor(const void *x, int32_t dtype, int rank, const int64_t *dims,
                               const mcz_qscheme *s, mcz_qtensor *out, mcz_error *err);

/* Free what *q holds (not q itself) and zero it. Accepts a zeroed struct. */
void mcz_qtensor_free(mcz_qtensor *q);

/* Dequantize: out[i] = (code_i - zero_point) * scale of i's group, in float32, for the
 * q->count elements (caller-allocated). */
void mcz_qtensor_dequantize(const mcz_qtensor *q, float *out);

/* Signal-to-quantization-noise ratio in dB: 10 log10(signal / noise). +inf when noise is 0. */
double mcz_sqnr_db(double signal, double noise);

/* Index of the first NaN or infinite value of x (count elements of dtype), or -1. */
int64_t mcz_find_nonfinite(const void *x, int32_t dtype, uint64_t count);

/* float16 / bfloat16 bits to float32 (exact). */
float mcz_f16_to_f32(uint16_t h);
float mcz_bf16_to_f32(uint16_t h);

#ifdef __cplusplus
}
#endif
#endif
