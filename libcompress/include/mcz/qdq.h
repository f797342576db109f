/* mcz/qdq.h - quantized weights in ONNX "QDQ" form: DequantizeLinear(codes, scale[, zero
 * point]) whose inputs are constants, feeding the consumers of the original float weight.
 *
 * Recognising them (mcz_model_qdq_weights) lets mcz-inspect show a quantized weight's scheme,
 * mcz-pack store its codes natively, and mcz-quantize leave it alone. Writing them
 * (mcz_model_qdq_rewrite) is what mcz-quantize does to an ONNX output. See docs/quantize.md.
 */
#ifndef MCZ_QDQ_H
#define MCZ_QDQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mcz/model.h"
#include "mcz/quant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One quantized weight: a default-domain DequantizeLinear node whose input 0 is a constant of
 * type int8, uint8, int4 or uint4, input 1 a constant float / float16 / bfloat16 scale, and
 * input 2, when present, a constant zero point of the codes' type, with shapes that agree
 * (per-tensor: a scalar or one-element scale; per-axis: a 1-D scale as long as the axis;
 * blocked: a scale of the codes' rank, ceil(D / block_size) along the axis). Constants are
 * found the way ONNX scoping finds them (initializers, Constant nodes, outer graphs). */
typedef struct mcz_qdq_weight {
    const char *name;        /* the float tensor DequantizeLinear produces */
    const char *node;        /* the DequantizeLinear node's name ("" when unnamed) */
    const char *graph;       /* graph path, as in mcz_weight.graph */
    size_t codes;            /* weight-table index of the quantized values */
    size_t scale;            /* weight-table index of the scales */
    long zero_point;         /* weight-table index of the zero points, -1 when absent */
    int32_t dtype;           /* the codes' type: MCZ_DT_INT8, UINT8, INT4 or UINT4 */
    int bits;                /* 8 or 4 */
    mcz_qgranularity granularity;
    int axis;                /* normalised to 0..rank-1; -1 for per-tensor */
    uint32_t block_size;     /* blocked only, else 0 */
    int32_t scale_dtype;     /* the scale's type (the type DequantizeLinear outputs) */
} mcz_qdq_weight;

/* Find every quantized weight of the model, in graph order (main graph first, subgraphs where
 * their node is). On success *out is a malloc'd array of *n entries (NULL when none) that the
 * caller frees with free(); its strings belong to the model and stay valid until the model
 * changes or is freed. Errors: MCZ_ERR_NOMEM. */
mcz_status mcz_model_qdq_weights(mcz_model *m, mcz_qdq_weight **out, size_t *n,
                                 mcz_error *err);

/* The default-domain opset a DequantizeLinear of `q` needs: 10 per-tensor int8/uint8, 13
 * per-axis, 21 for int4/uint4 or block_size (which also needs IR version 10). */
int64_t mcz_qdq_min_opset(const mcz_qtensor *q);

/* One weight to rewrite in QDQ form. */
typedef struct mcz_qdq_edit {
    size_t weight;   /* weight-table index of a float/float16/bfloat16/double weight */
    mcz_qtensor *q;  /* its quantization (same shape); the buffers pass to the model */
    const void *transpose; /* NULL, or the weight's mcz_weight_role.transpose: q is then in
                              the transposed (consumer's) layout, and that Transpose node
                              becomes an Identity */
} mcz_qdq_edit;

/* Rewrite each edited weight W as
 *     W_quantized (the codes) -> DequantizeLinear(W_quantized, W_scale[, W_zero_point]) -> W
 * (followed by Cast(to = W's type) -> W when W was not float32), so every consumer keeps
 * reading W. The codes stay where W lived: an initializer stays an initializer of the same
 * graph (scale and zero point join it; the new nodes go first in that graph), a Constant node
 * keeps its place (Constants for the scale and zero point and the new nodes follow it), in
 * the main graph or a subgraph. W_quantized etc. get a "_1", "_2", ... suffix when the name
 * is taken anywhere in the model. int4/uint4 codes are stored two per byte, low nibble first;
 * the DequantizeLinear has `axis` for per-axis and blocked schemes and `block_size` for
 * blocked ones. The default-domain opset is raised to the largest mcz_qdq_min_opset of the
 * edits when lower (mcz/opset.h), and the IR version to what that opset needs. An initializer
 * that was also a graph input stops being an input.
 *
 * Edits are applied in the order given; on success every edit's q has been emptied (the
 * caller still calls mcz_qtensor_free) and the weight table is rebuilt: indices change.
 * Errors: MCZ_ERR_ARG (index out of range, a weight given twice, shapes that differ, a weight
 * that is not float), MCZ_ERR_UNSUPPORTED (the opset cannot be raised; nothing changed),
 * MCZ_ERR_NOMEM (discard the model). */
mcz_status mcz_model_qdq_rewrite(mcz_model *m, mcz_qdq_edit *edits, size_t n,
                                 mcz_error *err);

#ifdef __cplusplus
}
#endif
#endif
