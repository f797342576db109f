/* mcz/partition.h - split a model into parts that load in parallel and run in sequence.
 *
 * A plan puts every node of the main graph in one part; parts run one after another, each
 * taking its inputs from the model's inputs and from outputs of earlier parts, and together
 * they compute what the whole model computes. Nodes with subgraphs (If/Loop/Scan) stay whole.
 * Constant nodes and initializers are not placed: each part gets a copy of the ones it reads.
 *
 * Cuts follow a topological order: the plan chooses K-1 positions so that the parts' weight
 * bytes (or node counts) are balanced, preferring positions where few and small activations
 * cross. Or the cuts are given as tensor names.
 */
#ifndef MCZ_PARTITION_H
#define MCZ_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mcz/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mcz_balance {
    MCZ_BALANCE_WEIGHTS = 0, /* balance the weight bytes of the parts (the default) */
    MCZ_BALANCE_NODES = 1,   /* balance their node counts */
} mcz_balance;

typedef struct mcz_partition_params {
    size_t parts;           /* K >= 1; 0 when max_bytes or cuts decide */
    uint64_t max_bytes;     /* > 0: the smallest K whose parts each hold at most this many
                               bytes of weights */
    mcz_balance balance;
    const char *const *cuts;/* split exactly at these activations (parts and max_bytes then
                               unused): each entry is one boundary, a tensor name or several
                               names separated by commas (a name that exists as written,
                               commas included, is taken whole); see mcz_graph_cut_parts */
    size_t ncuts;
} mcz_partition_params;

/* Defaults: 2 parts, balanced by weights, no cuts. */
void mcz_partition_default_params(mcz_partition_params *p);

typedef struct mcz_partition mcz_partition;

/* Plan the split of `m`. The plan refers to `m`, which must outlive it and not change.
 * Errors (NULL with `err` filled): MCZ_ERR_ARG for impossible requests, naming the reason
 * (K larger than the nodes that can be placed, a weight bigger than max_bytes, a cut that does
 * not separate the graph: "not a cut: node N after it still needs T", no position where every
 * crossing tensor has a known element type); MCZ_ERR_FORMAT for a graph with a cycle (naming a
 * node on it) or a node reading a value nothing defines; MCZ_ERR_NOMEM. */
mcz_partition *mcz_partition_plan(mcz_model *m, const mcz_partition_params *p, mcz_error *err);

/* Free a plan. Accepts NULL. */
void mcz_partition_free(mcz_partition *p);

/* One activation crossing a cut. */
typedef struct mcz_cut_tensor {
    const char *name;
    int32_t dtype;          /* element type (MCZ_DT_*), 0 if unknown */
    int rank;               /* -1 when the shape is not declared */
    const int64_t *dims;    /* rank entries; -1 for a symbolic or unknown dim */
    const char *const *dim_names; /* rank entries: the symbol of a symbolic dim, else NULL */
    bool bytes_known;       /* every dim concrete */
    uint64_t bytes;         /* when bytes_known */
} mcz_cut_tensor;

/* One part. Everything is owned by the plan. */
typedef struct mcz_part_info {
    size_t nodes;           /* nodes in the part's graph (copied Constant nodes included) */
    size_t placed_nodes;    /* of which placed here (not copies) */
    uint64_t weight_bytes;  /* bytes of the weights it holds (a weight several parts read is
                               counted in each) */
    size_t n_weights;
    const size_t *weights;  /* the weights it holds: indexes in the model's weight table,
                               ascending */
    size_t n_inputs;
    const char *const *inputs;   /* model inputs first (in model order), then activations
                                    from earlier parts */
    size_t n_outputs;
    const char *const *outputs;  /* model outputs it makes, then activations later parts read */
} mcz_part_info;

/* What crosses the cut between part j and part j+1: every activation made in parts <= j and
 * read by parts > j (tensors carried to a later part cross every cut in between). */
typedef struct mcz_cut_info {
    size_t n_tensors;
    const mcz_cut_tensor *tensors;
    uint64_t known_bytes;   /* sum over the tensors with known bytes */
    size_t n_unknown;       /* tensors whose size is not known */
} mcz_cut_info;

/* Facts about the whole plan. */
typedef struct mcz_partition_summary {
    size_t parts;
    mcz_balance balance;
    uint64_t total_weight_bytes;  /* the model's weights, each once */
    uint64_t copied_weight_bytes; /* sum over parts minus the total: weights held twice or more */
    uint64_t largest_part_bytes;
    double balance_ratio;         /* largest part's weights / (total / K); 0 without weights */
    size_t total_nodes, largest_part_nodes;
    double node_balance_ratio;    /* largest part's nodes / (nodes / K) */
    uint64_t largest_weight_bytes;
    const char *largest_weight;   /* NULL without weights */
    bool bound_met;               /* the balanced measure's largest part <= 1.25 x total/K */
    const char *why_not_balanced; /* when !bound_met: why (owned by the plan) */
    size_t n_inputs, n_outputs;   /* the model's */
    const char *const *inputs;
    const char *const *outputs;
} mcz_partition_summary;

size_t mcz_partition_count(const mcz_partition *p);
const mcz_part_info *mcz_partition_part(const mcz_partition *p, size_t i);
/* Cut j, 0 <= j < count-1 (NULL otherwise). */
const mcz_cut_info *mcz_partition_cut(const mcz_partition *p, size_t j);
void mcz_partition_get_summary(const mcz_partition *p, mcz_partition_summary *s);

/* Write part i as an ONNX model to `path` (mcz_model_save_onnx's rules: atomic, external data
 * when the part's weights need it or the source had it). The part holds the nodes of the
 * part in topological order, copies of the Constant nodes and initializers it reads, the
 * model's opsets, IR version, producer and functions; its inputs and outputs carry the
 * declared type and shape where the model declares them, else the inferred element type. */
mcz_status mcz_partition_save_part(mcz_partition *p, size_t i, const char *path,
                                   const mcz_save_opts *opts, mcz_error *err);

/* Part i serialized as ONNX into a malloc'd buffer (the caller frees *out); inline weights
 * only, at most 2 GiB. */
mcz_status mcz_partition_serialize_part(mcz_partition *p, size_t i, uint8_t **out,
                                        size_t *out_len, mcz_error *err);

/* Part i's skeleton: as mcz_partition_serialize_part but every weight's values replaced by a
 * marker (onnxwire.h) naming its index in the model's weight table, so K skeletons share one
 * table of payloads (a weight several parts read is stored once). STRING tensors keep their
 * values. The caller frees *out. */
mcz_status mcz_partition_serialize_part_skeleton(mcz_partition *p, size_t i, uint8_t **out,
                                                 size_t *out_len, mcz_error *err);

/* The manifest (DESIGN.md) as a malloc'd NUL-terminated JSON string, parts named
 * part-000.onnx, ... The caller frees it. NULL on allocation failure. */
char *mcz_partition_manifest(const mcz_partition *p);

/* Write the folder `dir`: part-000.onnx ... and manifest.json. Built in a temporary folder
 * beside `dir` and renamed into place when complete (exchanged with an existing one under
 * `force`, whose old files are then removed). An existing folder that is not empty is refused
 * (MCZ_ERR_EXISTS) without `force`; with `force` it must hold only files a partition writes
 * (part-NNN.onnx, part-NNN.onnx.data, manifest.json), else MCZ_ERR_EXISTS naming the first
 * other entry. On error `dir` is as it was and the temporary folder is removed. */
mcz_status mcz_partition_write_folder(mcz_partition *p, const char *dir, int force,
                                      mcz_error *err);

#ifdef __cplusplus
}
#endif
#endif
