/* mczformat.h - the .mcz layout (docs/format.md): the one description both sides use, the
 * loader (formats/mcz) that reads it and the writer in libcompress (container/pack.c). Sizes,
 * section kinds, entry field offsets, hard caps, little-endian reads, the checksum, element
 * sizes. Internal to mcz: not installed. The loader's own structures are in loader_impl.h,
 * which libcompress cannot include (it is not on libcompress's include path). */
#ifndef MCZ_MCZFORMAT_H
#define MCZ_MCZFORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mcz/load.h"
#include "mczerr.h"
#include "onnxwire.h" /* markers */

#define ULL(x) ((unsigned long long)(x))

/* Sizes (bytes), section kinds, entry field offsets: format.md sections 2-5. */
enum { MCZ_HEADER_SIZE = 64, MCZ_FOOTER_SIZE = 64, MCZ_ALIGN = 64, MCZ_INDEX_HEADER_SIZE = 32,
       MCZ_SECTION_HEADER_SIZE = 16, MCZ_ENTRY_SIZE = 128, MCZ_BLOCK_ENTRY_SIZE = 16 };
enum { MCZ_CODEC_NONE = 0, MCZ_CODEC_ZSTD = 1, MCZ_SEC_REQUIRED = 1, MCZ_TF_IN_SKELETON = 1,
       MCZ_TF_QUANTIZED = 2, MCZ_QREC_SIZE = 24, MCZ_PART_HEADER_SIZE = 24 };
enum { MCZ_SEC_TENSORS = 1, MCZ_SEC_NAMES, MCZ_SEC_DIMS, MCZ_SEC_BLOCKS, MCZ_SEC_SEGMENTS,
       MCZ_SEC_SKELETON, MCZ_SEC_METADATA, MCZ_SEC_QPARAMS, MCZ_SEC_SPARSE, MCZ_SEC_PARTS,
       MCZ_SEC_KNOWN = MCZ_SEC_PARTS, MCZ_SEC_MANDATORY = MCZ_SEC_SKELETON };
enum { MCZ_E_NAME_LEN = 0, MCZ_E_DTYPE = 4, MCZ_E_RANK = 8, MCZ_E_ENCODING = 12,
       MCZ_E_DATA_OFFSET = 16, MCZ_E_STORED = 24, MCZ_E_RAW = 32, MCZ_E_BLOCK_SIZE = 40,
       MCZ_E_PLANES = 44, MCZ_E_TRANSFORM = 45, MCZ_E_FLAGS = 48, MCZ_E_PART = 52,
       MCZ_E_AUX_OFFSET = 56, MCZ_E_AUX_SIZE = 64, MCZ_E_RESERVED = 72 };
#define MCZ_MAGIC "MCZ\x89\r\n\x1a\n"
#define MCZ_END_MAGIC "MCZ\x89" "END\n"
#define MCZ_INDEX_MAGIC "MCZINDEX"

/* Hard caps (format.md section 8). */
#define MCZ_MAX_TENSORS (1u << 22)
#define MCZ_MAX_NAME 4096u
#define MCZ_MAX_SECTIONS 64u
#define MCZ_MAX_INDEX ((uint64_t)1 << 30)
#define MCZ_MAX_BLOCK (1u << 24)
#define MCZ_MAX_RANK 32 /* as mcz/model.h: the same definition */
#define MCZ_MAX_PARTS 65536u
#define MCZ_MAX_PART_NAMES (1u << 20)

static inline uint32_t mcz_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t mcz_rd64(const uint8_t *p)
{
    return (uint64_t)mcz_rd32(p) | (uint64_t)mcz_rd32(p + 4) << 32;
}

/* XXH64 of (p, n) (the xxHash specification); the format uses seed 0. */
uint64_t mcz_xxh64_seed(const void *p, size_t n, uint64_t seed);
#define mcz_xxh64(p, n) mcz_xxh64_seed(p, n, 0)

/* Element size of an ONNX dtype in raw layout: 1..16; -1 for 4-bit types (two per byte); 0
 * for STRING and unknown types. mcz_raw_size: bytes of `count` of them; *ok = 0 on overflow
 * or an unknown type. */
int mcz_elem_size(int32_t dtype);
uint64_t mcz_raw_size(int32_t dtype, uint64_t count, int *ok);

#endif
