/* sample-graph.c - arena, graph builder, weight table, placements and dtypes for mcz-sample. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

/* ---- memory ---- */

#define ARENA_BLOCK (64u * 1024u)

struct sample_arena {
    struct sample_arena *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

static _Noreturn void sample_oom(void)
{
    fputs("mcz-sample: out of memory\n", stderr);
    exit(1);
}

void *sample_alloc(sample_model *m, size_t n)
{
    n = (n + 15u) & ~(size_t)15u;
    sample_arena *a = m->arena;
    if (!a || a->cap - a->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        sample_arena *b = malloc(sizeof *b + cap);
        if (!b)
            sample_oom();
        b->next = a;
        b->used = 0;
        b->cap = cap;
        m->arena = a = b;
    }
    void *p = a->data + a->used;
    a->used += n;
    memset(p, 0, n);
    return p;
}

char *sample_strf(sample_model *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        sample_oom();
    char *s = sample_alloc(m, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static void vec_push(sample_vec *v, void *p)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void **nv = realloc(v->v, cap * sizeof *nv);
        if (!nv)
            sample_oom();
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = p;
}

static void graph_free(sample_graph *g)
{
    free(g->nodes.v);
    free(g->inits.v);
    free(g->inputs.v);
    free(g->outputs.v);
    memset(g, 0, sizeof *g);
}

size_t sample_elem_size(int32_t elem_type)
{
    switch (elem_type) {
    case SAMPLE_DT_FLOAT: return 4;
    case SAMPLE_DT_INT64: return 8;
    case SAMPLE_DT_BOOL: return 1;
    case SAMPLE_DT_FLOAT16:
    case SAMPLE_DT_BFLOAT16: return 2;
    default: return 0;
    }
}

int64_t sample_nice(double v)
{
    if (v < 1)
        return 1;
    if (v < 128)
        return (int64_t)llround(v);
    int64_t step = v < 2048 ? 8 : 64;
    int64_t r = (int64_t)llround(v / (double)step) * step;
    return r < step ? step : r;
}

/* ---- model ---- */

static void graph_init(sample_model *m, sample_graph *g, const char *name)
{
    g->g = sample_alloc(m, sizeof *g->g);
    onnx__graph_proto__init(g->g);
    g->g->name = sample_strf(m, "%s", name);
}

void sample_model_init(sample_model *m, sample_dtype dtype, sample_placement placement,
                       uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->dtype = dtype;
    m->placement = placement;
    m->external = placement == SAMPLE_EXTERNAL;
    m->seed = seed;
    switch (dtype) {
    case SAMPLE_FLOAT16:
        m->store_type = m->compute_type = SAMPLE_DT_FLOAT16;
        break;
    case SAMPLE_BFLOAT16:
        /* ORT's CPU provider has no bfloat16 kernels for MatMul, Add, ...: weights are stored
         * as bfloat16 and each one is Cast to float, the graph computes in float. */
        m->store_type = SAMPLE_DT_BFLOAT16;
        m->compute_type = SAMPLE_DT_FLOAT;
        break;
    default:
        m->store_type = m->compute_type = SAMPLE_DT_FLOAT;
        break;
    }
    m->scope = "";
    graph_init(m, &m->main, "main");
    m->cur = &m->main;
}

void sample_model_free(sample_model *m)
{
    graph_free(&m->main);
    graph_free(&m->then_g);
    graph_free(&m->else_g);
    free(m->w);
    sample_arena *a = m->arena;
    while (a) {
        sample_arena *next = a->next;
        free(a);
        a = next;
    }
    memset(m, 0, sizeof *m);
}

uint64_t sample_model_weight_bytes(const sample_model *m)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < m->nw; i++)
        sum += m->w[i].nbytes;
    return sum;
}

/* ---- attributes ---- */

static Onnx__AttributeProto *attr_new(sample_model *m, const char *name,
                                      Onnx__AttributeProto__AttributeType type)
{
    Onnx__AttributeProto *a = sample_alloc(m, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = sample_strf(m, "%s", name);
    a->has_type = 1;
    a->type = type;
    return a;
}

Onnx__AttributeProto *sample_attr_int(sample_model *m, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attr_new(m, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
    return a;
}

Onnx__AttributeProto *sample_attr_float(sample_model *m, const char *name, float v)
{
    Onnx__AttributeProto *a = attr_new(m, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
    return a;
}

Onnx__AttributeProto *sample_attr_ints(sample_model *m, const char *name, size_t n,
                                       const int64_t *v)
{
    Onnx__AttributeProto *a = attr_new(m, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->ints = sample_alloc(m, n * sizeof *a->ints);
    memcpy(a->ints, v, n * sizeof *a->ints);
    a->n_ints = n;
    return a;
}

Onnx__AttributeProto *sample_attr_graph(sample_model *m, const char *name, Onnx__GraphProto *g)
{
    Onnx__AttributeProto *a = attr_new(m, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    a->g = g;
    return a;
}

Onnx__AttributeProto *sample_attr_tensor(sample_model *m, const char *name,
                                         Onnx__TensorProto *t)
{
    Onnx__AttributeProto *a = attr_new(m, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = t;
    return a;
}

/* ---- nodes ---- */

const char *sample_node(sample_model *m, const char *op, const char *out, size_t nin,
                        const char *const *in, size_t nattr, Onnx__AttributeProto **attrs)
{
    Onnx__NodeProto *n = sample_alloc(m, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = sample_strf(m, "%s", op);
    n->name = sample_strf(m, "%s%s_%u", m->scope, op, m->uniq++);
    n->input = sample_alloc(m, (nin ? nin : 1) * sizeof *n->input);
    for (size_t i = 0; i < nin; i++)
        n->input[i] = sample_strf(m, "%s", in[i]);
    n->n_input = nin;
    n->output = sample_alloc(m, sizeof *n->output);
    n->output[0] = out ? sample_strf(m, "%s", out) : sample_strf(m, "%s:0", n->name);
    n->n_output = 1;
    if (nattr) {
        n->attribute = sample_alloc(m, nattr * sizeof *n->attribute);
        memcpy(n->attribute, attrs, nattr * sizeof *n->attribute);
        n->n_attribute = nattr;
    }
    vec_push(&m->cur->nodes, n);
    return n->output[0];
}

const char *sample_op1(sample_model *m, const char *op, const char *a)
{
    return sample_node(m, op, NULL, 1, &a, 0, NULL);
}

const char *sample_op2(sample_model *m, const char *op, const char *a, const char *b)
{
    const char *in[2] = {a, b};
    return sample_node(m, op, NULL, 2, in, 0, NULL);
}

/* ---- tensors and their placement ---- */

static Onnx__TensorProto *tensor_new(sample_model *m, const char *name, int32_t elem_type,
                                     int ndims, const int64_t *dims)
{
    Onnx__TensorProto *t = sample_alloc(m, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = sample_strf(m, "%s", name);
    t->has_data_type = 1;
    t->data_type = elem_type;
    if (ndims > 0) {
        t->dims = sample_alloc(m, (size_t)ndims * sizeof *t->dims);
        memcpy(t->dims, dims, (size_t)ndims * sizeof *t->dims);
    }
    t->n_dims = (size_t)ndims;
    return t;
}

/* Put tensor `t` where the placement wants it: an initializer of the current graph, or a
 * Constant node whose output is the tensor's name. */
static void place(sample_model *m, Onnx__TensorProto *t)
{
    if (m->placement == SAMPLE_CONSTANT) {
        Onnx__AttributeProto *a = sample_attr_tensor(m, "value", t);
        sample_node(m, "Constant", t->name, 0, NULL, 1, &a);
    } else {
        vec_push(&m->cur->inits, t);
    }
}

const char *sample_weight_add(sample_model *m, const char *name, sample_wkind kind,
                              float fan_in, int ndims, const int64_t *dims)
{
    if (m->nw == m->capw) {
        size_t cap = m->capw ? m->capw * 2 : 64;
        sample_weight *nw = realloc(m->w, cap * sizeof *nw);
        if (!nw)
            sample_oom();
        m->w = nw;
        m->capw = cap;
    }
    sample_weight *w = &m->w[m->nw++];
    memset(w, 0, sizeof *w);
    w->name = sample_strf(m, "%s%s", m->scope, name);
    w->ndims = ndims;
    w->count = 1;
    for (int i = 0; i < ndims; i++) {
        w->dims[i] = dims[i];
        w->count *= (uint64_t)dims[i];
    }
    w->kind = kind;
    w->fan_in = fan_in;
    w->elem_type = m->store_type;
    w->nbytes = w->count * sample_elem_size(w->elem_type);
    w->tensor = tensor_new(m, w->name, w->elem_type, ndims, dims);
    place(m, w->tensor);
    if (m->store_type == m->compute_type)
        return w->name;
    Onnx__AttributeProto *to = sample_attr_int(m, "to", m->compute_type);
    const char *in = w->name;
    return sample_node(m, "Cast", sample_strf(m, "%s_f32", w->name), 1, &in, 1, &to);
}

const char *sample_const_i64(sample_model *m, const char *name, size_t n, const int64_t *v,
                             bool scalar)
{
    int64_t dim = (int64_t)n;
    Onnx__TensorProto *t = tensor_new(m, sample_strf(m, "%s%s", m->scope, name),
                                      SAMPLE_DT_INT64, scalar ? 0 : 1, &dim);
    uint8_t *raw = sample_alloc(m, n * 8);
    for (size_t i = 0; i < n; i++) {
        uint64_t u = (uint64_t)v[i];
        for (int b = 0; b < 8; b++)
            raw[i * 8 + (size_t)b] = (uint8_t)(u >> (8 * b));
    }
    t->has_raw_data = 1;
    t->raw_data.data = raw;
    t->raw_data.len = n * 8;
    place(m, t);
    return t->name;
}

static void encode_compute(const sample_model *m, float v, uint8_t *out)
{
    if (m->compute_type == SAMPLE_DT_FLOAT16) {
        uint16_t h = sample_f32_to_f16(v);
        out[0] = (uint8_t)h;
        out[1] = (uint8_t)(h >> 8);
    } else {
        uint32_t u;
        memcpy(&u, &v, 4);
        for (int b = 0; b < 4; b++)
            out[b] = (uint8_t)(u >> (8 * b));
    }
}

const char *sample_const_scalar(sample_model *m, const char *name, float v)
{
    Onnx__TensorProto *t = tensor_new(m, sample_strf(m, "%s%s", m->scope, name),
                                      m->compute_type, 0, NULL);
    size_t es = sample_elem_size(m->compute_type);
    t->raw_data.data = sample_alloc(m, es);
    encode_compute(m, v, t->raw_data.data);
    t->raw_data.len = es;
    t->has_raw_data = 1;
    place(m, t);
    return t->name;
}

Onnx__TensorProto *sample_tensor_value(sample_model *m, float v)
{
    int64_t one = 1;
    Onnx__TensorProto *t = tensor_new(m, "value", m->compute_type, 1, &one);
    size_t es = sample_elem_size(m->compute_type);
    t->raw_data.data = sample_alloc(m, es);
    encode_compute(m, v, t->raw_data.data);
    t->raw_data.len = es;
    t->has_raw_data = 1;
    return t;
}

void sample_value_info(sample_model *m, sample_vec *list, const char *name, int32_t elem_type,
                       size_t ndims, const char *const *dims)
{
    Onnx__ValueInfoProto *vi = sample_alloc(m, sizeof *vi);
    onnx__value_info_proto__init(vi);
    vi->name = sample_strf(m, "%s", name);
    Onnx__TypeProto *tp = sample_alloc(m, sizeof *tp);
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = sample_alloc(m, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = elem_type;
    Onnx__TensorShapeProto *sh = sample_alloc(m, sizeof *sh);
    onnx__tensor_shape_proto__init(sh);
    sh->dim = sample_alloc(m, (ndims ? ndims : 1) * sizeof *sh->dim);
    for (size_t i = 0; i < ndims; i++) {
        Onnx__TensorShapeProto__Dimension *d = sample_alloc(m, sizeof *d);
        onnx__tensor_shape_proto__dimension__init(d);
        char *end = NULL;
        long long v = strtoll(dims[i], &end, 10);
        if (end != dims[i] && *end == '\0') {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = v;
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = sample_strf(m, "%s", dims[i]);
        }
        sh->dim[i] = d;
    }
    sh->n_dim = ndims;
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->type = tp;
    vec_push(list, vi);
}

/* ---- the whole model ---- */

/* Give the node that produces `old` in the current graph the output name `name`. */
static void rename_output(sample_model *m, const char *old, const char *name)
{
    for (size_t i = m->cur->nodes.n; i-- > 0;) {
        Onnx__NodeProto *n = m->cur->nodes.v[i];
        if (n->n_output && strcmp(n->output[0], old) == 0) {
            n->output[0] = sample_strf(m, "%s", name);
            return;
        }
    }
}

static void graph_finish(sample_graph *g)
{
    g->g->node = (Onnx__NodeProto **)g->nodes.v;
    g->g->n_node = g->nodes.n;
    g->g->initializer = (Onnx__TensorProto **)g->inits.v;
    g->g->n_initializer = g->inits.n;
    g->g->input = (Onnx__ValueInfoProto **)g->inputs.v;
    g->g->n_input = g->inputs.n;
    g->g->output = (Onnx__ValueInfoProto **)g->outputs.v;
    g->g->n_output = g->outputs.n;
}

void sample_model_build(sample_model *m, const sample_family *fam, const void *cfg,
                        const char *doc, const char *const *meta)
{
    fam->input(m, cfg);
    const char *x = "x";
    if (m->placement == SAMPLE_IF) {
        graph_init(m, &m->then_g, "then_branch");
        graph_init(m, &m->else_g, "else_branch");

        m->cur = &m->then_g;
        rename_output(m, fam->body(m, cfg, x), "y_then");
        fam->output(m, cfg, &m->then_g, "y_then");

        m->cur = &m->else_g;
        m->scope = "else.";
        rename_output(m, fam->alt(m, cfg, x), "y_else");
        fam->output(m, cfg, &m->else_g, "y_else");

        m->cur = &m->main;
        m->scope = "";
        Onnx__TensorProto *t = tensor_new(m, "cond", SAMPLE_DT_BOOL, 0, NULL);
        t->raw_data.data = sample_alloc(m, 1);
        t->raw_data.data[0] = 1;
        t->raw_data.len = 1;
        t->has_raw_data = 1;
        Onnx__AttributeProto *value = sample_attr_tensor(m, "value", t);
        const char *cond = sample_node(m, "Constant", "cond", 0, NULL, 1, &value);
        graph_finish(&m->then_g);
        graph_finish(&m->else_g);
        Onnx__AttributeProto *branches[2] = {
            sample_attr_graph(m, "then_branch", m->then_g.g),
            sample_attr_graph(m, "else_branch", m->else_g.g),
        };
        sample_node(m, "If", "y", 1, &cond, 2, branches);
    } else {
        m->cur = &m->main;
        rename_output(m, fam->body(m, cfg, x), "y");
    }
    fam->output(m, cfg, &m->main, "y");
    m->main.g->name = sample_strf(m, "mcz_sample_%s", fam->name);
    graph_finish(&m->main);

    Onnx__ModelProto *mp = sample_alloc(m, sizeof *mp);
    onnx__model_proto__init(mp);
    mp->has_ir_version = 1;
    mp->ir_version = SAMPLE_IR_VERSION;
    Onnx__OperatorSetIdProto *op = sample_alloc(m, sizeof *op);
    onnx__operator_set_id_proto__init(op);
    op->domain = sample_strf(m, "%s", "");
    op->has_version = 1;
    op->version = SAMPLE_OPSET;
    mp->opset_import = sample_alloc(m, sizeof *mp->opset_import);
    mp->opset_import[0] = op;
    mp->n_opset_import = 1;
    mp->producer_name = sample_strf(m, "mcz-sample");
    mp->producer_version = sample_strf(m, "%s", MCZ_SAMPLE_VERSION);
    mp->doc_string = sample_strf(m, "%s", doc);
    size_t nmeta = 0;
    while (meta && meta[2 * nmeta])
        nmeta++;
    if (nmeta) {
        mp->metadata_props = sample_alloc(m, nmeta * sizeof *mp->metadata_props);
        for (size_t i = 0; i < nmeta; i++) {
            Onnx__StringStringEntryProto *e = sample_alloc(m, sizeof *e);
            onnx__string_string_entry_proto__init(e);
            e->key = sample_strf(m, "%s", meta[2 * i]);
            e->value = sample_strf(m, "%s", meta[2 * i + 1]);
            mp->metadata_props[i] = e;
        }
        mp->n_metadata_props = nmeta;
    }
    mp->graph = m->main.g;
    m->model = mp;
}

/* ---- where the values go ---- */

void sample_model_make_lazy(sample_model *m)
{
    for (size_t i = 0; i < m->nw; i++) {
        Onnx__TensorProto *t = m->w[i].tensor;
        t->has_raw_data = 1;
        t->raw_data.len = (size_t)m->w[i].nbytes;
        /* Never dereferenced: the writer recognises the pointer and generates the values. */
        t->raw_data.data = (uint8_t *)&m->w[i];
        t->has_data_location = 0;
        t->n_external_data = 0;
    }
}

const sample_weight *sample_model_lazy_weight(const sample_model *m, const void *data,
                                              size_t len)
{
    uintptr_t p = (uintptr_t)data, lo = (uintptr_t)m->w, hi = (uintptr_t)(m->w + m->nw);
    if (!p || !m->nw || p < lo || p >= hi || (p - lo) % sizeof *m->w)
        return NULL;
    const sample_weight *w = &m->w[(p - lo) / sizeof *m->w];
    return w->nbytes == len ? w : NULL;
}

static Onnx__StringStringEntryProto *kv(sample_model *m, const char *k, const char *v)
{
    Onnx__StringStringEntryProto *e = sample_alloc(m, sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = sample_strf(m, "%s", k);
    e->value = sample_strf(m, "%s", v);
    return e;
}

uint64_t sample_model_make_external(sample_model *m, const char *location)
{
    uint64_t pos = 0;
    for (size_t i = 0; i < m->nw; i++) {
        sample_weight *w = &m->w[i];
        uint64_t align = w->nbytes >= 65536 ? 4096 : 64;
        pos = (pos + align - 1) / align * align;
        w->offset = pos;
        pos += w->nbytes;
        Onnx__TensorProto *t = w->tensor;
        t->has_raw_data = 0;
        t->raw_data.data = NULL;
        t->raw_data.len = 0;
        t->has_data_location = 1;
        t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
        t->external_data = sample_alloc(m, 3 * sizeof *t->external_data);
        t->external_data[0] = kv(m, "location", location);
        t->external_data[1] = kv(m, "offset", sample_strf(m, "%llu", (unsigned long long)w->offset));
        t->external_data[2] = kv(m, "length", sample_strf(m, "%llu", (unsigned long long)w->nbytes));
        t->n_external_data = 3;
    }
    return pos;
}
