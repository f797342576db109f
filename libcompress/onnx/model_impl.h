/* model_impl.h - the inside of mcz_model (libcompress only). */
#ifndef MCZ_MODEL_IMPL_H
#define MCZ_MODEL_IMPL_H

#include <stdint.h>

#include "common/alloc.h"
#include "mcz/model.h"
#include "onnx.pb-c.h"
#include "onnxwire.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mcz assumes a little-endian host (raw_data is little-endian)"
#endif

/* Caps on ONNX input, all in one place (every length, count and offset a file gives is
 * checked against the file and these before it is used): a model or external data file
 * (mapped whole), and the nesting of messages (protobuf-c recurses without a limit). Ranks
 * are capped by MCZ_MAX_RANK (mcz/model.h). */
#define MCZ_ONNX_MAX_BYTES ((uint64_t)1 << 40)
#define MCZ_ONNX_MAX_NESTING 100

/* One weight: the public row plus where its values are. */
typedef struct wentry {
    mcz_weight pub;
    Onnx__TensorProto *t;  /* the tensor in the protobuf tree */
    const uint8_t *data;   /* LE raw values when known without conversion, else NULL */
    void *owned;           /* buffer the model owns for this weight (converted or replaced) */
    char *graph_path;      /* owned storage behind pub.graph */
    const uint8_t *ext;    /* external data in its mapping (when pub.external) */
} wentry;

/* A memory-mapped file (the model or one of its external data files). */
typedef struct mapping {
    char *location; /* relative location as written in the model ("" for the model itself) */
    uint8_t *addr;
    size_t len;
} mapping;

struct mcz_model {
    char *path;  /* as given (or a name for buffers) */
    char *dir;   /* folder external data is resolved against; NULL for buffers */
    Onnx__ModelProto *proto;
    uint8_t *map;        /* the model file's mapping (NULL for buffers) */
    size_t maplen;
    void *ownbuf;        /* buffer handed to mcz_model_load_onnx_buffer */
    mapping *ext;
    size_t next, capext;
    wentry *w;
    size_t nw, capw;
    /* TensorProtos whose raw_data points to memory protobuf-c does not own */
    Onnx__TensorProto **foreign;
    size_t nforeign, capforeign;
};

/* Record that t->raw_data does not belong to protobuf-c (nulled before freeing the tree). */
mcz_status mcz_model_note_foreign(mcz_model *m, Onnx__TensorProto *t, mcz_error *err);

/* Build the weight table from the protobuf tree (called by import). */
mcz_status mcz_model_build_table(mcz_model *m, mcz_error *err);

/* mapping.c: map `path` read-only (`shown` in messages; *addr NULL for an empty file). */
mcz_status mcz_map_file(const char *path, const char *shown, uint8_t **addr, size_t *len,
                        mcz_error *err);

/* mapping.c: map an external data file, once per location, checked to stay inside the
 * model's folder. */
mcz_status mcz_model_map_external(mcz_model *m, const char *location, const char *tensor,
                                  const mapping **out, mcz_error *err);

/* Release (madvise DONTNEED) the pages that hold only (data, len) when they lie in one of the
 * model's file mappings: values already consumed stop counting in the resident set; touching
 * them again reads the file again. Anything else: nothing happens. */
void mcz_model_release_pages(const mcz_model *m, const void *data, uint64_t len);

/* The same for any range known to lie in a read-only file mapping (the whole pages inside
 * it; the pages it only shares with its neighbours stay). */
void mcz_release_mapped(const void *data, uint64_t len);


#endif
