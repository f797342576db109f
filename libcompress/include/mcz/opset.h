/* mcz/opset.h - raise a model's ai.onnx opset version (and its IR version) as far as a new
 * operator needs, converting the nodes whose meaning changed in between.
 *
 * mcz-quantize writes DequantizeLinear nodes: per-tensor needs opset 10, per-channel (axis)
 * opset 13, int4/uint4 and block_size opset 21 with IR version 10. Models exported at older
 * opsets (paddle2onnx writes 9 and 11) must be raised first, and raising an opset is only safe
 * when every node means the same afterwards. The conversions done here follow the ONNX
 * changelog for every operator whose definition changed incompatibly between opset 7 and 21:
 *   9  BatchNormalization (spatial=1 dropped)
 *   10 Slice (starts/ends/axes attributes -> inputs), TopK (k -> input), Upsample -> Resize
 *   11 Clip (min/max -> inputs), Pad (pads/value -> inputs), Resize-10 (roi input; asymmetric
 *      coordinates, floor rounding for nearest), Scatter -> ScatterElements
 *   12 Dropout (ratio -> input)
 *   13 Squeeze, Unsqueeze, ReduceSum (axes -> input), Split (split -> input),
 *      Softmax / LogSoftmax / Hardmax (from "flatten to 2-D at axis" to one axis: kept as is
 *      when the axis is known to be the last, else rewritten as Flatten -> op -> Reshape)
 *   16 RoiAlign (the old default coordinate_transformation_mode made explicit)
 *   18 ReduceL1/L2/LogSum/LogSumExp/Max/Mean/Min/Prod/SumSquare (axes -> input),
 *      Split (num_outputs when the split is even)
 *   20 GridSample (modes renamed: bilinear -> linear, bicubic -> cubic)
 * and refuse (nothing changed) what cannot be converted exactly: opsets below 7, Scan before
 * 9, BatchNormalization with spatial=0 or training outputs, DFT before 20, GroupNormalization
 * before 21, and models with local functions. Other ops only gained types or optional
 * attributes/inputs with defaults that keep their meaning.
 */
#ifndef MCZ_OPSET_H
#define MCZ_OPSET_H

#include <stdint.h>

#include "mcz/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The version the model imports for `domain` ("" or "ai.onnx" for the default domain), or 0
 * when it imports none. */
int64_t mcz_model_opset_version(const mcz_model *m, const char *domain);

/* The lowest IR version a model with this default-domain opset may declare (ONNX's table:
 * opset 8 -> 3, 9 -> 4, 10 -> 5, 11 -> 6, 12..14 -> 7, 15..18 -> 8, 19..20 -> 9,
 * 21..22 -> 10, 23.. -> 11). */
int64_t mcz_opset_min_ir(int64_t opset);

/* The highest default-domain opset the converter knows how to reach. */
#define MCZ_OPSET_MAX 21

/* Raise the model's default-domain opset to `opset` when it is lower (otherwise nothing
 * changes), converting the nodes listed above, and its IR version to at least
 * mcz_opset_min_ir(opset). The weight table is rebuilt (indices may change: constants the
 * conversions need are added as initializers). Errors: MCZ_ERR_UNSUPPORTED naming the node
 * that cannot be converted, or when `opset` exceeds MCZ_OPSET_MAX (the model is unchanged);
 * MCZ_ERR_NOMEM (discard the model). */
mcz_status mcz_model_raise_opset(mcz_model *m, int64_t opset, mcz_error *err);

#ifdef __cplusplus
}
#endif
#endif
