/* pack_impl.h - the .mcz writer's own structures, shared by its files (private to
 * libcompress/container):
 *   pack.c    mcz_pack: options, the packer's memory, the order of the phases
 *   encode.c  the block encoders (the writer's side of formats/mcz/decode.c) and the choice
 *             of a tensor's encoding
 *   window.c  tensors through a bounded window of blocks: dedup, parallel encoding, payload
 *   index.c   table order and skeleton markers, tensor entries, QPARAMS, PARTS, index, footer
 * The layout written is docs/format.md (shared/mczformat.h). */
#ifndef MCZ_PACK_IMPL_H
#define MCZ_PACK_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <zstd.h>

#include "mcz/outfile.h"
#include "mcz/pack.h"
#include "mczerr.h"
#include "mczformat.h"
#include "parallel.h"

#define BLOCK_SIZE (1u << 20)
#define WINDOW_BYTES ((uint64_t)16 << 20) /* 16 blocks: work for every thread, little memory */
#define WINDOW_TENSORS 4096
#define PROBE_LEVEL 3 /* plain zstd's first, cheap try (encode.c: mcz_redo_plain) */

/* What the block jobs do. A tensor larger than its window is streamed: every block's checksum
 * first (dedup), all candidates of a sample of its first blocks only, then the other blocks
 * with the encoding the sample chose, a window's worth at a time. */
enum {
    PASS_ALL,  /* checksum and every candidate (plain zstd at the tensor's level) */
    PASS_REDO, /* plain zstd again at the requested level, for tensors with a level */
    PASS_HASH, /* the checksum alone; the input pages are released after */
    PASS_ONE   /* the tensor's chosen encoding alone */
};

/* One candidate encoding of one block: its segments back to back. */
typedef struct cand {
    uint8_t *data;
    uint32_t seg[9];
    uint64_t len, xxh;
} cand;

typedef struct bjob {
    size_t t; /* index into the window's tensors */
    uint64_t b;
    uint64_t raw_xxh;
    int sparse_ok; /* a tenth of the block's elements are zero: the sparse candidate is made */
    cand planes, plain, sparse;
} bjob;

typedef struct wtensor {
    size_t idx;
    const uint8_t *src;
    uint64_t raw;
    unsigned E, tf;    /* E > 1: byte planes are a candidate */
    int lit;           /* byte-sized elements: the `planes` slot holds one literal-only segment */
    unsigned es;       /* element size */
    int sparse;        /* sparse may be a candidate: it is when every block made one */
    int level;         /* plain zstd level for the current pass */
    long dup_of;       /* an earlier identical tensor, -1 none, -2 kept in the skeleton */
    int enc, zlit;     /* the chosen encoding; zstd: the literal-only frames of `planes` */
    unsigned P;        /* the chosen encoding's segments per block */
    size_t first_job;
    uint64_t nblocks;
} wtensor;

/* Where a written tensor's metadata went (for duplicates). */
typedef struct written {
    uint64_t first_block, nblocks, first_seg, nsegs;
} written;

/* A growing byte buffer (the index's sections). */
typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

/* One thread's encoding state. */
typedef struct encoder {
    ZSTD_CCtx *lit, *plain;
    uint8_t *scratch, *gather, *bitmap;
} encoder;

typedef struct packer {
    mcz_model *m;
    const char *path;
    int level, threads;
    size_t n;
    encoder encs[MCZ_THREADS_MAX];
    wtensor *wt;
    bjob *jobs;
    size_t nwt, njobs;
    size_t j0; /* mcz_encode_jobs: the first of the jobs being encoded */
    atomic_int failed;
    int pass;
    uint64_t *hash;     /* per tensor: XXH64 of its values (dedup) */
    uint8_t *marked;    /* per tensor: the skeleton has its marker */
    size_t *perm, *inv; /* table position -> model weight index, and back */
    uint32_t *owner;    /* per table position: its part */
    uint8_t *mk;        /* per table position: its marker (rewritten skeletons point here) */
    uint32_t *seen;     /* per table position: last part (+1) whose skeleton named it */
    uint32_t cur_part;  /* the part whose skeleton is being rewritten (+1), 0 the whole */
    size_t *plist;      /* scratch: a part's table positions */
    size_t nparts;
    const mcz_pack_part *parts;
    bool no_sparse;
    buf qp, partsec;
    size_t *dmap;       /* open addressing: tensor index + 1 */
    size_t dmask;
    written *wr;
    uint8_t *entries;
    buf names, dims, blocks, segs;
    mcz_outfile *out;
    mcz_pack_stats st;
    mcz_progress_fn progress;
    void *progress_ctx;
} packer;

static inline void mcz_wr_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
#define mcz_wr32(p, v) mcz_wr_le((p), (v), 4)
#define mcz_wr64(p, v) mcz_wr_le((p), (v), 8)

/* The weight at table position i, and its values. */
const mcz_weight *mcz_pack_weight(const packer *pk, size_t i);
const uint8_t *mcz_pack_weight_data(const packer *pk, size_t i, mcz_error *err);

/* index.c: buffers. Append n bytes (p may be NULL: room only); append a copy of n bytes at
 * offset `off` of b itself; append a little-endian integer. */
mcz_status mcz_buf_put(buf *b, const void *p, size_t n, mcz_error *err);
mcz_status mcz_buf_put_again(buf *b, size_t off, size_t n, mcz_error *err);
mcz_status mcz_buf_put32(buf *b, uint32_t v, mcz_error *err);
mcz_status mcz_buf_put64(buf *b, uint64_t v, mcz_error *err);

/* index.c: the table. */
mcz_status mcz_write_header(packer *pk, mcz_error *err);
mcz_status mcz_order_table(packer *pk, mcz_error *err);
mcz_status mcz_rewrite_skeleton(packer *pk, const uint8_t *skel, size_t len, uint8_t **out,
                                size_t *out_len, mcz_error *err);
mcz_status mcz_describe_tensor(packer *pk, size_t i, mcz_error *err);
mcz_status mcz_build_qparams(packer *pk, mcz_error *err);
mcz_status mcz_build_parts(packer *pk, mcz_error *err);
mcz_status mcz_write_index(packer *pk, const uint8_t *skel, size_t skel_len, mcz_error *err);

/* encode.c */
mcz_status mcz_encoders_init(packer *pk, mcz_error *err);
void mcz_encoders_free(packer *pk);
unsigned mcz_plane_count(int32_t dtype, unsigned *tf);
mcz_status mcz_encode_jobs(packer *pk, size_t j0, size_t j1, mcz_error *err);
void mcz_free_cands(packer *pk, size_t j0, size_t j1);
void mcz_choose_encoding(wtensor *t, const bjob *jobs, uint64_t nb, uint64_t raw);
bool mcz_redo_plain(const packer *pk, const wtensor *t, const bjob *jobs, uint64_t nb);

/* window.c: every tensor's payload, in table order (the entries described). */
mcz_status mcz_write_windows(packer *pk, mcz_error *err);

#endif
