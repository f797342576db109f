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
} mk_mcz;

enum { MK_RAW = 0, MK_ZSTD = 1, MK_PLANES = 2 };

void mk_begin(mk_mcz *m);
/* Append a tensor (data: raw_size bytes), encoded per docs/format.md with `block_size`
 * (0: 1 MiB); MK_PLANES uses planes = element size and `transform`. Returns its index. */
uint32_t mk_tensor(mk_mcz *m, const char *name, int32_t dtype, int rank, const int64_t *dims,
                   const void *data, uint64_t raw_size, int encoding, uint32_t block_size,
                   int transform);
/* Finish: index (sections 1-6 in order; zstd-compressed when `compress`), footer. The
 * skeleton is m->skel as filled by the caller. Frees the parts; returns the file. */
uint8_t *mk_end(mk_mcz *m, int compress, size_t *len);

/* Recompute the header checksum, the index checksum and the footer checksum of a file
 * whose index is stored uncompressed (after mutating it). */
void mk_fix(uint8_t *f, size_t len);

/* Offsets in a finished file with an uncompressed index. */
size_t mk_index_offset(const uint8_t *f, size_t len);
/* Offset of section `kind`'s header (in the file), or 0. */
size_t mk_section(const uint8_t *f, size_t len, uint32_t kind);
/* Offset of tensor i's table entry (in the file). */
size_t mk_entry(const uint8_t *f, size_t len, uint32_t i);

#endif
