/* roles.c - find the weight inputs of Conv/ConvTranspose/Gemm/MatMul (see mcz/roles.h). */
#include <stdlib.h>
#include <string.h>

#include "mcz/roles.h"
#include "onnx/model_impl.h"

/* ---- a scope: names defined by one graph -> weight index (-1: defined, not a weight) --- */

typedef struct slot {
    const char *name;
    long weight;
} slot;

typedef struct scope {
    const struct scope *outer;
    slot *slots;
    size_t cap, used;
} scope;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static mcz_status scope_put(scope *sc, const char *name, long weight, mcz_error *err)
{
    if (!name || !*name)
        return MCZ_OK;
    if ((sc->used + 1) * 2 > sc->cap) {
        size_t ncap = sc->cap ? sc->cap * 2 : 64;
        slot *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < sc->cap; i++) {
            if (!sc->slots[i].name)
                continue;
            size_t j = hash_str(sc->slots[i].name) & (ncap - 1);
            while (ns[j].name)
                j = (j + 1) & (ncap - 1);
            ns[j] = sc->slots[i];
        }
        free(sc->slots);
        sc->slots = ns;
        sc->cap = ncap;
    }
    size_t j = hash_str(name) & (sc->cap - 1);
    while (sc->slots[j].name && strcmp(sc->slots[j].name, name) != 0)
        j = (j + 1) & (sc->cap - 1);
    if (!sc->slots[j].name)
        sc->used++;
    sc->slots[j].name = name;
    sc->slots[j].weight = weight;
    return MCZ_OK;
}

/* The weight a name refers to from scope `sc` (inner definitions shadow outer ones). */
static long scope_get(const scope *sc, const char *name)
{
    for (; sc; sc = sc->outer) {
        if (!sc->cap)
            continue;
        size_t j = hash_str(name) & (sc->cap - 1);
        while (sc->slots[j].name) {
            if (strcmp(sc->slots[j].name, name) == 0)
                return sc->slots[j].weight;
            j = (j + 1) & (sc->cap - 1);
        }
    }
    return -1;
}

/* ---- tensor pointer -> weight index ------------------------------------------------------ */

typedef struct ptr_index {
    const void *p;
    long i;
} ptr_index;

static int cmp_ptr(const void *a, const void *b)
{
    const ptr_index *x = a, *y = b;
    return x->p < y->p ? -1 : x->p > y->p;
}

typedef struct roles_ctx {
    mcz_model *m;
    mcz_weight_role *roles;
    ptr_index *by_ptr;
    unsigned char *nonweight; /* weight also feeds a non-weight input */
    unsigned char *conflict;  /* consumers disagree */
    mcz_error *err;
} roles_ctx;

static long weight_of(const roles_ctx *c, const void *t)
{
    ptr_index key = {t, 0};
    const ptr_index *f = bsearch(&key, c->by_ptr, c->m->nw, sizeof key, cmp_ptr);
    return f ? f->i : -1;
}

static int64_t attr_int(const Onnx__NodeProto *n, const char *name, int64_t dflt)
{
    for (size_t a = 0; a < n->n_attribute; a++)
        if (n->attribute[a]->name && strcmp(n->attribute[a]->name, name) == 0)
            return n->attribute[a]->i;
    return dflt;
}

static int is_op(const Onnx__NodeProto *n, const char *op)
{
    return n->op_type && strcmp(n->op_type, op) == 0 &&
           (!n->domain || !*n->domain || strcmp(n->domain, "ai.onnx") == 0);
}

/* The role input k of node n gives weight w, or NONE when that input is not a weight slot. */
static mcz_weight_role slot_role(const Onnx__NodeProto *n, size_t k, const mcz_weight *w)
{
    mcz_weight_role r = {MCZ_ROLE_NONE, -1, -1, n->name ? n->name : "", n->op_type, 0, NULL};
    if (k != 1)
        return r;
    if (is_op(n, "Conv") && w->rank >= 3) {
        r.op = MCZ_ROLE_CONV, r.channel_axis = 0, r.reduce_axis = 1;
    } else if (is_op(n, "ConvTranspose") && w->rank >= 3) {
        r.op = MCZ_ROLE_CONV_TRANSPOSE, r.channel_axis = 1, r.reduce_axis = 0;
    } else if (is_op(n, "Gemm") && w->rank == 2) {
        int tb = attr_int(n, "transB", 0) != 0;
        r.op = MCZ_ROLE_GEMM, r.channel_axis = tb ? 0 : 1, r.reduce_axis = tb ? 1 : 0;
    } else if (is_op(n, "MatMul") && w->rank >= 2) {
        r.op = MCZ_ROLE_MATMUL, r.channel_axis = w->rank - 1, r.reduce_axis = w->rank - 2;
    }
    return r;
}

/* LSTM/GRU/RNN W (input 1) and R (input 2): [directions, gates*hidden, input or hidden]. */
static mcz_weight_role recurrent_role(const Onnx__NodeProto *n, size_t k, const mcz_weight *w)
{
    mcz_weight_role r = {MCZ_ROLE_NONE, -1, -1, n->name ? n->name : "", n->op_type, 0, NULL};
    if ((k == 1 || k == 2) && w->rank == 3 &&
        (is_op(n, "LSTM") || is_op(n, "GRU") || is_op(n, "RNN")))
        r.op = MCZ_ROLE_RECURRENT, r.channel_axis = 1, r.reduce_axis = 2;
    return r;
}

static mcz_status walk(roles_ctx *c, const Onnx__GraphProto *g, const scope *outer)
{
    scope sc = {outer, NULL, 0, 0};
    mcz_status s = MCZ_OK;
    for (size_t i = 0; i < g->n_input && !s; i++)
        s = scope_put(&sc, g->input[i]->name, -1, c->err);
    for (size_t i = 0; i < g->n_initializer && !s; i++)
        s = scope_put(&sc, g->initializer[i]->name, weight_of(c, g->initializer[i]), c->err);
    for (size_t i = 0; i < g->n_node && !s; i++) {
        const Onnx__NodeProto *n = g->node[i];
        long alias = -1;
        for (size_t k = 0; k < n->n_input; k++) {
            long w = n->input[k] && *n->input[k] ? scope_get(&sc, n->input[k]) : -1;
            if (w < 0)
                continue;
            if ((is_op(n, "Cast") || is_op(n, "Identity")) && k == 0) {
                alias = w; /* still the constant, under another name */
                continue;
            }
            mcz_weight_role r = slot_role(n, k, &c->m->w[w].pub);
            if (r.op == MCZ_ROLE_NONE)
                r = recurrent_role(n, k, &c->m->w[w].pub);
            mcz_weight_role *cur = &c->roles[w];
            cur->consumers++;
            if (r.op == MCZ_ROLE_NONE) {
                c->nonweight[w] = 1;
            } else if (cur->op == MCZ_ROLE_NONE && !c->conflict[w]) {
                size_t consumers = cur->consumers;
                *cur = r;
                cur->consumers = consumers;
            } else if (cur->channel_axis != r.channel_axis || cur->reduce_axis != r.reduce_axis) {
                c->conflict[w] = 1;
            }
        }
        /* a Constant defines its output as a weight; Cast/Identity of a weight alias it */
        long def = -1;
        if (is_op(n, "Constant")) {
            for (size_t a = 0; a < n->n_attribute; a++)
                if (n->attribute[a]->t && n->attribute[a]->name &&
                    strcmp(n->attribute[a]->name, "value") == 0)
                    def = weight_of(c, n->attribute[a]->t);
        } else {
            def = alias;
        }
        for (size_t k = 0; k < n->n_output && !s; k++)
            s = scope_put(&sc, n->output[k], k == 0 ? def : -1, c->err);
        for (size_t a = 0; a < n->n_attribute && !s; a++) {
            const Onnx__AttributeProto *at = n->attribute[a];
            if (at->g)
                s = walk(c, at->g, &sc);
            for (size_t k = 0; k < at->n_graphs && !s; k++)
                s = walk(c, at->graphs[k], &sc);
        }
    }
    free(sc.slots);
    return s;
}

mcz_status mcz_model_weight_roles(mcz_model *m, mcz_weight_role *roles, mcz_error *err)
{
    roles_ctx c = {m, roles, NULL, NULL, NULL, err};
    size_t n = m->nw ? m->nw : 1;
    c.by_ptr = malloc(n * sizeof *c.by_ptr);
    c.nonweight = calloc(n, 1);
    c.conflict = calloc(n, 1);
    mcz_status s = MCZ_OK;
    if (!c.by_ptr || !c.nonweight || !c.conflict) {
        s = mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < m->nw; i++) {
        c.by_ptr[i] = (ptr_index){m->w[i].t, (long)i};
        roles[i] = (mcz_weight_role){MCZ_ROLE_NONE, -1, -1, "", "", 0, NULL};
    }
    qsort(c.by_ptr, m->nw, sizeof *c.by_ptr, cmp_ptr);
    if (m->proto->graph)
        s = walk(&c, m->proto->graph, NULL);
    for (size_t i = 0; i < m->nw && !s; i++) {
        if (c.conflict[i]) {
            roles[i].op = MCZ_ROLE_NONE;
            roles[i].channel_axis = roles[i].reduce_axis = -1;
            roles[i].why_not = "shared by consumers that disagree on the axis";
        } else if (c.nonweight[i] && roles[i].op != MCZ_ROLE_NONE) {
            roles[i].op = MCZ_ROLE_NONE;
            roles[i].channel_axis = roles[i].reduce_axis = -1;
            roles[i].why_not = "also feeds a non-weight input";
        }
    }
out:
    free(c.by_ptr);
    free(c.nonweight);
    free(c.conflict);
    return s;
}

const char *mcz_role_name(mcz_role_op op)
{
    switch (op) {
    case MCZ_ROLE_CONV: return "Conv";
    case MCZ_ROLE_CONV_TRANSPOSE: return "ConvTranspose";
    case MCZ_ROLE_GEMM: return "Gemm";
    case MCZ_ROLE_MATMUL: return "MatMul";
    case MCZ_ROLE_RECURRENT: return "LSTM/GRU/RNN";
    default: return "";
    }
}
