/* partbuild.c - the planner's view of the model (the graph, a topological order, the values'
 * types, the weights each node holds or reads) and, once every placed node has its part,
 * what each part holds, takes and gives, and what crosses each cut. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/model_impl.h"
#include "partition/partition_impl.h"


/* ---- weights: which weight-table row each tensor is ---------------------------------- */

typedef struct tref {
    const Onnx__TensorProto *t;
    size_t w;
} tref;

static int tref_cmp(const void *a, const void *b)
{
    const tref *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

static long weight_of(const tref *map, size_t n, const Onnx__TensorProto *t)
{
    tref key = {t, 0};
    const tref *r = bsearch(&key, map, n, sizeof *map, tref_cmp);
    return r ? (long)r->w : -1;
}

/* Every weight inside subgraph `sg` and its own subgraphs, appended to `out`. */
static mcz_status subgraph_weights(const Onnx__GraphProto *sg, const tref *map, size_t nmap,
                                   zlist *out, mcz_error *err)
{
    mcz_status s = MCZ_OK;
    for (size_t i = 0; i < sg->n_initializer && !s; i++) {
        long w = weight_of(map, nmap, sg->initializer[i]);
        if (w >= 0)
            s = mcz_zpush(out, (size_t)w, err);
    }
    for (size_t i = 0; i < sg->n_node && !s; i++) {
        const Onnx__NodeProto *n = sg->node[i];
        for (size_t a = 0; a < n->n_attribute && !s; a++) {
            const Onnx__AttributeProto *at = n->attribute[a];
            long w = at->t ? weight_of(map, nmap, at->t) : -1;
            if (w >= 0)
                s = mcz_zpush(out, (size_t)w, err);
            if (!s && at->g)
                s = subgraph_weights(at->g, map, nmap, out, err);
            for (size_t k = 0; k < at->n_graphs && !s; k++)
                if (at->graphs[k])
                    s = subgraph_weights(at->graphs[k], map, nmap, out, err);
        }
    }
    return s;
}

/* ---- items: what reading a value makes a part hold ---------------------------------- */

mcz_status mcz_items_of(planner *pl, const size_t *vals, size_t n, zlist *out, mcz_error *err)
{
    const mcz_graph *g = pl->P->g;
    zlist stack = {0};
    mcz_status s = MCZ_OK;
    mcz_stamp_reset(pl, pl->P->nv);
    for (size_t i = 0; i < n && !s; i++)
        s = mcz_zpush(&stack, vals[i], err);
    while (stack.n && !s) {
        size_t v = stack.a[--stack.n];
        const mcz_graph_value *gv = mcz_graph_value_at(g, v);
        if (gv->kind == MCZ_VALUE_WEIGHT) {
            if (pl->stamp[v] != pl->tag) {
                pl->stamp[v] = pl->tag;
                s = mcz_zpush(out, v, err);
            }
            continue;
        }
        if (gv->kind != MCZ_VALUE_ACTIVATION)
            continue;
        const mcz_graph_node *c = mcz_graph_node_at(g, (size_t)gv->producer);
        if (!c->copyable)
            continue;
        size_t rep = c->outputs[0];
        if (pl->stamp[rep] == pl->tag)
            continue;
        pl->stamp[rep] = pl->tag;
        s = mcz_zpush(out, rep, err);
        for (size_t k = 0; k < c->n_inputs && !s; k++)
            s = mcz_zpush(&stack, c->inputs[k], err);
    }
    free(stack.a);
    return s;
}

/* ---- the plan's parts, from each node's part ---------------------------------------- */

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

enum { NEED_NONE = 0, NEED_WEIGHT, NEED_INPUT };

/* A part holds item v: a weight it needs, or a copyable node it copies. */
static void take_item(planner *pl, size_t v, uint8_t *mark_node, uint8_t *need)
{
    const mcz_graph_value *gv = mcz_graph_value_at(pl->P->g, v);
    if (gv->kind == MCZ_VALUE_WEIGHT)
        need[v] = NEED_WEIGHT;
    else
        mark_node[gv->producer] = 1;
}

/* Part k while it is being built: the scratch marks (one per node or value, cleared for
 * each part) and the lists that become its record. */
typedef struct pbuild {
    planner *pl;
    size_t k;
    int last;                 /* the last part */
    uint8_t *mark_node;       /* per node: the part holds it (placed or copied) */
    uint8_t *need;            /* per value: NEED_WEIGHT or NEED_INPUT */
    uint8_t *listed;          /* per value: already in the list being built */
    zlist w, nodes, inits, sparse, ins, outs;
} pbuild;

/* 1. What the part holds: its placed nodes, what they read (inputs, activations of earlier
 * parts, weights, copyable nodes) and their own weights; the last part also takes what the
 * model's outputs need that no placed node makes. */
static mcz_status mark_holdings(pbuild *b, mcz_error *err)
{
    planner *pl = b->pl;
    mcz_partition *P = pl->P;
    const mcz_graph *g = P->g;
    size_t k = b->k;
    mcz_status s = MCZ_OK;
    char lb[256];
    for (size_t i = 0; i < P->nn && !s; i++) {
        if (P->part_of[i] != k)
            continue;
        b->mark_node[i] = 1;
        const mcz_graph_node *n = mcz_graph_node_at(g, i);
        for (size_t q = 0; q < n->n_inputs; q++) {
            size_t v = n->inputs[q];
            const mcz_graph_value *gv = mcz_graph_value_at(g, v);
            if (gv->kind == MCZ_VALUE_INPUT) {
                b->need[v] = NEED_INPUT;
            } else if (gv->kind == MCZ_VALUE_ACTIVATION) {
                size_t p = P->part_of[gv->producer];
                if (p != MCZ_GRAPH_COPIED && p < k)
                    b->need[v] = NEED_INPUT;
                else if (p != MCZ_GRAPH_COPIED && p > k) /* cannot happen with a valid split */
                    return mcz_seterr(err, MCZ_ERR_ARG, "node %s of part %zu reads '%s' of "
                                      "the later part %zu",
                                      mcz_graph_node_label(g, i, lb, sizeof lb), k, gv->name, p);
            }
        }
        for (size_t q = 0; q < pl->needs[i].n; q++)
            take_item(pl, pl->needs[i].a[q], b->mark_node, b->need);
        for (size_t q = 0; q < pl->own[i].n && !s; q++)
            s = mcz_zpush(&b->w, pl->own[i].a[q], err);
    }
    const Onnx__GraphProto *mg = pl->mg;
    zlist items = {0};
    for (size_t i = 0; b->last && i < mg->n_output && !s; i++) {
        long v = mcz_graph_find_value(g, mg->output[i]->name ? mg->output[i]->name : "");
        if (v < 0)
            continue;
        const mcz_graph_value *gv = mcz_graph_value_at(g, (size_t)v);
        if (gv->kind == MCZ_VALUE_INPUT) {
            b->need[v] = NEED_INPUT;
        } else {
            size_t vv = (size_t)v;
            s = mcz_items_of(pl, &vv, 1, &items, err);
        }
        for (size_t q = 0; q < items.n; q++)
            take_item(pl, items.a[q], b->mark_node, b->need);
        items.n = 0;
    }
    free(items.a);
    return s;
}

/* 2. Its nodes in topological order (a copied node adds the weight it makes), then the
 * initializers and sparse initializers it needs, in the model's order, each once. */
static mcz_status list_members(pbuild *b, mcz_error *err)
{
    mcz_partition *P = b->pl->P;
    const mcz_graph *g = P->g;
    const Onnx__GraphProto *mg = b->pl->mg;
    mcz_status s = MCZ_OK;
    for (size_t i = 0; i < P->nn && !s; i++) {
        size_t id = P->order[i];
        if (!b->mark_node[id])
            continue;
        s = mcz_zpush(&b->nodes, id, err);
        if (!s && P->part_of[id] == MCZ_GRAPH_COPIED) {
            const mcz_graph_node *n = mcz_graph_node_at(g, id);
            if (n->n_outputs && b->pl->wval[n->outputs[0]] >= 0)
                s = mcz_zpush(&b->w, (size_t)b->pl->wval[n->outputs[0]], err);
        }
    }
    memset(b->listed, 0, P->nv);
    for (size_t i = 0; i < mg->n_initializer && !s; i++) {
        long v = mg->initializer[i]->name ? mcz_graph_find_value(g, mg->initializer[i]->name) : -1;
        if (v >= 0 && b->need[v] == NEED_WEIGHT && !b->listed[v]) {
            b->listed[v] = 1;
            s = mcz_zpush(&b->inits, i, err);
            if (!s && b->pl->wval[v] >= 0)
                s = mcz_zpush(&b->w, (size_t)b->pl->wval[v], err);
        }
    }
    for (size_t i = 0; i < mg->n_sparse_initializer && !s; i++) {
        const Onnx__SparseTensorProto *sp = mg->sparse_initializer[i];
        long v = sp->values && sp->values->name ? mcz_graph_find_value(g, sp->values->name) : -1;
        if (v >= 0 && b->need[v] == NEED_WEIGHT && !b->listed[v]) {
            b->listed[v] = 1;
            s = mcz_zpush(&b->sparse, i, err);
        }
    }
    return s;
}

/* 3. Its inputs: the model's first (in the model's order), then activations of earlier
 * parts (in topological order). */
static mcz_status list_inputs(pbuild *b, mcz_error *err)
{
    mcz_partition *P = b->pl->P;
    const mcz_graph *g = P->g;
    const Onnx__GraphProto *mg = b->pl->mg;
    mcz_status s = MCZ_OK;
    memset(b->listed, 0, P->nv);
    for (size_t i = 0; i < mg->n_input && !s; i++) {
        long v = mg->input[i]->name ? mcz_graph_find_value(g, mg->input[i]->name) : -1;
        if (v >= 0 && b->need[v] == NEED_INPUT && !b->listed[v]) {
            b->listed[v] = 1;
            s = mcz_zpush(&b->ins, (size_t)v, err);
        }
    }
    for (size_t i = 0; i < P->nn && !s; i++) {
        const mcz_graph_node *n = mcz_graph_node_at(g, P->order[i]);
        for (size_t q = 0; q < n->n_outputs && !s; q++) {
            size_t v = n->outputs[q];
            if (b->need[v] == NEED_INPUT && !b->listed[v]) {
                b->listed[v] = 1;
                s = mcz_zpush(&b->ins, v, err);
            }
        }
    }
    return s;
}

/* 4. Its outputs: the model's that this part makes (the last part: also those no placed node
 * makes), then the activations a later part reads. */
static mcz_status list_outputs(pbuild *b, mcz_error *err)
{
    mcz_partition *P = b->pl->P;
    const mcz_graph *g = P->g;
    const Onnx__GraphProto *mg = b->pl->mg;
    size_t k = b->k;
    mcz_status s = MCZ_OK;
    memset(b->listed, 0, P->nv);
    for (size_t i = 0; i < mg->n_output && !s; i++) {
        long v = mg->output[i]->name ? mcz_graph_find_value(g, mg->output[i]->name) : -1;
        if (v < 0 || b->listed[v])
            continue;
        const mcz_graph_value *gv = mcz_graph_value_at(g, (size_t)v);
        int mine = gv->kind == MCZ_VALUE_ACTIVATION && P->part_of[gv->producer] == k;
        int orphan = gv->kind != MCZ_VALUE_ACTIVATION ||
                     P->part_of[gv->producer] == MCZ_GRAPH_COPIED;
        if (mine || (b->last && orphan)) {
            b->listed[v] = 1;
            s = mcz_zpush(&b->outs, (size_t)v, err);
        }
    }
    for (size_t i = 0; i < P->nn && !s; i++) {
        size_t id = P->order[i];
        if (P->part_of[id] != k)
            continue;
        const mcz_graph_node *n = mcz_graph_node_at(g, id);
        for (size_t q = 0; q < n->n_outputs && !s; q++) {
            size_t v = n->outputs[q];
            const mcz_graph_value *gv = mcz_graph_value_at(g, v);
            int later = 0;
            for (size_t c = 0; c < gv->n_consumers && !later; c++) {
                size_t pc = P->part_of[gv->consumers[c]];
                later = pc != MCZ_GRAPH_COPIED && pc != k;
            }
            if (later && !b->listed[v]) {
                b->listed[v] = 1;
                s = mcz_zpush(&b->outs, v, err);
            }
        }
    }
    return s;
}

/* 5. The record: the lists move into it (the weights ascending, each once) and the public
 * description is filled in. On failure the lists still move, so the part's cleanup frees
 * them. */
static mcz_status fill_record(pbuild *b, mcz_status s, mcz_error *err)
{
    mcz_partition *P = b->pl->P;
    part_rec *r = &P->parts[b->k];
    zlist *w = &b->w;
    if (!s && w->n) {
        qsort(w->a, w->n, sizeof *w->a, cmp_size);
        size_t u = 1;
        for (size_t i = 1; i < w->n; i++)
            if (w->a[i] != w->a[u - 1])
                w->a[u++] = w->a[i];
        w->n = u;
    }
    r->in_names = malloc((b->ins.n + 1) * sizeof *r->in_names);
    r->out_names = malloc((b->outs.n + 1) * sizeof *r->out_names);
    if (!s && (!r->in_names || !r->out_names))
        s = NOMEM(err);
    r->nodes = b->nodes.a;
    r->nnodes = b->nodes.n;
    r->inits = b->inits.a;
    r->ninits = b->inits.n;
    r->sparse = b->sparse.a;
    r->nsparse = b->sparse.n;
    r->weights = w->a;
    r->in_ids = b->ins.a;
    r->out_ids = b->outs.a;
    if (s)
        return s;
    for (size_t i = 0; i < b->ins.n; i++)
        r->in_names[i] = mcz_graph_value_at(P->g, b->ins.a[i])->name;
    for (size_t i = 0; i < b->outs.n; i++)
        r->out_names[i] = mcz_graph_value_at(P->g, b->outs.a[i])->name;
    r->pub.nodes = b->nodes.n;
    r->pub.placed_nodes = 0;
    for (size_t i = 0; i < b->nodes.n; i++)
        r->pub.placed_nodes += P->part_of[b->nodes.a[i]] == b->k;
    r->pub.n_weights = w->n;
    r->pub.weights = w->a;
    r->pub.weight_bytes = 0;
    for (size_t i = 0; i < w->n; i++)
        r->pub.weight_bytes += mcz_model_weight(P->m, w->a[i])->nbytes;
    r->pub.n_inputs = b->ins.n;
    r->pub.inputs = r->in_names;
    r->pub.n_outputs = b->outs.n;
    r->pub.outputs = r->out_names;
    return MCZ_OK;
}

/* 6. Every input and output of a part needs a type. */
static mcz_status check_io_types(const mcz_partition *P, const pbuild *b, mcz_error *err)
{
    const mcz_graph *g = P->g;
    for (int io = 0; io < 2; io++) {
        const size_t *ids = io ? b->outs.a : b->ins.a;
        size_t n = io ? b->outs.n : b->ins.n;
        for (size_t i = 0; i < n; i++) {
            if (P->vt[ids[i]].typed)
                continue;
            const mcz_graph_value *gv = mcz_graph_value_at(g, ids[i]);
            if (gv->producer < 0)
                return mcz_seterr(err, MCZ_ERR_FORMAT, "%s: graph %s '%s' has no type",
                                  P->m->path, gv->is_output ? "output" : "input", gv->name);
            return mcz_seterr(err, MCZ_ERR_ARG,
                              "cannot pass '%s' between parts: its element type is unknown "
                              "(the model declares no value_info for it and op %s has no "
                              "type rule); cut elsewhere",
                              gv->name, mcz_graph_node_at(g, gv->producer)->op_type);
        }
    }
    return MCZ_OK;
}

/* Part k's record from each node's part: what it holds, its nodes, weights, inputs and
 * outputs. mark_node, need and listed are scratch of P->nn, P->nv and P->nv bytes. */
static mcz_status build_part(planner *pl, size_t k, uint8_t *mark_node, uint8_t *need,
                             uint8_t *listed, mcz_error *err)
{
    mcz_partition *P = pl->P;
    pbuild b = {.pl = pl, .k = k, .last = k + 1 == P->K, .mark_node = mark_node,
                .need = need, .listed = listed};
    memset(mark_node, 0, P->nn);
    memset(need, 0, P->nv);
    mcz_status s = mark_holdings(&b, err);
    if (!s)
        s = list_members(&b, err);
    if (!s)
        s = list_inputs(&b, err);
    if (!s)
        s = list_outputs(&b, err);
    s = fill_record(&b, s, err);
    return s ? s : check_io_types(P, &b, err);
}

static mcz_status build_cut(mcz_partition *P, size_t j, mcz_error *err)
{
    const mcz_graph *g = P->g;
    cut_rec *c = &P->cuts[j];
    zlist vals = {0};
    mcz_status s = MCZ_OK;
    for (size_t i = 0; i < P->nn && !s; i++) {
        size_t id = P->order[i];
        if (P->part_of[id] == MCZ_GRAPH_COPIED || P->part_of[id] > j)
            continue;
        const mcz_graph_node *n = mcz_graph_node_at(g, id);
        for (size_t q = 0; q < n->n_outputs && !s; q++) {
            const mcz_graph_value *gv = mcz_graph_value_at(g, n->outputs[q]);
            int crosses = 0;
            for (size_t k = 0; k < gv->n_consumers && !crosses; k++) {
                size_t pc = P->part_of[gv->consumers[k]];
                crosses = pc != MCZ_GRAPH_COPIED && pc > j;
            }
            if (crosses)
                s = mcz_zpush(&vals, n->outputs[q], err);
        }
    }
    size_t ndims = 0;
    for (size_t i = 0; i < vals.n; i++) {
        const Onnx__ValueInfoProto *d = P->vt[vals.a[i]].decl;
        if (d && d->type && d->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
            d->type->tensor_type && d->type->tensor_type->shape)
            ndims += d->type->tensor_type->shape->n_dim;
    }
    c->t = calloc(vals.n + 1, sizeof *c->t);
    c->dims = malloc((ndims + 1) * sizeof *c->dims);
    c->dim_names = malloc((ndims + 1) * sizeof *c->dim_names);
    if (!s && (!c->t || !c->dims || !c->dim_names))
        s = NOMEM(err);
    if (s) {
        free(vals.a);
        return s;
    }
    size_t at = 0;
    for (size_t i = 0; i < vals.n; i++) {
        size_t v = vals.a[i];
        mcz_cut_tensor *t = &c->t[i];
        const Onnx__ValueInfoProto *d = P->vt[v].decl;
        t->name = mcz_graph_value_at(g, v)->name;
        t->dtype = P->vt[v].elem;
        t->rank = -1;
        if (d && d->type && d->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
            d->type->tensor_type && d->type->tensor_type->shape) {
            const Onnx__TensorShapeProto *sh = d->type->tensor_type->shape;
            t->rank = (int)sh->n_dim;
            t->dims = c->dims + at;
            t->dim_names = c->dim_names + at;
            for (size_t k = 0; k < sh->n_dim; k++, at++) {
                const Onnx__TensorShapeProto__Dimension *dm = sh->dim[k];
                int concrete = dm->value_case ==
                               ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                c->dims[at] = concrete ? dm->dim_value : -1;
                c->dim_names[at] =
                    dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                        ? dm->dim_param
                        : NULL;
            }
        }
        t->bytes_known = P->vt[v].shape_known;
        t->bytes = P->vt[v].bytes;
        if (t->bytes_known)
            c->pub.known_bytes += t->bytes;
        else
            c->pub.n_unknown++;
    }
    c->pub.n_tensors = vals.n;
    c->pub.tensors = c->t;
    free(vals.a);
    return MCZ_OK;
}

mcz_status mcz_parts_build(planner *pl, mcz_error *err)
{
    mcz_partition *P = pl->P;
    P->parts = calloc(P->K, sizeof *P->parts);
    P->cuts = calloc(P->K, sizeof *P->cuts);
    uint8_t *mark = malloc(P->nn + 1), *need = malloc(P->nv + 1), *listed = malloc(P->nv + 1);
    mcz_status s = MCZ_OK;
    if (!P->parts || !P->cuts || !mark || !need || !listed)
        s = NOMEM(err);
    for (size_t k = 0; k < P->K && !s; k++)
        s = build_part(pl, k, mark, need, listed, err);
    for (size_t j = 0; j + 1 < P->K && !s; j++)
        s = build_cut(P, j, err);
    free(mark);
    free(need);
    free(listed);
    return s;
}

void mcz_planner_free(planner *pl)
{
    free(pl->placed);
    free(pl->pos);
    free(pl->wval);
    free(pl->item_bytes);
    free(pl->item_nodes);
    for (size_t i = 0; i < pl->P->nn; i++) {
        if (pl->own)
            free(pl->own[i].a);
        if (pl->needs)
            free(pl->needs[i].a);
    }
    free(pl->own);
    free(pl->needs);
    free(pl->own_bytes);
    free(pl->stamp);
    free(pl->cut_cost);
    free(pl->cut_bad);
    free(pl->cut_bad_value);
}

/* 1. The planner's arrays, one entry per node or value (+1: never a zero-size malloc). */
static mcz_status planner_alloc(planner *pl, mcz_partition *P, mcz_error *err)
{
    size_t nn = P->nn, nv = P->nv;
    P->order = malloc((nn + 1) * sizeof *P->order);
    P->vt = malloc((nv + 1) * sizeof *P->vt);
    P->part_of = malloc((nn + 1) * sizeof *P->part_of);
    pl->placed = malloc((nn + 1) * sizeof *pl->placed);
    pl->pos = malloc((nn + 1) * sizeof *pl->pos);
    pl->wval = malloc((nv + 1) * sizeof *pl->wval);
    pl->item_bytes = calloc(nv + 1, sizeof *pl->item_bytes);
    pl->item_nodes = calloc(nv + 1, 1);
    pl->own = calloc(nn + 1, sizeof *pl->own);
    pl->needs = calloc(nn + 1, sizeof *pl->needs);
    pl->own_bytes = calloc(nn + 1, sizeof *pl->own_bytes);
    pl->stamp = calloc(nv + 1, sizeof *pl->stamp);
    if (!P->order || !P->vt || !P->part_of || !pl->placed || !pl->pos || !pl->wval ||
        !pl->item_bytes || !pl->item_nodes || !pl->own || !pl->needs || !pl->own_bytes ||
        !pl->stamp)
        return NOMEM(err);
    return MCZ_OK;
}

/* 2. The graph is well formed: a topological order exists, every value read is defined,
 * every graph output is made; then every value's type. */
static mcz_status check_graph(mcz_partition *P, mcz_error *err)
{
    const mcz_model *m = P->m;
    const mcz_graph *g = P->g;
    mcz_status s = mcz_graph_toposort(g, P->order, err);
    if (s) {
        if (err) {
            char msg[MCZ_ERRMSG_MAX];
            snprintf(msg, sizeof msg, "%s", err->msg);
            mcz_seterr(err, s, "%s: %s", m->path, msg);
        }
        return s;
    }
    char b[256];
    for (size_t i = 0; i < P->nn; i++) {
        const mcz_graph_node *n = mcz_graph_node_at(g, i);
        for (size_t k = 0; k < n->n_inputs; k++) {
            const mcz_graph_value *gv = mcz_graph_value_at(g, n->inputs[k]);
            if (gv->kind == MCZ_VALUE_UNDEFINED)
                return mcz_seterr(err, MCZ_ERR_FORMAT,
                                  "%s: node %s reads '%s', which is no graph input, initializer "
                                  "or node output", m->path,
                                  mcz_graph_node_label(g, i, b, sizeof b), gv->name);
        }
    }
    for (size_t v = 0; v < P->nv; v++) {
        const mcz_graph_value *gv = mcz_graph_value_at(g, v);
        if (gv->is_output && gv->kind == MCZ_VALUE_UNDEFINED)
            return mcz_seterr(err, MCZ_ERR_FORMAT, "%s: graph output '%s' is made by nothing",
                              m->path, gv->name);
    }
    return mcz_value_types(m, g, P->order, P->vt, err);
}

/* 3. Which weight-table row each value is (initializers, copyable Constant nodes), what
 * each node with subgraphs holds inside them, and the bytes of each. */
static mcz_status map_weights(planner *pl, const tref *map, mcz_error *err)
{
    mcz_partition *P = pl->P;
    const mcz_model *m = P->m;
    const mcz_graph *g = P->g;
    const Onnx__GraphProto *mg = pl->mg;
    mcz_status s = MCZ_OK;
    for (size_t v = 0; v < P->nv; v++)
        pl->wval[v] = -1;
    for (size_t i = 0; i < mg->n_initializer; i++) {
        long v = mg->initializer[i]->name ? mcz_graph_find_value(g, mg->initializer[i]->name) : -1;
        if (v >= 0)
            pl->wval[v] = weight_of(map, m->nw, mg->initializer[i]);
    }
    for (size_t i = 0; i < P->nn && !s; i++) {
        const mcz_graph_node *n = mcz_graph_node_at(g, i);
        const Onnx__NodeProto *np = mg->node[i];
        if (n->copyable) {
            for (size_t a = 0; a < np->n_attribute; a++)
                if (np->attribute[a]->t && n->n_outputs)
                    pl->wval[n->outputs[0]] = weight_of(map, m->nw, np->attribute[a]->t);
            pl->item_nodes[n->outputs[0]] = 1;
        }
        if (!n->has_subgraphs)
            continue;
        for (size_t a = 0; a < np->n_attribute && !s; a++) {
            const Onnx__AttributeProto *at = np->attribute[a];
            if (at->g)
                s = subgraph_weights(at->g, map, m->nw, &pl->own[i], err);
            for (size_t k = 0; k < at->n_graphs && !s; k++)
                if (at->graphs[k])
                    s = subgraph_weights(at->graphs[k], map, m->nw, &pl->own[i], err);
        }
        for (size_t q = 0; q < pl->own[i].n; q++)
            pl->own_bytes[i] += m->w[pl->own[i].a[q]].pub.nbytes;
    }
    for (size_t v = 0; v < P->nv && !s; v++)
        if (pl->wval[v] >= 0)
            pl->item_bytes[v] = m->w[pl->wval[v]].pub.nbytes;
    return s;
}

/* 4. What each node reads, through copyable nodes; the live nodes (those something a graph
 * output needs comes from: a part of nothing but dead ones would give nothing); the placed
 * nodes in topological order. */
static mcz_status place_nodes(planner *pl, mcz_error *err)
{
    mcz_partition *P = pl->P;
    const mcz_graph *g = P->g;
    mcz_status s = MCZ_OK;
    for (size_t i = 0; i < P->nn && !s; i++) {
        const mcz_graph_node *n = mcz_graph_node_at(g, i);
        if (!n->copyable)
            s = mcz_items_of(pl, n->inputs, n->n_inputs, &pl->needs[i], err);
    }
    zlist outs = {0};
    for (size_t v = 0; v < P->nv && !s; v++)
        if (mcz_graph_value_at(g, v)->is_output)
            s = mcz_zpush(&outs, v, err);
    if (!s && !(P->live = calloc(P->nn + 1, 1)))
        s = NOMEM(err);
    if (!s)
        s = mcz_graph_ancestors(g, outs.a, outs.n, P->live, err);
    free(outs.a);
    if (s)
        return s;
    for (size_t i = 0; i < P->nn; i++) {
        size_t id = P->order[i];
        pl->pos[id] = SIZE_MAX;
        P->part_of[id] = MCZ_GRAPH_COPIED;
        if (!mcz_graph_node_at(g, id)->copyable && P->live[id]) {
            pl->pos[id] = pl->np;
            pl->placed[pl->np++] = id;
        }
    }
    return MCZ_OK;
}

/* 5. The model's inputs and outputs by name, its weight bytes and its largest weight. */
static mcz_status model_summary(planner *pl, mcz_error *err)
{
    mcz_partition *P = pl->P;
    const mcz_model *m = P->m;
    const Onnx__GraphProto *mg = pl->mg;
    P->model_inputs = malloc((mg->n_input + 1) * sizeof *P->model_inputs);
    P->model_outputs = malloc((mg->n_output + 1) * sizeof *P->model_outputs);
    if (!P->model_inputs || !P->model_outputs)
        return NOMEM(err);
    for (size_t i = 0; i < mg->n_input; i++) {
        long v = mg->input[i]->name ? mcz_graph_find_value(P->g, mg->input[i]->name) : -1;
        if (v >= 0 && mcz_graph_value_at(P->g, v)->kind == MCZ_VALUE_INPUT)
            P->model_inputs[P->n_model_inputs++] = mg->input[i]->name;
    }
    for (size_t i = 0; i < mg->n_output; i++)
        if (mg->output[i]->name && *mg->output[i]->name)
            P->model_outputs[P->n_model_outputs++] = mg->output[i]->name;
    for (size_t i = 0; i < m->nw; i++) {
        P->total_bytes += m->w[i].pub.nbytes;
        if (P->largest_weight < 0 || m->w[i].pub.nbytes > P->largest_weight_bytes) {
            P->largest_weight = (long)i;
            P->largest_weight_bytes = m->w[i].pub.nbytes;
        }
    }
    return MCZ_OK;
}

/* The graph, its order, the types, each node's weights. */
mcz_status mcz_planner_init(planner *pl, mcz_partition *P, mcz_error *err)
{
    mcz_model *m = P->m;
    memset(pl, 0, sizeof *pl);
    pl->P = P;
    pl->mg = m->proto->graph;
    if (!(P->g = mcz_graph_from_model(m, err)))
        return err ? err->code : MCZ_ERR_NOMEM;
    P->nn = mcz_graph_node_count(P->g);
    P->nv = mcz_graph_value_count(P->g);
    mcz_status s = planner_alloc(pl, P, err);
    if (!s)
        s = check_graph(P, err);
    if (s)
        return s;
    tref *map = malloc((m->nw + 1) * sizeof *map); /* weight rows by tensor */
    if (!map)
        return NOMEM(err);
    for (size_t i = 0; i < m->nw; i++)
        map[i] = (tref){m->w[i].t, i};
    qsort(map, m->nw, sizeof *map, tref_cmp);
    s = map_weights(pl, map, err);
    free(map);
    if (!s)
        s = place_nodes(pl, err);
    return s ? s : model_summary(pl, err);
}

