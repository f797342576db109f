/* partsplit.c - where to cut: K-1 positions along the topological order of the placed nodes.
 *
 *   - every part's measure (weight bytes, or nodes) stays within a limit: 1.25 x total/K, or
 *     the smallest largest-part any split along the order achieves if that is more (found by
 *     binary search; a greedy walk gives the fewest parts for a limit, the measure of a run of
 *     nodes growing with the run);
 *   - among the splits within the limit, dynamic programming finds the one whose crossing
 *     activations cost least: a crossing tensor costs its bytes when its shape is declared and
 *     concrete, else as much as the largest known activation (1 when none is known), plus 1
 *     per tensor; ties go to the more even split (the smaller sum of squares of the measures);
 *   - a position where a crossing tensor has no known element type is never chosen (a part's
 *     inputs and outputs must declare one); if every split within the limit has one, the limit
 *     grows to the smallest that allows a split without.
 * A part's measure counts every weight it holds, so a weight read on both sides of a cut counts
 * in both parts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/model_impl.h"
#include "partition/partition_impl.h"

#define MAX_DP_CELLS ((size_t)64 << 20)

typedef struct meas {
    uint64_t bytes, nodes;
} meas;

/* Add placed node at position i to a part's measure. */
static void meas_add(planner *pl, size_t i, meas *s)
{
    size_t node = pl->placed[i];
    const zlist *items = &pl->needs[node];
    s->bytes += pl->own_bytes[node];
    s->nodes += 1;
    for (size_t k = 0; k < items->n; k++) {
        size_t v = items->a[k];
        if (pl->stamp[v] != pl->tag) {
            pl->stamp[v] = pl->tag;
            s->bytes += pl->item_bytes[v];
            s->nodes += pl->item_nodes[v];
        }
    }
}

typedef struct limits {
    uint64_t bytes, nodes;
} limits;

/* The limit on bytes (on_bytes) or on nodes, set to v. */
static void set_limit(limits *l, int on_bytes, uint64_t v)
{
    *(on_bytes ? &l->bytes : &l->nodes) = v;
}

static int within(const meas *s, const limits *l)
{
    return s->bytes <= l->bytes && s->nodes <= l->nodes;
}

/* Parts a greedy walk needs under `l` (each part as long as it can be); SIZE_MAX when one node
 * alone is over the limits. The fewest parts any split along the order can have. */
static size_t greedy_parts(planner *pl, const limits *l)
{
    size_t parts = 0, i = 0;
    while (i < pl->np) {
        meas s = {0, 0};
        mcz_stamp_reset(pl, pl->P->nv);
        size_t start = i;
        for (; i < pl->np; i++) {
            meas t = s;
            meas_add(pl, i, &t);
            if (!within(&t, l))
                break; /* node i starts the next part (the reset there forgets its stamps) */
            s = t;
        }
        if (i == start)
            return SIZE_MAX;
        parts++;
    }
    return parts;
}

/* The largest measure of one placed node (with what it reads): no part can be smaller. */
static meas largest_node(planner *pl, size_t *which_bytes)
{
    meas mx = {0, 0};
    *which_bytes = 0;
    for (size_t i = 0; i < pl->np; i++) {
        meas s = {0, 0};
        mcz_stamp_reset(pl, pl->P->nv);
        meas_add(pl, i, &s);
        if (s.bytes > mx.bytes) {
            mx.bytes = s.bytes;
            *which_bytes = i;
        }
        if (s.nodes > mx.nodes)
            mx.nodes = s.nodes;
    }
    return mx;
}

/* Smallest limit on one measure (bytes if `on_bytes`, else nodes) with which K parts suffice,
 * the other limit as in `l`. */
static uint64_t bottleneck(planner *pl, size_t K, int on_bytes, limits l, uint64_t lo,
                           uint64_t hi)
{
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        set_limit(&l, on_bytes, mid);
        size_t need = greedy_parts(pl, &l);
        if (need <= K)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* ---- crossing costs ------------------------------------------------------------------ */

static mcz_status crossing_costs(planner *pl, mcz_error *err)
{
    mcz_partition *P = pl->P;
    size_t np = pl->np;
    pl->cut_cost = calloc(np + 1, sizeof *pl->cut_cost);
    pl->cut_bad = calloc(np + 1, sizeof *pl->cut_bad);
    pl->cut_bad_value = malloc((np + 1) * sizeof *pl->cut_bad_value);
    int64_t *dcost = calloc(np + 2, sizeof *dcost); /* difference arrays */
    long *dbad = calloc(np + 2, sizeof *dbad);
    if (!pl->cut_cost || !pl->cut_bad || !pl->cut_bad_value || !dcost || !dbad) {
        free(dcost);
        free(dbad);
        return NOMEM(err);
    }
    for (size_t a = 0; a <= np; a++)
        pl->cut_bad_value[a] = -1;
    uint64_t unit = 1;
    for (size_t v = 0; v < P->nv; v++)
        if (P->vt[v].shape_known && P->vt[v].bytes > unit &&
            mcz_graph_value_at(P->g, v)->kind == MCZ_VALUE_ACTIVATION)
            unit = P->vt[v].bytes;
    for (size_t v = 0; v < P->nv; v++) {
        const mcz_graph_value *gv = mcz_graph_value_at(P->g, v);
        if (gv->kind != MCZ_VALUE_ACTIVATION || pl->pos[gv->producer] == SIZE_MAX)
            continue;
        size_t from = pl->pos[gv->producer], last = from;
        for (size_t c = 0; c < gv->n_consumers; c++)
            if (pl->pos[gv->consumers[c]] != SIZE_MAX && pl->pos[gv->consumers[c]] > last)
                last = pl->pos[gv->consumers[c]];
        if (last == from)
            continue;
        /* crosses the cuts before positions from+1 .. last */
        uint64_t c = (P->vt[v].shape_known ? P->vt[v].bytes : unit) + 1;
        dcost[from + 1] += (int64_t)c;
        dcost[last + 1] -= (int64_t)c;
        if (!P->vt[v].typed) {
            dbad[from + 1]++;
            dbad[last + 1]--;
            for (size_t a = from + 1; a <= last; a++)
                if (pl->cut_bad_value[a] < 0)
                    pl->cut_bad_value[a] = (long)v;
        }
    }
    int64_t run = 0;
    long brun = 0;
    for (size_t a = 0; a <= np; a++) {
        run += dcost[a];
        brun += dbad[a];
        pl->cut_cost[a] = (uint64_t)run;
        pl->cut_bad[a] = (size_t)brun;
    }
    free(dcost);
    free(dbad);
    return MCZ_OK;
}

/* ---- the dynamic program ------------------------------------------------------------- */

typedef struct cell {
    uint64_t cost;  /* crossing cost of the cuts so far; UINT64_MAX: unreachable */
    double sq;      /* sum of the squares of the parts' measures so far (evenness) */
    uint32_t from;  /* start of the last part */
} cell;

static int better(uint64_t c1, double sq1, const cell *c)
{
    return c1 < c->cost || (c1 == c->cost && sq1 < c->sq);
}

/* Split positions 0..np-1 into K parts under `l`; bounds[k] = first position of part k,
 * bounds[K] = np. Returns MCZ_ERR_ARG when no split qualifies (every one crosses a tensor of
 * unknown type, or the limits cannot be met). */
static mcz_status split(planner *pl, size_t K, const limits *l, int on_bytes, size_t *bounds,
                        mcz_error *err)
{
    size_t np = pl->np;
    if ((K + 1) > MAX_DP_CELLS / (np + 1))
        return mcz_seterr(err, MCZ_ERR_LIMIT, "%zu parts of %zu nodes: too many to plan", K, np);
    cell *f = malloc((K + 1) * (np + 1) * sizeof *f);
    if (!f)
        return NOMEM(err);
    for (size_t i = 0; i < (K + 1) * (np + 1); i++)
        f[i] = (cell){UINT64_MAX, 0, 0};
#define F(j, b) f[(size_t)(j) * (np + 1) + (b)]
    F(0, 0).cost = 0;
    for (size_t b = 1; b <= np; b++) {
        meas s = {0, 0};
        mcz_stamp_reset(pl, pl->P->nv);
        for (size_t a = b; a-- > 0;) {
            meas_add(pl, a, &s);
            if (!within(&s, l))
                break;
            double m = (double)(on_bytes ? s.bytes : s.nodes);
            size_t jmax = a + 1 < K ? a + 1 : K;
            for (size_t j = 1; j <= jmax; j++) {
                const cell *p = &F(j - 1, a);
                if (p->cost == UINT64_MAX)
                    continue;
                uint64_t c = p->cost;
                if (j > 1) {
                    if (pl->cut_bad[a])
                        continue;
                    c += pl->cut_cost[a];
                }
                double q = p->sq + m * m;
                if (better(c, q, &F(j, b)))
                    F(j, b) = (cell){c, q, (uint32_t)a};
            }
        }
    }
    mcz_status s = MCZ_OK;
    if (F(K, np).cost == UINT64_MAX) {
        s = mcz_seterr(err, MCZ_ERR_ARG, "no split");
    } else {
        bounds[K] = np;
        size_t b = np;
        for (size_t j = K; j > 0; j--) {
            bounds[j - 1] = F(j, b).from;
            b = bounds[j - 1];
        }
    }
#undef F
    free(f);
    return s;
}

mcz_status mcz_split_choose(planner *pl, const mcz_partition_params *prm, uint64_t *best,
                            int *types_limited, mcz_error *err)
{
    mcz_partition *P = pl->P;
    int on_bytes = prm->balance != MCZ_BALANCE_NODES;
    size_t *bounds = NULL;
    mcz_status s = MCZ_OK;
    char b[256];
    *best = 0;
    *types_limited = 0;
    if (pl->np == 0)
        return mcz_seterr(err, MCZ_ERR_ARG, "%s: the main graph has no node to place",
                          P->m->path);
    limits l = {UINT64_MAX, UINT64_MAX};
    size_t K = prm->parts;
    size_t which;
    meas big = largest_node(pl, &which);
    if (prm->max_bytes) {
        if (big.bytes > prm->max_bytes) {
            s = mcz_seterr(err, MCZ_ERR_ARG, "%s: node %s holds %llu bytes of weights, more "
                           "than --max-bytes %llu (a node's weights stay together)",
                           P->m->path, mcz_graph_node_label(P->g, pl->placed[which], b, sizeof b),
                           (unsigned long long)big.bytes,
                           (unsigned long long)prm->max_bytes);
            goto out;
        }
        l.bytes = prm->max_bytes;
        K = greedy_parts(pl, &l);
    }
    if (K == 0) {
        s = mcz_seterr(err, MCZ_ERR_ARG, "%s: 0 parts", P->m->path);
        goto out;
    }
    if (K > pl->np) {
        s = mcz_seterr(err, MCZ_ERR_ARG,
                       "%s: cannot make %zu parts: the main graph has %zu node%s to place "
                       "(Constant nodes are copied where needed, nodes with subgraphs stay "
                       "whole)", P->m->path, K, pl->np, pl->np == 1 ? "" : "s");
        goto out;
    }
    /* the limit on the balanced measure: 1.25 x total/K, or the best any split does */
    uint64_t total = on_bytes ? P->total_bytes : P->nn;
    uint64_t bound = (uint64_t)(MCZ_PART_BOUND * (double)total / (double)K);
    uint64_t lo = on_bytes ? big.bytes : big.nodes, hi = 0;
    for (size_t i = 0; i < pl->np; i++) {
        meas t = {0, 0};
        mcz_stamp_reset(pl, pl->P->nv);
        meas_add(pl, i, &t);
        hi += on_bytes ? t.bytes : t.nodes;
    }
    if (lo > hi)
        hi = lo;
    *best = bottleneck(pl, K, on_bytes, l, lo, hi);
    uint64_t lim = *best > bound ? *best : bound;
    if (on_bytes && lim > l.bytes)
        lim = l.bytes;
    set_limit(&l, on_bytes, lim);
    if ((s = crossing_costs(pl, err)))
        goto out;
    bounds = malloc((K + 1) * sizeof *bounds);
    if (!bounds) {
        s = NOMEM(err);
        goto out;
    }
    s = split(pl, K, &l, on_bytes, bounds, err);
    if (s == MCZ_ERR_ARG && !prm->max_bytes) {
        /* every split within the limit passes a tensor of unknown type: the smallest
           limit with which one passes none */
        limits t = l;
        set_limit(&t, on_bytes, hi);
        if (split(pl, K, &t, on_bytes, bounds, NULL) == MCZ_OK) {
            uint64_t a = lim + 1, z = hi;
            while (a < z) {
                uint64_t mid = a + (z - a) / 2;
                set_limit(&t, on_bytes, mid);
                if (split(pl, K, &t, on_bytes, bounds, NULL) == MCZ_OK)
                    z = mid;
                else
                    a = mid + 1;
            }
            set_limit(&t, on_bytes, a);
            s = split(pl, K, &t, on_bytes, bounds, err);
            *best = a;
            *types_limited = 1;
        }
    }
    if (s == MCZ_ERR_ARG && prm->max_bytes) {
        /* more parts, each still under max_bytes */
        for (size_t k2 = K + 1; k2 <= pl->np && s == MCZ_ERR_ARG; k2++) {
            size_t *nb = realloc(bounds, (k2 + 1) * sizeof *bounds);
            if (!nb) {
                s = NOMEM(err);
                goto out;
            }
            bounds = nb;
            if (split(pl, k2, &l, on_bytes, bounds, NULL) == MCZ_OK) {
                K = k2;
                s = MCZ_OK;
            }
        }
    }
    if (s == MCZ_ERR_ARG) {
        long v = -1;
        for (size_t a = 1; a < pl->np && v < 0; a++)
            v = pl->cut_bad_value[a];
        const mcz_graph_value *gv = v >= 0 ? mcz_graph_value_at(P->g, (size_t)v) : NULL;
        s = mcz_seterr(err, MCZ_ERR_ARG, "%s: no split into %zu parts passes only tensors of "
                       "known element type between parts%s%s%s%s%s", P->m->path, K,
                       gv ? " (e.g. '" : "", gv ? gv->name : "",
                       gv ? "', made by op " : "",
                       gv ? mcz_graph_node_at(P->g, gv->producer)->op_type : "",
                       gv ? ", which has no type rule and no value_info)" : "");
        goto out;
    }
    if (s)
        goto out;
    P->K = K;
    for (size_t k = 0; k < K; k++)
        for (size_t i = bounds[k]; i < bounds[k + 1]; i++)
            P->part_of[pl->placed[i]] = k;
out:
    free(bounds);
    return s;
}

/* Why the largest part is over the bound, into P->why. `best`: the smallest largest part any
 * split along the order achieves. */
void mcz_split_explain(planner *pl, uint64_t bound, uint64_t best, int on_bytes, int types)
{
    mcz_partition *P = pl->P;
    char b[256], msg[512];
    size_t which;
    meas big = largest_node(pl, &which);
    const char *unit = on_bytes ? "bytes" : "nodes";
    if (on_bytes && P->largest_weight >= 0 && P->largest_weight_bytes > bound)
        snprintf(msg, sizeof msg, "weight '%s' alone is %llu bytes, more than 1.25 x total/K = "
                 "%llu", mcz_model_weight(P->m, (size_t)P->largest_weight)->name,
                 (unsigned long long)P->largest_weight_bytes, (unsigned long long)bound);
    else if ((on_bytes ? big.bytes : big.nodes) > bound)
        snprintf(msg, sizeof msg, "node %s alone holds %llu %s (%s), more than 1.25 x total/K "
                 "= %llu", mcz_graph_node_label(P->g, pl->placed[which], b, sizeof b),
                 (unsigned long long)(on_bytes ? big.bytes : big.nodes),
                 on_bytes ? "bytes of weights" : "nodes",
                 mcz_graph_node_at(P->g, pl->placed[which])->has_subgraphs
                     ? "with its subgraphs, which stay whole"
                     : "with the constants it reads",
                 (unsigned long long)bound);
    else if (types)
        snprintf(msg, sizeof msg, "the splits within 1.25 x total/K = %llu pass a tensor of "
                 "unknown element type between parts (an op without a type rule and no "
                 "value_info); the best split that does not has a largest part of %llu %s",
                 (unsigned long long)bound, (unsigned long long)best, unit);
    else
        snprintf(msg, sizeof msg, "weights are not divided and a part is a run of nodes in "
                 "topological order: the best such split has a largest part of %llu %s, more "
                 "than 1.25 x total/K = %llu (the largest weight is %llu bytes)",
                 (unsigned long long)best, unit, (unsigned long long)bound,
                 (unsigned long long)P->largest_weight_bytes);
    P->why = mcz_strdup(msg);
}

