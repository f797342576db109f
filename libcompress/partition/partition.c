/* partition.c - the partition API: plan the split of a model (partbuild.c reads the model,
 * partsplit.c chooses the cuts, or the cuts are given), then what the plan says.
 *
 * Placed nodes are the main graph's nodes except Constant nodes, which are copied into every
 * part that reads them, like initializers. Each part gets the placed nodes of one run of a
 * topological order (or, with given cuts, the nodes upstream of its cuts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/model_impl.h"
#include "partition/partition_impl.h"


void mcz_partition_default_params(mcz_partition_params *p)
{
    memset(p, 0, sizeof *p);
    p->parts = 2;
    p->balance = MCZ_BALANCE_WEIGHTS;
}

/* Parts from the given cuts: each entry one boundary, its tensors separated by commas (a name
 * that exists as written, commas included, is taken whole). */
static mcz_status given_cuts(mcz_partition *P, const mcz_partition_params *prm, mcz_error *err)
{
    size_t total = 0;
    for (size_t i = 0; i < prm->ncuts; i++) {
        total++;
        if (mcz_graph_find_value(P->g, prm->cuts[i]) < 0)
            for (const char *c = prm->cuts[i]; *c; c++)
                total += *c == ',';
    }
    if (total > 4096)
        return mcz_seterr(err, MCZ_ERR_LIMIT, "%zu cut tensors: at most 4096", total);
    char **names = calloc(total, sizeof *names);
    size_t *groups = malloc(total * sizeof *groups), n = 0;
    mcz_status s = MCZ_OK;
    if (!names || !groups)
        s = NOMEM(err);
    for (size_t i = 0; i < prm->ncuts && !s; i++) {
        const char *c = prm->cuts[i];
        if (mcz_graph_find_value(P->g, c) >= 0) {
            if (!(names[n] = mcz_strdup(c)))
                s = NOMEM(err);
            groups[n++] = i;
            continue;
        }
        for (;;) {
            const char *e = strchr(c, ',');
            size_t len = e ? (size_t)(e - c) : strlen(c);
            if (!(names[n] = malloc(len + 1))) {
                s = NOMEM(err);
                break;
            }
            memcpy(names[n], c, len);
            names[n][len] = 0;
            groups[n++] = i;
            if (!e)
                break;
            c = e + 1;
        }
    }
    if (!s)
        s = mcz_graph_cut_parts(P->g, (const char *const *)names, groups, n, P->part_of, &P->K,
                                err);
    /* dead nodes go nowhere; every part must still hold a node */
    for (size_t i = 0; i < P->nn && !s; i++)
        if (!P->live[i])
            P->part_of[i] = MCZ_GRAPH_COPIED;
    for (size_t k = 0; k < P->K && !s; k++) {
        size_t i = 0;
        while (i < P->nn && P->part_of[i] != k)
            i++;
        if (i == P->nn)
            s = mcz_seterr(err, MCZ_ERR_ARG, "part %zu would hold only nodes whose results no "
                           "output needs", k);
    }
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
    free(groups);
    return s;
}

mcz_partition *mcz_partition_plan(mcz_model *m, const mcz_partition_params *prm,
                                  mcz_error *err)
{
    mcz_partition *P = calloc(1, sizeof *P);
    if (!P) {
        NOMEM(err);
        return NULL;
    }
    P->m = m;
    P->largest_weight = -1;
    P->balance = prm->balance;
    planner pl;
    mcz_status s = mcz_planner_init(&pl, P, err);
    uint64_t best = 0;
    int types_limited = 0;
    int on_bytes = prm->balance != MCZ_BALANCE_NODES;
    if (s)
        goto out;
    if (prm->ncuts) {
        P->given_cuts = 1;
        if ((s = given_cuts(P, prm, err))) {
            char msg[MCZ_ERRMSG_MAX];
            snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
            mcz_seterr(err, s, "%s: %s", m->path, msg);
            goto out;
        }
    } else if ((s = mcz_split_choose(&pl, prm, &best, &types_limited, err))) {
        goto out;
    }
    if ((s = mcz_parts_build(&pl, err)))
        goto out;
    /* the bound */
    uint64_t total = on_bytes ? P->total_bytes : P->nn;
    uint64_t bound = (uint64_t)(MCZ_PART_BOUND * (double)total / (double)P->K);
    uint64_t worst = 0;
    for (size_t k = 0; k < P->K; k++) {
        uint64_t x = on_bytes ? P->parts[k].pub.weight_bytes : P->parts[k].pub.nodes;
        if (x > worst)
            worst = x;
    }
    P->bound_met = worst <= bound;
    if (!P->bound_met) {
        if (P->given_cuts)
            P->why = mcz_strdup("the cuts were given (--cut)");
        else
            mcz_split_explain(&pl, bound, best, on_bytes, types_limited);
        if (!P->why)
            s = NOMEM(err);
    }
out:
    mcz_planner_free(&pl);
    if (s) {
        mcz_partition_free(P);
        return NULL;
    }
    return P;
}

void mcz_partition_free(mcz_partition *P)
{
    if (!P)
        return;
    if (P->parts)
        for (size_t k = 0; k < P->K; k++) {
            part_rec *r = &P->parts[k];
            free(r->nodes);
            free(r->inits);
            free(r->sparse);
            free(r->weights);
            free(r->in_ids);
            free(r->out_ids);
            free(r->in_names);
            free(r->out_names);
        }
    if (P->cuts)
        for (size_t j = 0; j < P->K; j++) {
            free(P->cuts[j].t);
            free(P->cuts[j].dims);
            free(P->cuts[j].dim_names);
        }
    free(P->parts);
    free(P->cuts);
    free(P->order);
    free(P->vt);
    free(P->part_of);
    free(P->live);
    free(P->why);
    free(P->model_inputs);
    free(P->model_outputs);
    mcz_graph_free(P->g);
    free(P);
}

/* ---- queries ------------------------------------------------------------------------- */

size_t mcz_partition_count(const mcz_partition *P)
{
    return P->K;
}

const mcz_part_info *mcz_partition_part(const mcz_partition *P, size_t i)
{
    return i < P->K ? &P->parts[i].pub : NULL;
}

const mcz_cut_info *mcz_partition_cut(const mcz_partition *P, size_t j)
{
    return j + 1 < P->K ? &P->cuts[j].pub : NULL;
}

void mcz_partition_get_summary(const mcz_partition *P, mcz_partition_summary *s)
{
    memset(s, 0, sizeof *s);
    s->parts = P->K;
    s->balance = P->balance;
    s->total_weight_bytes = P->total_bytes;
    uint64_t sum = 0;
    for (size_t k = 0; k < P->K; k++) {
        const mcz_part_info *p = &P->parts[k].pub;
        sum += p->weight_bytes;
        if (p->weight_bytes > s->largest_part_bytes)
            s->largest_part_bytes = p->weight_bytes;
        if (p->nodes > s->largest_part_nodes)
            s->largest_part_nodes = p->nodes;
    }
    s->copied_weight_bytes = sum > P->total_bytes ? sum - P->total_bytes : 0;
    s->balance_ratio = P->total_bytes ? (double)s->largest_part_bytes /
                                            ((double)P->total_bytes / (double)P->K)
                                      : 0;
    s->total_nodes = P->nn;
    s->node_balance_ratio = P->nn ? (double)s->largest_part_nodes /
                                        ((double)P->nn / (double)P->K)
                                  : 0;
    s->largest_weight_bytes = P->largest_weight_bytes;
    s->largest_weight =
        P->largest_weight >= 0 ? mcz_model_weight(P->m, (size_t)P->largest_weight)->name : NULL;
    s->bound_met = P->bound_met;
    s->why_not_balanced = P->why;
    s->n_inputs = P->n_model_inputs;
    s->inputs = P->model_inputs;
    s->n_outputs = P->n_model_outputs;
    s->outputs = P->model_outputs;
}
