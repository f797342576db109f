/* testmodel.h - hand-built ONNX models for the unit tests.
 *
 * Models are protobuf-c structs built with the onnx.pb-c.h API. Every allocation made here
 * comes from one arena that tm_reset() frees (call it from each suite's teardown), so tests
 * never free what they build. Packed bytes and paths returned here are arena memory too.
 */
#ifndef MCZ_TEST_MODEL_H
#define MCZ_TEST_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"

/* ---- arena -------------------------------------------------------------------------------- */

void *tm_alloc(size_t n);                /* zeroed; aborts the test on exhaustion */
char *tm_str(const char *s);
char *tm_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *tm_dup(const void *p, size_t n);
void tm_reset(void);

/* Append `item` to a protobuf-c repeated field (`arr`, `n`), growing it in the arena. */
void *tm_grow(void *arr, size_t n, size_t elem);
#define TM_PUSH(arr, n, item) ((arr) = tm_grow((arr), (n), sizeof *(arr)), (arr)[(n)++] = (item))

/* A dims array literal: TM_DIMS(2, 3). */
#define TM_DIMS(...) ((const int64_t[]){__VA_ARGS__})

/* ---- building ------------------------------------------------------------------------------ */

/* A model (ir_version 8, no opset_import, so `graph` is the last field on the wire). */
Onnx__ModelProto *tm_model(Onnx__GraphProto *g);
Onnx__GraphProto *tm_graph(const char *name);

/* A tensor with a shape and no values yet. */
Onnx__TensorProto *tm_tensor(const char *name, int32_t dtype, int rank, const int64_t *dims);
/* A tensor whose values are `len` raw_data bytes (copied). */
Onnx__TensorProto *tm_raw(const char *name, int32_t dtype, int rank, const int64_t *dims,
                          const void *data, size_t len);
void tm_set_raw(Onnx__TensorProto *t, const void *data, size_t len);
/* Mark external: data_location = EXTERNAL and the given keys (NULL values are left out). */
void tm_set_external(Onnx__TensorProto *t, const char *location, const char *offset,
                     const char *length);
void tm_add_external_entry(Onnx__TensorProto *t, const char *key, const char *value);

void tm_add_initializer(Onnx__GraphProto *g, Onnx__TensorProto *t);
/* A node appended to `g` (NULL name or output: none). */
Onnx__NodeProto *tm_node(Onnx__GraphProto *g, const char *op, const char *name,
                         const char *output);
/* A Constant node whose `value` attribute is `value`. */
Onnx__NodeProto *tm_constant(Onnx__GraphProto *g, const char *name, const char *output,
                             Onnx__TensorProto *value);
Onnx__AttributeProto *tm_attr_graph(Onnx__NodeProto *n, const char *attr, Onnx__GraphProto *sub);
Onnx__AttributeProto *tm_attr_graphs(Onnx__NodeProto *n, const char *attr);
Onnx__AttributeProto *tm_attr_tensor(Onnx__NodeProto *n, const char *attr, Onnx__TensorProto *t);
Onnx__AttributeProto *tm_attr_tensors(Onnx__NodeProto *n, const char *attr);

/* ---- serializing --------------------------------------------------------------------------- */

/* protobuf-c's encoding of `m`, in the arena. */
uint8_t *tm_pack(const Onnx__ModelProto *m, size_t *len);
/* Pack `m` into `dir`/`name`; returns the path (arena). */
char *tm_save(const char *dir, const char *name, const Onnx__ModelProto *m);

/* ---- values -------------------------------------------------------------------------------- */

/* `n` floats start, start+step, ... (arena). */
float *tm_ramp(size_t n, float start, float step);
/* `n` bytes that occur nowhere else in a test model: a tag byte then a counter pattern. */
uint8_t *tm_pattern(size_t n, uint8_t tag);

/* ---- hand-crafted wire bytes --------------------------------------------------------------- */

/* A growable byte string for writing protobuf wire data by hand (arena). */
typedef struct tm_bytes {
    uint8_t *p;
    size_t len, cap;
} tm_bytes;

void tm_put(tm_bytes *b, const void *p, size_t n);
void tm_put_varint(tm_bytes *b, uint64_t v);
void tm_put_tag(tm_bytes *b, uint32_t field, int wire);
/* A length-delimited field: tag, length, payload. */
void tm_put_field(tm_bytes *b, uint32_t field, const void *payload, size_t n);

#endif
