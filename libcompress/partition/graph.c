/* graph.c - the main graph as a directed graph over its nodes: producers and consumers of each
 * value, topological order, cycles, reachability (the cuts are in graphcut.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/graph.h"
#include "onnx/model_impl.h"
#include "onnx/namemap.h"

typedef struct gnode {
    mcz_graph_node pub;
    char *name, *op_type, *domain;
    size_t *ids;  /* inputs then outputs */
} gnode;

typedef struct gvalue {
    mcz_graph_value pub;
    char *name;
    size_t *cons;
    size_t ncap;
} gvalue;

struct mcz_graph {
    gnode *n;
    size_t nn, capn;
    gvalue *v;
    size_t nv, capv;
    mcz_namemap names; /* value name -> id */
};


mcz_graph *mcz_graph_new(mcz_error *err)
{
    mcz_graph *g = calloc(1, sizeof *g);
    if (!g)
        NOMEM(err);
    return g;
}

void mcz_graph_free(mcz_graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->nn; i++) {
        free(g->n[i].name);
        free(g->n[i].op_type);
        free(g->n[i].domain);
        free(g->n[i].ids);
    }
    for (size_t i = 0; i < g->nv; i++) {
        free(g->v[i].name);
        free(g->v[i].cons);
    }
    free(g->n);
    free(g->v);
    mcz_namemap_free(&g->names);
    free(g);
}

size_t mcz_graph_node_count(const mcz_graph *g)
{
    return g->nn;
}

size_t mcz_graph_value_count(const mcz_graph *g)
{
    return g->nv;
}

const mcz_graph_node *mcz_graph_node_at(const mcz_graph *g, size_t i)
{
    return i < g->nn ? &g->n[i].pub : NULL;
}

const mcz_graph_value *mcz_graph_value_at(const mcz_graph *g, size_t i)
{
    return i < g->nv ? &g->v[i].pub : NULL;
}

long mcz_graph_find_value(const mcz_graph *g, const char *name)
{
    return mcz_namemap_get(&g->names, name);
}

const char *mcz_graph_node_label(const mcz_graph *g, size_t i, char *buf, size_t cap)
{
    if (i >= g->nn)
        snprintf(buf, cap, "#%zu", i);
    else if (*g->n[i].pub.name)
        snprintf(buf, cap, "%s", g->n[i].pub.name);
    else
        snprintf(buf, cap, "%s#%zu", g->n[i].pub.op_type, i);
    return buf;
}

/* The id of `name`, created as an undefined value when new; -1 on allocation failure. */
static long value_id(mcz_graph *g, const char *name, mcz_error *err)
{
    long id = mcz_namemap_get(&g->names, name);
    if (id >= 0)
        return id;
    if (mcz_grow((void **)&g->v, &g->capv, g->nv + 1, sizeof *g->v, err))
        return -1;
    gvalue *v = &g->v[g->nv];
    memset(v, 0, sizeof *v);
    if (!(v->name = mcz_strdup(name))) {
        NOMEM(err);
        return -1;
    }
    if (mcz_namemap_put(&g->names, v->name, (long)g->nv, err)) {
        free(v->name);
        return -1;
    }
    v->pub.name = v->name;
    v->pub.producer = -1;
    return (long)g->nv++;
}

static mcz_status declare(mcz_graph *g, const char *name, mcz_value_kind kind, mcz_error *err)
{
    long id = value_id(g, name, err);
    if (id < 0)
        return err ? err->code : MCZ_ERR_NOMEM;
    gvalue *v = &g->v[id];
    if (v->pub.kind == MCZ_VALUE_ACTIVATION) {
        char b[256];
        return mcz_seterr(err, MCZ_ERR_FORMAT, "'%s' is a graph %s and the output of node %s",
                          name, kind == MCZ_VALUE_INPUT ? "input" : "initializer",
                          mcz_graph_node_label(g, (size_t)v->pub.producer, b, sizeof b));
    }
    /* an initializer listed among the inputs too (IR < 4) stays a weight */
    if (v->pub.kind != MCZ_VALUE_WEIGHT)
        v->pub.kind = kind;
    return MCZ_OK;
}

mcz_status mcz_graph_add_input(mcz_graph *g, const char *name, mcz_error *err)
{
    return declare(g, name, MCZ_VALUE_INPUT, err);
}

mcz_status mcz_graph_add_weight(mcz_graph *g, const char *name, mcz_error *err)
{
    return declare(g, name, MCZ_VALUE_WEIGHT, err);
}

mcz_status mcz_graph_add_output(mcz_graph *g, const char *name, mcz_error *err)
{
    long id = value_id(g, name, err);
    if (id < 0)
        return err ? err->code : MCZ_ERR_NOMEM;
    g->v[id].pub.is_output = true;
    return MCZ_OK;
}

static mcz_status add_consumer(gvalue *v, size_t node, mcz_error *err)
{
    if (v->pub.n_consumers && v->cons[v->pub.n_consumers - 1] == node)
        return MCZ_OK; /* nodes are added in id order: a repeat is the same node */
    mcz_status s = mcz_grow((void **)&v->cons, &v->ncap, v->pub.n_consumers + 1, sizeof *v->cons,
                            err);
    if (s)
        return s;
    v->cons[v->pub.n_consumers++] = node;
    v->pub.consumers = v->cons;
    return MCZ_OK;
}

static void refresh_views(mcz_graph *g)
{
    for (size_t i = 0; i < g->nn; i++) {
        gnode *n = &g->n[i];
        n->pub.inputs = n->ids;
        n->pub.outputs = n->ids + n->pub.n_inputs;
    }
}

long mcz_graph_add_node(mcz_graph *g, const mcz_graph_node_def *d, mcz_error *err)
{
    if (!d->op_type) {
        mcz_seterr(err, MCZ_ERR_ARG, "node without an op type");
        return -1;
    }
    if (mcz_grow((void **)&g->n, &g->capn, g->nn + 1, sizeof *g->n, err))
        return -1;
    size_t id = g->nn;
    gnode *n = &g->n[id];
    memset(n, 0, sizeof *n);
    size_t cap = d->n_inputs + d->n_reads + d->n_outputs;
    n->name = mcz_strdup(d->name ? d->name : "");
    n->op_type = mcz_strdup(d->op_type);
    n->domain = mcz_strdup(d->domain ? d->domain : "");
    n->ids = malloc((cap ? cap : 1) * sizeof *n->ids);
    if (!n->name || !n->op_type || !n->domain || !n->ids) {
        NOMEM(err);
        goto fail;
    }
    n->pub.name = n->name;
    n->pub.op_type = n->op_type;
    n->pub.domain = n->domain;
    n->pub.has_subgraphs = d->has_subgraphs;
    n->pub.copyable = d->copyable;
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++) {
        const char *const *names = pass ? d->reads : d->inputs;
        size_t cnt = pass ? d->n_reads : d->n_inputs;
        for (size_t i = 0; i < cnt; i++) {
            if (!names[i] || !*names[i])
                continue;
            long v = value_id(g, names[i], err);
            if (v < 0)
                goto fail;
            if (pass) { /* outer reads: each once, and not one of the node's own inputs */
                size_t j = 0;
                while (j < k && n->ids[j] != (size_t)v)
                    j++;
                if (j < k)
                    continue;
            }
            n->ids[k++] = (size_t)v;
        }
        if (!pass)
            n->pub.n_own_inputs = k;
    }
    n->pub.n_inputs = k;
    for (size_t i = 0; i < d->n_outputs; i++) {
        if (!d->outputs[i] || !*d->outputs[i])
            continue;
        long v = value_id(g, d->outputs[i], err);
        if (v < 0)
            goto fail;
        gvalue *gv = &g->v[v];
        if (gv->pub.kind != MCZ_VALUE_UNDEFINED || gv->pub.producer >= 0) {
            char b[256];
            if (gv->pub.kind == MCZ_VALUE_ACTIVATION)
                mcz_seterr(err, MCZ_ERR_FORMAT, "'%s' is the output of node %s and of node %s",
                           gv->name, mcz_graph_node_label(g, (size_t)gv->pub.producer, b, sizeof b),
                           *n->name ? n->name : n->op_type);
            else
                mcz_seterr(err, MCZ_ERR_FORMAT, "'%s' is a graph %s and the output of node %s",
                           gv->name, gv->pub.kind == MCZ_VALUE_INPUT ? "input" : "initializer",
                           *n->name ? n->name : n->op_type);
            goto fail;
        }
        /* a node writing one name twice is refused the same way */
        gv->pub.kind = MCZ_VALUE_ACTIVATION;
        gv->pub.producer = (long)id;
        n->ids[k + n->pub.n_outputs++] = (size_t)v;
    }
    /* consumers last: nothing above can fail half-way through them */
    for (size_t i = 0; i < n->pub.n_inputs; i++)
        if (add_consumer(&g->v[n->ids[i]], id, err))
            goto fail_consumers;
    g->nn++;
    refresh_views(g);
    return (long)id;
fail_consumers:
    for (size_t i = 0; i < n->pub.n_inputs; i++) {
        gvalue *gv = &g->v[n->ids[i]];
        if (gv->pub.n_consumers && gv->cons[gv->pub.n_consumers - 1] == id)
            gv->pub.n_consumers--;
    }
fail:
    /* undo the outputs claimed so far */
    for (size_t i = 0; i < n->pub.n_outputs; i++) {
        gvalue *gv = &g->v[n->ids[n->pub.n_inputs + i]];
        gv->pub.kind = MCZ_VALUE_UNDEFINED;
        gv->pub.producer = -1;
    }
    free(n->name);
    free(n->op_type);
    free(n->domain);
    free(n->ids);
    memset(n, 0, sizeof *n);
    return -1;
}

/* ---- from an ONNX model ------------------------------------------------------------------ */

/* The names a (sub)graph defines: its inputs, initializers and node outputs. */
typedef struct scope {
    const struct scope *up; /* the enclosing subgraph (NULL above the node's first subgraph) */
    mcz_namemap names;
} scope;

static int scope_has(const scope *s, const char *name)
{
    for (; s; s = s->up)
        if (mcz_namemap_get(&s->names, name) >= 0)
            return 1;
    return 0;
}

typedef struct reads {
    const char **names;
    size_t n, cap;
    mcz_namemap seen;
} reads;

static mcz_status add_read(reads *r, const char *name, mcz_error *err)
{
    if (mcz_namemap_get(&r->seen, name) >= 0)
        return MCZ_OK;
    mcz_status s = mcz_grow((void **)&r->names, &r->cap, r->n + 1, sizeof *r->names, err);
    if (s)
        return s;
    if ((s = mcz_namemap_put(&r->seen, name, (long)r->n, err)))
        return s;
    r->names[r->n++] = name;
    return MCZ_OK;
}

static mcz_status subgraph_reads(const Onnx__GraphProto *sg, const scope *up, reads *r,
                                 mcz_error *err);

static mcz_status node_subgraph_reads(const Onnx__NodeProto *n, const scope *up, reads *r,
                                      mcz_error *err)
{
    mcz_status s = MCZ_OK;
    for (size_t a = 0; a < n->n_attribute && !s; a++) {
        const Onnx__AttributeProto *at = n->attribute[a];
        if (at->g)
            s = subgraph_reads(at->g, up, r, err);
        for (size_t k = 0; k < at->n_graphs && !s; k++)
            if (at->graphs[k])
                s = subgraph_reads(at->graphs[k], up, r, err);
    }
    return s;
}

static mcz_status subgraph_reads(const Onnx__GraphProto *sg, const scope *up, reads *r,
                                 mcz_error *err)
{
    scope sc = {up, {0}};
    mcz_status s = MCZ_OK;
    for (size_t i = 0; i < sg->n_input && !s; i++)
        if (sg->input[i]->name)
            s = mcz_namemap_put(&sc.names, sg->input[i]->name, 0, err);
    for (size_t i = 0; i < sg->n_initializer && !s; i++)
        if (sg->initializer[i]->name)
            s = mcz_namemap_put(&sc.names, sg->initializer[i]->name, 0, err);
    for (size_t i = 0; i < sg->n_sparse_initializer && !s; i++) {
        const Onnx__SparseTensorProto *sp = sg->sparse_initializer[i];
        if (sp->values && sp->values->name)
            s = mcz_namemap_put(&sc.names, sp->values->name, 0, err);
    }
    for (size_t i = 0; i < sg->n_node && !s; i++)
        for (size_t k = 0; k < sg->node[i]->n_output && !s; k++)
            if (sg->node[i]->output[k] && *sg->node[i]->output[k])
                s = mcz_namemap_put(&sc.names, sg->node[i]->output[k], 0, err);
    for (size_t i = 0; i < sg->n_node && !s; i++) {
        const Onnx__NodeProto *n = sg->node[i];
        for (size_t k = 0; k < n->n_input && !s; k++)
            if (n->input[k] && *n->input[k] && !scope_has(&sc, n->input[k]))
                s = add_read(r, n->input[k], err);
        if (!s)
            s = node_subgraph_reads(n, &sc, r, err);
    }
    /* a subgraph output can name an outer value directly (an If branch returning it) */
    for (size_t i = 0; i < sg->n_output && !s; i++) {
        const char *o = sg->output[i]->name;
        if (o && *o && !scope_has(&sc, o))
            s = add_read(r, o, err);
    }
    mcz_namemap_free(&sc.names);
    return s;
}

static int default_domain(const char *d)
{
    return !d || !*d || strcmp(d, "ai.onnx") == 0;
}

static int node_has_subgraphs(const Onnx__NodeProto *n)
{
    for (size_t a = 0; a < n->n_attribute; a++)
        if (n->attribute[a]->g || n->attribute[a]->n_graphs)
            return 1;
    return 0;
}

/* Ops whose result is not a function of their inputs: never copied. */
static int random_op(const char *op)
{
    static const char *const ops[] = {"Bernoulli", "Multinomial", "RandomNormal",
                                      "RandomNormalLike", "RandomUniform", "RandomUniformLike"};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (strcmp(op, ops[i]) == 0)
            return 1;
    return 0;
}

/* Mark copyable the nodes that compute from weights only (to a fixed point: nodes need not be
 * in order). */
static void mark_weight_derived(mcz_graph *g)
{
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < g->nn; i++) {
            gnode *n = &g->n[i];
            if (n->pub.copyable || n->pub.has_subgraphs || !n->pub.n_inputs ||
                !n->pub.n_outputs || random_op(n->op_type))
                continue;
            size_t k = 0;
            for (; k < n->pub.n_inputs; k++) {
                const gvalue *v = &g->v[n->pub.inputs[k]];
                if (v->pub.kind == MCZ_VALUE_WEIGHT)
                    continue;
                if (v->pub.kind == MCZ_VALUE_ACTIVATION && g->n[v->pub.producer].pub.copyable)
                    continue;
                break;
            }
            if (k == n->pub.n_inputs) {
                n->pub.copyable = true;
                changed = 1;
            }
        }
    }
}

mcz_graph *mcz_graph_from_model(const mcz_model *m, mcz_error *err)
{
    const Onnx__GraphProto *mg = m->proto ? m->proto->graph : NULL;
    if (!mg) {
        mcz_seterr(err, MCZ_ERR_FORMAT, "%s: not an ONNX model: no graph", m->path);
        return NULL;
    }
    mcz_graph *g = mcz_graph_new(err);
    if (!g)
        return NULL;
    mcz_status s = MCZ_OK;
    for (size_t i = 0; i < mg->n_initializer && !s; i++)
        if (mg->initializer[i]->name && *mg->initializer[i]->name)
            s = mcz_graph_add_weight(g, mg->initializer[i]->name, err);
    for (size_t i = 0; i < mg->n_sparse_initializer && !s; i++) {
        const Onnx__SparseTensorProto *sp = mg->sparse_initializer[i];
        if (sp->values && sp->values->name && *sp->values->name)
            s = mcz_graph_add_weight(g, sp->values->name, err);
    }
    for (size_t i = 0; i < mg->n_input && !s; i++)
        if (mg->input[i]->name && *mg->input[i]->name)
            s = mcz_graph_add_input(g, mg->input[i]->name, err);
    reads r = {0};
    for (size_t i = 0; i < mg->n_node && !s; i++) {
        const Onnx__NodeProto *n = mg->node[i];
        r.n = 0;
        mcz_namemap_free(&r.seen);
        int sub = node_has_subgraphs(n);
        if (sub && (s = node_subgraph_reads(n, NULL, &r, err)))
            break;
        mcz_graph_node_def d = {
            .name = n->name, .op_type = n->op_type ? n->op_type : "", .domain = n->domain,
            .inputs = (const char *const *)n->input, .n_inputs = n->n_input,
            .outputs = (const char *const *)n->output, .n_outputs = n->n_output,
            .reads = r.names, .n_reads = r.n, .has_subgraphs = sub,
            .copyable = !sub && n->n_input == 0 && n->op_type &&
                        strcmp(n->op_type, "Constant") == 0 && default_domain(n->domain)};
        if (mcz_graph_add_node(g, &d, err) < 0) {
            s = err ? err->code : MCZ_ERR_NOMEM;
            if (err && s == MCZ_ERR_FORMAT) { /* name the file */
                char msg[MCZ_ERRMSG_MAX];
                snprintf(msg, sizeof msg, "%s", err->msg);
                mcz_seterr(err, s, "%s: %s", m->path, msg);
            }
        }
    }
    free(r.names);
    mcz_namemap_free(&r.seen);
    if (!s)
        mark_weight_derived(g);
    for (size_t i = 0; i < mg->n_output && !s; i++)
        if (mg->output[i]->name && *mg->output[i]->name)
            s = mcz_graph_add_output(g, mg->output[i]->name, err);
    if (s) {
        mcz_graph_free(g);
        return NULL;
    }
    return g;
}

/* ---- order ------------------------------------------------------------------------------- */

/* A binary min-heap of node ids. */
typedef struct heap {
    size_t *a;
    size_t n;
} heap;

static void heap_push(heap *h, size_t x)
{
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h->a[p] <= x)
            break;
        h->a[i] = h->a[p];
        i = p;
    }
    h->a[i] = x;
}

static size_t heap_pop(heap *h)
{
    size_t top = h->a[0], x = h->a[--h->n], i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->a[c + 1] < h->a[c])
            c++;
        if (x <= h->a[c])
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n)
        h->a[i] = x;
    return top;
}

/* Producer of value v when it is an activation, else -1. */
static long producer(const mcz_graph *g, size_t v)
{
    return g->v[v].pub.kind == MCZ_VALUE_ACTIVATION ? g->v[v].pub.producer : -1;
}

mcz_status mcz_graph_toposort(const mcz_graph *g, size_t *order, mcz_error *err)
{
    size_t nn = g->nn;
    size_t *indeg = calloc(nn ? nn : 1, sizeof *indeg);
    heap h = {malloc((nn ? nn : 1) * sizeof *h.a), 0};
    if (!indeg || !h.a) {
        free(indeg);
        free(h.a);
        return NOMEM(err);
    }
    /* in-degree counts edges (producer -> node) once per distinct input value */
    for (size_t i = 0; i < nn; i++)
        for (size_t k = 0; k < g->n[i].pub.n_inputs; k++)
            if (producer(g, g->n[i].pub.inputs[k]) >= 0)
                indeg[i]++;
    for (size_t i = 0; i < nn; i++)
        if (!indeg[i])
            heap_push(&h, i);
    size_t done = 0;
    while (h.n) {
        size_t x = heap_pop(&h);
        order[done++] = x;
        const gnode *n = &g->n[x];
        for (size_t k = 0; k < n->pub.n_outputs; k++) {
            const gvalue *v = &g->v[n->pub.outputs[k]];
            for (size_t c = 0; c < v->pub.n_consumers; c++) {
                size_t y = v->pub.consumers[c];
                /* y reads v once per distinct listing (inputs hold each value once per
                   node, except repeated own inputs: count those) */
                const gnode *ny = &g->n[y];
                for (size_t j = 0; j < ny->pub.n_inputs; j++)
                    if (ny->pub.inputs[j] == n->pub.outputs[k] && --indeg[y] == 0)
                        heap_push(&h, y);
            }
        }
    }
    mcz_status s = MCZ_OK;
    if (done < nn) {
        /* every node left has a predecessor left: walk back until a node repeats, which
           is then on a cycle */
        size_t x = 0;
        while (x < nn && !indeg[x])
            x++;
        uint8_t *seen = calloc(nn, 1);
        if (!seen) {
            s = NOMEM(err);
        } else {
            while (!seen[x]) {
                seen[x] = 1;
                const gnode *n = &g->n[x];
                for (size_t k = 0; k < n->pub.n_inputs; k++) {
                    long p = producer(g, n->pub.inputs[k]);
                    if (p >= 0 && indeg[p]) {
                        x = (size_t)p;
                        break;
                    }
                }
            }
            char b[256];
            s = mcz_seterr(err, MCZ_ERR_FORMAT, "the graph has a cycle through node %s (%zu nodes "
                           "are on or after cycles)", mcz_graph_node_label(g, x, b, sizeof b),
                           nn - done);
            free(seen);
        }
    }
    free(indeg);
    free(h.a);
    return s;
}

/* ---- reachability ------------------------------------------------------------------------ */

static mcz_status walk(const mcz_graph *g, const size_t *values, size_t nvals, uint8_t *mark,
                       int down, mcz_error *err)
{
    size_t *stack = malloc((g->nn + 1) * sizeof *stack);
    uint8_t *seen = calloc(g->nn + 1, 1);
    if (!stack || !seen) {
        free(stack);
        free(seen);
        return NOMEM(err);
    }
    size_t sp = 0;
    /* push the nodes one step from the values */
    for (size_t i = 0; i < nvals; i++) {
        const gvalue *v = &g->v[values[i]];
        if (down) {
            for (size_t c = 0; c < v->pub.n_consumers; c++)
                if (!seen[v->pub.consumers[c]]) {
                    seen[v->pub.consumers[c]] = 1;
                    stack[sp++] = v->pub.consumers[c];
                }
        } else {
            long p = producer(g, values[i]);
            if (p >= 0 && !seen[p]) {
                seen[p] = 1;
                stack[sp++] = (size_t)p;
            }
        }
    }
    while (sp) {
        size_t x = stack[--sp];
        mark[x] = 1;
        const gnode *n = &g->n[x];
        if (down) {
            for (size_t k = 0; k < n->pub.n_outputs; k++) {
                const gvalue *v = &g->v[n->pub.outputs[k]];
                for (size_t c = 0; c < v->pub.n_consumers; c++)
                    if (!seen[v->pub.consumers[c]]) {
                        seen[v->pub.consumers[c]] = 1;
                        stack[sp++] = v->pub.consumers[c];
                    }
            }
        } else {
            for (size_t k = 0; k < n->pub.n_inputs; k++) {
                long p = producer(g, n->pub.inputs[k]);
                if (p >= 0 && !seen[p]) {
                    seen[p] = 1;
                    stack[sp++] = (size_t)p;
                }
            }
        }
    }
    free(stack);
    free(seen);
    return MCZ_OK;
}

mcz_status mcz_graph_ancestors(const mcz_graph *g, const size_t *values, size_t n,
                               uint8_t *mark, mcz_error *err)
{
    return walk(g, values, n, mark, 0, err);
}

mcz_status mcz_graph_descendants(const mcz_graph *g, const size_t *values, size_t n,
                                 uint8_t *mark, mcz_error *err)
{
    return walk(g, values, n, mark, 1, err);
}

bool mcz_graph_reaches(const mcz_graph *g, size_t from, size_t to)
{
    if (from >= g->nn || to >= g->nn)
        return false;
    uint8_t *mark = calloc(g->nn, 1);
    if (!mark)
        return false;
    const gnode *n = &g->n[from];
    bool r = walk(g, n->pub.outputs, n->pub.n_outputs, mark, 1, NULL) == MCZ_OK && mark[to];
    free(mark);
    return r;
}
