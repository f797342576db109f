/* graphcut.c - the parts a set of cut tensors splits the main graph into, and why a set of
 * cuts is not a split. A client of the graph's API (mcz/graph.h). */
#include <stdlib.h>
#include <string.h>

#include "mcz/graph.h"
#include "mczerr.h"

/* Longest-path levels of the groups of the DAG `leads` (G x G). Returns 0, or 1 when the groups
 * have a cycle, with one group on it in *cyc. */
static int group_levels(const uint8_t *leads, size_t G, size_t *level, size_t *cyc)
{
    size_t *indeg = calloc(G, sizeof *indeg), *queue = malloc(G * sizeof *queue);
    if (!indeg || !queue) {
        free(indeg);
        free(queue);
        return -1;
    }
    for (size_t a = 0; a < G; a++)
        for (size_t b = 0; b < G; b++)
            indeg[b] += leads[a * G + b];
    size_t qh = 0, qt = 0;
    for (size_t a = 0; a < G; a++) {
        level[a] = 0;
        if (!indeg[a])
            queue[qt++] = a;
    }
    while (qh < qt) {
        size_t a = queue[qh++];
        for (size_t b = 0; b < G; b++)
            if (leads[a * G + b]) {
                if (level[b] < level[a] + 1)
                    level[b] = level[a] + 1;
                if (--indeg[b] == 0)
                    queue[qt++] = b;
            }
    }
    int r = 0;
    if (qt < G) {
        r = 1;
        for (size_t a = 0; a < G; a++)
            if (indeg[a]) {
                *cyc = a;
                break;
            }
    }
    free(indeg);
    free(queue);
    return r;
}

/* The cut tensors while they are turned into parts. */
typedef struct cutset {
    const mcz_graph *g;
    size_t nc, G;    /* distinct cut values; groups */
    size_t *cv;      /* value ids, duplicates dropped */
    size_t *cg;      /* their groups, numbered from 0 */
    size_t *gid;     /* the caller's group number of group i */
    size_t *level;   /* per group: its part (the cuts of level b end part b) */
    uint8_t *leads;  /* G x G: group a leads to group b */
    uint8_t *down, *up; /* per node: scratch marks */
    uint8_t *iscut;  /* per value */
} cutset;

/* 1. Each cut name: an activation of the main graph that a placed node makes; duplicates
 * are dropped; groups are numbered in order of first appearance. */
static mcz_status resolve_cuts(cutset *c, const char *const *cuts, const size_t *group,
                               size_t ncuts, mcz_error *err)
{
    const mcz_graph *g = c->g;
    char b[256];
    for (size_t i = 0; i < ncuts; i++) {
        long v = mcz_graph_find_value(g, cuts[i]);
        if (v < 0)
            return mcz_seterr(err, MCZ_ERR_ARG, "no tensor '%s' in the main graph", cuts[i]);
        const mcz_graph_value *gv = mcz_graph_value_at(g, (size_t)v);
        if (gv->kind != MCZ_VALUE_ACTIVATION)
            return mcz_seterr(err, MCZ_ERR_ARG, "'%s' is %s, not an activation", cuts[i],
                              gv->kind == MCZ_VALUE_INPUT    ? "a graph input"
                              : gv->kind == MCZ_VALUE_WEIGHT ? "a weight"
                                                                 : "read but never made");
        if (mcz_graph_node_at(g, gv->producer)->copyable)
            return mcz_seterr(err, MCZ_ERR_ARG, "'%s' is computed from weights only (node %s), "
                              "so each part makes it: not an activation to cut at", cuts[i],
                              mcz_graph_node_label(g, (size_t)gv->producer, b, sizeof b));
        if (c->iscut[v])
            continue;
        c->iscut[v] = 1;
        size_t want = group ? group[i] : i, k = 0;
        while (k < c->G && c->gid[k] != want)
            k++;
        if (k == c->G)
            c->gid[c->G++] = want;
        c->cv[c->nc] = (size_t)v;
        c->cg[c->nc++] = k;
    }
    return MCZ_OK;
}

/* 2. Which group leads to which (a cut of one reaches the producer of a cut of the other),
 * and each group's level in that order; a cycle is an error that names two of its cuts. */
static mcz_status order_groups(cutset *c, mcz_error *err)
{
    const mcz_graph *g = c->g;
    size_t nc = c->nc, G = c->G, nn = mcz_graph_node_count(g);
    mcz_status s;
    for (size_t i = 0; i < nc; i++) {
        memset(c->down, 0, nn);
        if ((s = mcz_graph_descendants(g, &c->cv[i], 1, c->down, err)))
            return s;
        for (size_t j = 0; j < nc; j++)
            if (c->cg[i] != c->cg[j] && c->down[mcz_graph_value_at(g, c->cv[j])->producer])
                c->leads[c->cg[i] * G + c->cg[j]] = 1;
    }
    size_t cyc = 0;
    int r = group_levels(c->leads, G, c->level, &cyc);
    if (r < 0)
        return NOMEM(err);
    if (r == 0)
        return MCZ_OK;
    size_t i = 0, j;
    while (i < nc && c->cg[i] != cyc)
        i++;
    for (j = 0; j < nc; j++)
        if (c->cg[j] != cyc && c->leads[c->cg[j] * G + cyc] && c->leads[cyc * G + c->cg[j]])
            break;
    return mcz_seterr(err, MCZ_ERR_ARG, "the cuts cannot be put in order: the cut at '%s' "
                      "leads to the cut at '%s' and back", mcz_graph_value_at(g, c->cv[i])->name,
                      j < nc ? mcz_graph_value_at(g, c->cv[j])->name : "another");
}

/* 3. Each node's part: part b holds what is upstream of a cut of level <= b and not in an
 * earlier part; the rest is the last part; copyable nodes are copied where needed. */
static mcz_status assign_parts(cutset *c, size_t *part, size_t *np, mcz_error *err)
{
    const mcz_graph *g = c->g;
    size_t maxlevel = 0, nn = mcz_graph_node_count(g);
    for (size_t k = 0; k < c->G; k++)
        if (c->level[k] > maxlevel)
            maxlevel = c->level[k];
    *np = maxlevel + 2;
    for (size_t i = 0; i < nn; i++)
        part[i] = mcz_graph_node_at(g, i)->copyable ? MCZ_GRAPH_COPIED : *np - 1;
    for (size_t lv = 0; lv <= maxlevel; lv++) {
        memset(c->up, 0, nn);
        mcz_status s;
        for (size_t i = 0; i < c->nc; i++)
            if (c->level[c->cg[i]] == lv && (s = mcz_graph_ancestors(g, &c->cv[i], 1, c->up, err)))
                return s;
        for (size_t i = 0; i < nn; i++)
            if (c->up[i] && part[i] != MCZ_GRAPH_COPIED && part[i] > lv)
                part[i] = lv;
    }
    return MCZ_OK;
}

/* 4. The parts are a real split: every part holds a node, every cut crosses its boundary
 * (something after it reads it), and a node reads values of earlier parts only through
 * cuts. */
static mcz_status check_parts(const cutset *c, const size_t *part, size_t np, mcz_error *err)
{
    const mcz_graph *g = c->g;
    size_t nn = mcz_graph_node_count(g);
    for (size_t p = 0; p < np; p++) {
        size_t i = 0;
        while (i < nn && part[i] != p)
            i++;
        if (i < nn)
            continue;
        if (p + 1 == np)
            return mcz_seterr(err, MCZ_ERR_ARG, "nothing is left after the cuts: every node "
                              "leads to a cut tensor");
        size_t k = 0;
        while (k < c->nc && c->level[c->cg[k]] != p)
            k++;
        return mcz_seterr(err, MCZ_ERR_ARG, "the cut at '%s' leaves part %zu empty (its nodes "
                          "are all before an earlier cut)",
                          k < c->nc ? mcz_graph_value_at(g, c->cv[k])->name : "?", p);
    }
    for (size_t i = 0; i < c->nc; i++) {
        const mcz_graph_value *gv = mcz_graph_value_at(g, c->cv[i]);
        size_t lv = c->level[c->cg[i]], k = 0;
        while (k < gv->n_consumers && (part[gv->consumers[k]] == MCZ_GRAPH_COPIED ||
                                           part[gv->consumers[k]] <= lv))
            k++;
        if (k == gv->n_consumers)
            return mcz_seterr(err, MCZ_ERR_ARG, "'%s' crosses no cut: every node that reads it "
                              "is before the cut it is in", gv->name);
    }
    char b[256];
    for (size_t i = 0; i < nn; i++) {
        if (part[i] == MCZ_GRAPH_COPIED)
            continue;
        const mcz_graph_node *n = mcz_graph_node_at(g, i);
        for (size_t k = 0; k < n->n_inputs; k++) {
            size_t v = n->inputs[k];
            const mcz_graph_value *iv = mcz_graph_value_at(g, v);
            long p = iv->kind == MCZ_VALUE_ACTIVATION ? iv->producer : -1;
            if (p < 0 || part[p] == MCZ_GRAPH_COPIED || part[p] >= part[i] || c->iscut[v])
                continue;
            return mcz_seterr(err, MCZ_ERR_ARG, "not a cut: node %s after it still needs %s",
                              mcz_graph_node_label(g, i, b, sizeof b), iv->name);
        }
    }
    return MCZ_OK;
}

mcz_status mcz_graph_cut_parts(const mcz_graph *g, const char *const *cuts, const size_t *group,
                               size_t ncuts, size_t *part, size_t *nparts, mcz_error *err)
{
    if (ncuts == 0)
        return mcz_seterr(err, MCZ_ERR_ARG, "no cut tensors");
    if (ncuts > 4096)
        return mcz_seterr(err, MCZ_ERR_LIMIT, "%zu cut tensors: at most 4096", ncuts);
    size_t nn = mcz_graph_node_count(g), np = 0;
    cutset c = {.g = g,
                .cv = malloc(ncuts * sizeof *c.cv),
                .cg = malloc(ncuts * sizeof *c.cg),
                .gid = malloc(ncuts * sizeof *c.gid),
                .level = calloc(ncuts, sizeof *c.level),
                .leads = calloc(ncuts * ncuts, 1),
                .down = malloc(nn ? nn : 1),
                .up = malloc(nn ? nn : 1),
                .iscut = calloc(mcz_graph_value_count(g) ? mcz_graph_value_count(g) : 1, 1)};
    mcz_status s = MCZ_OK;
    if (!c.cv || !c.cg || !c.gid || !c.level || !c.leads || !c.down || !c.up || !c.iscut)
        s = NOMEM(err);
    if (!s)
        s = resolve_cuts(&c, cuts, group, ncuts, err);
    if (!s)
        s = order_groups(&c, err);
    if (!s)
        s = assign_parts(&c, part, &np, err);
    if (!s)
        s = check_parts(&c, part, np, err);
    if (!s)
        *nparts = np;
    free(c.cv);
    free(c.cg);
    free(c.gid);
    free(c.level);
    free(c.leads);
    free(c.down);
    free(c.up);
    free(c.iscut);
    return s;
}
