/* pack.c - the .mcz writer (docs/format.md).
 *
 * Tensors are encoded in windows of about WINDOW_BYTES of raw weights: the blocks of a window
 * are compressed in parallel, then written in table order, so memory stays bounded and the
 * output does not depend on the thread count. Per tensor the smallest of three encodings is
 * kept: raw, plain zstd, and byte planes (floats: sign rotated to the low bit first) whose
 * planes are each entropy-coded by zstd in a fast literal-only setting or stored. Plain zstd is
 * first tried at a cheap level and redone at the requested level only when it comes close to
 * the planes (repetitive tensors). A tensor larger than the window is streamed: its encoding is
 * chosen from the candidates of its first blocks, and the rest is encoded with that one alone,
 * a window's worth at a time. A tensor with a tenth or more of zero elements also tries the
 * sparse encoding: per block a bitmap of the non-zero elements, then their byte planes.
 * Identical tensors share one payload.
 *
 * Table order is the model's weight order, or with partitions the order of the owning parts
 * (perm: table position -> model weight index); every skeleton marker is rewritten to table
 * positions. QDQ weights (mcz/qdq.h) get the quantized flag and a QPARAMS record. */
#include "mcz/pack.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "mcz/outfile.h"
#include "mcz/qdq.h"
#include "onnx/model_impl.h" /* mcz_model_release_pages */
#include "mczformat.h"
#include "onnxwire.h"
#include "parallel.h"

#define BLOCK_SIZE (1u << 20)
#define mcz_wr32(p, v) wr_le((p), (v), 4)
#define mcz_wr64(p, v) wr_le((p), (v), 8)
#define WINDOW_BYTES ((uint64_t)16 << 20) /* 16 blocks: work for every thread, little memory */
#define WINDOW_TENSORS 4096
#define PROBE_LEVEL 3

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
    long dup_of;       /* an earlier identical tensor, or -1 */
    int enc, zlit;     /* the chosen encoding; zstd: the literal-only frames of `planes` */
    unsigned P;        /* the chosen encoding's segments per block */
    size_t first_job;
    uint64_t nblocks;
} wtensor;

/* Where a written tensor's metadata went (for duplicates). */
typedef struct written {
    uint64_t first_block, nblocks, first_seg, nsegs;
} written;

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

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
    size_t j0; /* run_jobs: the first of the jobs being encoded */
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
    int no_sparse;
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

static void wr_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static mcz_status put(buf *b, const void *p, size_t n, mcz_error *err)
{
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->n < n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q)
            return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        b->p = q;
        b->cap = cap;
    }
    if (p && n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    return MCZ_OK;
}

/* Append a copy of n bytes at offset `off` of b itself (b may move while it grows). */
static mcz_status put_again(buf *b, size_t off, size_t n, mcz_error *err)
{
    mcz_status s = put(b, NULL, n, err);
    if (!s && n)
        memcpy(b->p + b->n - n, b->p + off, n);
    return s;
}

static mcz_status put64(buf *b, uint64_t v, mcz_error *err)
{
    uint8_t x[8];
    mcz_wr64(x, v);
    return put(b, x, 8, err);
}

static mcz_status put32(buf *b, uint32_t v, mcz_error *err)
{
    uint8_t x[4];
    mcz_wr32(x, v);
    return put(b, x, 4, err);
}

/* Inverse of mcz_planes_merge (loader). */
static void planes_split(uint8_t *const *pl, const uint8_t *src, size_t n, unsigned planes,
                         unsigned tf)
{
    uint64_t mask = planes == 8 ? ~0ull : (1ull << (8 * planes)) - 1;
    for (size_t j = 0; j < n / planes; j++) {
        uint64_t v = 0;
        memcpy(&v, src + j * planes, planes); /* little-endian host */
        if (tf)
            v = ((v << 1) | (v >> (8 * planes - 1))) & mask;
        for (unsigned k = 0; k < planes; k++)
            pl[k][j] = (uint8_t)(v >> (8 * k));
    }
}

/* Compress m bytes into dst (capacity m); raw copy unless strictly smaller. */
static uint32_t segment(ZSTD_CCtx *c, uint8_t *dst, const uint8_t *src, size_t m)
{
    size_t r = m > 1 ? ZSTD_compress2(c, dst, m - 1, src, m) : 0;
    if (m <= 1 || ZSTD_isError(r) || r >= m) {
        memcpy(dst, src, m);
        return (uint32_t)m;
    }
    return (uint32_t)r;
}

/* How many of the k elements of es bytes (1, 2, 4, 8) at p are all-zero bytes. One loop per
 * size so that each vectorizes: this runs over every weight, on one thread. */
static uint64_t zero_elements(const uint8_t *p, uint64_t k, unsigned es)
{
    uint64_t z = 0;
#define COUNT(T)                                                                                  \
    for (uint64_t j = 0; j < k; j++) {                                                            \
        T v;                                                                                      \
        memcpy(&v, p + j * sizeof v, sizeof v);                                                   \
        z += v == 0;                                                                              \
    }
    if (es == 1)
        COUNT(uint8_t)
    else if (es == 2)
        COUNT(uint16_t)
    else if (es == 4)
        COUNT(uint32_t)
    else
        COUNT(uint64_t)
#undef COUNT
    return z;
}

/* The sparse candidate of one block of n bytes (format.md 6): the bitmap of the non-zero
 * elements, then their byte planes, each segment entropy-coded or stored. */
static int encode_sparse(const wtensor *t, cand *c, const uint8_t *src, size_t n, encoder *e)
{
    unsigned E = t->es;
    size_t k = n / E, nb = (k + 7) / 8, nnz = 0;
    if (!c->data && !(c->data = malloc(n + nb + 16)))
        return -1;
    memset(e->bitmap, 0, nb);
    for (size_t j = 0; j < k; j++) {
        const uint8_t *x = src + j * E;
        uint64_t v = 0;
        memcpy(&v, x, E);
        if (v) {
            e->bitmap[j / 8] |= (uint8_t)(1u << (j % 8));
            memcpy(e->gather + nnz * E, x, E);
            nnz++;
        }
    }
    c->len = c->seg[0] = segment(e->lit, c->data, e->bitmap, nb);
    uint8_t *pl[8] = {0}; /* E of them set: zeroed for the compiler's sake */
    if (E == 1) {
        pl[0] = e->gather;
    } else {
        for (unsigned p = 0; p < E; p++)
            pl[p] = e->scratch + p * nnz;
        planes_split(pl, e->gather, nnz * E, E, t->tf);
    }
    for (unsigned p = 0; p < E; p++) {
        c->seg[1 + p] = segment(e->lit, c->data + c->len, pl[p], nnz);
        c->len += c->seg[1 + p];
    }
    c->xxh = mcz_xxh64(c->data, c->len);
    return 0;
}

/* The `planes` candidate: byte planes, or with `lit` the bytes entropy-coded alone (what
 * integer codes need). */
static int encode_planes(const wtensor *t, bjob *j, const uint8_t *src, size_t n, encoder *e)
{
    if (t->E > 1) {
        size_t m = n / t->E;
        uint8_t *pl[8];
        if (!j->planes.data && !(j->planes.data = malloc(n)))
            return -1;
        for (unsigned k = 0; k < t->E; k++)
            pl[k] = e->scratch + k * m;
        planes_split(pl, src, n, t->E, t->tf);
        j->planes.len = 0;
        for (unsigned k = 0; k < t->E; k++) {
            j->planes.seg[k] = segment(e->lit, j->planes.data + j->planes.len, pl[k], m);
            j->planes.len += j->planes.seg[k];
        }
        j->planes.xxh = mcz_xxh64(j->planes.data, j->planes.len);
    } else if (t->lit) {
        if (!j->planes.data && !(j->planes.data = malloc(n ? n : 1)))
            return -1;
        j->planes.len = j->planes.seg[0] = segment(e->lit, j->planes.data, src, n);
        j->planes.xxh = j->planes.len == n ? j->raw_xxh
                                           : mcz_xxh64(j->planes.data, j->planes.len);
    }
    return 0;
}

static int encode_plain(const wtensor *t, bjob *j, const uint8_t *src, size_t n, encoder *e)
{
    if (!j->plain.data && !(j->plain.data = malloc(n ? n : 1)))
        return -1;
    ZSTD_CCtx_setParameter(e->plain, ZSTD_c_compressionLevel, t->level);
    j->plain.seg[0] = segment(e->plain, j->plain.data, src, n);
    j->plain.len = j->plain.seg[0];
    j->plain.xxh = j->plain.len == n ? j->raw_xxh : mcz_xxh64(j->plain.data, j->plain.len);
    return 0;
}

static int encode_block(packer *pk, bjob *j, encoder *e)
{
    wtensor *t = &pk->wt[j->t];
    uint64_t off = j->b * BLOCK_SIZE;
    size_t n = (size_t)(t->raw - off < BLOCK_SIZE ? t->raw - off : BLOCK_SIZE);
    const uint8_t *src = t->src + off;
    switch (pk->pass) {
    case PASS_HASH:
        j->raw_xxh = mcz_xxh64(src, n);
        /* read again only when this block is encoded: not resident until then */
        mcz_model_release_pages(pk->m, src, n);
        return 0;
    case PASS_ONE: /* any block can be stored sparse, even with few zeros */
        if (t->enc == MCZ_ENC_SPARSE)
            return encode_sparse(t, &j->sparse, src, n, e);
        if (t->enc == MCZ_ENC_PLANES || t->zlit)
            return encode_planes(t, j, src, n, e);
        return encode_plain(t, j, src, n, e);
    case PASS_ALL: {
        j->raw_xxh = mcz_xxh64(src, n);
        if (encode_planes(t, j, src, n, e) != 0)
            return -1;
        uint64_t k = t->sparse ? n / t->es : 0;
        if (k && zero_elements(src, k, t->es) * 10 >= k) {
            if (encode_sparse(t, &j->sparse, src, n, e) != 0)
                return -1;
            j->sparse_ok = 1;
        }
        break;
    }
    }
    return encode_plain(t, j, src, n, e);
}

static void encode_one(void *ctx, size_t k, unsigned tid)
{
    packer *pk = ctx;
    bjob *j = &pk->jobs[pk->j0 + k];
    if (atomic_load(&pk->failed))
        return;
    if (pk->pass == PASS_REDO && pk->wt[j->t].level == 0)
        return; /* this tensor is not redone */
    if (encode_block(pk, j, &pk->encs[tid]) != 0)
        atomic_store(&pk->failed, 1);
}

/* Jobs [j0, j1) in parallel, as pk->pass says. */
static mcz_status run_jobs(packer *pk, size_t j0, size_t j1, mcz_error *err)
{
    pk->j0 = j0;
    mcz_parallel_for(j1 - j0, mcz_thread_count(pk->threads, j1 - j0), encode_one, pk);
    if (atomic_load(&pk->failed))
        return mcz_seterr(err, MCZ_ERR_NOMEM, "%s: out of memory while encoding", pk->path);
    return MCZ_OK;
}

static unsigned plane_count(int32_t dtype, unsigned *tf)
{
    *tf = dtype == MCZ_DT_FLOAT || dtype == MCZ_DT_FLOAT16 || dtype == MCZ_DT_BFLOAT16 ||
          dtype == MCZ_DT_DOUBLE;
    int e = mcz_elem_size(dtype);
    return e == 2 || e == 4 || e == 8 ? (unsigned)e : 0;
}

/* The weight at table position i, and its values. */
static const mcz_weight *wt_at(const packer *pk, size_t i)
{
    return mcz_model_weight(pk->m, pk->perm[i]);
}

static const uint8_t *data_at(const packer *pk, size_t i, mcz_error *err)
{
    return mcz_model_weight_data(pk->m, pk->perm[i], err);
}

/* An earlier identical tensor (same dtype and bytes), or -1; registers tensor i otherwise.
 * Its hash comes from the checksums of its blocks, computed in parallel by the first pass. */
static long find_dup(packer *pk, size_t i, const uint8_t *src, uint64_t raw, const bjob *jobs,
                     uint64_t nblocks)
{
    const mcz_weight *w = wt_at(pk, i);
    uint64_t h = (uint64_t)w->dtype;
    for (uint64_t b = 0; b < nblocks; b++)
        h = mcz_xxh64_seed(&jobs[b].raw_xxh, 8, h);
    pk->hash[i] = h;
    size_t s = (size_t)h & pk->dmask;
    for (; pk->dmap[s]; s = (s + 1) & pk->dmask) {
        size_t o = pk->dmap[s] - 1;
        const mcz_weight *ow = wt_at(pk, o);
        if (pk->hash[o] == h && ow->dtype == w->dtype && ow->nbytes == raw &&
            memcmp(data_at(pk, o, NULL), src, raw) == 0)
            return (long)o;
    }
    pk->dmap[s] = i + 1;
    return -1;
}

/* Table entry i, its name and dims; the payload fields are filled when written. */
static mcz_status describe(packer *pk, size_t i, mcz_error *err)
{
    const mcz_weight *w = wt_at(pk, i);
    size_t len = strlen(w->name);
    if (len > MCZ_MAX_NAME || w->rank > (int)MCZ_RANK_MAX)
        return mcz_seterr(err, MCZ_ERR_LIMIT, "%s: weight '%.64s...': name of %zu bytes or "
                          "rank %d beyond the format's caps (%u, %u)", pk->path, w->name, len,
                          w->rank, MCZ_MAX_NAME, MCZ_RANK_MAX);
    uint8_t *e = pk->entries + i * MCZ_ENTRY_SIZE;
    mcz_wr32(e + MCZ_E_NAME_LEN, (uint32_t)len);
    mcz_wr32(e + MCZ_E_DTYPE, (uint32_t)w->dtype);
    mcz_wr32(e + MCZ_E_RANK, (uint32_t)w->rank);
    e[MCZ_E_PLANES] = 1;
    mcz_wr32(e + MCZ_E_PART, pk->owner[i]);
    mcz_status s = put(&pk->names, w->name, len + 1, err);
    for (int k = 0; k < w->rank && !s; k++)
        s = put64(&pk->dims, (uint64_t)w->dims[k], err);
    return s;
}

/* Tensor t's encoding, from the candidates of its first nb blocks (raw bytes): the smallest
 * in total. */
static void choose(wtensor *t, const bjob *jobs, uint64_t nb, uint64_t raw)
{
    uint64_t planes = 0, plain = 0, sparse = 0;
    int sparse_ok = t->sparse;
    for (uint64_t b = 0; b < nb; b++) {
        planes += jobs[b].planes.len;
        plain += jobs[b].plain.len;
        sparse += jobs[b].sparse.len;
        sparse_ok &= jobs[b].sparse_ok;
    }
    int enc = MCZ_ENC_RAW;
    uint64_t best = raw;
    int lit = t->lit && planes < plain; /* the literal-only frames: a zstd payload too */
    if (t->E > 1 && planes < raw && planes < plain)
        enc = MCZ_ENC_PLANES, best = planes;
    else if ((lit ? planes : plain) < raw)
        enc = MCZ_ENC_ZSTD, best = lit ? planes : plain;
    if (sparse_ok && sparse < best)
        enc = MCZ_ENC_SPARSE;
    t->enc = enc;
    t->zlit = enc == MCZ_ENC_ZSTD && lit;
    t->P = enc == MCZ_ENC_PLANES ? t->E : enc == MCZ_ENC_SPARSE ? 1 + t->es : 1;
}

/* Plain zstd close to the planes at the cheap level (first nb blocks): redo it at the real
 * level. Bytes: only when matches already pay off (repetitive data, not integer codes). */
static int redo_plain(const packer *pk, const wtensor *t, const bjob *jobs, uint64_t nb)
{
    uint64_t planes = 0, plain = 0;
    for (uint64_t b = 0; b < nb; b++) {
        planes += jobs[b].planes.len;
        plain += jobs[b].plain.len;
    }
    return nb && t->dup_of == -1 && (t->E > 1 || t->lit) && t->level != pk->level &&
           (t->lit ? plain < planes - planes / 20 : plain < planes + planes / 20);
}

/* Start tensor t's payload (its encoding chosen): aligned, at *off. */
static mcz_status begin_payload(packer *pk, const wtensor *t, uint64_t *off, mcz_error *err)
{
    written *wr = &pk->wr[t->idx];
    wr->first_block = pk->blocks.n / MCZ_BLOCK_ENTRY_SIZE;
    wr->first_seg = pk->segs.n / 4;
    /* raw payloads of 64 bytes or more are used in place: 64-byte aligned; others: 8 */
    mcz_status s = mcz_outfile_pad(pk->out, t->enc == MCZ_ENC_RAW && t->raw >= MCZ_ALIGN
                                                ? MCZ_ALIGN : 8, err);
    *off = mcz_outfile_tell(pk->out);
    return s;
}

/* Write blocks [b0, b1) of tensor t in its chosen encoding (their jobs are done), adding their
 * stored bytes to *stored. */
static mcz_status write_blocks(packer *pk, const wtensor *t, uint64_t b0, uint64_t b1,
                               uint64_t *stored, mcz_error *err)
{
    const bjob *jobs = pk->jobs + t->first_job;
    mcz_status s = MCZ_OK;
    for (uint64_t b = b0; b < b1 && !s; b++) {
        const cand *c = t->enc == MCZ_ENC_PLANES || t->zlit ? &jobs[b].planes
                        : t->enc == MCZ_ENC_SPARSE          ? &jobs[b].sparse
                                                            : &jobs[b].plain;
        cand rc;
        if (t->enc == MCZ_ENC_RAW) {
            uint64_t left = t->raw - b * BLOCK_SIZE, n = left < BLOCK_SIZE ? left : BLOCK_SIZE;
            rc = (cand){(uint8_t *)t->src + b * BLOCK_SIZE, {(uint32_t)n}, n, jobs[b].raw_xxh};
            c = &rc;
        }
        for (unsigned k = 0; k < t->P && !s; k++)
            s = put32(&pk->segs, c->seg[k], err);
        if (!s && !(s = put64(&pk->blocks, c->xxh, err)))
            s = put64(&pk->blocks, jobs[b].raw_xxh, err);
        if (!s)
            s = mcz_outfile_write(pk->out, c->data, c->len, err);
        *stored += c->len;
    }
    return s;
}

/* Tensor t's table entry, its payload written. */
static void end_payload(packer *pk, const wtensor *t, uint64_t off, uint64_t stored)
{
    uint8_t *e = pk->entries + t->idx * MCZ_ENTRY_SIZE;
    written *wr = &pk->wr[t->idx];
    wr->nblocks = t->nblocks;
    wr->nsegs = t->nblocks * t->P;
    mcz_wr32(e + MCZ_E_ENCODING, (uint32_t)t->enc);
    mcz_wr64(e + MCZ_E_DATA_OFFSET, off);
    mcz_wr64(e + MCZ_E_STORED, stored);
    mcz_wr64(e + MCZ_E_RAW, t->raw);
    mcz_wr32(e + MCZ_E_BLOCK_SIZE, t->raw ? BLOCK_SIZE : 0);
    e[MCZ_E_PLANES] = (uint8_t)t->P;
    e[MCZ_E_TRANSFORM] = (uint8_t)(t->enc == MCZ_ENC_PLANES ||
                                           (t->enc == MCZ_ENC_SPARSE && t->es > 1)
                                       ? t->tf : 0);
    pk->st.stored_bytes += stored;
}

/* A duplicate: the entry and block records of the earlier tensor, no payload of its own. */
static mcz_status write_dup(packer *pk, const wtensor *t, mcz_error *err)
{
    uint8_t *e = pk->entries + t->idx * MCZ_ENTRY_SIZE;
    written *wr = &pk->wr[t->idx];
    const uint8_t *o = pk->entries + (size_t)t->dup_of * MCZ_ENTRY_SIZE;
    const written *ow = &pk->wr[t->dup_of];
    mcz_status s;
    wr->first_block = pk->blocks.n / MCZ_BLOCK_ENTRY_SIZE;
    wr->first_seg = pk->segs.n / 4;
    memcpy(e + MCZ_E_ENCODING, o + MCZ_E_ENCODING, MCZ_E_FLAGS - MCZ_E_ENCODING);
    wr->nblocks = ow->nblocks;
    wr->nsegs = ow->nsegs;
    pk->st.deduplicated++;
    if ((s = put_again(&pk->blocks, ow->first_block * MCZ_BLOCK_ENTRY_SIZE,
                       ow->nblocks * MCZ_BLOCK_ENTRY_SIZE, err)))
        return s;
    return put_again(&pk->segs, ow->first_seg * 4, ow->nsegs * 4, err);
}

/* Write tensor t of the window (its jobs are done): choose, write, record. */
static mcz_status write_tensor(packer *pk, wtensor *t, mcz_error *err)
{
    if (t->dup_of >= 0)
        return write_dup(pk, t, err);
    choose(t, pk->jobs + t->first_job, t->nblocks, t->raw);
    uint64_t off, stored = 0;
    mcz_status s = begin_payload(pk, t, &off, err);
    if (!s)
        s = write_blocks(pk, t, 0, t->nblocks, &stored, err);
    if (!s)
        end_payload(pk, t, off, stored);
    return s;
}

/* Free the candidates of jobs [j0, j1). */
static void free_cands(packer *pk, size_t j0, size_t j1)
{
    for (size_t k = j0; k < j1; k++) {
        bjob *j = &pk->jobs[k];
        free(j->planes.data);
        free(j->plain.data);
        free(j->sparse.data);
        j->planes.data = j->plain.data = j->sparse.data = NULL;
    }
}

/* Tensor t, alone in its window and larger than S blocks, streamed: its encoding is chosen
 * from all candidates of its first S blocks, then the others are encoded with that one alone,
 * S blocks at a time, each written and freed before the next, so that no more than a window's
 * blocks are held whatever the tensor's size. The checksums of all blocks come first: an
 * identical earlier tensor is found before anything is encoded. */
static mcz_status write_big(packer *pk, wtensor *t, uint64_t S, mcz_error *err)
{
    size_t j0 = t->first_job, jn = j0 + t->nblocks;
    mcz_status s;
    pk->pass = PASS_HASH;
    if ((s = run_jobs(pk, j0, jn, err)))
        return s;
    t->dup_of = find_dup(pk, t->idx, t->src, t->raw, pk->jobs + j0, t->nblocks);
    if (t->dup_of >= 0)
        return write_dup(pk, t, err);
    pk->pass = PASS_ALL;
    if ((s = run_jobs(pk, j0, j0 + S, err)))
        return s;
    if (redo_plain(pk, t, pk->jobs + j0, S)) {
        t->level = pk->level;
        pk->pass = PASS_REDO;
        if ((s = run_jobs(pk, j0, j0 + S, err)))
            return s;
    }
    choose(t, pk->jobs + j0, S, S * BLOCK_SIZE < t->raw ? S * BLOCK_SIZE : t->raw);
    uint64_t off, stored = 0;
    if ((s = begin_payload(pk, t, &off, err)))
        return s;
    pk->pass = PASS_ONE; /* plain zstd at the level its sample had */
    for (uint64_t b0 = 0; b0 < t->nblocks && !s; b0 += S) {
        uint64_t b1 = b0 + S < t->nblocks ? b0 + S : t->nblocks;
        /* raw needs nothing more than the checksums */
        if (b0 && t->enc != MCZ_ENC_RAW && (s = run_jobs(pk, j0 + b0, j0 + b1, err)))
            break;
        s = write_blocks(pk, t, b0, b1, &stored, err);
        free_cands(pk, j0 + b0, j0 + b1);
        uint64_t end = b1 * BLOCK_SIZE < t->raw ? b1 * BLOCK_SIZE : t->raw;
        mcz_model_release_pages(pk->m, t->src + b0 * BLOCK_SIZE, end - b0 * BLOCK_SIZE);
    }
    if (!s)
        end_payload(pk, t, off, stored);
    return s;
}

static void free_jobs(packer *pk)
{
    free_cands(pk, 0, pk->njobs);
    pk->njobs = 0;
}

/* Tensors [i0, i1) of at most `window` bytes, or one larger tensor: prepare, encode in
 * parallel, write in order. */
static mcz_status do_window(packer *pk, size_t i0, size_t i1, uint64_t window, mcz_error *err)
{
    mcz_status s = MCZ_OK;
    pk->nwt = 0;
    size_t nj = 0;
    for (size_t i = i0; i < i1 && !s; i++) {
        const mcz_weight *w = wt_at(pk, i);
        wtensor *t = &pk->wt[pk->nwt++];
        *t = (wtensor){.idx = i, .dup_of = -1, .first_job = nj};
        if (!pk->marked[i]) { /* no marker: the values stay in the skeleton (strings...) */
            mcz_wr32(pk->entries + i * MCZ_ENTRY_SIZE + MCZ_E_FLAGS, MCZ_TF_IN_SKELETON);
            t->dup_of = -2;
            continue;
        }
        if (!(t->src = data_at(pk, i, err)) && w->nbytes)
            return err ? err->code : MCZ_ERR_FORMAT;
        t->raw = w->nbytes;
        t->E = plane_count(w->dtype, &t->tf);
        int es = mcz_elem_size(w->dtype);
        t->es = es > 0 ? (unsigned)es : 0;
        t->lit = t->E <= 1 && pk->level > PROBE_LEVEL; /* int8/int4 codes, bytes */
        t->level = (t->E > 1 || t->lit) && pk->level > PROBE_LEVEL ? PROBE_LEVEL : pk->level;
        t->sparse = !pk->no_sparse && (t->es == 1 || t->es == 2 || t->es == 4 || t->es == 8);
        t->nblocks = (t->raw + BLOCK_SIZE - 1) / BLOCK_SIZE;
        for (uint64_t b = 0; b < t->nblocks; b++)
            pk->jobs[nj++] = (bjob){.t = pk->nwt - 1, .b = b};
    }
    pk->njobs = nj;
    /* a tensor larger than the window is alone in it: streamed, a window's blocks at a time
     * (at least 4: work for the threads) */
    wtensor *t0 = &pk->wt[0];
    if (pk->nwt == 1 && t0->dup_of != -2 && t0->raw > window) {
        uint64_t S = window / BLOCK_SIZE > 4 ? window / BLOCK_SIZE : 4;
        s = write_big(pk, t0, S < t0->nblocks ? S : t0->nblocks, err); /* releases its pages */
        if (!s && pk->progress)
            pk->progress(pk->progress_ctx, 1, t0->raw);
        return s;
    }
    pk->pass = PASS_ALL;
    if ((s = run_jobs(pk, 0, nj, err)))
        return s;
    /* duplicates, in table order (an identical tensor was encoded for nothing: rare) */
    for (size_t k = 0; k < pk->nwt; k++) {
        wtensor *t = &pk->wt[k];
        if (t->dup_of != -2 && t->raw)
            t->dup_of = find_dup(pk, t->idx, t->src, t->raw, pk->jobs + t->first_job,
                                 t->nblocks);
    }
    int again = 0;
    for (size_t k = 0; k < pk->nwt; k++) {
        wtensor *t = &pk->wt[k];
        int redo = redo_plain(pk, t, pk->jobs + t->first_job, t->nblocks);
        t->level = redo ? pk->level : 0;
        again |= redo;
    }
    pk->pass = PASS_REDO;
    if (again && (s = run_jobs(pk, 0, nj, err)))
        return s;
    for (size_t k = 0; k < pk->nwt && !s; k++)
        if (pk->wt[k].dup_of != -2) {
            s = write_tensor(pk, &pk->wt[k], err);
            /* written: its pages of the mapped input need not stay resident */
            mcz_model_release_pages(pk->m, pk->wt[k].src, pk->wt[k].raw);
            if (!s && pk->progress)
                pk->progress(pk->progress_ctx, 1, pk->wt[k].raw);
        }
    return s;
}

static mcz_status write_index(packer *pk, const uint8_t *skel, size_t skel_len, mcz_error *err)
{
    buf ix = {0};
    uint8_t h[MCZ_INDEX_HEADER_SIZE] = {0};
    memcpy(h, MCZ_INDEX_MAGIC, 8);
    /* sections 1..6 (required), then QPARAMS and PARTS when there is something to say */
    const uint8_t *data[MCZ_SEC_MANDATORY + 2] = {pk->entries, pk->names.p, pk->dims.p,
                                                  pk->blocks.p, pk->segs.p, skel};
    size_t size[MCZ_SEC_MANDATORY + 2] = {pk->n * MCZ_ENTRY_SIZE, pk->names.n, pk->dims.n,
                                          pk->blocks.n, pk->segs.n, skel_len};
    uint32_t kind[MCZ_SEC_MANDATORY + 2] = {MCZ_SEC_TENSORS, MCZ_SEC_NAMES, MCZ_SEC_DIMS,
                                            MCZ_SEC_BLOCKS, MCZ_SEC_SEGMENTS, MCZ_SEC_SKELETON};
    int nsec = MCZ_SEC_MANDATORY;
    if (pk->qp.n)
        kind[nsec] = MCZ_SEC_QPARAMS, data[nsec] = pk->qp.p, size[nsec++] = pk->qp.n;
    if (pk->nparts)
        kind[nsec] = MCZ_SEC_PARTS, data[nsec] = pk->partsec.p, size[nsec++] = pk->partsec.n;
    mcz_wr32(h + 8, (uint32_t)pk->n);
    mcz_wr32(h + 12, (uint32_t)nsec);
    mcz_status s = put(&ix, h, sizeof h, err);
    for (int k = 0; k < nsec && !s; k++) {
        uint8_t sh[MCZ_SECTION_HEADER_SIZE], zero[8] = {0};
        mcz_wr32(sh, kind[k]);
        mcz_wr32(sh + 4, kind[k] <= MCZ_SEC_MANDATORY ? MCZ_SEC_REQUIRED : 0);
        mcz_wr64(sh + 8, size[k]);
        if (!(s = put(&ix, sh, sizeof sh, err)) && size[k])
            s = put(&ix, data[k], size[k], err);
        if (!s)
            s = put(&ix, zero, (8 - ix.n % 8) % 8, err);
    }
    size_t cap = ZSTD_compressBound(ix.n);
    uint8_t *z = s ? NULL : malloc(cap);
    if (!s && !z)
        s = mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    if (!s && ix.n > MCZ_MAX_INDEX)
        s = mcz_seterr(err, MCZ_ERR_LIMIT, "%s: index of %zu bytes beyond the format's cap",
                       pk->path, ix.n);
    if (!s) {
        /* a large graph at level 19 would take long for little: cap the level at 9 there */
        size_t zn = ZSTD_compress(z, cap, ix.p, ix.n,
                                  ix.n > ((size_t)16 << 20) && pk->level > 9 ? 9 : pk->level);
        int packed = !ZSTD_isError(zn) && zn < ix.n;
        const uint8_t *body = packed ? z : ix.p;
        uint64_t blen = packed ? zn : ix.n;
        uint8_t ft[MCZ_FOOTER_SIZE] = {0};
        if (!(s = mcz_outfile_pad(pk->out, MCZ_ALIGN, err))) {
            uint64_t off = mcz_outfile_tell(pk->out);
            mcz_wr64(ft, off);
            mcz_wr64(ft + 8, blen);
            mcz_wr64(ft + 16, ix.n);
            mcz_wr32(ft + 24, packed ? MCZ_CODEC_ZSTD : MCZ_CODEC_NONE);
            mcz_wr32(ft + 28, MCZ_FORMAT_VERSION);
            mcz_wr64(ft + 32, mcz_xxh64(body, blen));
            mcz_wr64(ft + 40, off + blen + MCZ_FOOTER_SIZE);
            mcz_wr64(ft + 48, mcz_xxh64(ft, 48));
            memcpy(ft + 56, MCZ_END_MAGIC, 8);
            if (!(s = mcz_outfile_write(pk->out, body, blen, err)))
                s = mcz_outfile_write(pk->out, ft, sizeof ft, err);
            pk->st.index_bytes = blen;
            pk->st.file_bytes = off + blen + MCZ_FOOTER_SIZE;
        }
    }
    free(z);
    free(ix.p);
    return s;
}

/* A skeleton's marker names a model weight index: record it and point it at the table
 * position. The whole skeleton (cur_part 0) marks `marked`; a part's marks `seen`. */
static mcz_status see_marker(void *ctx, uint64_t ordinal, const uint8_t *raw, size_t len,
                             const uint8_t **out, size_t *out_len, mcz_error *err)
{
    packer *pk = ctx;
    uint64_t i;
    (void)ordinal;
    if (!mcz_marker_parse(raw, len, &i))
        return MCZ_OK;
    size_t pos = i < pk->n ? pk->inv[i] : 0;
    int twice = i < pk->n && (pk->cur_part ? pk->seen[pos] == pk->cur_part : pk->marked[pos]);
    if (i >= pk->n || twice)
        return mcz_seterr(err, MCZ_ERR_FORMAT, "%s: skeleton%s marker %llu appears twice or "
                          "names no weight", pk->path, pk->cur_part ? " of a part" : "",
                          (unsigned long long)i);
    if (pk->cur_part && !pk->marked[pos]) {
        /* the whole skeleton keeps this one inline (typed fields): so does the part, as
         * raw_data (the same values) */
        const uint8_t *v = data_at(pk, pos, err);
        if (!v && wt_at(pk, pos)->nbytes)
            return err ? err->code : MCZ_ERR_FORMAT;
        pk->seen[pos] = pk->cur_part;
        *out = v ? v : pk->mk; /* an empty tensor: any pointer, 0 bytes */
        *out_len = (size_t)wt_at(pk, pos)->nbytes;
        return MCZ_OK;
    }
    if (pk->cur_part)
        pk->seen[pos] = pk->cur_part;
    else
        pk->marked[pos] = 1;
    mcz_marker_make(pos, pk->mk + pos * MCZ_MARKER_LEN);
    *out = pk->mk + pos * MCZ_MARKER_LEN;
    *out_len = MCZ_MARKER_LEN;
    return MCZ_OK;
}

/* Table order: by owning part (the first part listing a weight; unlisted ones go to the
 * last part), model order within a part. Without parts the model's order. */
static mcz_status order_table(packer *pk, mcz_error *err)
{
    size_t K = pk->nparts;
    for (size_t i = 0; i < pk->n; i++)
        pk->owner[i] = UINT32_MAX; /* indexed by model weight for now */
    for (size_t p = 0; p < K; p++)
        for (size_t k = 0; k < pk->parts[p].n_weights; k++) {
            size_t w = pk->parts[p].weights[k];
            if (w >= pk->n)
                return mcz_seterr(err, MCZ_ERR_ARG, "%s: part %zu lists weight %zu, the model "
                                  "has %zu", pk->path, p, w, pk->n);
            if (pk->owner[w] == UINT32_MAX)
                pk->owner[w] = (uint32_t)p;
        }
    size_t pos = 0;
    uint32_t *own = pk->seen; /* scratch: owners by model index */
    for (size_t i = 0; i < pk->n; i++)
        own[i] = pk->owner[i] == UINT32_MAX ? (uint32_t)(K ? K - 1 : 0) : pk->owner[i];
    if (!K) {
        for (size_t i = 0; i < pk->n; i++)
            pk->perm[i] = i;
    } else {
        size_t *start = calloc(K + 1, sizeof *start);
        if (!start)
            return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < pk->n; i++)
            start[own[i] + 1]++;
        for (size_t p = 0; p < K; p++)
            start[p + 1] += start[p];
        for (size_t i = 0; i < pk->n; i++)
            pk->perm[start[own[i]]++] = i;
        free(start);
    }
    for (pos = 0; pos < pk->n; pos++) {
        pk->inv[pk->perm[pos]] = pos;
        pk->owner[pos] = own[pk->perm[pos]];
    }
    memset(pk->seen, 0, pk->n * sizeof *pk->seen);
    return MCZ_OK;
}

static mcz_status put_name(packer *pk, const char *name, mcz_error *err)
{
    size_t len = strlen(name);
    if (len > MCZ_MAX_NAME)
        return mcz_seterr(err, MCZ_ERR_LIMIT, "%s: part input/output name '%.64s...' of %zu "
                          "bytes beyond the format's cap (%u)", pk->path, name, len,
                          MCZ_MAX_NAME);
    return put(&pk->partsec, name, len + 1, err);
}

/* The PARTS section (format.md 7a): per part its table positions, names and skeleton (its
 * markers rewritten to table positions). */
static mcz_status build_parts(packer *pk, mcz_error *err)
{
    buf *b = &pk->partsec;
    mcz_status s = put32(b, (uint32_t)pk->nparts, err);
    if (!s)
        s = put32(b, 0, err);
    for (size_t p = 0; p < pk->nparts && !s; p++) {
        const mcz_pack_part *pt = &pk->parts[p];
        uint8_t *skel = NULL;
        size_t skel_len = 0, np = 0;
        pk->cur_part = (uint32_t)p + 1;
        if ((s = mcz_onnxwire_rewrite(pt->skeleton, pt->skeleton_len, see_marker, pk, &skel,
                                      &skel_len, pk->path, err)))
            break;
        for (size_t k = 0; k < pt->n_weights; k++)
            pk->seen[pk->inv[pt->weights[k]]] = pk->cur_part;
        /* the tensors with payloads it reads, ascending, as the format wants */
        for (size_t pos = 0; pos < pk->n; pos++)
            if (pk->seen[pos] == pk->cur_part && pk->marked[pos])
                pk->plist[np++] = pos;
        if (pt->n_inputs > MCZ_MAX_PART_NAMES || pt->n_outputs > MCZ_MAX_PART_NAMES ||
            pt->n_inputs + pt->n_outputs > MCZ_MAX_PART_NAMES)
            s = mcz_seterr(err, MCZ_ERR_LIMIT, "%s: part %zu has %zu inputs and %zu outputs, "
                           "beyond the format's cap", pk->path, p, pt->n_inputs, pt->n_outputs);
        if (!s && !(s = put32(b, (uint32_t)np, err)) &&
            !(s = put32(b, (uint32_t)pt->n_inputs, err)) &&
            !(s = put32(b, (uint32_t)pt->n_outputs, err)) &&
            !(s = put32(b, pt->nodes > UINT32_MAX ? UINT32_MAX : (uint32_t)pt->nodes, err)))
            s = put64(b, skel_len, err);
        for (size_t k = 0; k < np && !s; k++)
            s = put32(b, (uint32_t)pk->plist[k], err);
        for (size_t k = 0; k < pt->n_inputs && !s; k++)
            s = put_name(pk, pt->inputs[k], err);
        for (size_t k = 0; k < pt->n_outputs && !s; k++)
            s = put_name(pk, pt->outputs[k], err);
        if (!s)
            s = put(b, skel, skel_len, err);
        if (!s) {
            static const uint8_t zero[8];
            s = put(b, zero, (8 - b->n % 8) % 8, err);
        }
        free(skel);
    }
    pk->cur_part = 0;
    return s;
}

static int is_code_type(int32_t dt)
{
    return dt == MCZ_DT_INT8 || dt == MCZ_DT_UINT8 || dt == MCZ_DT_INT4 || dt == MCZ_DT_UINT4;
}

/* Scales a QDQ weight needs (format.md 5a), or 0 when its shape does not fit the spec. */
static uint64_t scales_needed(const mcz_weight *c, int axis, uint32_t block)
{
    if (axis < 0)
        return block ? 0 : 1;
    if (axis >= c->rank || c->dims[axis] <= 0)
        return 0;
    uint64_t D = (uint64_t)c->dims[axis];
    return block ? c->count / D * ((D + block - 1) / block) : D;
}

/* Flag the codes of every QDQ weight that fits the spec as quantized, with a QPARAMS record.
 * Codes, scales and zero points must all have payloads; anything else stays plain. */
static mcz_status build_qparams(packer *pk, mcz_error *err)
{
    mcz_qdq_weight *q = NULL;
    size_t nq = 0;
    mcz_status s = mcz_model_qdq_weights(pk->m, &q, &nq, err);
    uint8_t *role = s || !nq ? NULL : calloc(pk->n, 1); /* 1 codes, 2 scale / zero point */
    if (!s && nq && !role)
        s = mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < nq && !s; k++) {
        const mcz_qdq_weight *d = &q[k];
        if (d->codes >= pk->n || d->scale >= pk->n || d->zero_point >= (long)pk->n)
            continue;
        size_t c = pk->inv[d->codes], sc = pk->inv[d->scale];
        long zp = d->zero_point >= 0 ? (long)pk->inv[d->zero_point] : -1;
        const mcz_weight *cw = wt_at(pk, c), *sw = wt_at(pk, sc);
        const mcz_weight *zw = zp >= 0 ? wt_at(pk, (size_t)zp) : NULL;
        uint64_t need = scales_needed(cw, d->axis, d->block_size);
        int ok = pk->marked[c] && pk->marked[sc] && (zp < 0 || pk->marked[zp]) &&
                 is_code_type(cw->dtype) && role[c] == 0 && role[sc] != 1 &&
                 (sw->dtype == MCZ_DT_FLOAT || sw->dtype == MCZ_DT_FLOAT16 ||
                  sw->dtype == MCZ_DT_BFLOAT16) &&
                 (!zw || (zw->dtype == cw->dtype && role[zp] != 1 && zw->count == need)) &&
                 need && sw->count == need && c != sc && (long)c != zp;
        if (!ok)
            continue;
        uint8_t r[MCZ_QREC_SIZE] = {0};
        mcz_wr32(r, (uint32_t)sc);
        mcz_wr32(r + 4, zp >= 0 ? (uint32_t)zp + 1 : 0);
        mcz_wr32(r + 8, (uint32_t)(int32_t)d->axis);
        mcz_wr32(r + 12, d->block_size);
        uint8_t *e = pk->entries + c * MCZ_ENTRY_SIZE;
        mcz_wr32(e + MCZ_E_FLAGS, MCZ_TF_QUANTIZED);
        mcz_wr64(e + MCZ_E_AUX_OFFSET, pk->qp.n);
        mcz_wr64(e + MCZ_E_AUX_SIZE, MCZ_QREC_SIZE);
        role[c] = 1;
        role[sc] = 2;
        if (zp >= 0)
            role[zp] = 2;
        pk->st.quantized++;
        s = put(&pk->qp, r, sizeof r, err);
    }
    free(role);
    free(q);
    return s;
}

static mcz_status pack_all(packer *pk, mcz_error *err)
{
    mcz_status s;
    uint8_t hdr[MCZ_HEADER_SIZE] = {0};
    memcpy(hdr, MCZ_MAGIC, 8);
    mcz_wr32(hdr + 8, MCZ_FORMAT_VERSION);
    mcz_wr32(hdr + 12, MCZ_HEADER_SIZE);
    mcz_wr64(hdr + 56, mcz_xxh64(hdr, 56));
    if ((s = mcz_outfile_write(pk->out, hdr, sizeof hdr, err)))
        return s;
    uint8_t *skel = NULL, *orig = NULL;
    size_t skel_len = 0, orig_len;
    /* the whole model's skeleton, its markers pointing at table positions */
    if ((s = order_table(pk, err)) ||
        (s = mcz_model_serialize_skeleton(pk->m, &orig, &orig_len, err)) ||
        (s = mcz_onnxwire_rewrite(orig, orig_len, see_marker, pk, &skel, &skel_len, pk->path,
                                  err)))
        goto done;
    size_t maxjobs = 1;
    for (size_t i = 0; i < pk->n; i++) {
        const mcz_weight *w = wt_at(pk, i);
        size_t nb = (size_t)((w->nbytes + BLOCK_SIZE - 1) / BLOCK_SIZE);
        maxjobs = nb > maxjobs ? nb : maxjobs;
        if ((s = describe(pk, i, err)))
            goto done;
    }
    if ((s = build_qparams(pk, err)) || (pk->nparts && (s = build_parts(pk, err))))
        goto done;
    maxjobs += WINDOW_BYTES / BLOCK_SIZE + WINDOW_TENSORS + 1;
    if (!(pk->jobs = calloc(maxjobs, sizeof *pk->jobs))) {
        s = mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* a small model in smaller windows: fewer candidate encodings held at once */
    uint64_t total = 0, window;
    for (size_t i = 0; i < pk->n; i++)
        total += wt_at(pk, i)->nbytes;
    window = total / 8 < WINDOW_BYTES / 4 ? WINDOW_BYTES / 4
             : total / 8 > WINDOW_BYTES   ? WINDOW_BYTES
                                          : total / 8;
    for (size_t i0 = 0; i0 < pk->n && !s;) {
        size_t i1 = i0;
        uint64_t bytes = 0;
        while (i1 < pk->n && (i1 == i0 || (i1 - i0 < WINDOW_TENSORS &&
                              bytes + wt_at(pk, i1)->nbytes <= window)))
            bytes += wt_at(pk, i1++)->nbytes;
        s = do_window(pk, i0, i1, window, err);
        free_jobs(pk);
        i0 = i1;
    }
    pk->st.skeleton_bytes = skel_len;
    if (!s)
        s = write_index(pk, skel, skel_len, err);
done:
    free(orig);
    free(skel);
    return s;
}

mcz_status mcz_pack(mcz_model *m, const char *path, const mcz_pack_opts *opts,
                    mcz_pack_stats *stats, mcz_error *err)
{
    mcz_pack_opts o = opts ? *opts : (mcz_pack_opts){0};
    packer *pk = calloc(1, sizeof *pk);
    if (!pk)
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    pk->m = m;
    pk->path = path;
    pk->progress = o.progress;
    pk->progress_ctx = o.progress_ctx;
    pk->nparts = o.parts ? o.nparts : 0;
    pk->parts = o.parts;
    const char *ns = getenv("MCZ_PACK_NO_SPARSE"); /* for measurements */
    pk->no_sparse = ns && *ns && strcmp(ns, "0") != 0;
    pk->n = mcz_model_weight_count(m);
    pk->level = o.level > 0 ? (o.level > ZSTD_maxCLevel() ? ZSTD_maxCLevel() : o.level)
                            : MCZ_PACK_DEFAULT_LEVEL;
    pk->threads = (int)mcz_thread_count(o.threads, MCZ_THREADS_MAX);
    mcz_status s = MCZ_OK;
    if (pk->n > MCZ_MAX_TENSORS)
        s = mcz_seterr(err, MCZ_ERR_LIMIT, "%s: %zu weights, the format holds %u", path, pk->n,
                       MCZ_MAX_TENSORS);
    size_t dcap = 16;
    while (dcap < 2 * pk->n)
        dcap *= 2;
    pk->dmask = dcap - 1;
    pk->entries = calloc(pk->n ? pk->n : 1, MCZ_ENTRY_SIZE);
    pk->wt = calloc(pk->n ? pk->n : 1, sizeof *pk->wt);
    pk->wr = calloc(pk->n ? pk->n : 1, sizeof *pk->wr);
    pk->hash = calloc(pk->n ? pk->n : 1, sizeof *pk->hash);
    pk->marked = calloc(pk->n ? pk->n : 1, 1);
    pk->dmap = calloc(dcap, sizeof *pk->dmap);
    size_t n1 = pk->n ? pk->n : 1;
    pk->perm = calloc(n1, sizeof *pk->perm);
    pk->inv = calloc(n1, sizeof *pk->inv);
    pk->plist = calloc(n1, sizeof *pk->plist);
    pk->owner = calloc(n1, sizeof *pk->owner);
    pk->seen = calloc(n1, sizeof *pk->seen);
    pk->mk = calloc(n1, MCZ_MARKER_LEN);
    if (!s && pk->nparts > MCZ_MAX_PARTS)
        s = mcz_seterr(err, MCZ_ERR_LIMIT, "%s: %zu parts, the format holds %u", path,
                       pk->nparts, MCZ_MAX_PARTS);
    if (!s && (!pk->entries || !pk->wt || !pk->wr || !pk->hash || !pk->dmap || !pk->marked ||
               !pk->perm || !pk->inv || !pk->plist || !pk->owner || !pk->seen || !pk->mk))
        s = mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    for (int k = 0; k < pk->threads && !s; k++) {
        encoder *e = &pk->encs[k];
        e->lit = ZSTD_createCCtx();
        e->plain = ZSTD_createCCtx();
        e->scratch = malloc(BLOCK_SIZE);
        e->gather = malloc(BLOCK_SIZE);
        e->bitmap = malloc(BLOCK_SIZE / 8 + 1);
        if (!e->lit || !e->plain || !e->scratch || !e->gather || !e->bitmap) {
            s = mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
            break;
        }
        /* entropy coding only: matches of 7+ bytes within 128 KiB are rare in a byte plane */
        ZSTD_CCtx_setParameter(e->lit, ZSTD_c_strategy, ZSTD_fast);
        ZSTD_CCtx_setParameter(e->lit, ZSTD_c_windowLog, 17);
        ZSTD_CCtx_setParameter(e->lit, ZSTD_c_hashLog, 12);
        ZSTD_CCtx_setParameter(e->lit, ZSTD_c_minMatch, 7);
    }
    if (!s && !(pk->out = mcz_outfile_open(path, o.force, err)))
        s = err ? err->code : MCZ_ERR_IO;
    if (!s)
        s = pack_all(pk, err);
    if (!s) {
        s = mcz_outfile_commit(pk->out, err);
    } else {
        mcz_outfile_abort(pk->out);
    }
    pk->st.tensors = pk->n;
    pk->st.parts = pk->nparts;
    for (size_t i = 0; i < pk->n && !s; i++) {
        const uint8_t *e = pk->entries + i * MCZ_ENTRY_SIZE;
        uint32_t enc = mcz_rd32(e + MCZ_E_ENCODING);
        if (mcz_rd32(e + MCZ_E_FLAGS) & MCZ_TF_IN_SKELETON)
            continue;
        uint64_t raw = mcz_rd64(e + MCZ_E_RAW);
        pk->st.raw_bytes += raw;
        pk->st.count_by_encoding[enc]++;
        pk->st.raw_by_encoding[enc] += raw;
        pk->st.stored_by_encoding[enc] += mcz_rd64(e + MCZ_E_STORED);
    }
    if (stats && !s)
        *stats = pk->st;
    for (int k = 0; k < pk->threads; k++) {
        ZSTD_freeCCtx(pk->encs[k].lit);
        ZSTD_freeCCtx(pk->encs[k].plain);
        free(pk->encs[k].scratch);
        free(pk->encs[k].gather);
        free(pk->encs[k].bitmap);
    }
    free(pk->perm);
    free(pk->inv);
    free(pk->plist);
    free(pk->owner);
    free(pk->seen);
    free(pk->mk);
    free(pk->qp.p);
    free(pk->partsec.p);
    free(pk->jobs);
    free(pk->entries);
    free(pk->wt);
    free(pk->wr);
    free(pk->hash);
    free(pk->marked);
    free(pk->dmap);
    free(pk->names.p);
    free(pk->dims.p);
    free(pk->blocks.p);
    free(pk->segs.p);
    free(pk);
    return s;
}
