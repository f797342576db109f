/* qproto.c - editing the ONNX protobuf tree (see qproto.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/qproto.h"

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

/* ---- names -------------------------------------------------------------------------------- */

bool mcz_qp_names_has(const mcz_qp_names *ns, const char *name)
{
    if (!ns->cap)
        return false;
    size_t j = hash_str(name) & (ns->cap - 1);
    while (ns->slot[j]) {
        if (strcmp(ns->slot[j], name) == 0)
            return true;
        j = (j + 1) & (ns->cap - 1);
    }
    return false;
}

mcz_status mcz_qp_names_add(mcz_qp_names *ns, const char *name, mcz_error *err)
{
    if (!name || !*name || mcz_qp_names_has(ns, name))
        return MCZ_OK;
    if ((ns->used + 1) * 2 > ns->cap) {
        size_t ncap = ns->cap ? ns->cap * 2 : 256;
        char **nv = calloc(ncap, sizeof *nv);
        if (!nv)
            return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < ns->cap; i++) {
            if (!ns->slot[i])
                continue;
            size_t j = hash_str(ns->slot[i]) & (ncap - 1);
            while (nv[j])
                j = (j + 1) & (ncap - 1);
            nv[j] = ns->slot[i];
        }
        free(ns->slot);
        ns->slot = nv;
        ns->cap = ncap;
    }
    char *c = mcz_strdup(name);
    if (!c)
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    size_t j = hash_str(name) & (ns->cap - 1);
    while (ns->slot[j])
        j = (j + 1) & (ns->cap - 1);
    ns->slot[j] = c;
    ns->used++;
    return MCZ_OK;
}

static mcz_status collect_graph(mcz_qp_names *ns, const Onnx__GraphProto *g, mcz_error *err)
{
    mcz_status s = MCZ_OK;
    for (size_t i = 0; i < g->n_input && !s; i++)
        s = mcz_qp_names_add(ns, g->input[i]->name, err);
    for (size_t i = 0; i < g->n_output && !s; i++)
        s = mcz_qp_names_add(ns, g->output[i]->name, err);
    for (size_t i = 0; i < g->n_value_info && !s; i++)
        s = mcz_qp_names_add(ns, g->value_info[i]->name, err);
    for (size_t i = 0; i < g->n_initializer && !s; i++)
        s = mcz_qp_names_add(ns, g->initializer[i]->name, err);
    for (size_t i = 0; i < g->n_sparse_initializer && !s; i++)
        if (g->sparse_initializer[i]->values)
            s = mcz_qp_names_add(ns, g->sparse_initializer[i]->values->name, err);
    for (size_t i = 0; i < g->n_node && !s; i++) {
        const Onnx__NodeProto *n = g->node[i];
        s = mcz_qp_names_add(ns, n->name, err);
        for (size_t k = 0; k < n->n_input && !s; k++)
            s = mcz_qp_names_add(ns, n->input[k], err);
        for (size_t k = 0; k < n->n_output && !s; k++)
            s = mcz_qp_names_add(ns, n->output[k], err);
        for (size_t a = 0; a < n->n_attribute && !s; a++) {
            const Onnx__AttributeProto *at = n->attribute[a];
            if (at->g)
                s = collect_graph(ns, at->g, err);
            for (size_t k = 0; k < at->n_graphs && !s; k++)
                if (at->graphs[k])
                    s = collect_graph(ns, at->graphs[k], err);
        }
    }
    return s;
}

mcz_status mcz_qp_names_collect(mcz_qp_names *ns, const Onnx__ModelProto *p, mcz_error *err)
{
    return p->graph ? collect_graph(ns, p->graph, err) : MCZ_OK;
}

char *mcz_qp_names_unique(mcz_qp_names *ns, const char *base, const char *suffix)
{
    size_t n = strlen(base) + strlen(suffix) + 24;
    char *s = malloc(n);
    if (!s)
        return NULL;
    snprintf(s, n, "%s%s", base, suffix);
    for (unsigned k = 1; mcz_qp_names_has(ns, s); k++)
        snprintf(s, n, "%s%s_%u", base, suffix, k);
    if (mcz_qp_names_add(ns, s, NULL) != MCZ_OK) {
        free(s);
        return NULL;
    }
    return s;
}

void mcz_qp_names_free(mcz_qp_names *ns)
{
    for (size_t i = 0; i < ns->cap; i++)
        free(ns->slot[i]);
    free(ns->slot);
    memset(ns, 0, sizeof *ns);
}

/* ---- building ----------------------------------------------------------------------------- */

Onnx__TensorProto *mcz_qp_tensor(const char *name, int32_t dtype, int rank, const int64_t *dims,
                                 void *raw, size_t len)
{
    Onnx__TensorProto *t = malloc(sizeof *t);
    int64_t *d = rank > 0 ? malloc((size_t)rank * sizeof *d) : NULL;
    char *nm = mcz_strdup(name);
    if (!t || (rank > 0 && !d) || !nm) {
        free(t);
        free(d);
        free(nm);
        free(raw);
        return NULL;
    }
    onnx__tensor_proto__init(t);
    if (rank > 0)
        memcpy(d, dims, (size_t)rank * sizeof *d);
    t->n_dims = (size_t)(rank > 0 ? rank : 0);
    t->dims = d;
    t->has_data_type = 1;
    t->data_type = dtype;
    t->name = nm;
    t->has_raw_data = 1;
    t->raw_data.data = raw;
    t->raw_data.len = len;
    if (!raw && len == 0) { /* protobuf-c frees raw_data.data: give it something to free */
        t->raw_data.data = malloc(1);
        if (!t->raw_data.data) {
            onnx__tensor_proto__free_unpacked(t, NULL);
            return NULL;
        }
    }
    return t;
}

Onnx__TensorProto *mcz_qp_tensor_i64(const char *name, const int64_t *v, size_t n)
{
    void *raw = malloc(n ? n * 8 : 1);
    if (!raw)
        return NULL;
    if (n)
        memcpy(raw, v, n * 8);
    int64_t dim = (int64_t)n;
    return mcz_qp_tensor(name, MCZ_DT_INT64, 1, &dim, raw, n * 8);
}

Onnx__NodeProto *mcz_qp_node(const char *op, const char *name, const char *const *in, size_t nin,
                             const char *const *out, size_t nout)
{
    Onnx__NodeProto *n = malloc(sizeof *n);
    if (!n)
        return NULL;
    onnx__node_proto__init(n);
    n->op_type = mcz_strdup(op);
    n->name = mcz_strdup(name ? name : "");
    n->input = calloc(nin ? nin : 1, sizeof *n->input);
    n->output = calloc(nout ? nout : 1, sizeof *n->output);
    bool ok = n->op_type && n->name && n->input && n->output;
    for (size_t i = 0; ok && i < nin; i++, n->n_input++)
        ok = (n->input[i] = mcz_strdup(in[i] ? in[i] : "")) != NULL;
    for (size_t i = 0; ok && i < nout; i++, n->n_output++)
        ok = (n->output[i] = mcz_strdup(out[i])) != NULL;
    if (!ok) {
        mcz_qp_node_free(n);
        return NULL;
    }
    return n;
}

void mcz_qp_node_free(Onnx__NodeProto *n)
{
    if (n)
        onnx__node_proto__free_unpacked(n, NULL);
}

Onnx__AttributeProto *mcz_qp_attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t a = 0; a < n->n_attribute; a++)
        if (n->attribute[a]->name && strcmp(n->attribute[a]->name, name) == 0)
            return n->attribute[a];
    return NULL;
}

void mcz_qp_remove_attr(Onnx__NodeProto *n, const char *name)
{
    for (size_t a = 0; a < n->n_attribute; a++)
        if (n->attribute[a]->name && strcmp(n->attribute[a]->name, name) == 0) {
            onnx__attribute_proto__free_unpacked(n->attribute[a], NULL);
            memmove(n->attribute + a, n->attribute + a + 1,
                    (n->n_attribute - a - 1) * sizeof *n->attribute);
            n->n_attribute--;
            return;
        }
}

/* A fresh attribute `name` appended to n (replacing one of the same name). */
static Onnx__AttributeProto *new_attr(Onnx__NodeProto *n, const char *name, mcz_error *err)
{
    mcz_qp_remove_attr(n, name);
    Onnx__AttributeProto **arr = realloc(n->attribute, (n->n_attribute + 1) * sizeof *arr);
    if (!arr) {
        mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        return NULL;
    }
    n->attribute = arr;
    Onnx__AttributeProto *a = malloc(sizeof *a);
    if (!a) {
        mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        return NULL;
    }
    onnx__attribute_proto__init(a);
    if (!(a->name = mcz_strdup(name))) {
        free(a);
        mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        return NULL;
    }
    n->attribute[n->n_attribute++] = a;
    return a;
}

mcz_status mcz_qp_set_int(Onnx__NodeProto *n, const char *name, int64_t v, mcz_error *err)
{
    Onnx__AttributeProto *a = new_attr(n, name, err);
    if (!a)
        return MCZ_ERR_NOMEM;
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = v;
    return MCZ_OK;
}

mcz_status mcz_qp_set_string(Onnx__NodeProto *n, const char *name, const char *v, mcz_error *err)
{
    size_t len = strlen(v);
    uint8_t *copy = malloc(len ? len : 1);
    Onnx__AttributeProto *a = copy ? new_attr(n, name, err) : NULL;
    if (!a) {
        free(copy);
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    }
    memcpy(copy, v, len);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    a->has_s = 1;
    a->s.data = copy;
    a->s.len = len;
    return MCZ_OK;
}

mcz_status mcz_qp_set_tensor(Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t,
                             mcz_error *err)
{
    Onnx__AttributeProto *a = new_attr(n, name, err);
    if (!a) {
        onnx__tensor_proto__free_unpacked(t, NULL);
        return MCZ_ERR_NOMEM;
    }
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    a->t = t;
    return MCZ_OK;
}

mcz_status mcz_qp_add_input(Onnx__NodeProto *n, const char *name, mcz_error *err)
{
    char **arr = realloc(n->input, (n->n_input + 1) * sizeof *arr);
    if (!arr)
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    n->input = arr;
    if (!(arr[n->n_input] = mcz_strdup(name ? name : "")))
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    n->n_input++;
    return MCZ_OK;
}

mcz_status mcz_qp_set_input(Onnx__NodeProto *n, size_t k, const char *name, mcz_error *err)
{
    char *c = mcz_strdup(name);
    if (!c)
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    free(n->input[k]);
    n->input[k] = c;
    return MCZ_OK;
}

mcz_status mcz_qp_add_initializer(Onnx__GraphProto *g, Onnx__TensorProto *t, mcz_error *err)
{
    Onnx__TensorProto **arr = realloc(g->initializer, (g->n_initializer + 1) * sizeof *arr);
    if (!arr) {
        onnx__tensor_proto__free_unpacked(t, NULL);
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    }
    g->initializer = arr;
    arr[g->n_initializer++] = t;
    return MCZ_OK;
}

/* ---- splicing ------------------------------------------------------------------------------ */

mcz_status mcz_qp_nodelist_push(mcz_qp_nodelist *l, Onnx__NodeProto *n, mcz_error *err)
{
    if (!n)
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    mcz_status s = mcz_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v, err);
    if (s) {
        mcz_qp_node_free(n);
        return s;
    }
    l->v[l->n++] = n;
    return MCZ_OK;
}

void mcz_qp_nodelist_free(mcz_qp_nodelist *l, bool free_nodes)
{
    if (free_nodes)
        for (size_t i = 0; i < l->n; i++)
            mcz_qp_node_free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

mcz_status mcz_qp_splice_after(mcz_qp_splice *s, size_t node_index, Onnx__NodeProto *n,
                               mcz_error *err)
{
    if (!s->after) {
        s->nafter = s->g->n_node;
        if (!(s->after = calloc(s->nafter ? s->nafter : 1, sizeof *s->after))) {
            mcz_qp_node_free(n);
            return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        }
    }
    return mcz_qp_nodelist_push(&s->after[node_index], n, err);
}

mcz_status mcz_qp_splice_apply(mcz_qp_splice *s, mcz_error *err)
{
    Onnx__GraphProto *g = s->g;
    size_t total = g->n_node + s->before.n;
    for (size_t i = 0; s->after && i < s->nafter; i++)
        total += s->after[i].n;
    if (total == g->n_node) {
        mcz_qp_splice_free(s);
        return MCZ_OK;
    }
    Onnx__NodeProto **nv = malloc(total * sizeof *nv);
    if (!nv) {
        mcz_qp_splice_free(s);
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < s->before.n; i++)
        nv[k++] = s->before.v[i];
    for (size_t i = 0; i < g->n_node; i++) {
        nv[k++] = g->node[i];
        if (s->after && i < s->nafter)
            for (size_t j = 0; j < s->after[i].n; j++)
                nv[k++] = s->after[i].v[j];
    }
    free(g->node);
    g->node = nv;
    g->n_node = total;
    /* the nodes now belong to the graph */
    mcz_qp_nodelist_free(&s->before, false);
    for (size_t i = 0; s->after && i < s->nafter; i++)
        mcz_qp_nodelist_free(&s->after[i], false);
    free(s->after);
    s->after = NULL;
    s->nafter = 0;
    return MCZ_OK;
}

void mcz_qp_splice_free(mcz_qp_splice *s)
{
    mcz_qp_nodelist_free(&s->before, true);
    for (size_t i = 0; s->after && i < s->nafter; i++)
        mcz_qp_nodelist_free(&s->after[i], true);
    free(s->after);
    s->after = NULL;
    s->nafter = 0;
}

/* ---- scopes ------------------------------------------------------------------------------- */

mcz_status mcz_qp_scope_put(mcz_qp_scope *s, const char *name, long val, mcz_error *err)
{
    if (!name || !*name)
        return MCZ_OK;
    if ((s->used + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        const char **nk = calloc(ncap, sizeof *nk);
        long *nv = calloc(ncap, sizeof *nv);
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->key[i])
                continue;
            size_t j = hash_str(s->key[i]) & (ncap - 1);
            while (nk[j])
                j = (j + 1) & (ncap - 1);
            nk[j] = s->key[i];
            nv[j] = s->val[i];
        }
        free(s->key);
        free(s->val);
        s->key = nk;
        s->val = nv;
        s->cap = ncap;
    }
    size_t j = hash_str(name) & (s->cap - 1);
    while (s->key[j] && strcmp(s->key[j], name) != 0)
        j = (j + 1) & (s->cap - 1);
    if (!s->key[j])
        s->used++;
    s->key[j] = name;
    s->val[j] = val;
    return MCZ_OK;
}

long mcz_qp_scope_get(const mcz_qp_scope *s, const char *name, long dflt)
{
    for (; s; s = s->outer) {
        if (!s->cap)
            continue;
        size_t j = hash_str(name) & (s->cap - 1);
        while (s->key[j]) {
            if (strcmp(s->key[j], name) == 0)
                return s->val[j];
            j = (j + 1) & (s->cap - 1);
        }
    }
    return dflt;
}

void mcz_qp_scope_free(mcz_qp_scope *s)
{
    free(s->key);
    free(s->val);
    s->key = NULL;
    s->val = NULL;
    s->cap = s->used = 0;
}

/* ---- misc --------------------------------------------------------------------------------- */

bool mcz_qp_is_default_domain(const char *d)
{
    return !d || !*d || strcmp(d, "ai.onnx") == 0;
}

bool mcz_qp_is_op(const Onnx__NodeProto *n, const char *op)
{
    return n->op_type && strcmp(n->op_type, op) == 0 && mcz_qp_is_default_domain(n->domain);
}

typedef struct tpair {
    const void *p;
    long i;
} tpair;

static int cmp_tpair(const void *a, const void *b)
{
    const tpair *x = a, *y = b;
    return x->p < y->p ? -1 : x->p > y->p;
}

mcz_status mcz_qp_tindex_build(mcz_qp_tindex *x, const mcz_model *m, mcz_error *err)
{
    memset(x, 0, sizeof *x);
    tpair *v = malloc((m->nw ? m->nw : 1) * sizeof *v);
    x->ptr = malloc((m->nw ? m->nw : 1) * sizeof *x->ptr);
    x->idx = malloc((m->nw ? m->nw : 1) * sizeof *x->idx);
    if (!v || !x->ptr || !x->idx) {
        free(v);
        mcz_qp_tindex_free(x);
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < m->nw; i++)
        v[i] = (tpair){m->w[i].t, (long)i};
    qsort(v, m->nw, sizeof *v, cmp_tpair);
    for (size_t i = 0; i < m->nw; i++) {
        x->ptr[i] = v[i].p;
        x->idx[i] = v[i].i;
    }
    x->n = m->nw;
    free(v);
    return MCZ_OK;
}

long mcz_qp_tindex_get(const mcz_qp_tindex *x, const void *t)
{
    size_t lo = 0, hi = x->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->ptr[mid] < t)
            lo = mid + 1;
        else if (x->ptr[mid] > t)
            hi = mid;
        else
            return x->idx[mid];
    }
    return -1;
}

void mcz_qp_tindex_free(mcz_qp_tindex *x)
{
    free(x->ptr);
    free(x->idx);
    memset(x, 0, sizeof *x);
}

mcz_status mcz_qp_rebuild_table(mcz_model *m, mcz_error *err)
{
    wentry *old = m->w;
    size_t nold = m->nw;
    mcz_qp_tindex ix;
    mcz_status s = mcz_qp_tindex_build(&ix, m, err);
    if (s)
        return s;
    m->w = NULL;
    m->nw = m->capw = 0;
    s = mcz_model_build_table(m, err);
    for (size_t i = 0; i < m->nw && !s; i++) {
        long k = mcz_qp_tindex_get(&ix, m->w[i].t);
        if (k < 0)
            continue;
        /* a replaced weight that lived in external data is written there again, though its
           tensor now holds raw_data (mcz_model_weight_replace) */
        if (old[k].pub.external && !m->w[i].pub.external) {
            m->w[i].pub.external = true;
            m->w[i].pub.field = "external";
        }
        if (!old[k].owned)
            continue;
        /* the buffer the old row owned: replaced values (raw_data points at it) or a
           conversion of typed fields */
        m->w[i].owned = old[k].owned;
        if (!m->w[i].data)
            m->w[i].data = old[k].owned;
        old[k].owned = NULL;
    }
    mcz_qp_tindex_free(&ix);
    for (size_t i = 0; i < nold; i++) {
        free(old[i].owned);
        free(old[i].graph_path);
    }
    free(old);
    return s;
}
