/* mcz/graph.h - a model's main graph as a directed graph over its nodes.
 *
 * Nodes are the NodeProtos of the main graph, in file order; values are the tensor names they
 * read and write. A node with subgraphs (If/Loop/Scan) stays one node: the values its bodies
 * read from outer scopes (at any depth) count as its inputs. Edges run from a value's producer
 * to each node that reads it. Graph inputs and weights (initializers) have no producer.
 *
 * The graph can also be built by hand (mcz_graph_new + mcz_graph_add_*), which is how the
 * unit tests describe the shapes they check.
 */
#ifndef MCZ_GRAPH_H
#define MCZ_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mcz/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mcz_graph mcz_graph;

/* What a value is. */
typedef enum mcz_value_kind {
    MCZ_VALUE_UNDEFINED = 0,  /* read by a node but defined by nothing (an invalid model) */
    MCZ_VALUE_ACTIVATION = 1, /* the output of a node */
    MCZ_VALUE_INPUT = 2,      /* a graph input (that is not also an initializer) */
    MCZ_VALUE_WEIGHT = 3,     /* an initializer (or sparse initializer) */
} mcz_value_kind;

/* A node, as the graph sees it. Pointers are owned by the graph and stay valid until the next
 * mcz_graph_add_* call or mcz_graph_free. */
typedef struct mcz_graph_node {
    const char *name;      /* the NodeProto's name ("" when unnamed) */
    const char *op_type;
    const char *domain;    /* "" for the default domain */
    size_t n_inputs;       /* value ids: its own inputs (empty names skipped), then the values */
    const size_t *inputs;  /*   its subgraphs read from outer scopes (each once) */
    size_t n_own_inputs;   /* how many of `inputs` are the node's own */
    size_t n_outputs;      /* value ids of its outputs (empty names skipped) */
    const size_t *outputs;
    bool has_subgraphs;
    bool copyable;         /* computes from weights only: its outputs can be made anywhere,
                              so it belongs to no part and is copied into each part that
                              reads it. A Constant node, or (mcz_graph_from_model) a
                              deterministic node without subgraphs whose inputs are all
                              weights or outputs of copyable nodes: DequantizeLinear of a
                              quantized weight, Cast of a bfloat16 weight, Reshape of
                              constants... */
} mcz_graph_node;

/* A value. Owned by the graph (valid as above). */
typedef struct mcz_graph_value {
    const char *name;
    mcz_value_kind kind;
    long producer;            /* node id for an activation, else -1 */
    bool is_output;           /* a graph output */
    size_t n_consumers;       /* nodes that read it (each once, in id order) */
    const size_t *consumers;
} mcz_graph_value;

/* A node to add by hand. */
typedef struct mcz_graph_node_def {
    const char *name;       /* may be NULL or "" */
    const char *op_type;
    const char *domain;     /* NULL or "" for the default domain */
    const char *const *inputs;
    size_t n_inputs;        /* empty names ("" = an optional input left out) are skipped */
    const char *const *outputs;
    size_t n_outputs;
    const char *const *reads; /* values its subgraphs read from outer scopes */
    size_t n_reads;
    bool has_subgraphs;
    bool copyable;          /* see mcz_graph_node */
} mcz_graph_node_def;

/* An empty graph. NULL on allocation failure (with `err`). Free with mcz_graph_free. */
mcz_graph *mcz_graph_new(mcz_error *err);

/* The main graph of `m`: every node of the main graph (Constant nodes included, in file
 * order, so node id i is graph->node[i]; copyable nodes marked as said above), graph inputs that are not initializers as inputs,
 * initializers and sparse initializers as weights, the graph outputs marked. A name produced
 * twice, or produced by a node while also a graph input or initializer, is refused
 * (MCZ_ERR_FORMAT naming both). Returns NULL on error with `err` filled. */
mcz_graph *mcz_graph_from_model(const mcz_model *m, mcz_error *err);

/* Free a graph. Accepts NULL. */
void mcz_graph_free(mcz_graph *g);

/* Declare a graph input / a weight / a graph output by name. The value is created if new.
 * Inputs and weights must not be produced by a node (MCZ_ERR_FORMAT). */
mcz_status mcz_graph_add_input(mcz_graph *g, const char *name, mcz_error *err);
mcz_status mcz_graph_add_weight(mcz_graph *g, const char *name, mcz_error *err);
mcz_status mcz_graph_add_output(mcz_graph *g, const char *name, mcz_error *err);

/* Add a node; returns its id (0, 1, ... in the order added) or -1 on error with `err`
 * filled (MCZ_ERR_FORMAT when an output is already defined, MCZ_ERR_NOMEM). */
long mcz_graph_add_node(mcz_graph *g, const mcz_graph_node_def *def, mcz_error *err);

size_t mcz_graph_node_count(const mcz_graph *g);
size_t mcz_graph_value_count(const mcz_graph *g);

/* Node i / value i (NULL when out of range). */
const mcz_graph_node *mcz_graph_node_at(const mcz_graph *g, size_t i);
const mcz_graph_value *mcz_graph_value_at(const mcz_graph *g, size_t i);

/* The id of the value named `name`, or -1. */
long mcz_graph_find_value(const mcz_graph *g, const char *name);

/* How messages name node i: its name, or "OpType#i" when unnamed. Written into buf. */
const char *mcz_graph_node_label(const mcz_graph *g, size_t i, char *buf, size_t cap);

/* A topological order of the nodes (Kahn's algorithm; among the nodes ready at each step the
 * one added first comes first, so a graph already in order keeps its order). `order` has
 * mcz_graph_node_count entries (caller-owned). A graph with a cycle gives MCZ_ERR_FORMAT
 * with a message naming a node on the cycle; MCZ_ERR_NOMEM on allocation failure. */
mcz_status mcz_graph_toposort(const mcz_graph *g, size_t *order, mcz_error *err);

/* Mark in `mark` (mcz_graph_node_count bytes, caller-owned, set to 1 for marked nodes, left as
 * they are otherwise) every node from which one of the `n` values can be reached: their
 * producers and the producers' ancestors. Returns MCZ_OK or MCZ_ERR_NOMEM. */
mcz_status mcz_graph_ancestors(const mcz_graph *g, const size_t *values, size_t n,
                               uint8_t *mark, mcz_error *err);

/* The same downstream: every node that reads one of the values, directly or through other
 * nodes. */
mcz_status mcz_graph_descendants(const mcz_graph *g, const size_t *values, size_t n,
                                 uint8_t *mark, mcz_error *err);

/* Whether node `to` can be reached from node `from` (a path of one or more edges; a node
 * reaches itself only through a cycle). */
bool mcz_graph_reaches(const mcz_graph *g, size_t from, size_t to);

#define MCZ_GRAPH_COPIED ((size_t)-1) /* the "part" of a copyable node */

/* Split the graph at the activation tensors `cuts` (names). `group` (NULL: every cut its own
 * group) gives each cut a group number: a group is one boundary between two parts (all the
 * tensors crossing there, like the skip tensors of a U-Net taken with its bottleneck). Groups
 * are ordered by how they depend on each other: boundary 0 holds the groups no other group
 * leads to, boundary b the groups a boundary-(b-1) group leads to, and so on; part b holds the
 * nodes upstream of a cut of boundary <= b that are in no earlier part, the last part
 * everything else. So separate cuts t1, t2 along a chain give three parts (the finest split
 * the cuts allow), and two tensors side by side (both branches of a fork) one boundary.
 * `part` (node count entries, caller-owned) receives each node's part (MCZ_GRAPH_COPIED for
 * copyable nodes), `*nparts` the number of parts.
 * Refused with MCZ_ERR_ARG: a name that is no value or no activation; two groups that each
 * lead to the other; a cut that crosses nothing (everything reading it is before its
 * boundary); a part left empty; cuts that do not separate the graph: "not a cut: node N after
 * it still needs T" (a node of a later part reads a value made in an earlier part that is not
 * a cut). The graph must be acyclic (mcz_graph_toposort first). */
mcz_status mcz_graph_cut_parts(const mcz_graph *g, const char *const *cuts, const size_t *group,
                               size_t ncuts, size_t *part, size_t *nparts, mcz_error *err);

#ifdef __cplusplus
}
#endif
#endif
