/* model.c - the weight table: find every weight, check it, give its values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/tensorstats.h"
#include "onnx/model_impl.h"

mcz_status mcz_model_note_foreign(mcz_model *m, Onnx__TensorProto *t, mcz_error *err)
{
    mcz_status s = mcz_grow((void **)&m->foreign, &m->capforeign, m->nforeign + 1,
                            sizeof *m->foreign, err);
    if (s == MCZ_OK)
        m->foreign[m->nforeign++] = t;
    return s;
}

/* ---- checking one tensor -------------------------------------------------------------- */

static int is_default_domain(const char *d)
{
    return !d || !*d || strcmp(d, "ai.onnx") == 0;
}

/* How many elements a typed field must hold for `count` elements of `dtype`, and which. */
static const char *typed_field(const Onnx__TensorProto *t, uint64_t count, size_t *have,
                               uint64_t *want)
{
    int32_t dt = t->data_type;
    *want = count;
    switch (dt) {
    case MCZ_DT_FLOAT: *have = t->n_float_data; return "float_data";
    case MCZ_DT_COMPLEX64: *have = t->n_float_data; *want = count * 2; return "float_data";
    case MCZ_DT_DOUBLE: *have = t->n_double_data; return "double_data";
    case MCZ_DT_COMPLEX128: *have = t->n_double_data; *want = count * 2; return "double_data";
    case MCZ_DT_INT64: *have = t->n_int64_data; return "int64_data";
    case MCZ_DT_UINT32: case MCZ_DT_UINT64: *have = t->n_uint64_data; return "uint64_data";
    case MCZ_DT_STRING: *have = t->n_string_data; return "string_data";
    case MCZ_DT_INT4: case MCZ_DT_UINT4: case 23:
        *have = t->n_int32_data; *want = count / 2 + (count & 1); return "int32_data";
    default: *have = t->n_int32_data; return "int32_data";
    }
}

static int external_key(const Onnx__TensorProto *t, const char *key, const char **val)
{
    for (size_t i = 0; i < t->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = t->external_data[i];
        if (e && e->key && strcmp(e->key, key) == 0) {
            *val = e->value ? e->value : "";
            return 1;
        }
    }
    return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
    if (!*s)
        return -1;
    uint64_t r = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || r > (UINT64_MAX - 9) / 10)
            return -1;
        r = r * 10 + (uint64_t)(*s - '0');
    }
    *v = r;
    return 0;
}

static mcz_status check_tensor(mcz_model *m, wentry *e, mcz_error *err)
{
    Onnx__TensorProto *t = e->t;
    const char *name = e->pub.name;
    if (t->segment)
        return mcz_seterr(err, MCZ_ERR_UNSUPPORTED, "%s: tensor '%s': segmented tensors are not supported",
                          m->path, name);
    if (t->n_dims > MCZ_MAX_RANK)
        return mcz_seterr(err, MCZ_ERR_LIMIT, "%s: tensor '%s': rank %zu exceeds %d", m->path, name,
                          t->n_dims, MCZ_MAX_RANK);
    uint64_t count = 1;
    for (size_t d = 0; d < t->n_dims; d++) {
        if (t->dims[d] < 0)
            return mcz_seterr(err, MCZ_ERR_FORMAT, "%s: tensor '%s': negative dimension %lld (axis %zu)",
                              m->path, name, (long long)t->dims[d], d);
        if (t->dims[d] != 0 && count > UINT64_MAX / (uint64_t)t->dims[d])
            return mcz_seterr(err, MCZ_ERR_FORMAT, "%s: tensor '%s': element count overflows",
                              m->path, name);
        count *= (uint64_t)t->dims[d];
    }
    e->pub.dtype = t->data_type;
    e->pub.rank = (int)t->n_dims;
    e->pub.dims = t->dims;
    e->pub.count = count;
    uint64_t nbytes = 0;
    if (t->data_type == MCZ_DT_STRING) {
        nbytes = 0;
    } else if (!mcz_dtype_nbytes(t->data_type, count, &nbytes)) {
        if (mcz_dtype_size(t->data_type))
            return mcz_seterr(err, MCZ_ERR_LIMIT, "%s: tensor '%s': %llu elements overflow a byte size",
                              m->path, name, (unsigned long long)count);
        return mcz_seterr(err, MCZ_ERR_UNSUPPORTED, "%s: tensor '%s': unsupported element type %d",
                          m->path, name, (int)t->data_type);
    }
    e->pub.nbytes = nbytes;

    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        const char *loc = NULL, *off_s = NULL, *len_s = NULL;
        uint64_t off = 0, len = nbytes;
        if (!external_key(t, "location", &loc) || !*loc)
            return mcz_seterr(err, MCZ_ERR_FORMAT, "%s: tensor '%s': external data without a location",
                              m->path, name);
        if (external_key(t, "offset", &off_s) && parse_u64(off_s, &off) != 0)
            return mcz_seterr(err, MCZ_ERR_FORMAT, "%s: tensor '%s': bad external offset '%s'",
                              m->path, name, off_s);
        if (external_key(t, "length", &len_s) && parse_u64(len_s, &len) != 0)
            return mcz_seterr(err, MCZ_ERR_FORMAT, "%s: tensor '%s': bad external length '%s'",
                              m->path, name, len_s);
        if (len != nbytes)
            return mcz_seterr(err, MCZ_ERR_FORMAT,
                              "%s: tensor '%s': external length %llu, but shape needs %llu bytes",
                              m->path, name, (unsigned long long)len, (unsigned long long)nbytes);
        const mapping *map;
        mcz_status s = mcz_model_map_external(m, loc, name, &map, err);
        if (s)
            return s;
        if (off > map->len || len > map->len - off)
            return mcz_seterr(err, MCZ_ERR_FORMAT,
                              "%s: tensor '%s': external data [%llu, +%llu) lies outside '%s' (%zu bytes)",
                              m->path, name, (unsigned long long)off, (unsigned long long)len, loc,
                              map->len);
        e->pub.external = true;
        e->pub.field = "external";
        e->ext = map->addr + off;
        e->data = e->ext;
        return MCZ_OK;
    }
    if (t->has_raw_data) {
        if (t->data_type == MCZ_DT_STRING)
            return mcz_seterr(err, MCZ_ERR_FORMAT, "%s: tensor '%s': string tensor with raw_data",
                              m->path, name);
        if (t->raw_data.len != nbytes)
            return mcz_seterr(err, MCZ_ERR_FORMAT,
                              "%s: tensor '%s': raw_data holds %zu bytes, but %llu elements of %s need %llu",
                              m->path, name, t->raw_data.len, (unsigned long long)count,
                              mcz_dtype_name(t->data_type), (unsigned long long)nbytes);
        e->pub.field = "raw_data";
        e->data = t->raw_data.data;
        return MCZ_OK;
    }
    size_t have;
    uint64_t want;
    const char *f = typed_field(t, count, &have, &want);
    if (have != want)
        return mcz_seterr(err, MCZ_ERR_FORMAT,
                          "%s: tensor '%s': %s holds %zu values, but shape needs %llu", m->path,
                          name, f, have, (unsigned long long)want);
    e->pub.field = count ? f : "none";
    e->data = NULL; /* converted on demand */
    return MCZ_OK;
}

/* ---- walking the graph ---------------------------------------------------------------- */

static mcz_status add_weight(mcz_model *m, Onnx__TensorProto *t, const char *name,
                             mcz_weight_kind kind, int depth, const char *graph,
                             const char *node, mcz_error *err)
{
    mcz_status s = mcz_grow((void **)&m->w, &m->capw, m->nw + 1, sizeof *m->w, err);
    if (s)
        return s;
    wentry *e = &m->w[m->nw];
    memset(e, 0, sizeof *e);
    e->t = t;
    e->pub.name = name ? name : "";
    e->pub.kind = kind;
    e->pub.depth = depth;
    e->pub.node = node;
    if (!(e->graph_path = mcz_strdup(graph)))
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    e->pub.graph = e->graph_path;
    m->nw++;
    s = check_tensor(m, e, err);
    return s;
}

static mcz_status walk_graph(mcz_model *m, Onnx__GraphProto *g, int depth, const char *path,
                             mcz_error *err)
{
    mcz_status s;
    for (size_t i = 0; i < g->n_initializer; i++) {
        Onnx__TensorProto *t = g->initializer[i];
        if ((s = add_weight(m, t, t->name, MCZ_WEIGHT_INITIALIZER, depth, path, NULL, err)))
            return s;
    }
    for (size_t i = 0; i < g->n_node; i++) {
        Onnx__NodeProto *n = g->node[i];
        int is_const = n->op_type && strcmp(n->op_type, "Constant") == 0 &&
                       is_default_domain(n->domain);
        for (size_t a = 0; a < n->n_attribute; a++) {
            Onnx__AttributeProto *at = n->attribute[a];
            if (is_const && at->t && at->name && strcmp(at->name, "value") == 0) {
                if (n->n_output < 1 || !n->output[0] || !*n->output[0])
                    return mcz_seterr(err, MCZ_ERR_FORMAT, "%s: Constant node '%s' has no output",
                                      m->path, n->name ? n->name : "");
                if ((s = add_weight(m, at->t, n->output[0], MCZ_WEIGHT_CONSTANT, depth, path,
                                    n->name ? n->name : "", err)))
                    return s;
            }
            if (!at->g && at->n_graphs == 0)
                continue;
            char nodeid[64];
            const char *nn = n->name && *n->name ? n->name : nodeid;
            snprintf(nodeid, sizeof nodeid, "%s#%zu", n->op_type ? n->op_type : "node", i);
            const char *an = at->name ? at->name : "?";
            size_t len = strlen(path) + strlen(nn) + strlen(an) + 3;
            char *sub = malloc(len);
            if (!sub)
                return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
            snprintf(sub, len, "%s%s%s/%s", path, *path ? "/" : "", nn, an);
            s = at->g ? walk_graph(m, at->g, depth + 1, sub, err) : MCZ_OK;
            for (size_t k = 0; k < at->n_graphs && !s; k++)
                if (at->graphs[k])
                    s = walk_graph(m, at->graphs[k], depth + 1, sub, err);
            free(sub);
            if (s)
                return s;
        }
    }
    return MCZ_OK;
}

mcz_status mcz_model_build_table(mcz_model *m, mcz_error *err)
{
    if (!m->proto->graph)
        return mcz_seterr(err, MCZ_ERR_FORMAT, "%s: not an ONNX model: no graph", m->path);
    return walk_graph(m, m->proto->graph, 0, "", err);
}

/* ---- accessors ------------------------------------------------------------------------ */

const char *mcz_model_path(const mcz_model *m)
{
    return m->path;
}

size_t mcz_model_weight_count(const mcz_model *m)
{
    return m->nw;
}

const mcz_weight *mcz_model_weight(const mcz_model *m, size_t i)
{
    return i < m->nw ? &m->w[i].pub : NULL;
}

long mcz_model_find_weight(const mcz_model *m, const char *name)
{
    for (size_t i = 0; i < m->nw; i++)
        if (strcmp(m->w[i].pub.name, name) == 0)
            return (long)i;
    return -1;
}

/* Values of a typed-field tensor in raw layout, into a new buffer. */
static void *convert_typed(const Onnx__TensorProto *t, uint64_t nbytes)
{
    uint8_t *b = malloc(nbytes ? nbytes : 1);
    if (!b)
        return NULL;
    size_t es = mcz_dtype_size(t->data_type);
    switch (t->data_type) {
    case MCZ_DT_FLOAT: case MCZ_DT_COMPLEX64:
        memcpy(b, t->float_data, nbytes);
        break;
    case MCZ_DT_DOUBLE: case MCZ_DT_COMPLEX128:
        memcpy(b, t->double_data, nbytes);
        break;
    case MCZ_DT_INT64:
        memcpy(b, t->int64_data, nbytes);
        break;
    case MCZ_DT_UINT64:
        memcpy(b, t->uint64_data, nbytes);
        break;
    case MCZ_DT_UINT32:
        for (size_t i = 0; i < t->n_uint64_data; i++) {
            uint32_t v = (uint32_t)t->uint64_data[i];
            memcpy(b + 4 * i, &v, 4);
        }
        break;
    default: /* int32_data carries int32 and every narrower type, one element (or byte) each */
        if (es == 0)
            es = 1; /* int4/uint4: one packed byte per int32 */
        for (size_t i = 0; i < t->n_int32_data; i++) {
            uint32_t v = (uint32_t)t->int32_data[i];
            memcpy(b + es * i, &v, es);
        }
        break;
    }
    return b;
}

const void *mcz_model_weight_data(mcz_model *m, size_t i, mcz_error *err)
{
    if (i >= m->nw) {
        mcz_seterr(err, MCZ_ERR_ARG, "weight index %zu out of range", i);
        return NULL;
    }
    wentry *e = &m->w[i];
    if (e->pub.dtype == MCZ_DT_STRING) {
        mcz_seterr(err, MCZ_ERR_UNSUPPORTED, "%s: tensor '%s' holds strings", m->path, e->pub.name);
        return NULL;
    }
    if (e->data)
        return e->data;
    if (e->pub.nbytes == 0)
        return "";
    if (!(e->owned = convert_typed(e->t, e->pub.nbytes))) {
        mcz_seterr(err, MCZ_ERR_NOMEM, "%s: out of memory converting '%s'", m->path, e->pub.name);
        return NULL;
    }
    e->data = e->owned;
    return e->data;
}

mcz_status mcz_model_weight_to_f32(mcz_model *m, size_t i, float *out, mcz_error *err)
{
    const uint8_t *p = mcz_model_weight_data(m, i, err);
    if (!p)
        return err ? err->code : MCZ_ERR_ARG;
    const mcz_weight *w = &m->w[i].pub;
    if (mcz_values_to_f32(w->dtype, p, w->count, out, NULL) != MCZ_OK)
        return mcz_seterr(err, MCZ_ERR_UNSUPPORTED, "%s: tensor '%s': cannot convert %s to float",
                          m->path, w->name, mcz_dtype_name(w->dtype));
    return MCZ_OK;
}

static void clear_typed(Onnx__TensorProto *t)
{
    free(t->float_data); t->float_data = NULL; t->n_float_data = 0;
    free(t->int32_data); t->int32_data = NULL; t->n_int32_data = 0;
    free(t->int64_data); t->int64_data = NULL; t->n_int64_data = 0;
    free(t->double_data); t->double_data = NULL; t->n_double_data = 0;
    free(t->uint64_data); t->uint64_data = NULL; t->n_uint64_data = 0;
}

mcz_status mcz_model_weight_replace(mcz_model *m, size_t i, int32_t dtype, int rank,
                                    const int64_t *dims, void *data, uint64_t nbytes,
                                    mcz_error *err)
{
    if (i >= m->nw || rank < 0 || rank > MCZ_MAX_RANK) {
        free(data);
        return mcz_seterr(err, MCZ_ERR_ARG, "bad weight index or rank");
    }
    wentry *e = &m->w[i];
    uint64_t count = 1, need;
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 0 || (dims[d] && count > UINT64_MAX / (uint64_t)dims[d])) {
            free(data);
            return mcz_seterr(err, MCZ_ERR_ARG, "tensor '%s': bad shape", e->pub.name);
        }
        count *= (uint64_t)dims[d];
    }
    if (!mcz_dtype_nbytes(dtype, count, &need) || need != nbytes) {
        free(data);
        return mcz_seterr(err, MCZ_ERR_ARG, "tensor '%s': %llu bytes do not fit the shape",
                          e->pub.name, (unsigned long long)nbytes);
    }
    Onnx__TensorProto *t = e->t;
    int64_t *nd = NULL;
    if (rank > 0 && !(nd = malloc((size_t)rank * sizeof *nd))) {
        free(data);
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    }
    int was_foreign = 0;
    for (size_t k = 0; k < m->nforeign; k++)
        if (m->foreign[k] == t)
            was_foreign = 1;
    mcz_status s = was_foreign ? MCZ_OK : mcz_model_note_foreign(m, t, err);
    if (s) {
        free(nd);
        free(data);
        return s;
    }
    if (rank > 0)
        memcpy(nd, dims, (size_t)rank * sizeof *nd);
    /* release what the tensor held: protobuf-c's own raw_data, typed fields, external refs */
    if (t->has_raw_data && !was_foreign)
        free(t->raw_data.data);
    clear_typed(t);
    free(t->dims);
    t->dims = nd;
    t->n_dims = (size_t)rank;
    t->data_type = dtype;
    t->has_data_type = 1;
    t->has_raw_data = 1;
    t->raw_data.data = data;
    t->raw_data.len = nbytes;
    if (t->has_data_location) {
        for (size_t k = 0; k < t->n_external_data; k++)
            protobuf_c_message_free_unpacked(&t->external_data[k]->base, NULL);
        free(t->external_data);
        t->external_data = NULL;
        t->n_external_data = 0;
        t->has_data_location = 0;
        t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT;
    }
    free(e->owned);
    e->owned = data;
    e->data = data;
    e->ext = NULL;
    e->pub.dtype = dtype;
    e->pub.rank = rank;
    e->pub.dims = t->dims;
    e->pub.count = count;
    e->pub.nbytes = nbytes;
    /* placement is kept: a weight that lived in external data is written there again */
    e->pub.field = e->pub.external ? "external" : "raw_data";
    return MCZ_OK;
}

/* ---- model facts ---------------------------------------------------------------------- */

static void count_nodes(const Onnx__GraphProto *g, size_t *nodes, size_t *graphs)
{
    (*graphs)++;
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        (*nodes)++;
        for (size_t a = 0; a < n->n_attribute; a++) {
            const Onnx__AttributeProto *at = n->attribute[a];
            if (at->g)
                count_nodes(at->g, nodes, graphs);
            for (size_t k = 0; k < at->n_graphs; k++)
                if (at->graphs[k])
                    count_nodes(at->graphs[k], nodes, graphs);
        }
    }
}

void mcz_model_get_info(const mcz_model *m, mcz_model_info *info)
{
    const Onnx__ModelProto *p = m->proto;
    memset(info, 0, sizeof *info);
    info->ir_version = p->ir_version;
    info->producer_name = p->producer_name ? p->producer_name : "";
    info->producer_version = p->producer_version ? p->producer_version : "";
    info->domain = p->domain ? p->domain : "";
    info->model_version = p->model_version;
    info->opset_count = p->n_opset_import;
    if (p->graph) {
        size_t graphs = 0;
        count_nodes(p->graph, &info->node_count, &graphs);
        info->subgraph_count = graphs - 1;
        info->main_node_count = p->graph->n_node;
        info->input_count = p->graph->n_input;
        info->output_count = p->graph->n_output;
    }
}

void mcz_model_opset(const mcz_model *m, size_t i, const char **domain, int64_t *version)
{
    const Onnx__OperatorSetIdProto *o = m->proto->opset_import[i];
    *domain = o->domain ? o->domain : "";
    *version = o->version;
}

static void visit_nodes(const Onnx__GraphProto *g, int depth, mcz_node_fn fn, void *ctx)
{
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        fn(ctx, n->op_type ? n->op_type : "", n->domain ? n->domain : "", depth);
        for (size_t a = 0; a < n->n_attribute; a++) {
            const Onnx__AttributeProto *at = n->attribute[a];
            if (at->g)
                visit_nodes(at->g, depth + 1, fn, ctx);
            for (size_t k = 0; k < at->n_graphs; k++)
                if (at->graphs[k])
                    visit_nodes(at->graphs[k], depth + 1, fn, ctx);
        }
    }
}

void mcz_model_for_each_node(const mcz_model *m, mcz_node_fn fn, void *ctx)
{
    if (m->proto->graph)
        visit_nodes(m->proto->graph, 0, fn, ctx);
}

