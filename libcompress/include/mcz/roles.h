/* mcz/roles.h - which weights are the weight inputs of Conv, ConvTranspose, Gemm and MatMul,
 * and along which axes: what mcz-quantize and mcz-prune may touch. */
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
} mcz_role_op;

/* The role of one weight. (mcz_role_name gives the op's name.) */
typedef struct mcz_weight_role {
    mcz_role_op op;
    int channel_axis;    /* output-channel axis of the weight (per-channel scales), -1 if none */
    int reduce_axis;     /* reduction axis (blocks, N:M groups), -1 if none */
    const char *node;    /* a consuming node's name ("" if unnamed); owned by the model */
    const char *op_type; /* its op type */
    size_t consumers;    /* nodes that read the weight (directly or through Cast/Identity) */
    const char *why_not; /* when op is NONE but the weight feeds a supported op: why it stays
                            as it is (static string), else NULL */
} mcz_weight_role;

/* Fill roles[i] for every weight i of the model (mcz_model_weight_count entries, caller
 * allocated). Names resolve with ONNX scoping: a subgraph sees the weights of the graphs
 * around it unless it defines the name itself. Weights reached through a chain of Cast or
 * Identity nodes count as feeding the final consumer. A weight whose consumers disagree on
 * the axis, or that also feeds a non-weight input, gets MCZ_ROLE_NONE with `why_not` said. */
mcz_status mcz_model_weight_roles(mcz_model *m, mcz_weight_role *roles, mcz_error *err);

/* Name of a role's op ("Conv", ...; "" for NONE). */
const char *mcz_role_name(mcz_role_op op);

#ifdef __cplusplus
}
#endif
#endif
