/* testmodel.c - see testmodel.h. */
#include "testmodel.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testfs.h"

/* ---- arena -------------------------------------------------------------------------------- */

static void **arena;
static size_t narena, caparena;

void *tm_alloc(size_t n)
{
    if (narena == caparena) {
        caparena = caparena ? caparena * 2 : 256;
        void **a = realloc(arena, caparena * sizeof *a);
        if (!a)
            abort();
        arena = a;
    }
    void *p = calloc(1, n ? n : 1);
    if (!p)
        abort();
    arena[narena++] = p;
    return p;
}

void tm_reset(void)
{
    for (size_t i = 0; i < narena; i++)
        free(arena[i]);
    free(arena);
    arena = NULL;
    narena = caparena = 0;
}

void *tm_dup(const void *p, size_t n)
{
    void *d = tm_alloc(n);
    if (n)
        memcpy(d, p, n);
    return d;
}

char *tm_str(const char *s)
{
    return s ? tm_dup(s, strlen(s) + 1) : NULL;
}

char *tm_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = tm_alloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void *tm_grow(void *arr, size_t n, size_t elem)
{
    if (n && (n & (n - 1)) != 0)
        return arr; /* capacity is the next power of two: room left */
    void *a = tm_alloc((n ? 2 * n : 1) * elem);
    if (n)
        memcpy(a, arr, n * elem);
    return a;
}

/* ---- building ------------------------------------------------------------------------------ */

Onnx__ModelProto *tm_model(Onnx__GraphProto *g)
{
    Onnx__ModelProto *m = tm_alloc(sizeof *m);
    onnx__model_proto__init(m);
    m->has_ir_version = 1;
    m->ir_version = 8;
    m->producer_name = tm_str("mcz-unit");
    m->graph = g;
    return m;
}

Onnx__GraphProto *tm_graph(const char *name)
{
    Onnx__GraphProto *g = tm_alloc(sizeof *g);
    onnx__graph_proto__init(g);
    g->name = tm_str(name);
    return g;
}

Onnx__TensorProto *tm_tensor(const char *name, int32_t dtype, int rank, const int64_t *dims)
{
    Onnx__TensorProto *t = tm_alloc(sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = tm_str(name);
    t->has_data_type = 1;
    t->data_type = dtype;
    t->n_dims = (size_t)rank;
    if (rank > 0)
        t->dims = tm_dup(dims, (size_t)rank * sizeof *dims);
    return t;
}

void tm_set_raw(Onnx__TensorProto *t, const void *data, size_t len)
{
    t->has_raw_data = 1;
    t->raw_data.len = len;
    t->raw_data.data = tm_dup(data, len);
}

Onnx__TensorProto *tm_raw(const char *name, int32_t dtype, int rank, const int64_t *dims,
                          const void *data, size_t len)
{
    Onnx__TensorProto *t = tm_tensor(name, dtype, rank, dims);
    tm_set_raw(t, data, len);
    return t;
}

void tm_add_external_entry(Onnx__TensorProto *t, const char *key, const char *value)
{
    Onnx__StringStringEntryProto *e = tm_alloc(sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = tm_str(key);
    e->value = tm_str(value);
    TM_PUSH(t->external_data, t->n_external_data, e);
}

void tm_set_external(Onnx__TensorProto *t, const char *location, const char *offset,
                     const char *length)
{
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (location)
        tm_add_external_entry(t, "location", location);
    if (offset)
        tm_add_external_entry(t, "offset", offset);
    if (length)
        tm_add_external_entry(t, "length", length);
}

void tm_add_initializer(Onnx__GraphProto *g, Onnx__TensorProto *t)
{
    TM_PUSH(g->initializer, g->n_initializer, t);
}

Onnx__NodeProto *tm_node(Onnx__GraphProto *g, const char *op, const char *name,
                         const char *output)
{
    Onnx__NodeProto *n = tm_alloc(sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = tm_str(op);
    n->name = tm_str(name);
    if (output)
        TM_PUSH(n->output, n->n_output, tm_str(output));
    TM_PUSH(g->node, g->n_node, n);
    return n;
}

static Onnx__AttributeProto *new_attr(Onnx__NodeProto *n, const char *name,
                                      Onnx__AttributeProto__AttributeType type)
{
    Onnx__AttributeProto *a = tm_alloc(sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = tm_str(name);
    a->has_type = 1;
    a->type = type;
    TM_PUSH(n->attribute, n->n_attribute, a);
    return a;
}

Onnx__NodeProto *tm_constant(Onnx__GraphProto *g, const char *name, const char *output,
                             Onnx__TensorProto *value)
{
    Onnx__NodeProto *n = tm_node(g, "Constant", name, output);
    tm_attr_tensor(n, "value", value);
    return n;
}

Onnx__AttributeProto *tm_attr_graph(Onnx__NodeProto *n, const char *attr, Onnx__GraphProto *sub)
{
    Onnx__AttributeProto *a = new_attr(n, attr, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    a->g = sub;
    return a;
}

Onnx__AttributeProto *tm_attr_graphs(Onnx__NodeProto *n, const char *attr)
{
    return new_attr(n, attr, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS);
}

Onnx__AttributeProto *tm_attr_tensor(Onnx__NodeProto *n, const char *attr, Onnx__TensorProto *t)
{
    Onnx__AttributeProto *a = new_attr(n, attr, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = t;
    return a;
}

Onnx__AttributeProto *tm_attr_tensors(Onnx__NodeProto *n, const char *attr)
{
    return new_attr(n, attr, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS);
}

/* ---- serializing --------------------------------------------------------------------------- */

uint8_t *tm_pack(const Onnx__ModelProto *m, size_t *len)
{
    size_t n = onnx__model_proto__get_packed_size(m);
    uint8_t *b = tm_alloc(n);
    *len = onnx__model_proto__pack(m, b);
    return b;
}

char *tm_save(const char *dir, const char *name, const Onnx__ModelProto *m)
{
    size_t len;
    uint8_t *b = tm_pack(m, &len);
    char *path = td_path(dir, name);
    td_write(path, b, len);
    return path;
}

/* ---- values -------------------------------------------------------------------------------- */

float *tm_ramp(size_t n, float start, float step)
{
    float *f = tm_alloc(n * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = start + step * (float)i;
    return f;
}

uint8_t *tm_pattern(size_t n, uint8_t tag)
{
    uint8_t *b = tm_alloc(n);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i % 2 == 0 ? tag : 0xA5 ^ (uint8_t)(i * 7));
    return b;
}

/* ---- hand-crafted wire bytes --------------------------------------------------------------- */

void tm_put(tm_bytes *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *q = tm_alloc(cap);
        if (b->len)
            memcpy(q, b->p, b->len);
        b->p = q;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

void tm_put_varint(tm_bytes *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    while (v >= 0x80) {
        t[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (uint8_t)v;
    tm_put(b, t, n);
}

void tm_put_tag(tm_bytes *b, uint32_t field, int wire)
{
    tm_put_varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

void tm_put_field(tm_bytes *b, uint32_t field, const void *payload, size_t n)
{
    tm_put_tag(b, field, 2);
    tm_put_varint(b, n);
    tm_put(b, payload, n);
}
