/* roles.c - find the weight inputs of Conv/ConvTranspose/Gemm/MatMul/LSTM/GRU/RNN/Gather,
 * also behind layout ops (see mcz/roles.h).
 *
 * One walk over the graphs in node order, with ONNX scoping. Every name that holds a weight's
 * values, as they are or rearranged by a chain of layout ops, maps to a "view" of that
 * weight: the axes of the name's tensor, each traced back to an axis of the weight (or to
 * none: an axis Unsqueeze added, or several Reshape merged). A consumer's channel and
 * reduction axes go back through the view to the weight's own axes, where the quantizer and
 * the pruner work (the DequantizeLinear replaces the weight itself, so every layout op keeps
 * reading what it read). */
#include <stdlib.h>
#include <string.h>

#include "mcz/roles.h"
#include "onnx/model_impl.h"

/* ---- a scope: names defined by one graph -> view index (-1: defined, not a weight) ------ */

typedef struct slot {
    const char *name;
    long view;
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

static mcz_status scope_put(scope *sc, const char *name, long view, mcz_error *err)
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
    sc->slots[j].view = view;
    return MCZ_OK;
}

/* The view a name refers to from scope `sc` (inner definitions shadow outer ones), or -1. */
static long scope_get(const scope *sc, const char *name)
{
    if (!name || !*name)
        return -1;
    for (; sc; sc = sc->outer) {
        if (!sc->cap)
            continue;
        size_t j = hash_str(name) & (sc->cap - 1);
        while (sc->slots[j].name) {
            if (strcmp(sc->slots[j].name, name) == 0)
                return sc->slots[j].view;
            j = (j + 1) & (sc->cap - 1);
        }
    }
    return -1;
}

/* ---- views ------------------------------------------------------------------------------ */

/* What a chain of layout ops makes of weight `weight`: axis k of the tensor runs along the
 * weight's axis src[k] (-1: none of them) and is dims[k] long (-1: not known, after a Slice
 * or Split). `lost` names the first layout op that left an axis without a source. A Concat
 * of several views is a list of them, linked by `next` (-1 ends it). */
typedef struct view {
    long weight;
    long next;
    const Onnx__GraphProto *root; /* the graph defining the weight, when this is the weight
                                     itself (no layout op between); else NULL */
    int rank;
    int src[MCZ_MAX_RANK];
    int64_t dims[MCZ_MAX_RANK];
    const char *lost;
} view;

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
    const char **lost;        /* a consumer's axis has no source: the layout op to blame */
    const char **first_use;   /* op type of the first node that reads the weight */
    unsigned *readers;        /* nodes that read the weight itself (not a view of it) */
    size_t nodes;             /* nodes walked so far */
    const Onnx__NodeProto **transpose; /* a Transpose [1, 0] of the weight itself, in its graph */
    view *views;
    size_t nviews, capviews;
    mcz_error *err;
} roles_ctx;

static long weight_of(const roles_ctx *c, const void *t)
{
    ptr_index key = {t, 0};
    const ptr_index *f = bsearch(&key, c->by_ptr, c->m->nw, sizeof key, cmp_ptr);
    return f ? f->i : -1;
}

/* A new view (a copy of `from`, or weight w as it is when from is NULL); its index or -1
 * with c->err set. */
static long view_new(roles_ctx *c, const view *from, long w)
{
    if (mcz_grow((void **)&c->views, &c->capviews, c->nviews + 1, sizeof *c->views, c->err))
        return -1;
    view *v = &c->views[c->nviews];
    if (from) {
        *v = *from;
    } else {
        const mcz_weight *pw = &c->m->w[w].pub;
        v->weight = w;
        v->next = -1;
        v->root = NULL;
        v->rank = pw->rank;
        for (int k = 0; k < pw->rank; k++) {
            v->src[k] = k;
            v->dims[k] = pw->dims[k];
        }
        v->lost = NULL;
    }
    return (long)c->nviews++;
}

/* The weight a tensor pointer defines in graph g, as a view of itself (-1: not a weight;
 * -2: error). */
static long view_of_tensor(roles_ctx *c, const void *t, const Onnx__GraphProto *g)
{
    long w = weight_of(c, t);
    if (w < 0)
        return -1;
    long v = view_new(c, NULL, w);
    if (v < 0)
        return -2;
    c->views[v].root = g;
    return v;
}

static int64_t attr_int(const Onnx__NodeProto *n, const char *name, int64_t dflt)
{
    for (size_t a = 0; a < n->n_attribute; a++)
        if (n->attribute[a]->name && strcmp(n->attribute[a]->name, name) == 0)
            return n->attribute[a]->i;
    return dflt;
}

static const Onnx__AttributeProto *attr_of(const Onnx__NodeProto *n, const char *name)
{
    for (size_t a = 0; a < n->n_attribute; a++)
        if (n->attribute[a]->name && strcmp(n->attribute[a]->name, name) == 0)
            return n->attribute[a];
    return NULL;
}

static int is_op(const Onnx__NodeProto *n, const char *op)
{
    return n->op_type && strcmp(n->op_type, op) == 0 &&
           (!n->domain || !*n->domain || strcmp(n->domain, "ai.onnx") == 0);
}

/* Up to `max` integers of a constant int64 input (a weight of this model, as it is):
 * their count, or -1 when the input is absent, not a constant or not int64. */
static int const_ints(roles_ctx *c, const scope *sc, const char *name, int64_t *out, int max)
{
    long v = scope_get(sc, name);
    if (v < 0)
        return -1;
    const mcz_weight *w = &c->m->w[c->views[v].weight].pub;
    if (w->dtype != MCZ_DT_INT64 || w->rank > 1 || w->count > (uint64_t)max)
        return -1;
    const int64_t *d = mcz_model_weight_data(c->m, (size_t)c->views[v].weight, NULL);
    if (!d && w->count)
        return -1;
    for (uint64_t k = 0; k < w->count; k++)
        out[k] = d[k];
    return (int)w->count;
}

/* Axes of an op: attribute `axes` (older opsets) or input `input` (newer), normalised
 * against `rank` when rank > 0; -1 when not known or out of range, -2 when absent (the op's
 * default). */
static int op_axes(roles_ctx *c, const scope *sc, const Onnx__NodeProto *n, size_t input,
                   int rank, int64_t *axes)
{
    int na = -2;
    const Onnx__AttributeProto *at = attr_of(n, "axes");
    if (at) {
        if (at->n_ints > MCZ_MAX_RANK)
            return -1;
        na = (int)at->n_ints;
        for (int k = 0; k < na; k++)
            axes[k] = at->ints[k];
    } else if (n->n_input > input && n->input[input] && *n->input[input]) {
        na = const_ints(c, sc, n->input[input], axes, MCZ_MAX_RANK);
        if (na < 0)
            return -1;
    }
    for (int k = 0; k < na && rank > 0; k++) {
        if (axes[k] < 0)
            axes[k] += rank;
        if (axes[k] < 0 || axes[k] >= rank)
            return -1;
    }
    return na;
}

/* out = in reshaped to dims[0..rank): axes that keep their length through the reshape keep
 * their source; merged or split ones lose it. Needs in's lengths. */
static void reshape_view(const view *in, int rank, const int64_t *dims, view *out,
                         const char *op)
{
    out->rank = rank;
    for (int k = 0; k < rank; k++) {
        out->src[k] = -1;
        out->dims[k] = dims[k];
    }
    int i = 0, o = 0;
    while (i < in->rank || o < rank) {
        if (i < in->rank && in->dims[i] == 1) {
            i++;
            continue;
        }
        if (o < rank && dims[o] == 1) {
            o++;
            continue;
        }
        if (i >= in->rank || o >= rank)
            break;
        if (in->dims[i] == dims[o]) {
            out->src[o++] = in->src[i++];
            continue;
        }
        /* a group of axes whose products meet: none of its output axes has one source */
        int64_t pi = in->dims[i++], po = dims[o++];
        while (pi != po && (i < in->rank || o < rank)) {
            if (pi < po && i < in->rank)
                pi *= in->dims[i++];
            else if (o < rank)
                po *= dims[o++];
            else
                break;
        }
    }
    for (int k = 0; k < in->rank; k++)
        if (in->src[k] >= 0) {
            bool kept = false;
            for (int j = 0; j < rank; j++)
                kept |= out->src[j] == in->src[k];
            if (!kept && in->dims[k] != 1 && !out->lost)
                out->lost = op;
        }
}

static bool dims_known(const view *v)
{
    for (int k = 0; k < v->rank; k++)
        if (v->dims[k] < 0)
            return false;
    return true;
}

/* Whether the layout op n passes its input 0 through (Cast: to a floating-point type). */
static bool is_layout(const Onnx__NodeProto *n)
{
    if (is_op(n, "Cast")) {
        int64_t to = attr_int(n, "to", 0);
        return mcz_dtype_is_float((int32_t)to);
    }
    return is_op(n, "Identity") || is_op(n, "Transpose") || is_op(n, "Slice") ||
           is_op(n, "Split") || is_op(n, "Reshape") || is_op(n, "Squeeze") ||
           is_op(n, "Unsqueeze") || is_op(n, "Flatten");
}

/* The view output `k` of layout op n makes of view `in` (false: the op cannot be followed:
 * its parameters are not constants, or they do not fit the input). */
static bool layout_view(roles_ctx *c, const scope *sc, const Onnx__NodeProto *n, size_t k,
                        const view *in, view *out)
{
    *out = *in;
    int r = in->rank;
    int64_t a[MCZ_MAX_RANK], dims[MCZ_MAX_RANK];
    if (is_op(n, "Cast") || is_op(n, "Identity"))
        return k == 0;
    if (is_op(n, "Transpose")) {
        const Onnx__AttributeProto *p = attr_of(n, "perm");
        if (k != 0 || (p && p->n_ints != (size_t)r))
            return false;
        unsigned seen = 0;
        for (int j = 0; j < r; j++) {
            int64_t s = p ? p->ints[j] : r - 1 - j;
            if (s < 0 || s >= r || (seen >> s & 1u))
                return false;
            seen |= 1u << s;
            out->src[j] = in->src[s];
            out->dims[j] = in->dims[s];
        }
        return true;
    }
    if (is_op(n, "Slice")) { /* axes: attribute (opset < 10) or input 3; absent: all */
        int na = op_axes(c, sc, n, 3, r, a);
        for (int j = 0; j < r; j++)
            if (na < 0)
                out->dims[j] = -1;
        for (int j = 0; j < na; j++)
            out->dims[a[j]] = -1;
        return k == 0;
    }
    if (is_op(n, "Split")) {
        int64_t axis = attr_int(n, "axis", 0);
        if (axis < 0)
            axis += r;
        if (axis < 0 || axis >= r)
            return false;
        out->dims[axis] = -1;
        return true;
    }
    if (k != 0)
        return false;
    if (is_op(n, "Squeeze")) {
        int na = op_axes(c, sc, n, 1, r, a);
        if (na == -1 || (na == -2 && !dims_known(in)))
            return false;
        unsigned long long drop = 0;
        if (na == -2) {
            for (int j = 0; j < r; j++)
                if (in->dims[j] == 1)
                    drop |= 1ull << j;
        }
        for (int j = 0; j < na; j++)
            drop |= 1ull << a[j];
        int o = 0;
        for (int j = 0; j < r; j++)
            if (!(drop >> j & 1ull)) {
                out->src[o] = in->src[j];
                out->dims[o++] = in->dims[j];
            } else if (in->src[j] >= 0 && in->dims[j] != 1 && !out->lost) {
                out->lost = "Squeeze";
            }
        out->rank = o;
        return true;
    }
    if (is_op(n, "Unsqueeze")) {
        int64_t ax[MCZ_MAX_RANK];
        int na = op_axes(c, sc, n, 1, 0, ax); /* relative to the output's rank */
        if (na < 0 || r + na > MCZ_MAX_RANK)
            return false;
        int orank = r + na;
        unsigned long long add = 0;
        for (int j = 0; j < na; j++) {
            int64_t v = ax[j] < 0 ? ax[j] + orank : ax[j];
            if (v < 0 || v >= orank || (add >> v & 1ull))
                return false;
            add |= 1ull << v;
        }
        int i = 0;
        for (int j = 0; j < orank; j++) {
            if (add >> j & 1ull) {
                out->src[j] = -1;
                out->dims[j] = 1;
            } else {
                out->src[j] = in->src[i];
                out->dims[j] = in->dims[i++];
            }
        }
        out->rank = orank;
        return true;
    }
    if (!dims_known(in))
        return false;
    if (is_op(n, "Flatten")) {
        int64_t axis = attr_int(n, "axis", 1);
        if (axis < 0)
            axis += r;
        if (axis < 0 || axis > r)
            return false;
        dims[0] = dims[1] = 1;
        for (int j = 0; j < r; j++)
            dims[j < axis ? 0 : 1] *= in->dims[j];
        reshape_view(in, 2, dims, out, "Flatten");
        return true;
    }
    if (is_op(n, "Reshape")) {
        int nd = n->n_input > 1 ? const_ints(c, sc, n->input[1], dims, MCZ_MAX_RANK) : -1;
        if (nd < 0)
            return false;
        int64_t total = 1, known = 1;
        int infer = -1;
        for (int j = 0; j < r; j++)
            total *= in->dims[j];
        bool allowzero = attr_int(n, "allowzero", 0) != 0;
        for (int j = 0; j < nd; j++) {
            if (dims[j] == 0 && !allowzero) {
                if (j >= r)
                    return false;
                dims[j] = in->dims[j];
            }
            if (dims[j] == -1) {
                if (infer >= 0)
                    return false;
                infer = j;
            } else if (dims[j] < 0) {
                return false;
            } else {
                known *= dims[j];
            }
        }
        if (infer >= 0) {
            if (known == 0 || total % known)
                return false;
            dims[infer] = total / known;
        }
        reshape_view(in, nd, dims, out, "Reshape");
        return true;
    }
    return false;
}

/* ---- the consumers ---------------------------------------------------------------------- */

/* The role input k of node n gives a weight of rank `rank`, or NONE when that input is not a
 * weight slot. Axes are the input's own. */
static mcz_weight_role slot_role(const Onnx__NodeProto *n, size_t k, int rank)
{
    mcz_weight_role r = {MCZ_ROLE_NONE, -1, -1, n->name ? n->name : "", n->op_type, 0, NULL,
                         false, 0, NULL};
    if (k == 0 && is_op(n, "Gather") && rank >= 2) {
        int64_t axis = attr_int(n, "axis", 0);
        if (axis == 0 || axis == -rank)
            r.op = MCZ_ROLE_GATHER, r.channel_axis = 0, r.reduce_axis = rank - 1,
            r.embedding = true;
        return r;
    }
    if ((k == 1 || k == 2) && rank == 3 &&
        (is_op(n, "LSTM") || is_op(n, "GRU") || is_op(n, "RNN"))) {
        r.op = MCZ_ROLE_RECURRENT, r.channel_axis = 1, r.reduce_axis = 2;
        return r;
    }
    if (k != 1)
        return r;
    if (is_op(n, "Conv") && rank >= 3) {
        r.op = MCZ_ROLE_CONV, r.channel_axis = 0, r.reduce_axis = 1;
    } else if (is_op(n, "ConvTranspose") && rank >= 3) {
        r.op = MCZ_ROLE_CONV_TRANSPOSE, r.channel_axis = 1, r.reduce_axis = 0;
    } else if (is_op(n, "Gemm") && rank == 2) {
        int tb = attr_int(n, "transB", 0) != 0;
        r.op = MCZ_ROLE_GEMM, r.channel_axis = tb ? 0 : 1, r.reduce_axis = tb ? 1 : 0;
    } else if (is_op(n, "MatMul") && rank >= 2) {
        r.op = MCZ_ROLE_MATMUL, r.channel_axis = rank - 1, r.reduce_axis = rank - 2;
    }
    return r;
}

/* Node n reads view v at input k (not a layout op's data input); `again`: the same node
 * already read another view of that weight. */
static void use(roles_ctx *c, const Onnx__NodeProto *n, size_t k, const view *v, bool again)
{
    long w = v->weight;
    mcz_weight_role r = slot_role(n, k, v->rank);
    mcz_weight_role *cur = &c->roles[w];
    if (!again)
        cur->consumers++;
    if (!c->first_use[w])
        c->first_use[w] = n->op_type ? n->op_type : "";
    if (r.op == MCZ_ROLE_NONE) {
        c->nonweight[w] = 1;
        return;
    }
    int ch = r.channel_axis >= 0 ? v->src[r.channel_axis] : -1;
    int red = r.reduce_axis >= 0 ? v->src[r.reduce_axis] : -1;
    if ((r.channel_axis >= 0 && ch < 0) || (r.reduce_axis >= 0 && red < 0)) {
        if (!c->lost[w])
            c->lost[w] = v->lost ? v->lost : "Unsqueeze";
        return;
    }
    r.channel_axis = ch;
    r.reduce_axis = red;
    bool emb = cur->embedding || r.embedding;
    if (cur->op == MCZ_ROLE_NONE && !c->conflict[w]) {
        size_t consumers = cur->consumers;
        *cur = r;
        cur->consumers = consumers;
        cur->order = c->nodes;
    } else if (cur->channel_axis != r.channel_axis || cur->reduce_axis != r.reduce_axis) {
        c->conflict[w] = 1;
    }
    cur->embedding = emb;
}

/* Node n reads the tensor of view list v at input k. */
static void use_all(roles_ctx *c, const Onnx__NodeProto *n, size_t k, long v)
{
    for (long u = v; u >= 0; u = c->views[u].next) {
        bool again = false;
        for (long e = v; e != u && !again; e = c->views[e].next)
            again = c->views[e].weight == c->views[u].weight;
        use(c, n, k, &c->views[u], again);
    }
}

/* Append a copy of `from` (a view a layout op made) to the list head..tail; false when out
 * of memory. */
static bool list_add(roles_ctx *c, const view *from, long *head, long *tail)
{
    long nv = view_new(c, from, 0);
    if (nv < 0)
        return false;
    c->views[nv].next = -1;
    c->views[nv].root = NULL;
    if (*tail >= 0)
        c->views[*tail].next = nv;
    else
        *head = nv;
    *tail = nv;
    return true;
}

/* The views output k of layout op n makes of view list `in` (-1: none; -2: out of memory).
 * A view the op cannot follow counts as read by n. */
static long derive(roles_ctx *c, const scope *sc, const Onnx__NodeProto *n, size_t k, long in)
{
    long head = -1, tail = -1;
    for (long v = in; v >= 0; v = c->views[v].next) {
        view out;
        if (!layout_view(c, sc, n, k, &c->views[v], &out)) {
            if (k == 0)
                use(c, n, 0, &c->views[v], false);
        } else if (!list_add(c, &out, &head, &tail)) {
            return -2;
        }
    }
    return head;
}

/* A Concat whose inputs are all views of weights: the list of them, the concatenation axis's
 * length unknown (-1: not such a Concat, and its weight inputs count as read; -2: out of
 * memory). */
static long concat(roles_ctx *c, const scope *sc, const Onnx__NodeProto *n)
{
    bool all = n->n_input > 0;
    for (size_t k = 0; k < n->n_input && all; k++)
        all = scope_get(sc, n->input[k]) >= 0;
    long head = -1, tail = -1, first = all ? scope_get(sc, n->input[0]) : -1;
    int rank = first >= 0 ? c->views[first].rank : 0;
    int64_t axis = attr_int(n, "axis", 0);
    if (axis < 0)
        axis += rank;
    if (all && (axis < 0 || axis >= rank))
        all = false;
    for (size_t k = 0; k < n->n_input && all; k++)
        for (long v = scope_get(sc, n->input[k]); v >= 0 && all; v = c->views[v].next)
            all = c->views[v].rank == rank;
    for (size_t k = 0; k < n->n_input; k++) {
        long in = scope_get(sc, n->input[k]);
        if (!all) {
            if (in >= 0)
                use_all(c, n, k, in);
            continue;
        }
        for (long v = in; v >= 0; v = c->views[v].next) {
            view out = c->views[v];
            out.dims[axis] = -1;
            if (!list_add(c, &out, &head, &tail))
                return -2;
        }
    }
    return all ? head : -1;
}

static mcz_status walk(roles_ctx *c, const Onnx__GraphProto *g, const scope *outer);

/* Count n as a reader of every weight it reads as it is (views of a weight all come from
 * its readers); note a Transpose [1, 0] of a 2-D weight itself in the weight's own graph g. */
static void readers(roles_ctx *c, const Onnx__NodeProto *n, const scope *sc,
                    const Onnx__GraphProto *g)
{
    for (size_t k = 0; k < n->n_input; k++) {
        bool again = false;
        for (size_t e = 0; e < k && !again; e++)
            again = n->input[e] && n->input[k] && strcmp(n->input[e], n->input[k]) == 0;
        for (long v = again ? -1 : scope_get(sc, n->input[k]); v >= 0; v = c->views[v].next)
            if (c->views[v].root)
                c->readers[c->views[v].weight]++;
    }
    long v = n->n_input == 1 ? scope_get(sc, n->input[0]) : -1;
    if (v < 0 || !is_op(n, "Transpose") || c->views[v].root != g || c->views[v].rank != 2 ||
        n->n_output != 1)
        return;
    for (size_t k = 0; k < g->n_output; k++) /* a graph output must keep its layout */
        if (g->output[k]->name && strcmp(g->output[k]->name, n->input[0]) == 0)
            return;
    const Onnx__AttributeProto *p = attr_of(n, "perm");
    if (!p || (p->n_ints == 2 && p->ints[0] == 1 && p->ints[1] == 0))
        c->transpose[c->views[v].weight] = n;
}

static mcz_status walk_node(roles_ctx *c, const Onnx__NodeProto *n, scope *sc,
                            const Onnx__GraphProto *g)
{
    mcz_status s = MCZ_OK;
    bool layout = is_layout(n), cat = is_op(n, "Concat");
    long in0 = n->n_input > 0 ? scope_get(sc, n->input[0]) : -1;
    c->nodes++;
    readers(c, n, sc, g);
    for (size_t k = 0; k < n->n_input && !cat; k++) {
        long v = scope_get(sc, n->input[k]);
        if (v < 0 || (layout && k == 0))
            continue;
        if (layout) { /* a layout op's shape, axes, starts...: not a use of the values */
            c->roles[c->views[v].weight].consumers++;
            continue;
        }
        use_all(c, n, k, v);
    }
    /* what the node defines: a Constant a weight, a layout op views of its input's weight */
    for (size_t k = 0; k < n->n_output && !s; k++) {
        long def = -1;
        if (is_op(n, "Constant")) {
            for (size_t a = 0; a < n->n_attribute && k == 0; a++)
                if (n->attribute[a]->t && n->attribute[a]->name &&
                    strcmp(n->attribute[a]->name, "value") == 0)
                    def = view_of_tensor(c, n->attribute[a]->t, g);
        } else if (layout && in0 >= 0) {
            def = derive(c, sc, n, k, in0);
        } else if (cat && k == 0) {
            def = concat(c, sc, n);
        }
        if (def == -2)
            return c->err ? c->err->code : MCZ_ERR_NOMEM;
        s = scope_put(sc, n->output[k], def, c->err);
    }
    if (n->n_output == 0 && layout && in0 >= 0)
        use_all(c, n, 0, in0);
    if (n->n_output == 0 && cat)
        for (size_t k = 0; k < n->n_input; k++)
            if (scope_get(sc, n->input[k]) >= 0)
                use_all(c, n, k, scope_get(sc, n->input[k]));
    for (size_t a = 0; a < n->n_attribute && !s; a++) {
        const Onnx__AttributeProto *at = n->attribute[a];
        if (at->g)
            s = walk(c, at->g, sc);
        for (size_t k = 0; k < at->n_graphs && !s; k++)
            s = walk(c, at->graphs[k], sc);
    }
    return s;
}

static mcz_status walk(roles_ctx *c, const Onnx__GraphProto *g, const scope *outer)
{
    scope sc = {outer, NULL, 0, 0};
    mcz_status s = MCZ_OK;
    for (size_t i = 0; i < g->n_input && !s; i++)
        s = scope_put(&sc, g->input[i]->name, -1, c->err);
    for (size_t i = 0; i < g->n_initializer && !s; i++) {
        long v = view_of_tensor(c, g->initializer[i], g);
        s = v == -2 ? (c->err ? c->err->code : MCZ_ERR_NOMEM)
                    : scope_put(&sc, g->initializer[i]->name, v, c->err);
    }
    for (size_t i = 0; i < g->n_node && !s; i++)
        s = walk_node(c, g->node[i], &sc, g);
    free(sc.slots);
    return s;
}

/* Why a weight that is no weight input stays as it is. */
static const char *lost_reason(const char *op)
{
    if (op && strcmp(op, "Reshape") == 0)
        return "a Reshape merges or splits the axis its consumer needs";
    if (op && strcmp(op, "Flatten") == 0)
        return "a Flatten merges the axis its consumer needs";
    if (op && strcmp(op, "Squeeze") == 0)
        return "a Squeeze removes the axis its consumer needs";
    return "its consumer's axis was added by an Unsqueeze";
}

mcz_status mcz_model_weight_roles(mcz_model *m, mcz_weight_role *roles, mcz_error *err)
{
    roles_ctx c = {m, roles, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, 0, err};
    size_t n = m->nw ? m->nw : 1;
    c.by_ptr = malloc(n * sizeof *c.by_ptr);
    c.nonweight = calloc(n, 1);
    c.conflict = calloc(n, 1);
    c.lost = calloc(n, sizeof *c.lost);
    c.first_use = calloc(n, sizeof *c.first_use);
    c.readers = calloc(n, sizeof *c.readers);
    c.transpose = calloc(n, sizeof *c.transpose);
    mcz_status s = MCZ_OK;
    if (!c.by_ptr || !c.nonweight || !c.conflict || !c.lost || !c.first_use || !c.readers ||
        !c.transpose) {
        s = mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < m->nw; i++) {
        c.by_ptr[i] = (ptr_index){m->w[i].t, (long)i};
        roles[i] = (mcz_weight_role){MCZ_ROLE_NONE, -1, -1, "", "", 0, NULL, false, 0, NULL};
    }
    qsort(c.by_ptr, m->nw, sizeof *c.by_ptr, cmp_ptr);
    if (m->proto->graph)
        s = walk(&c, m->proto->graph, NULL);
    for (size_t i = 0; i < m->nw && !s; i++) {
        mcz_weight_role *r = &roles[i];
        const char *why = NULL;
        if (r->op != MCZ_ROLE_NONE && c.readers[i] == 1)
            r->transpose = c.transpose[i];
        if (c.conflict[i])
            why = "shared by consumers that disagree on the axis";
        else if (c.lost[i])
            why = lost_reason(c.lost[i]);
        else if (c.nonweight[i] && r->op != MCZ_ROLE_NONE)
            why = "also feeds a non-weight input";
        else if (r->op == MCZ_ROLE_NONE && c.first_use[i])
            why = "feeds no weight input";
        else if (r->op == MCZ_ROLE_NONE)
            why = "read by no node";
        if (!why)
            continue;
        if (r->op == MCZ_ROLE_NONE && c.first_use[i])
            r->op_type = c.first_use[i]; /* the op that reads it */
        r->op = MCZ_ROLE_NONE;
        r->channel_axis = r->reduce_axis = -1;
        r->why_not = why;
        r->transpose = NULL;
    }
out:
    free(c.by_ptr);
    free(c.nonweight);
    free(c.conflict);
    free(c.lost);
    free(c.first_use);
    free(c.readers);
    free(c.transpose);
    free(c.views);
    return s;
}

bool mcz_role_reported(const mcz_weight_role *r, const mcz_weight *w, uint64_t min_elements)
{
    return r->op != MCZ_ROLE_NONE ||
           (mcz_dtype_is_float(w->dtype) && w->count >= min_elements && w->count > 0);
}

const char *mcz_role_name(mcz_role_op op)
{
    switch (op) {
    case MCZ_ROLE_CONV: return "Conv";
    case MCZ_ROLE_CONV_TRANSPOSE: return "ConvTranspose";
    case MCZ_ROLE_GEMM: return "Gemm";
    case MCZ_ROLE_MATMUL: return "MatMul";
    case MCZ_ROLE_RECURRENT: return "LSTM/GRU/RNN";
    case MCZ_ROLE_GATHER: return "Gather";
    default: return "";
    }
}
