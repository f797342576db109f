/* qproto.h - editing the ONNX protobuf tree of a model (libcompress only): the names in use,
 * building tensors/nodes/attributes, splicing nodes into graphs, name scopes, and rebuilding
 * the weight table afterwards. Used by the QDQ rewriter (qdq.c) and the opset upgrader
 * (opset.c).
 *
 * Everything put into the tree is malloc'd (strings too), so onnx__model_proto__free_unpacked
 * frees it. Functions that allocate return NULL / MCZ_ERR_NOMEM on exhaustion; an edit that
 * fails half-way leaves a tree that is still freeable but should be discarded. */
#ifndef MCZ_QPROTO_H
#define MCZ_QPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onnx/model_impl.h"

/* ---- every name used anywhere in a model ------------------------------------------------- */

typedef struct mcz_qp_names {
    char **slot;   /* open addressing; owned copies */
    size_t cap, used;
} mcz_qp_names;

/* Collect the names of every graph (any depth): inputs, outputs, value_info, initializers,
 * sparse initializers, node names, node inputs and outputs. */
mcz_status mcz_qp_names_collect(mcz_qp_names *ns, const Onnx__ModelProto *p, mcz_error *err);
bool mcz_qp_names_has(const mcz_qp_names *ns, const char *name);
mcz_status mcz_qp_names_add(mcz_qp_names *ns, const char *name, mcz_error *err);
/* A new name `base``suffix` (then `base``suffix`_1, _2, ...) not in the set; added to it.
 * Returns a malloc'd copy or NULL (out of memory). */
char *mcz_qp_names_unique(mcz_qp_names *ns, const char *base, const char *suffix);
void mcz_qp_names_free(mcz_qp_names *ns);

/* ---- building --------------------------------------------------------------------------- */

/* A tensor `name` of `dtype` and shape, its values the `len` raw bytes at `raw` (malloc'd;
 * ownership passes to the tensor, also on failure). NULL when out of memory. */
Onnx__TensorProto *mcz_qp_tensor(const char *name, int32_t dtype, int rank, const int64_t *dims,
                                 void *raw, size_t len);
/* A 1-D int64 tensor of n values (copied). */
Onnx__TensorProto *mcz_qp_tensor_i64(const char *name, const int64_t *v, size_t n);
/* A node (strings copied; NULL or "" inputs are kept as "" = absent optional input). */
Onnx__NodeProto *mcz_qp_node(const char *op, const char *name, const char *const *in, size_t nin,
                             const char *const *out, size_t nout);
/* Free a node not (yet) in a tree. Accepts NULL. */
void mcz_qp_node_free(Onnx__NodeProto *n);

Onnx__AttributeProto *mcz_qp_attr(const Onnx__NodeProto *n, const char *name);
/* Add or replace an attribute. MCZ_OK or MCZ_ERR_NOMEM. */
mcz_status mcz_qp_set_int(Onnx__NodeProto *n, const char *name, int64_t v, mcz_error *err);
mcz_status mcz_qp_set_string(Onnx__NodeProto *n, const char *name, const char *v, mcz_error *err);
/* Takes ownership of t (freed on failure). */
mcz_status mcz_qp_set_tensor(Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t,
                             mcz_error *err);
/* Remove an attribute if present. */
void mcz_qp_remove_attr(Onnx__NodeProto *n, const char *name);

/* Append an input to a node (copied; "" for an absent optional one). */
mcz_status mcz_qp_add_input(Onnx__NodeProto *n, const char *name, mcz_error *err);
/* Replace input k (k < n_input) by a copy of name. */
mcz_status mcz_qp_set_input(Onnx__NodeProto *n, size_t k, const char *name, mcz_error *err);

/* Append an initializer to g (ownership of t passes to g, also on failure). */
mcz_status mcz_qp_add_initializer(Onnx__GraphProto *g, Onnx__TensorProto *t, mcz_error *err);

/* ---- splicing nodes into a graph --------------------------------------------------------- */

/* Nodes to insert into one graph: `before` at the start, and for node i of the graph the
 * nodes to put right after it (`after[i]`). Built up, then applied in one pass. */
typedef struct mcz_qp_nodelist {
    Onnx__NodeProto **v;
    size_t n, cap;
} mcz_qp_nodelist;

mcz_status mcz_qp_nodelist_push(mcz_qp_nodelist *l, Onnx__NodeProto *n, mcz_error *err);
void mcz_qp_nodelist_free(mcz_qp_nodelist *l, bool free_nodes);

typedef struct mcz_qp_splice {
    Onnx__GraphProto *g;
    mcz_qp_nodelist before;
    mcz_qp_nodelist *after;   /* g->n_node entries (allocated on first use) */
    size_t nafter;
} mcz_qp_splice;

mcz_status mcz_qp_splice_after(mcz_qp_splice *s, size_t node_index, Onnx__NodeProto *n,
                               mcz_error *err);
/* Rebuild s->g's node array with the insertions; frees the bookkeeping. */
mcz_status mcz_qp_splice_apply(mcz_qp_splice *s, mcz_error *err);
/* Free the bookkeeping and the nodes not inserted. */
void mcz_qp_splice_free(mcz_qp_splice *s);

/* ---- scopes: what a name refers to from inside a graph ----------------------------------- */

typedef struct mcz_qp_scope {
    const struct mcz_qp_scope *outer;
    const char **key;
    long *val;
    size_t cap, used;
} mcz_qp_scope;

mcz_status mcz_qp_scope_put(mcz_qp_scope *s, const char *name, long val, mcz_error *err);
/* The value of the innermost definition of `name`, or `dflt` when none. */
long mcz_qp_scope_get(const mcz_qp_scope *s, const char *name, long dflt);
void mcz_qp_scope_free(mcz_qp_scope *s);

/* ---- misc --------------------------------------------------------------------------------- */

bool mcz_qp_is_default_domain(const char *domain);
bool mcz_qp_is_op(const Onnx__NodeProto *n, const char *op);

/* Weight-table index of tensor t, or -1 (a sorted index built by mcz_qp_tensor_index). */
typedef struct mcz_qp_tindex {
    const void **ptr;
    long *idx;
    size_t n;
} mcz_qp_tindex;
mcz_status mcz_qp_tindex_build(mcz_qp_tindex *x, const mcz_model *m, mcz_error *err);
long mcz_qp_tindex_get(const mcz_qp_tindex *x, const void *t);
void mcz_qp_tindex_free(mcz_qp_tindex *x);

/* Rebuild the weight table after the tree changed (tensors added, renamed, moved). Buffers
 * the table owned (replaced or converted values) stay with their tensors. Indices change. */
mcz_status mcz_qp_rebuild_table(mcz_model *m, mcz_error *err);

/* ---- opset.c ------------------------------------------------------------------------------ */

/* mcz_model_raise_opset without rebuilding the weight table; `ns` holds the model's names
 * (new constants get names not in it). */
mcz_status mcz_qp_raise_opset(mcz_model *m, int64_t opset, mcz_qp_names *ns, mcz_error *err);
/* What mcz_model_raise_opset would refuse, without changing anything. */
mcz_status mcz_qp_opset_check(const mcz_model *m, int64_t opset, mcz_error *err);

#endif
