/* qtest.h - helpers shared by the quantize test suites: small models to quantize, looking
 * things up in a model's protobuf tree. Everything is arena memory (testmodel.h). */
#ifndef MCZ_QTEST_H
#define MCZ_QTEST_H

#include <stdbool.h>
#include <stdint.h>

#include "mcz/model.h"
#include "onnx/model_impl.h"
#include "testmodel.h"

/* Set the default-domain opset of a test model. */
void qt_opset(Onnx__ModelProto *m, int64_t version);
/* A graph input / output / value_info entry: float tensor of the given shape. */
Onnx__ValueInfoProto *qt_value(const char *name, int32_t dtype, int rank, const int64_t *dims);
void qt_input(Onnx__GraphProto *g, const char *name, int32_t dtype, int rank, const int64_t *dims);
void qt_output(Onnx__GraphProto *g, const char *name, int32_t dtype, int rank,
               const int64_t *dims);
/* Append inputs to a node. */
void qt_inputs(Onnx__NodeProto *n, int k, ...);
void qt_attr_int(Onnx__NodeProto *n, const char *name, int64_t v);
void qt_attr_ints(Onnx__NodeProto *n, const char *name, int k, ...);
void qt_attr_float(Onnx__NodeProto *n, const char *name, float v);
void qt_attr_string(Onnx__NodeProto *n, const char *name, const char *v);

/* A float tensor of the given shape with values from a seeded Laplacian source. */
Onnx__TensorProto *qt_weight(const char *name, int rank, const int64_t *dims, uint64_t seed);

/* Save `mp` in a fresh temporary folder and import it. */
mcz_model *qt_import(const Onnx__ModelProto *mp);
/* Save a model (mcz_model_save_onnx) and import it again; frees `m`. */
mcz_model *qt_reload(mcz_model *m);

/* Lookups in a loaded model's tree. */
const Onnx__NodeProto *qt_node_by_output(const Onnx__GraphProto *g, const char *output);
const Onnx__TensorProto *qt_initializer(const Onnx__GraphProto *g, const char *name);
const Onnx__AttributeProto *qt_attr(const Onnx__NodeProto *n, const char *name);
bool qt_has_input(const Onnx__GraphProto *g, const char *name);
int64_t qt_opset_of(const mcz_model *m);

/* A model's serialization (for byte comparisons), in the arena. */
uint8_t *qt_bytes(mcz_model *m, size_t *len);

#endif
