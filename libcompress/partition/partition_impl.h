/* partition_impl.h - the inside of a partition plan (libcompress only):
 *   partition.c  the API: plan, free, queries
 *   partbuild.c  the planner's view of the model; each part's contents once nodes have parts
 *   partsplit.c  where to cut (balance, crossing costs, dynamic programming)
 *   partwrite.c  the parts as ONNX (files, buffers, skeletons), the manifest, the folder
 *   valuetype.c  what is known of each value's type */
#ifndef MCZ_PARTITION_IMPL_H
#define MCZ_PARTITION_IMPL_H

#include <stdint.h>
#include <string.h>

#include "mcz/graph.h"
#include "mcz/partition.h"
#include "onnx/model_impl.h"
#include "onnx.pb-c.h"

/* What is known of one value's type. */
typedef struct mcz_vtype {
    const Onnx__ValueInfoProto *decl; /* a main-graph declaration with a type (a tensor, or a
                                         sequence, optional, ...), or NULL */
    int32_t elem;                     /* tensor element type, declared or inferred; 0 unknown */
    int typed;                        /* declared, or its element type inferred: a part can
                                         declare it as an input or output */
    int shape_known;                  /* declared with every dim concrete */
    uint64_t bytes;                   /* when shape_known */
} mcz_vtype;

/* Fill t[v] for every value of g (the main graph of m; `order` a topological order of g). */
mcz_status mcz_value_types(const mcz_model *m, const mcz_graph *g, const size_t *order,
                           mcz_vtype *t, mcz_error *err);

typedef struct part_rec {
    mcz_part_info pub;
    size_t *nodes;        /* node ids in topological order, copied Constants included */
    size_t nnodes;
    size_t *inits;        /* main-graph initializer positions it holds */
    size_t ninits;
    size_t *sparse;       /* main-graph sparse initializer positions it holds */
    size_t nsparse;
    size_t *weights;      /* weight table indexes, ascending */
    size_t *in_ids, *out_ids; /* value ids of pub.inputs / pub.outputs */
    const char **in_names, **out_names;
} part_rec;

typedef struct cut_rec {
    mcz_cut_info pub;
    mcz_cut_tensor *t;
    int64_t *dims;        /* storage for every tensor's dims */
    const char **dim_names;
} cut_rec;

struct mcz_partition;

/* A growable list of size_t. */
typedef struct zlist {
    size_t *a;
    size_t n, cap;
} zlist;

static inline mcz_status mcz_zpush(zlist *l, size_t x, mcz_error *err)
{
    mcz_status s = mcz_grow((void **)&l->a, &l->cap, l->n + 1, sizeof *l->a, err);
    if (!s)
        l->a[l->n++] = x;
    return s;
}

/* The planner's working state: the placed nodes (every main-graph node but the copyable ones)
 * in topological order and what each costs a part. An "item" is what a part holds because a
 * node of it reads it: a weight (initializer; its value id) or a copyable node (the id of its
 * first output), with the weights and copyable nodes behind that, transitively. */
typedef struct planner {
    mcz_partition *P;
    const Onnx__GraphProto *mg;
    size_t np;             /* placed nodes */
    size_t *placed;        /* node id of placed position i (topological order) */
    size_t *pos;           /* per node: its placed position, or SIZE_MAX */
    long *wval;            /* per value: weight index of a main weight / Constant output, -1 */
    uint64_t *item_bytes;  /* per item value: the weight bytes a part holding it pays */
    uint8_t *item_nodes;   /* per item value: 1 for a copyable node (a node the part copies) */
    zlist *needs;          /* per node: the items it reads, directly or through copyable nodes */
    zlist *own;            /* per node: weights inside its subgraphs */
    uint64_t *own_bytes;   /* per node */
    uint32_t *stamp;       /* per value */
    uint32_t tag;
    uint64_t *cut_cost;    /* per position a (cut before placed node a), 1..np-1 */
    size_t *cut_bad;       /* crossing tensors without a known element type */
    long *cut_bad_value;   /* one of them */
} planner;


/* A fresh stamp: values stamped before no longer count as seen. */
static inline void mcz_stamp_reset(planner *pl, size_t nv)
{
    if (++pl->tag == 0) {
        memset(pl->stamp, 0, nv * sizeof *pl->stamp);
        pl->tag = 1;
    }
}

struct mcz_partition {
    mcz_model *m;
    mcz_graph *g;
    size_t nn, nv;
    size_t *order;        /* a topological order of the nodes */
    mcz_vtype *vt;        /* per value */
    size_t *part_of;      /* per node: its part, or MCZ_GRAPH_COPIED (copyable, or dead) */
    uint8_t *live;        /* per node: 1 when a graph output depends on it */
    size_t K;
    part_rec *parts;
    cut_rec *cuts;        /* K-1 */
    mcz_balance balance;
    int given_cuts;
    uint64_t total_bytes, largest_weight_bytes;
    long largest_weight;
    char *why;            /* why the bound is not met, or NULL */
    int bound_met;
    const char **model_inputs, **model_outputs;
    size_t n_model_inputs, n_model_outputs;
};

/* partbuild.c: the graph, its order, the values' types, each node's weights (fills P's graph,
 * order, types, model inputs/outputs and weight totals); the parts from P->part_of. */
mcz_status mcz_planner_init(planner *pl, mcz_partition *P, mcz_error *err);
void mcz_planner_free(planner *pl);
mcz_status mcz_parts_build(planner *pl, mcz_error *err);
/* The items behind the values `vals` (weights, copyable nodes, transitively), appended to `out`
 * each once (uses pl->stamp). */
mcz_status mcz_items_of(planner *pl, const size_t *vals, size_t n, zlist *out, mcz_error *err);

/* partsplit.c: choose K and the cut positions along the order (sets P->K and P->part_of);
 * *best receives the smallest largest-part measure any split achieves, *types_limited whether
 * tensors of unknown type forced a less even split. */
mcz_status mcz_split_choose(planner *pl, const mcz_partition_params *prm, uint64_t *best,
                            int *types_limited, mcz_error *err);
/* Why the largest part is over `bound`, into P->why (NULL on allocation failure). */
void mcz_split_explain(planner *pl, uint64_t bound, uint64_t best, int on_bytes, int types);

#define MCZ_PART_BOUND 1.25 /* the balance bound: largest part <= 1.25 x total/K */

#endif
