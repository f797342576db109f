/* sample.h - internals of mcz-sample, the deterministic sample-model generator.
 *
 * The generator builds an ONNX graph as protobuf-c structs (all memory from one arena), with
 * every generated weight registered in a table. Weight values are never held in memory: a
 * weight's raw_data points at its table row (a "lazy" tensor) and the writer generates the
 * values while it streams the model to the file (sample-write.c), or writes them to the
 * external data file tensor by tensor.
 *
 * Files:
 *   mcz-sample.c          command line
 *   sample-graph.c        arena, graph builder, weight table, placements, dtypes
 *   sample-weights.c      PRNG and the values of a weight ("drawn like trained ones")
 *   sample-write.c        streaming protobuf writer, external data, atomic output
 *   sample-mlp.c, sample-cnn.c, sample-transformer.c   the families
 */
#ifndef MCZ_SAMPLE_H
#define MCZ_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"

#define SAMPLE_OPSET 17
#define SAMPLE_IR_VERSION 8

/* ONNX TensorProto.DataType values used here. */
enum {
    SAMPLE_DT_FLOAT = 1,
    SAMPLE_DT_INT64 = 7,
    SAMPLE_DT_BOOL = 9,
    SAMPLE_DT_FLOAT16 = 10,
    SAMPLE_DT_BFLOAT16 = 16,
};

typedef enum sample_dtype {
    SAMPLE_FLOAT32 = 0,
    SAMPLE_FLOAT16,
    SAMPLE_BFLOAT16,
} sample_dtype;

typedef enum sample_placement {
    SAMPLE_INITIALIZER = 0, /* graph initializers, raw_data */
    SAMPLE_CONSTANT,        /* Constant nodes, no initializers at all */
    SAMPLE_IF,              /* inside the branches of an If whose condition is a constant true */
    SAMPLE_EXTERNAL,        /* initializers with data_location = EXTERNAL */
} sample_placement;

/* How a weight's values are drawn (sample-weights.c). */
typedef enum sample_wkind {
    SAMPLE_W_ROWS = 0, /* output channel on axis 0: Gemm transB=1 [out,in], Conv [out,in,kh,kw] */
    SAMPLE_W_COLS,     /* output channel on the last axis: MatMul [in,out] */
    SAMPLE_W_BIAS,     /* small values */
    SAMPLE_W_GAMMA,    /* around 1 (LayerNorm / BatchNorm scale) */
    SAMPLE_W_BETA,     /* small values around 0 (LayerNorm / BatchNorm shift) */
    SAMPLE_W_MEAN,     /* BatchNorm running mean */
    SAMPLE_W_VAR,      /* BatchNorm running variance (positive) */
} sample_wkind;

#define SAMPLE_MAX_DIMS 4

/* One generated weight. The values are a function of (seed, name, kind, dims) only. */
typedef struct sample_weight {
    const char *name;
    int ndims;
    int64_t dims[SAMPLE_MAX_DIMS];
    sample_wkind kind;
    float fan_in;      /* for SAMPLE_W_ROWS / SAMPLE_W_COLS: inputs per output */
    int32_t elem_type; /* SAMPLE_DT_* as stored */
    uint64_t count;    /* elements */
    uint64_t nbytes;
    Onnx__TensorProto *tensor;
    uint64_t offset;   /* in the external data file, when external */
} sample_weight;

/* A growable array of pointers (arena-independent, freed with the model). */
typedef struct sample_vec {
    void **v;
    size_t n, cap;
} sample_vec;

typedef struct sample_graph {
    Onnx__GraphProto *g;
    sample_vec nodes, inits, inputs, outputs;
} sample_graph;

typedef struct sample_arena sample_arena;

typedef struct sample_model {
    sample_arena *arena;
    sample_dtype dtype;
    int32_t store_type;   /* element type weights are stored in */
    int32_t compute_type; /* element type activations have (and model input / output) */
    sample_placement placement;
    bool external;        /* weights go to the external data file (also set over 2 GiB) */
    uint64_t seed;

    sample_weight *w;
    size_t nw, capw;

    sample_graph main, then_g, else_g;
    sample_graph *cur;    /* the graph nodes are added to */
    const char *scope;    /* prefix of node and weight names ("layers.0.") */
    unsigned uniq;        /* counter for unique node / tensor names */

    Onnx__ModelProto *model;
} sample_model;

/* What a family provides. */
typedef struct sample_family {
    const char *name;
    /* Choose dimensions for `target` bytes of weights with `elem_size`-byte elements. Writes
     * the family's private config into `cfg` (at most SAMPLE_CFG_BYTES) and returns the weight
     * bytes the choice gives, or 0 if no dimensions fit. */
    uint64_t (*plan)(uint64_t target, unsigned elem_size, void *cfg);
    /* Declare the model input `x` in m->main (with symbolic dims). */
    void (*input)(sample_model *m, const void *cfg);
    /* Build the body on `x` in m->cur; returns the name of its output. */
    const char *(*body)(sample_model *m, const void *cfg, const char *x);
    /* A small alternative for the else branch of --weights if; returns its output name. */
    const char *(*alt)(sample_model *m, const void *cfg, const char *x);
    /* Declare output `name` (the model's `y`, or a branch output) in graph `g`. */
    void (*output)(sample_model *m, const void *cfg, sample_graph *g, const char *name);
    void (*describe)(const void *cfg, char *buf, size_t len);
} sample_family;

#define SAMPLE_CFG_BYTES 256

extern const sample_family sample_family_mlp;
extern const sample_family sample_family_cnn;
extern const sample_family sample_family_transformer;

/* ---- sample-graph.c ---- */

/* Building never fails softly: running out of memory prints "mcz-sample: out of memory" and
 * exits with status 1 (nothing has been written yet at that point). */

/* Set up an empty model. */
void sample_model_init(sample_model *m, sample_dtype dtype, sample_placement placement,
                       uint64_t seed);
void sample_model_free(sample_model *m);

/* Build the whole model for `fam` / `cfg` with the chosen placement; fills m->model.
 * `doc` goes into the model's doc_string; `meta` is NULL or key, value, ..., NULL for
 * metadata_props. */
void sample_model_build(sample_model *m, const sample_family *fam, const void *cfg,
                        const char *doc, const char *const *meta);

/* Total bytes of the generated weights. */
uint64_t sample_model_weight_bytes(const sample_model *m);

/* Turn every weight into external data in file `location`, offsets aligned (4096 bytes for
 * weights of 64 KiB or more, 64 otherwise). Returns the data file's size. */
uint64_t sample_model_make_external(sample_model *m, const char *location);

/* Point each inline weight's raw_data at its table row (call after building). */
void sample_model_make_lazy(sample_model *m);

/* The weight whose lazy raw_data is `data` with length `len`, or NULL. */
const sample_weight *sample_model_lazy_weight(const sample_model *m, const void *data,
                                              size_t len);

size_t sample_elem_size(int32_t elem_type);

/* Builder helpers: arena memory, zeroed, freed with the model. */
char *sample_strf(sample_model *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void *sample_alloc(sample_model *m, size_t n);

Onnx__AttributeProto *sample_attr_int(sample_model *m, const char *name, int64_t v);
Onnx__AttributeProto *sample_attr_float(sample_model *m, const char *name, float v);
Onnx__AttributeProto *sample_attr_ints(sample_model *m, const char *name, size_t n,
                                       const int64_t *v);

/* Add a node with `nin` inputs and one output. `out` NULL picks a fresh name. Returns the
 * output name. `attrs` may be NULL when `nattr` is 0. */
const char *sample_node(sample_model *m, const char *op, const char *out, size_t nin,
                        const char *const *in, size_t nattr, Onnx__AttributeProto **attrs);
const char *sample_op1(sample_model *m, const char *op, const char *a);
const char *sample_op2(sample_model *m, const char *op, const char *a, const char *b);

/* A generated weight named scope+`name`. Returns the name of the tensor to use in compute
 * type (a Cast's output for bfloat16). */
const char *sample_weight_add(sample_model *m, const char *name, sample_wkind kind,
                              float fan_in, int ndims, const int64_t *dims);

/* Small real constants (not weights), placed like the weights: an int64 vector (`n` values,
 * or a 0-D scalar when `scalar`), a compute-type 0-D scalar, a compute-type 1-element tensor
 * for attributes such as ConstantOfShape's value. */
const char *sample_const_i64(sample_model *m, const char *name, size_t n, const int64_t *v,
                             bool scalar);
const char *sample_const_scalar(sample_model *m, const char *name, float v);
Onnx__TensorProto *sample_tensor_value(sample_model *m, float v);

/* Attribute of type GRAPH / TENSOR. */
Onnx__AttributeProto *sample_attr_graph(sample_model *m, const char *name, Onnx__GraphProto *g);
Onnx__AttributeProto *sample_attr_tensor(sample_model *m, const char *name,
                                         Onnx__TensorProto *t);

/* Round `v` to a "nice" size: exact below 128, a multiple of 8 below 2048, of 64 above. */
int64_t sample_nice(double v);

/* Graph inputs / outputs: dims are given as strings; a number is a fixed size, a name a
 * symbolic dim. */
void sample_value_info(sample_model *m, sample_vec *list, const char *name, int32_t elem_type,
                       size_t ndims, const char *const *dims);

/* ---- sample-weights.c ---- */

/* Called with consecutive pieces of a weight's little-endian bytes; returns false to stop. */
typedef bool (*sample_write_fn)(void *ctx, const void *data, size_t len);

/* Generate the values of `w` (seeded by `seed`) and pass them to `fn` in pieces. Returns
 * false if `fn` did, or when out of memory (errno set). */
bool sample_weight_emit(const sample_weight *w, uint64_t seed, sample_write_fn fn, void *ctx);

uint16_t sample_f32_to_f16(float f);
uint16_t sample_f32_to_bf16(float f);

/* ---- sample-write.c ---- */

typedef struct sample_output {
    const char *path;  /* "-" for standard output */
    bool force;        /* replace existing files */
} sample_output;

/* Write the model (and, when m->external, its data file beside it) atomically. Returns 0, or
 * 1 after printing "mcz-sample: ..." to stderr. */
int sample_write(sample_model *m, const sample_output *out);

/* Packed size of the model when its weights are inline. */
uint64_t sample_packed_size(const sample_model *m);

#endif
