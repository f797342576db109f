/* mcz/roles.h - which weights are the weight inputs of Conv, ConvTranspose, Gemm, MatMul,
 * LSTM/GRU/RNN and Gather (embeddings), and along which axes: what mcz-quantize and mcz-prune
 * may touch. A weight is followed through the layout ops exports put between it and its
 * consumer (Transpose, Slice, Split, Concat, Reshape, Squeeze, Unsqueeze, Flatten, Cast,
 * Identity); the axes are the weight's own, mapped back through them. */
#ifndef MCZ_ROLES_H
#define MCZ_ROLES_H

#include "mcz/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mcz_role_op {
    MCZ_ROLE_NONE = 0,   /* not the weight input of a supported op */
    MCZ_ROLE_CONV,       /* Conv input W [M, C/group, k...]: channel axis 0, reduction 1 */
    MCZ_ROLE_CONV_TRANSPOSE, /* ConvTranspose W [C, M/group, k...]: channel 1, reduction 0 */
    MCZ_ROLE_GEMM,       /* Gemm input B: channel 0 if transB else 1 */
    MCZ_ROLE_MATMUL,     /* MatMul constant B [..., K, N]: channel rank-1, reduction rank-2 */
    MCZ_ROLE_RECURRENT,  /* LSTM/GRU/RNN W or R [dirs, gates*hidden, in]: channel 1, reduction 2 */
    MCZ_ROLE_GATHER,     /* Gather (axis 0) data [rows, ..., d], an embedding: channel 0 (one
                            scale per row), reduction rank-1 (blocks along the vector) */
} mcz_role_op;

/* The role of one weight. (mcz_role_name gives the op's name.) */
typedef struct mcz_weight_role {
    mcz_role_op op;
    int channel_axis;    /* output-channel axis of the weight (per-channel scales), -1 if none */
    int reduce_axis;     /* reduction axis (blocks, N:M groups), -1 if none */
    const char *node;    /* a consuming node's name ("" if unnamed); owned by the model */
    const char *op_type; /* its op type */
    size_t consumers;    /* nodes that read the weight (directly or through Cast/Identity) */
    const char *why_not; /* when op is NONE: why the weight is not a weight input (a static
                            string: "feeds no weight input", "read by no node", "also feeds a
                            non-weight input", ...); op_type is then the op that reads it */
    bool embedding;      /* a Gather reads it as rows (also when a MatMul reads it too: a tied
                            embedding and head) */
    size_t order;        /* where its first weight-input consumer comes in the walk over the
                            nodes (graph order, subgraphs where their node is): the first and
                            the last weight layers of a model have the least and the most */
    const void *transpose; /* the Onnx__NodeProto of a Transpose (perm [1, 0]) that is the only
                            node reading this 2-D weight, in the weight's own graph (a PyTorch
                            [out, in] weight before its MatMul), else NULL: mcz-quantize stores
                            the codes transposed and makes that node an Identity, so that the
                            DequantizeLinear meets the MatMul (ONNX Runtime fuses only that) */
} mcz_weight_role;

/* Fill roles[i] for every weight i of the model (mcz_model_weight_count entries, caller
 * allocated). Names resolve with ONNX scoping: a subgraph sees the weights of the graphs
 * around it unless it defines the name itself. Weights reached through a chain of layout ops
 * count as feeding the final consumer, with its axes mapped back (a Transpose permutes them,
 * a Slice or Split keeps them, a Reshape keeps those whose length it keeps). A weight whose
 * consumers disagree on the axis, whose consumer's axis a layout op merged or added, or that
 * also feeds a non-weight input, gets MCZ_ROLE_NONE; every weight with op NONE has `why_not`
 * said. */
mcz_status mcz_model_weight_roles(mcz_model *m, mcz_weight_role *roles, mcz_error *err);

/* Whether a report lists weight w of role r: every weight input, and every other
 * floating-point tensor of at least `min_elements` elements (with r->why_not), so that no
 * sizeable float tensor stays float without a word. */
bool mcz_role_reported(const mcz_weight_role *r, const mcz_weight *w, uint64_t min_elements);

/* Name of a role's op ("Conv", ...; "" for NONE). */
const char *mcz_role_name(mcz_role_op op);

#ifdef __cplusplus
}
#endif
#endif
