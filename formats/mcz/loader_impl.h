/* loader_impl.h - the loader's own structures (private to formats/mcz: libcompress reads a
 * .mcz only through mcz/load.h; the layout both share is in shared/mczformat.h). */
#ifndef MCZ_LOADER_IMPL_H
#define MCZ_LOADER_IMPL_H

#include "mczformat.h"

typedef struct tensor {
    mcz_tensor_info pub;
    mcz_quant_info q;
    uint64_t first_block, nblocks; /* blocks: into mcz_file.blk_off and the BLOCKS section */
    uint64_t first_seg;            /* into the SEGMENTS section */
} tensor;

struct mcz_file {
    const uint8_t *base;                /* the whole file: size bytes, munmap'd if mapped */
    size_t size, n, skel_len, hash_mask; /* n: tensors */
    int mapped;
    uint64_t payload_end, nblocks, seed; /* payload_end: the index offset */
    uint8_t *index_buf;                 /* decoded index when it was compressed */
    const uint8_t *blocks, *segs, *skel; /* sections BLOCKS, SEGMENTS, SKELETON */
    uint64_t *blk_off;                  /* file offset of each block's first segment */
    tensor *t;
    int64_t *dims;
    uint32_t *hash;                     /* tensor index + 1, 0 = empty; open addressing */
    size_t nparts;
    struct mcz_fpart *parts;                 /* PARTS: descriptions and skeletons */
    char name[];                        /* for messages */
};

typedef struct mcz_fpart {
    mcz_part_desc pub;
    const uint8_t *skel;
} mcz_fpart;

/* Decode every block of the tensors with dst[i] != NULL into dst[i] or, with dst == NULL,
 * every block of every tensor into scratch memory, checking the decoded checksums too. The
 * error reported is that of the first failing tensor in table order (*bad: its index). */
mcz_status mcz_run_blocks(const mcz_file *f, int threads, void *const *dst, long *bad,
                          mcz_error *err);

/* The ONNX model from skeleton (skel, len) with the decoded tensors of `sel` (n indices, or
 * every tensor when sel is NULL); a marker of a tensor outside `sel` is a format error. */
mcz_status mcz_build(const mcz_file *f, const uint8_t *skel, size_t len, const uint32_t *sel,
                     size_t n, int threads, uint8_t **out, size_t *out_len, mcz_error *err);
/* Read PARTS (called by the loader's parse once the tensors are read). */
mcz_status mcz_read_parts(mcz_file *f, const uint8_t *p, uint64_t size, mcz_error *err);

#endif
