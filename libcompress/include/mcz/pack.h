/* mcz/pack.h - the .mcz container on the libcompress side: write a model as .mcz (pack), read
 * one back as a model (through the loader library, so there is one reader), and tell .mcz
 * from ONNX by content. The format: docs/format.md. */
#ifndef MCZ_PACK_H
#define MCZ_PACK_H

#include <stdbool.h>
#include <stdint.h>

#include "mcz/load.h"
#include "mcz/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCZ_PACK_DEFAULT_LEVEL 19

/* One partition of the model for mcz_pack (docs/format.md 7a), e.g. from mcz/partition.h. The
 * pointers are only read during mcz_pack. */
typedef struct mcz_pack_part {
    const uint8_t *skeleton;  /* the part's ONNX skeleton: markers name indices of the
                                 model's weight table (mcz_partition_serialize_part_skeleton) */
    size_t skeleton_len;
    size_t n_weights;
    const size_t *weights;    /* the weights it reads: model weight-table indices */
    size_t n_inputs, n_outputs;
    const char *const *inputs;  /* its graph's inputs and outputs, in order */
    const char *const *outputs;
    size_t nodes;             /* nodes of its graph (recorded for mcz-inspect) */
} mcz_pack_part;

/* Options for mcz_pack. Zero-initialised means the defaults. */
typedef struct mcz_pack_opts {
    int level;   /* zstd level (1..22, above: 22) for plainly compressed tensors and the
                  * index; <= 0: MCZ_PACK_DEFAULT_LEVEL. Byte planes always use a fast
                  * entropy-only setting (matches rarely pay on them), so the level mostly
                  * matters for repetitive tensors. */
    int threads; /* <= 0: one per online CPU. The output does not depend on it. */
    int force;   /* overwrite an existing output */
    bool no_sparse; /* never try the sparse encoding (for measurements); false: tried */
    mcz_progress_fn progress; /* optional: called as each tensor is written (model.h) */
    void *progress_ctx;
    size_t nparts;              /* > 0: also store these partitions (a PARTS section); the
                                 * table is then ordered by owning part (the first part that
                                 * lists a weight; unlisted weights go to the last part) */
    const mcz_pack_part *parts;
} mcz_pack_opts;

/* What mcz_pack did. */
typedef struct mcz_pack_stats {
    size_t tensors;            /* entries in the tensor table (one per weight) */
    size_t deduplicated;       /* tensors sharing the payload of an earlier identical one */
    uint64_t raw_bytes;        /* decoded bytes of every tensor with a payload of its own or
                                  shared (not those kept in the skeleton) */
    uint64_t stored_bytes;     /* payload bytes written (shared payloads once) */
    uint64_t file_bytes;       /* size of the .mcz */
    uint64_t skeleton_bytes;   /* the model without its weights, before compression */
    uint64_t index_bytes;      /* index as stored */
    size_t count_by_encoding[4];     /* by mcz_encoding: raw, zstd, planes, sparse; per */
    uint64_t raw_by_encoding[4];     /* tensor with a payload, a shared payload counted */
    uint64_t stored_by_encoding[4];  /* for each tensor that shares it */
    size_t quantized;          /* tensors stored as integer codes with a QPARAMS record */
    size_t parts;              /* partitions stored (0: none) */
} mcz_pack_stats;

/* Write `m` as an .mcz container to `path` ("-" for standard output) with `opts->threads`
 * threads, a window of tensors at a time: memory stays bounded whatever the model size (the
 * candidate encodings of the blocks of one window of at most 16 MiB of weights, smaller for a
 * small model; a larger tensor is streamed through it). The bytes written do not depend on
 * the thread count. Atomic (mcz/outfile.h): on error the destination is untouched. `opts` and
 * `stats` may be NULL. Returns MCZ_OK or an error (MCZ_ERR_EXISTS, MCZ_ERR_IO, MCZ_ERR_LIMIT
 * for a name or model beyond the format's caps, MCZ_ERR_NOMEM, errors reading the weights;
 * MCZ_ERR_ARG or MCZ_ERR_FORMAT for parts naming weights the model lacks).
 * Weights in ONNX QDQ form (mcz/qdq.h) whose codes, scales and zero points all have payloads
 * are flagged quantized with a QPARAMS record (format.md 5a). Per tensor the smallest of raw,
 * zstd, byte planes and, when a tenth of the elements of every block or more are zero,
 * sparse (a bitmap and the non-zero elements) is kept (sparse unless opts->no_sparse).
 * Identical tensors share one payload. */
mcz_status mcz_pack(mcz_model *m, const char *path, const mcz_pack_opts *opts,
                    mcz_pack_stats *stats, mcz_error *err);

/* Open an .mcz as a model: the loader builds the ONNX model in memory (decoding with
 * `threads` threads, <= 0: all cores), which is then imported. Returns NULL on error with
 * `err` filled. Free with mcz_model_free. */
mcz_model *mcz_model_load_mcz(const char *path, int threads, mcz_error *err);

/* 1 if the file at `path` starts with the .mcz magic, 0 if not (or unreadable). */
int mcz_is_container(const char *path);

/* Open ONNX or .mcz, recognised by content (not by name). NULL on error with `err` filled. */
mcz_model *mcz_model_load_any(const char *path, int threads, mcz_error *err);

/* Options for mcz_unpack. Zero-initialised means the defaults. */
typedef struct mcz_unpack_opts {
    int threads;       /* decode threads, <= 0: all cores */
    int force;         /* overwrite an existing output */
    int external_data; /* as mcz_save_opts.external_data: 0 auto (external over 2 GiB) */
    mcz_progress_fn progress; /* optional: called once the weights are decoded, then written */
    void *progress_ctx;
} mcz_unpack_opts;

/* Partition `part` of the .mcz `in` as an ONNX model (mcz_build_part_onnx), written as
 * mcz_unpack writes. MCZ_ERR_NOT_FOUND when the file has no such partition. */
mcz_status mcz_unpack_part(const char *in, size_t part, const char *out,
                           const mcz_unpack_opts *opts, mcz_error *err);

/* .mcz -> ONNX: the model exactly as packed (same graph, same weight placement), written
 * with mcz_model_save_onnx. `opts` may be NULL. Returns MCZ_OK or the error. */
mcz_status mcz_unpack(const char *in, const char *out, const mcz_unpack_opts *opts,
                      mcz_error *err);

#ifdef __cplusplus
}
#endif
#endif
