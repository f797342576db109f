/* qtest.c - helpers of the quantize test suites (see qtest.h). */
#include "qtest.h"

#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/opset.h"
#include "testfs.h"

void qt_opset(Onnx__ModelProto *m, int64_t version)
{
    Onnx__OperatorSetIdProto *o = tm_alloc(sizeof *o);
    onnx__operator_set_id_proto__init(o);
    o->domain = tm_str("");
    o->has_version = 1;
    o->version = version;
    TM_PUSH(m->opset_import, m->n_opset_import, o);
}

Onnx__ValueInfoProto *qt_value(const char *name, int32_t dtype, int rank, const int64_t *dims)
{
    Onnx__ValueInfoProto *v = tm_alloc(sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = tm_str(name);
    Onnx__TypeProto *t = tm_alloc(sizeof *t);
    onnx__type_proto__init(t);
    Onnx__TypeProto__Tensor *tt = tm_alloc(sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = dtype;
    if (rank >= 0) {
        Onnx__TensorShapeProto *sh = tm_alloc(sizeof *sh);
        onnx__tensor_shape_proto__init(sh);
        for (int d = 0; d < rank; d++) {
            Onnx__TensorShapeProto__Dimension *dm = tm_alloc(sizeof *dm);
            onnx__tensor_shape_proto__dimension__init(dm);
            dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dm->dim_value = dims[d];
            TM_PUSH(sh->dim, sh->n_dim, dm);
        }
        tt->shape = sh;
    }
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    v->type = t;
    return v;
}

void qt_input(Onnx__GraphProto *g, const char *name, int32_t dtype, int rank, const int64_t *dims)
{
    TM_PUSH(g->input, g->n_input, qt_value(name, dtype, rank, dims));
}

void qt_output(Onnx__GraphProto *g, const char *name, int32_t dtype, int rank,
               const int64_t *dims)
{
    TM_PUSH(g->output, g->n_output, qt_value(name, dtype, rank, dims));
}

void qt_inputs(Onnx__NodeProto *n, int k, ...)
{
    va_list ap;
    va_start(ap, k);
    for (int i = 0; i < k; i++)
        TM_PUSH(n->input, n->n_input, tm_str(va_arg(ap, const char *)));
    va_end(ap);
}

static Onnx__AttributeProto *attr(Onnx__NodeProto *n, const char *name, int type)
{
    Onnx__AttributeProto *a = tm_alloc(sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = tm_str(name);
    a->has_type = 1;
    a->type = (Onnx__AttributeProto__AttributeType)type;
    TM_PUSH(n->attribute, n->n_attribute, a);
    return a;
}

void qt_attr_int(Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

void qt_attr_ints(Onnx__NodeProto *n, const char *name, int k, ...)
{
    Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    va_list ap;
    va_start(ap, k);
    for (int i = 0; i < k; i++)
        TM_PUSH(a->ints, a->n_ints, (int64_t)va_arg(ap, int));
    va_end(ap);
}

void qt_attr_float(Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

void qt_attr_string(Onnx__NodeProto *n, const char *name, const char *v)
{
    Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.data = (uint8_t *)tm_str(v);
    a->s.len = strlen(v);
}

Onnx__TensorProto *qt_weight(const char *name, int rank, const int64_t *dims, uint64_t seed)
{
    uint64_t n = 1;
    for (int d = 0; d < rank; d++)
        n *= (uint64_t)dims[d];
    float *v = tm_alloc((n ? n : 1) * sizeof *v);
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 12345;
    for (uint64_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double u = ((s >> 11) + 0.5) / 9007199254740992.0 - 0.5;
        v[i] = (float)(0.05 * (u < 0 ? log(1 + 2 * u) : -log(1 - 2 * u)));
    }
    return tm_raw(name, MCZ_DT_FLOAT, rank, dims, v, n * sizeof *v);
}

mcz_model *qt_import(const Onnx__ModelProto *mp)
{
    const char *path = tm_save(td_new(), "model.onnx", mp);
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx(path, &err);
    ck_assert_msg(m != NULL, "import: %s", err.msg);
    return m;
}

mcz_model *qt_reload(mcz_model *m)
{
    const char *path = td_path(td_new(), "model.onnx");
    mcz_error err = {0};
    mcz_save_opts o = {0};
    ck_assert_msg(mcz_model_save_onnx(m, path, &o, &err) == MCZ_OK, "save: %s", err.msg);
    mcz_model_free(m);
    m = mcz_model_load_onnx(path, &err);
    ck_assert_msg(m != NULL, "reload: %s", err.msg);
    return m;
}

const Onnx__NodeProto *qt_node_by_output(const Onnx__GraphProto *g, const char *output)
{
    for (size_t i = 0; i < g->n_node; i++)
        for (size_t k = 0; k < g->node[i]->n_output; k++)
            if (strcmp(g->node[i]->output[k], output) == 0)
                return g->node[i];
    return NULL;
}

const Onnx__TensorProto *qt_initializer(const Onnx__GraphProto *g, const char *name)
{
    for (size_t i = 0; i < g->n_initializer; i++)
        if (g->initializer[i]->name && strcmp(g->initializer[i]->name, name) == 0)
            return g->initializer[i];
    return NULL;
}

const Onnx__AttributeProto *qt_attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t a = 0; a < n->n_attribute; a++)
        if (strcmp(n->attribute[a]->name, name) == 0)
            return n->attribute[a];
    return NULL;
}

bool qt_has_input(const Onnx__GraphProto *g, const char *name)
{
    for (size_t i = 0; i < g->n_input; i++)
        if (strcmp(g->input[i]->name, name) == 0)
            return true;
    return false;
}

int64_t qt_opset_of(const mcz_model *m)
{
    return mcz_model_opset_version(m, "");
}

uint8_t *qt_bytes(mcz_model *m, size_t *len)
{
    uint8_t *b = NULL;
    mcz_error err = {0};
    ck_assert_msg(mcz_model_serialize(m, &b, len, &err) == MCZ_OK, "serialize: %s", err.msg);
    uint8_t *copy = tm_dup(b, *len);
    free(b);
    return copy;
}
