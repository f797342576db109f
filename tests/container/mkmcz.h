/* mkmcz.h - hand-built .mcz files and ONNX bytes for the container tests.
 *
 * An independent little writer, written from docs/format.md (not from the library), so the
 * tests check the loader against the specification; every field can be set to anything,
 * and the checksums fixed up (or not) after a mutation. Memory: malloc'd, the tests free it.
 */
#ifndef MCZ_TEST_MKMCZ_H
#define MCZ_TEST_MKMCZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct mk_buf {
    uint8_t *p;
    size_t n, cap;
} mk_buf;

void mk_put(mk_buf *b, const void *p, size_t n);
void mk_u8(mk_buf *b, uint8_t v);
void mk_u32(mk_buf *b, uint32_t v);
void mk_u64(mk_buf *b, uint64_t v);
void mk_zero(mk_buf *b, size_t n);
uint32_t mk_get32(const uint8_t *p);
uint64_t mk_get64(const uint8_t *p);
void mk_set32(uint8_t *p, uint32_t v);
void mk_set64(uint8_t *p, uint64_t v);

/* ---- protobuf: just enough ONNX to carry weights ---- */
void pb_varint(mk_buf *b, uint64_t v);
void pb_bytes(mk_buf *b, uint32_t field, const void *p, size_t n);
void pb_uint(mk_buf *b, uint32_t field, uint64_t v);

/* A model whose graph has the given initializers (each a serialized TensorProto). */
typedef struct mk_tensor_spec {
    const char *name;
    int32_t dtype;
    int rank;
    const int64_t *dims;
    const void *data; /* raw bytes (NULL: the marker for index `marker`) */
    size_t len;
    uint64_t marker;
} mk_tensor_spec;
/* Serialized ModelProto (ir_version 8, opset 17) whose graph `g` holds the tensors as
 * initializers, in order. */
void mk_onnx(mk_buf *out, const mk_tensor_spec *t, size_t n);

/* ---- the container ---- */
typedef struct mk_mcz {
    mk_buf file;                    /* header + payloads so far */
    mk_buf entries, names, dims, blocks, segs, skel;
    uint32_t n;
    uint32_t extra_kind, extra_flags; /* nonzero: one more section (empty) after the six */
    /* Features of docs/format.md 5a, 6 (sparse), 7a. */
    mk_buf qparams;                 /* QPARAMS records (mk_qrecord) */
    mk_buf parts;                   /* PARTS records after the 8-byte head (mk_part) */
    uint32_t part_count;            /* records in `parts` */
    int with_qparams, with_parts;   /* write the section (set by mk_qrecord / mk_part; tests
                                       may clear or set them to make malformed files) */
    uint32_t qparams_flags, parts_flags; /* section flags (0: not required) */
    uint32_t part;                  /* `part` field of the tensors mk_tensor appends next */
    int store_raw;                  /* planes / sparse segments always stored as is */
} mk_mcz;

enum { MK_RAW = 0, MK_ZSTD = 1, MK_PLANES = 2, MK_SPARSE = 3 };

void mk_begin(mk_mcz *m);
/* Append a tensor (data: raw_size bytes), encoded per docs/format.md with `block_size`
 * (0: 1 MiB); MK_PLANES uses planes = element size and `transform`. Returns its index. */
uint32_t mk_tensor(mk_mcz *m, const char *name, int32_t dtype, int rank, const int64_t *dims,
                   const void *data, uint64_t raw_size, int encoding, uint32_t block_size,
                   int transform);
/* One segment as it is to be stored (mk_tensor_segments). */
typedef struct mk_seg {
    const void *p;
    size_t n;
} mk_seg;
/* Append a tensor whose segments are given exactly as they are to be stored, for hand-made
 * malformed payloads: `segs` holds blocks x planes segments (block-major), blocks =
 * ceil(raw_size / block_size); `raw` (raw_size bytes) gives the decoded checksums. Every
 * entry field is as given, nothing is checked. Returns the tensor's index. */
uint32_t mk_tensor_segments(mk_mcz *m, const char *name, int32_t dtype, int rank,
                            const int64_t *dims, const void *raw, uint64_t raw_size,
                            int encoding, uint32_t block_size, unsigned planes, int transform,
                            const mk_seg *segs);
/* Append a tensor flagged *in skeleton* (no payload: offsets and sizes 0, planes 1). */
uint32_t mk_inline(mk_mcz *m, const char *name, int32_t dtype, int rank, const int64_t *dims);
/* One zstd frame of (p, n) appended to `out` (level 3); returns its size. */
size_t mk_zstd(mk_buf *out, const void *p, size_t n);

/* The sparse encoding of one block of `n` bytes of elements of `E` bytes (docs/format.md 6):
 * segs[0] the bitmap, segs[1..E] the value planes, each stored as is (`compress` 0) or as a
 * zstd frame when that is smaller. Returns the number of non-zero elements; the caller frees
 * segs[p].p. */
size_t mk_sparse_block(const uint8_t *src, size_t n, size_t E, int transform, int compress,
                       mk_buf segs[9]);

/* A QPARAMS record (docs/format.md 5a): scale = table index of the scales, zero_point =
 * table index + 1 of the zero points (0: none). Returns its offset in the section. */
uint64_t mk_qrecord(mk_mcz *m, uint32_t scale, uint32_t zero_point, int32_t axis,
                    uint32_t block_size);
/* Flag tensor i quantized with the record at `aux_offset` (aux_size 24). */
void mk_quantize(mk_mcz *m, uint32_t i, uint64_t aux_offset);
/* Both: a new record for tensor i. Returns the record's offset. */
uint64_t mk_quant(mk_mcz *m, uint32_t i, uint32_t scale, uint32_t zero_point, int32_t axis,
                  uint32_t block_size);

/* Append a PARTS record (docs/format.md 7a): the tensors it lists (as given: ascending for a
 * well-formed file), input and output names, its skeleton. part_count grows by one. */
void mk_part(mk_mcz *m, const uint32_t *tensors, uint32_t tensor_count,
             const char *const *inputs, uint32_t input_count, const char *const *outputs,
             uint32_t output_count, const void *skeleton, size_t skeleton_size);

/* Finish: index (sections 1-6 in order, then QPARAMS and PARTS when present, then the extra
 * section; zstd-compressed when `compress`), footer. The skeleton is m->skel as filled by the
 * caller. Frees the buffers; returns the file. */
uint8_t *mk_end(mk_mcz *m, int compress, size_t *len);

/* Test helpers: a whole file read into memory (aborts on failure; *len set), and a 64-bit
 * LCG (Knuth's MMIX constants) whose state the caller keeps, for reproducible values. */
uint8_t *mk_slurp(const char *path, size_t *len);
uint64_t mk_rnd(uint64_t *state);

/* Recompute the header checksum, the index checksum and the footer checksum of a file
 * whose index is stored uncompressed (after mutating it). */
void mk_fix(uint8_t *f, size_t len);

/* Offsets in a finished file with an uncompressed index. */
size_t mk_index_offset(const uint8_t *f, size_t len);
/* Offset of section `kind`'s header (in the file), or 0. */
size_t mk_section(const uint8_t *f, size_t len, uint32_t kind);
/* Offset of tensor i's table entry (in the file). */
size_t mk_entry(const uint8_t *f, size_t len, uint32_t i);
/* Offset (in the file) of QPARAMS record at aux offset `aux`. */
size_t mk_qrec_at(const uint8_t *f, size_t len, uint64_t aux);
/* Offset (in the file) of PARTS record p (its tensor_count field), or 0. */
size_t mk_part_record(const uint8_t *f, size_t len, uint32_t p);
/* Offset (in the file) of the first byte of segment (block b, plane p) of tensor i. */
size_t mk_segment(const uint8_t *f, size_t len, uint32_t i, uint64_t b, unsigned p);
/* Offset (in the file) of the SEGMENTS entry (u32) of (tensor i, block b, plane p), and of
 * the BLOCKS entry (stored checksum, then raw checksum) of (tensor i, block b). */
size_t mk_segsize_at(const uint8_t *f, size_t len, uint32_t i, uint64_t b, unsigned p);
size_t mk_block_at(const uint8_t *f, size_t len, uint32_t i, uint64_t b);
/* Recompute the stored checksum of block b of tensor i after its bytes were changed. */
void mk_fix_block(uint8_t *f, size_t len, uint32_t i, uint64_t b);

#endif
