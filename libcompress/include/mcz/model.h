/* mcz/model.h - an ONNX model in memory and the table of every weight in it.
 *
 * A weight is any constant tensor the graph carries: a graph initializer or the `value` of a
 * Constant node, in the main graph or in a subgraph (If/Loop/Scan bodies, at any depth), stored
 * inline (raw_data or a typed field) or as external data beside the model file.
 *
 * Import keeps about one copy of the weights in memory: the model file and its external data
 * files are memory-mapped and weights point into those mappings; only typed-field tensors
 * (float_data, int32_data, ...) are converted on request.
 */
#ifndef MCZ_MODEL_H
#define MCZ_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mcz/load.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mcz_model mcz_model;

/* Where a weight lives in the graph. */
typedef enum mcz_weight_kind {
    MCZ_WEIGHT_INITIALIZER = 0, /* GraphProto.initializer */
    MCZ_WEIGHT_CONSTANT = 1,    /* Constant node, attribute `value` */
} mcz_weight_kind;

/* ONNX TensorProto.DataType values used by mcz (the numbers are ONNX's). */
enum {
    MCZ_DT_UNDEFINED = 0, MCZ_DT_FLOAT = 1, MCZ_DT_UINT8 = 2, MCZ_DT_INT8 = 3,
    MCZ_DT_UINT16 = 4, MCZ_DT_INT16 = 5, MCZ_DT_INT32 = 6, MCZ_DT_INT64 = 7,
    MCZ_DT_STRING = 8, MCZ_DT_BOOL = 9, MCZ_DT_FLOAT16 = 10, MCZ_DT_DOUBLE = 11,
    MCZ_DT_UINT32 = 12, MCZ_DT_UINT64 = 13, MCZ_DT_COMPLEX64 = 14, MCZ_DT_COMPLEX128 = 15,
    MCZ_DT_BFLOAT16 = 16, MCZ_DT_UINT4 = 21, MCZ_DT_INT4 = 22,
};

#define MCZ_MAX_RANK 32

/* One row of the weight table. All pointers are owned by the model and live until
 * mcz_model_free. */
typedef struct mcz_weight {
    const char *name;      /* tensor name (a Constant's output name) */
    int32_t dtype;         /* MCZ_DT_* */
    int rank;
    const int64_t *dims;   /* rank entries, each >= 0 */
    uint64_t count;        /* element count (product of dims; 1 for a scalar) */
    uint64_t nbytes;       /* size of the values in little-endian raw layout (0 for STRING) */
    mcz_weight_kind kind;
    int depth;             /* 0 in the main graph, 1 in a subgraph of a main-graph node, ... */
    const char *graph;     /* graph path: "" for the main graph, else "node/attr[/node/attr...]" */
    const char *node;      /* the Constant node's name for MCZ_WEIGHT_CONSTANT, else NULL */
    bool external;         /* stored as external data in the source file */
    const char *field;     /* field that holds the values: "raw_data", "float_data", "external", ... */
} mcz_weight;

/* Import an ONNX model from `path` (external data files are looked up beside it and must stay
 * inside that folder). Returns NULL on error and fills `err`. Free with mcz_model_free. */
mcz_model *mcz_model_load_onnx(const char *path, mcz_error *err);

/* Import an ONNX model from a memory buffer. The model takes ownership of `buf` (malloc'd,
 * freed by mcz_model_free, also on error). `name` is used in messages. External data is
 * refused (there is no folder to resolve it against). */
mcz_model *mcz_model_load_onnx_buffer(void *buf, size_t len, const char *name, mcz_error *err);

/* Free a model and every pointer it handed out. Accepts NULL. */
void mcz_model_free(mcz_model *m);

/* Path the model was loaded from (owned by the model). */
const char *mcz_model_path(const mcz_model *m);

size_t mcz_model_weight_count(const mcz_model *m);

/* Row i of the weight table (i < mcz_model_weight_count), owned by the model. */
const mcz_weight *mcz_model_weight(const mcz_model *m, size_t i);

/* Index of the weight named `name`, or -1. Names are unique per graph scope; with duplicates
 * (different subgraphs) the first in table order is returned. */
long mcz_model_find_weight(const mcz_model *m, const char *name);

/* The values of weight i as little-endian raw bytes (the raw_data layout), nbytes long.
 * The pointer may be unaligned (it points into the file): copy, do not cast to float*.
 * Returns a pointer owned by the model (into the mapped file, or a converted buffer the model
 * keeps until freed or until the weight is replaced). NULL with `err` on error
 * (STRING tensors have no raw layout: MCZ_ERR_UNSUPPORTED). */
const void *mcz_model_weight_data(mcz_model *m, size_t i, mcz_error *err);

/* Convert weight i to float32 into `out` (count elements, caller-owned). Supports float,
 * float16, bfloat16, double and the 8- to 64-bit integer types and bool (not int4/uint4). Returns MCZ_OK or an error. */
mcz_status mcz_model_weight_to_f32(mcz_model *m, size_t i, float *out, mcz_error *err);

/* Replace the values of weight i: the model takes ownership of `data` (malloc'd, nbytes long,
 * little-endian raw layout of `dtype` with the given shape). The weight keeps its placement:
 * inline ones become raw_data, external ones are written as external data again. On error the
 * model is unchanged and `data` is freed. */
mcz_status mcz_model_weight_replace(mcz_model *m, size_t i, int32_t dtype, int rank,
                                    const int64_t *dims, void *data, uint64_t nbytes,
                                    mcz_error *err);

/* Progress hook for long operations: called from worker threads (any thread, concurrently) as
 * each piece of work finishes, with the items (weights) and bytes just done. */
typedef void (*mcz_progress_fn)(void *ctx, uint64_t items, uint64_t bytes);

/* Summary facts about the model. */
typedef struct mcz_model_info {
    int64_t ir_version;
    const char *producer_name;    /* "" when absent */
    const char *producer_version; /* "" when absent */
    const char *domain;
    int64_t model_version;
    size_t opset_count;
    size_t node_count;            /* every node, subgraphs included */
    size_t main_node_count;       /* nodes of the main graph only */
    size_t subgraph_count;
    size_t input_count, output_count;
} mcz_model_info;

void mcz_model_get_info(const mcz_model *m, mcz_model_info *info);

/* Opset i: domain ("" for the default ai.onnx) and version. */
void mcz_model_opset(const mcz_model *m, size_t i, const char **domain, int64_t *version);

/* Visit every node (subgraphs included, depth-first, in graph order). */
typedef void (*mcz_node_fn)(void *ctx, const char *op_type, const char *domain, int depth);
void mcz_model_for_each_node(const mcz_model *m, mcz_node_fn fn, void *ctx);

/* Options for writing ONNX. Zero-initialised means: inline weights unless they exceed what a
 * protobuf may hold (2 GiB), then external data; keep external weights external. */
typedef struct mcz_save_opts {
    int external_data;          /* 0 auto, 1 always external, -1 never */
    uint64_t external_min_bytes;/* weights smaller than this stay inline (0 = 1024) */
    int force;                  /* overwrite an existing output */
} mcz_save_opts;

/* Write the model as ONNX to `path` ("-" for standard output). Written atomically: a
 * temporary file in the destination folder renamed into place when complete; on error the
 * destination is untouched. External data goes to "<output name>.data" beside the output. */
mcz_status mcz_model_save_onnx(mcz_model *m, const char *path, const mcz_save_opts *opts,
                               mcz_error *err);

/* Serialize the model as ONNX into a malloc'd buffer (inline weights only; errors past 2 GiB).
 * The caller frees *out. */
mcz_status mcz_model_serialize(mcz_model *m, uint8_t **out, size_t *out_len, mcz_error *err);

/* Serialize the model's skeleton: the ONNX model with every weight's values replaced by a
 * marker (onnxwire.h: raw_data = MCZ_MARKER_LEN bytes naming the weight's index in the weight
 * table; typed fields, data_location and external_data cleared). STRING weights, and weights
 * of at most 64 KiB held in typed fields (or holding nothing), keep their values in place. The .mcz writer stores this
 * as the graph; the loader puts payloads back with mcz_onnxwire_rewrite. Caller frees *out. */
mcz_status mcz_model_serialize_skeleton(mcz_model *m, uint8_t **out, size_t *out_len,
                                        mcz_error *err);

/* Element size in bytes of an ONNX data type in raw layout; 0 for STRING/unknown
 * (INT4/UINT4 report 0: two per byte, see mcz_dtype_nbytes). */
size_t mcz_dtype_size(int32_t dtype);

/* Bytes of `count` elements of `dtype` in raw layout (int4 packs two per byte).
 * Returns false on overflow or unknown type. */
bool mcz_dtype_nbytes(int32_t dtype, uint64_t count, uint64_t *nbytes);

/* ONNX name of a data type ("float", "float16", ...; "?" if unknown). */
const char *mcz_dtype_name(int32_t dtype);

/* float, float16, bfloat16 or double: the types mcz prunes and quantizes. */
bool mcz_dtype_is_float(int32_t dtype);

#ifdef __cplusplus
}
#endif
#endif
