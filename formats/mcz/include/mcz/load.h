/* mcz/load.h - the mcz loader library: reads .mcz containers.
 *
 * Depends on zstd and libc (pthreads) only. No global state: every function works on the
 * handles it is given. Functions that can fail return an mcz_status and, when `err` is not
 * NULL, fill it with a message naming what is wrong (file, tensor, byte offset).
 */
#ifndef MCZ_LOAD_H
#define MCZ_LOAD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MCZ_BUILDING) && defined(__GNUC__)
#define MCZ_API __attribute__((visibility("default")))
#else
#define MCZ_API
#endif

#define MCZ_VERSION_MAJOR 0
#define MCZ_VERSION_MINOR 1
#define MCZ_VERSION_PATCH 0
#define MCZ_VERSION_STRING "0.1.0"

/* Error codes: stable, never renumbered; retired codes keep their slot. */
typedef enum mcz_status {
    MCZ_OK = 0,
    MCZ_ERR_IO = 1,          /* open/read/write/mmap failed */
    MCZ_ERR_NOMEM = 2,       /* allocation failed */
    MCZ_ERR_FORMAT = 3,      /* malformed input (bad magic, truncated, inconsistent sizes) */
    MCZ_ERR_CHECKSUM = 4,    /* a checksum does not match */
    MCZ_ERR_VERSION = 5,     /* unknown format version */
    MCZ_ERR_UNSUPPORTED = 6, /* valid but not supported (an encoding, an element type) */
    MCZ_ERR_LIMIT = 7,       /* a count or size exceeds a hard cap */
    MCZ_ERR_NOT_FOUND = 8,   /* no such tensor / partition */
    MCZ_ERR_ARG = 9,         /* invalid argument from the caller */
    MCZ_ERR_EXISTS = 10,     /* output exists (and overwriting was not requested) */
} mcz_status;

#define MCZ_ERRMSG_MAX 512

/* Error details filled by a failing call when the caller passes one. */
typedef struct mcz_error {
    mcz_status code;
    char msg[MCZ_ERRMSG_MAX];
} mcz_error;

/* Static string describing a status code (never NULL, never to be freed). */
MCZ_API const char *mcz_strerror(mcz_status code);

/* Library version string, e.g. "0.1.0" (static). */
MCZ_API const char *mcz_version(void);

/* ---- Reading .mcz containers (docs/format.md) ------------------------------------------ */

#define MCZ_FORMAT_VERSION 1 /* the container format read and written (not the library's) */

/* An open container. Every call below may run in several threads at once on one handle. */
typedef struct mcz_file mcz_file;

/* How a tensor is stored (docs/format.md, section 6). */
typedef enum mcz_encoding {
    MCZ_ENC_RAW = 0,    /* the raw bytes: usable in place (mcz_tensor_data) */
    MCZ_ENC_ZSTD = 1,   /* zstd frames of the raw bytes */
    MCZ_ENC_PLANES = 2, /* byte planes of the elements, each zstd or stored */
    MCZ_ENC_SPARSE = 3, /* bitmap of the non-zero elements + their byte planes */
} mcz_encoding;

/* What the byte planes went through before they were split (docs/format.md, section 6). */
typedef enum mcz_transform {
    MCZ_TRANSFORM_NONE = 0,     /* the elements' bytes as they are */
    MCZ_TRANSFORM_SIGN_LOW = 1, /* the sign bit rotated to the lowest bit first */
} mcz_transform;

/* How integer codes dequantize (docs/format.md 5a): value = (code - zero point) x scale. */
typedef struct mcz_quant_info {
    size_t scale;        /* tensor index of the scales (float32, float16 or bfloat16) */
    long zero_point;     /* tensor index of the zero points, or -1 (zero point 0) */
    int axis;            /* -1: one scale for the whole tensor */
    uint32_t block_size; /* 0: one scale per index along axis; else per block of indices */
} mcz_quant_info;

/* What the table says about one tensor. Owned by the mcz_file; valid until mcz_close. */
typedef struct mcz_tensor_info {
    const char *name;       /* NUL-terminated ONNX tensor name */
    int32_t dtype;          /* ONNX TensorProto.DataType (1 float, 10 float16, 16 bfloat16...) */
    int rank;
    const int64_t *dims;    /* rank entries, each >= 0 */
    uint64_t count;         /* elements (1 for a scalar) */
    uint64_t raw_bytes;     /* decoded size: the ONNX raw_data layout, little-endian */
    uint64_t stored_bytes;  /* payload size in the file */
    uint64_t offset;        /* file offset of the payload */
    mcz_encoding encoding;
    unsigned planes;        /* byte planes (1 unless MCZ_ENC_PLANES) */
    mcz_transform transform;
    uint32_t block_size;    /* decoded bytes per independently decodable block */
    int in_skeleton;        /* 1: values kept in the skeleton (strings...): nothing to read;
                               else 0 */
    const mcz_quant_info *quant; /* integer codes with scales (mcz_read_f32 dequantizes), or
                                    NULL */
    uint32_t part;          /* the partition whose payload area holds it (0 if none) */
} mcz_tensor_info;

/* Open the container at `path` (memory-mapped). Header, footer and index are checked
 * (checksums; every count, size and offset against the file size and the caps); payloads
 * when read. Returns NULL on error with `err` filled (IO, FORMAT, CHECKSUM, VERSION,
 * UNSUPPORTED, LIMIT, NOMEM). Free with mcz_close. */
MCZ_API mcz_file *mcz_open(const char *path, mcz_error *err);

/* Same from memory. The buffer is not copied: it must stay valid and unchanged until
 * mcz_close. `name` (may be NULL) names the input in error messages. */
MCZ_API mcz_file *mcz_open_buffer(const void *data, size_t len, const char *name,
                                  mcz_error *err);

/* Close and unmap. Every pointer obtained from `f` becomes invalid. Accepts NULL. */
MCZ_API void mcz_close(mcz_file *f);

/* Format version of the open file. */
MCZ_API uint32_t mcz_format_version(const mcz_file *f);

MCZ_API size_t mcz_tensor_count(const mcz_file *f);

/* Tensor i (owned by `f`), or NULL when i >= mcz_tensor_count. */
MCZ_API const mcz_tensor_info *mcz_tensor(const mcz_file *f, size_t i);

/* Index of the first tensor (in table order) named `name`, or -1 when there is none.
 * Expected time proportional to the name's length (a hash table built at open). */
MCZ_API long mcz_find(const mcz_file *f, const char *name);

/* Decode tensor i into `dst` (caller-owned, `dst_len` >= raw_bytes): the raw little-endian
 * values of its own dtype. Every block's checksum is checked before it is decoded. Errors:
 * MCZ_ERR_ARG (bad i, dst too small), MCZ_ERR_CHECKSUM, MCZ_ERR_FORMAT (a payload that does
 * not decode to its declared size), MCZ_ERR_UNSUPPORTED (in-skeleton tensor), MCZ_ERR_NOMEM.
 * On error `dst` holds unspecified bytes that must not be used. */
MCZ_API mcz_status mcz_read(const mcz_file *f, size_t i, void *dst, size_t dst_len,
                            mcz_error *err);

/* As mcz_read into a malloc'd buffer (raw_bytes, at least 1 byte) the caller frees. Returns
 * NULL on error with `err` filled. */
MCZ_API void *mcz_read_alloc(const mcz_file *f, size_t i, mcz_error *err);

/* Decode tensor i as float32 into `dst` (caller-owned, room for `count` >= the tensor's count
 * floats). Converts float, float16 and bfloat16 (exactly) and dequantizes quantized codes
 * (int8/uint8/int4/uint4 with their scales and zero points, as ONNX DequantizeLinear does);
 * other dtypes give MCZ_ERR_UNSUPPORTED. Other errors as mcz_read. */
MCZ_API mcz_status mcz_read_f32(const mcz_file *f, size_t i, float *dst, size_t count,
                                mcz_error *err);

/* Values of a MCZ_ENC_RAW tensor in place: *data points into the mapping or the buffer given
 * to mcz_open_buffer (owned by `f`, 64-byte aligned when the mapping is and the tensor has 64
 * bytes or more, else 8-byte aligned; valid until
 * mcz_close), after every block checksum has been checked. Other encodings give
 * MCZ_ERR_UNSUPPORTED (use mcz_read). */
MCZ_API mcz_status mcz_tensor_data(const mcz_file *f, size_t i, const void **data,
                                   mcz_error *err);

/* Decode every tensor whose dst[i] is not NULL into dst[i] (caller-owned, raw_bytes each;
 * `dst` has mcz_tensor_count entries; in-skeleton tensors are left alone) using `threads`
 * threads (<= 0: one per online CPU), block by block. On error (the first failing tensor in
 * table order is reported, whatever the thread count) the contents of dst are unspecified.
 * Errors as mcz_read. */
MCZ_API mcz_status mcz_load_all(const mcz_file *f, int threads, void *const *dst,
                                mcz_error *err);

/* Check everything: decode every block of every tensor with `threads` threads and check both
 * its stored and its decoded checksum, that alignment padding is zero and that the skeleton's
 * markers name valid tensors: every byte of the file is covered. Returns MCZ_OK, or the
 * error of the first bad tensor in table order; then *bad_tensor (when not NULL) is its
 * index, or -1 when what is bad is not a tensor. */
MCZ_API mcz_status mcz_verify(const mcz_file *f, int threads, long *bad_tensor,
                              mcz_error *err);

/* Build the runnable ONNX model (serialized ModelProto, weights inline as raw_data) in memory,
 * decoding with `threads` threads; ready for onnxruntime's CreateSessionFromArray (which
 * takes up to 2 GiB: protobuf's limit). On success *out is a malloc'd buffer of *out_len bytes
 * that the caller frees. Errors as mcz_read, and MCZ_ERR_FORMAT for a malformed skeleton. */
MCZ_API mcz_status mcz_build_onnx(const mcz_file *f, int threads, uint8_t **out,
                                  size_t *out_len, mcz_error *err);

/* "raw", "zstd", "planes", "sparse", or "?" (static). */
MCZ_API const char *mcz_encoding_name(mcz_encoding encoding);

/* ---- Partitions (docs/format.md 7a) ---------------------------------------------------- */

/* One partition of a model split by mcz-partition: a sub-model that runs after the parts
 * before it. Owned by the mcz_file; valid until mcz_close. */
typedef struct mcz_part_desc {
    size_t tensor_count;
    const uint32_t *tensors;       /* the tensors it reads (table indices, ascending) */
    size_t input_count, output_count;
    const char *const *inputs;     /* its graph's inputs: model inputs or earlier parts' outputs */
    const char *const *outputs;
    uint64_t weight_bytes;         /* raw bytes of its tensors (shared ones counted in each) */
    uint64_t skeleton_bytes;
    uint32_t node_count;           /* nodes of its graph, as the writer recorded */
} mcz_part_desc;

/* Number of partitions: 0 when the file holds one unsplit model. */
MCZ_API size_t mcz_part_count(const mcz_file *f);

/* Partition p, or NULL when p >= mcz_part_count. */
MCZ_API const mcz_part_desc *mcz_part(const mcz_file *f, size_t p);

/* Decode the tensors of partition p whose dst[i] is not NULL (`dst` as for mcz_load_all: one
 * entry per tensor of the file) with `threads` threads. A part's payloads are contiguous in
 * the file. To load every partition in parallel, one thread each, call mcz_load_all with
 * threads = mcz_part_count(f). Errors as mcz_load_all, MCZ_ERR_NOT_FOUND for a bad p. */
MCZ_API mcz_status mcz_load_part(const mcz_file *f, size_t p, int threads, void *const *dst,
                                 mcz_error *err);

/* Build partition p as a runnable ONNX model in memory (as mcz_build_onnx builds the whole
 * model, which the file also holds). MCZ_ERR_FORMAT when its skeleton names a tensor outside
 * its list. */
MCZ_API mcz_status mcz_build_part_onnx(const mcz_file *f, size_t p, int threads, uint8_t **out,
                                       size_t *out_len, mcz_error *err);

/* ---- streaming a model out piece by piece ----
 * For a writer that emits the ONNX model itself (mcz-unpack streams the skeleton and decodes
 * one weight at a time instead of building the whole model with mcz_build_onnx). */

/* The model's skeleton (part < 0) or partition part's: the serialized ModelProto with a
 * 16-byte marker where each stored weight's raw_data goes (docs/format.md). The bytes belong to
 * `f` and stay valid until mcz_close. Returns MCZ_ERR_NOT_FOUND for a part out of range. */
MCZ_API mcz_status mcz_skeleton(const mcz_file *f, long part, const uint8_t **skel,
                                size_t *len, mcz_error *err);

/* Number of independently decodable blocks tensor i is stored in (0 for i out of range): a
 * tensor of more than one is worth decoding on several threads (mcz_load_all). */
MCZ_API uint64_t mcz_tensor_block_count(const mcz_file *f, size_t i);

/* The container's bytes (the mapping or the caller's buffer; *size gets their length), so a
 * reader that has decoded a tensor can release the pages of its stored bytes
 * (mcz_tensor_info.offset, stored_bytes). Owned by `f`. */
MCZ_API const uint8_t *mcz_file_bytes(const mcz_file *f, size_t *size);

#ifdef __cplusplus
}
#endif
#endif
