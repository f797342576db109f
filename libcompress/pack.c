/* pack.c - the .mcz writer (docs/format.md).
 *
 * Tensors are encoded in windows of about WINDOW_BYTES of raw weights: the blocks of a window
 * are compressed in parallel, then written in table order, so memory stays bounded and the
 * output does not depend on the thread count. Per tensor the smallest of three encodings is
 * kept: raw, plain zstd, and byte planes (floats: sign rotated to the low bit first) whose
 * planes are each entropy-coded by zstd in a fast literal-only setting or stored. Plain zstd is
 * first tried at a cheap level and redone at the requested level only when it comes close to
 * the planes (repetitive tensors). Identical tensors share one payload. */
#include "mcz/pack.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "mcz/outfile.h"
#include "mczfmt.h"
#include "onnxwire.h"

#define BLOCK_SIZE (1u << 20)
#define mcz_wr32(p, v) wr_le((p), (v), 4)
#define mcz_wr64(p, v) wr_le((p), (v), 8)
#define WINDOW_BYTES ((uint64_t)64 << 20)
#define WINDOW_TENSORS 4096
#define PROBE_LEVEL 3
#define MAX_THREADS 256

/* One candidate encoding of one block: its segments back to back. */
typedef struct cand {
    uint8_t *data;
    uint32_t seg[8];
    uint64_t len, xxh;
} cand;

typedef struct bjob {
    size_t t; /* index into the window's tensors */
    uint64_t b;
    uint64_t raw_xxh;
    cand planes, plain;
} bjob;

typedef struct wtensor {
    size_t idx;
    const uint8_t *src;
    uint64_t raw;
    unsigned E, tf;    /* E > 1: byte planes are a candidate */
    int level;         /* plain zstd level for the current pass */
    long dup_of;       /* an earlier identical tensor, or -1 */
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
    uint8_t *scratch;
} encoder;

typedef struct packer {
    mcz_model *m;
    const char *path;
    int level, threads;
    size_t n;
    encoder encs[MAX_THREADS];
    wtensor *wt;
    bjob *jobs;
    size_t nwt, njobs;
    atomic_size_t next;
    atomic_int failed;
    int pass;
    uint64_t *hash;     /* per tensor: XXH64 of its values (dedup) */
    uint8_t *marked;    /* per tensor: the skeleton has its marker */
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

static int encode_block(packer *pk, bjob *j, encoder *e)
{
    wtensor *t = &pk->wt[j->t];
    uint64_t off = j->b * BLOCK_SIZE;
    size_t n = (size_t)(t->raw - off < BLOCK_SIZE ? t->raw - off : BLOCK_SIZE);
    const uint8_t *src = t->src + off;
    if (pk->pass == 0) {
        j->raw_xxh = mcz_xxh64(src, n);
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
        }
    }
    if (!j->plain.data && !(j->plain.data = malloc(n ? n : 1)))
        return -1;
    ZSTD_CCtx_setParameter(e->plain, ZSTD_c_compressionLevel, t->level);
    j->plain.seg[0] = segment(e->plain, j->plain.data, src, n);
    j->plain.len = j->plain.seg[0];
    j->plain.xxh = j->plain.len == n ? j->raw_xxh : mcz_xxh64(j->plain.data, j->plain.len);
    return 0;
}

typedef struct thr {
    packer *pk;
    encoder *e;
} thr;

static void *encode_worker(void *arg)
{
    thr *w = arg;
    packer *pk = w->pk;
    for (;;) {
        size_t k = atomic_fetch_add(&pk->next, 1);
        if (k >= pk->njobs || atomic_load(&pk->failed))
            break;
        bjob *j = &pk->jobs[k];
        if (pk->pass == 1 && pk->wt[j->t].level == 0)
            continue; /* this tensor is not redone */
        if (encode_block(pk, j, w->e) != 0)
            atomic_store(&pk->failed, 1);
    }
    return NULL;
}

static mcz_status run_jobs(packer *pk, mcz_error *err)
{
    pthread_t tid[MAX_THREADS];
    thr args[MAX_THREADS];
    int started = 0, nt = pk->threads;
    if ((size_t)nt > pk->njobs)
        nt = pk->njobs ? (int)pk->njobs : 1;
    atomic_store(&pk->next, 0);
    for (int k = 0; k < nt; k++)
        args[k] = (thr){pk, &pk->encs[k]};
    for (; started < nt - 1; started++)
        if (pthread_create(&tid[started], NULL, encode_worker, &args[started + 1]) != 0)
            break;
    encode_worker(&args[0]);
    for (int k = 0; k < started; k++)
        pthread_join(tid[k], NULL);
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

/* An earlier identical tensor (same dtype and bytes), or -1; registers tensor i otherwise. */
static long find_dup(packer *pk, size_t i, const uint8_t *src, uint64_t raw)
{
    const mcz_weight *w = mcz_model_weight(pk->m, i);
    uint64_t h = pk->hash[i] = mcz_xxh64(src, raw) ^ (uint64_t)w->dtype;
    size_t s = (size_t)h & pk->dmask;
    for (; pk->dmap[s]; s = (s + 1) & pk->dmask) {
        size_t o = pk->dmap[s] - 1;
        const mcz_weight *ow = mcz_model_weight(pk->m, o);
        if (pk->hash[o] == h && ow->dtype == w->dtype && ow->nbytes == raw &&
            memcmp(mcz_model_weight_data(pk->m, o, NULL), src, raw) == 0)
            return (long)o;
    }
    pk->dmap[s] = i + 1;
    return -1;
}

/* Table entry i, its name and dims; the payload fields are filled when written. */
static mcz_status describe(packer *pk, size_t i, mcz_error *err)
{
    const mcz_weight *w = mcz_model_weight(pk->m, i);
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
    mcz_status s = put(&pk->names, w->name, len + 1, err);
    for (int k = 0; k < w->rank && !s; k++)
        s = put64(&pk->dims, (uint64_t)w->dims[k], err);
    return s;
}

/* Write tensor t of the window (its jobs are done): choose, write, record. */
static mcz_status write_tensor(packer *pk, wtensor *t, mcz_error *err)
{
    uint8_t *e = pk->entries + t->idx * MCZ_ENTRY_SIZE;
    written *wr = &pk->wr[t->idx];
    mcz_status s;
    wr->first_block = pk->blocks.n / MCZ_BLOCK_ENTRY_SIZE;
    wr->first_seg = pk->segs.n / 4;
    if (t->dup_of >= 0) {
        const uint8_t *o = pk->entries + (size_t)t->dup_of * MCZ_ENTRY_SIZE;
        const written *ow = &pk->wr[t->dup_of];
        memcpy(e + MCZ_E_ENCODING, o + MCZ_E_ENCODING, MCZ_E_FLAGS - MCZ_E_ENCODING);
        wr->nblocks = ow->nblocks;
        wr->nsegs = ow->nsegs;
        pk->st.deduplicated++;
        if ((s = put_again(&pk->blocks, ow->first_block * MCZ_BLOCK_ENTRY_SIZE,
                           ow->nblocks * MCZ_BLOCK_ENTRY_SIZE, err)))
            return s;
        return put_again(&pk->segs, ow->first_seg * 4, ow->nsegs * 4, err);
    }
    bjob *jobs = pk->jobs + t->first_job;
    uint64_t planes = 0, plain = 0;
    for (uint64_t b = 0; b < t->nblocks; b++) {
        planes += jobs[b].planes.len;
        plain += jobs[b].plain.len;
    }
    int enc = MCZ_ENC_RAW;
    if (t->E > 1 && planes < t->raw && planes < plain)
        enc = MCZ_ENC_PLANES;
    else if (plain < t->raw)
        enc = MCZ_ENC_ZSTD;
    unsigned P = enc == MCZ_ENC_PLANES ? t->E : 1;
    if ((s = mcz_outfile_pad(pk->out, MCZ_ALIGN, err)))
        return s;
    uint64_t off = mcz_outfile_tell(pk->out), stored = 0;
    for (uint64_t b = 0; b < t->nblocks && !s; b++) {
        cand *c = enc == MCZ_ENC_PLANES ? &jobs[b].planes : &jobs[b].plain, rc;
        if (enc == MCZ_ENC_RAW) {
            uint64_t left = t->raw - b * BLOCK_SIZE, n = left < BLOCK_SIZE ? left : BLOCK_SIZE;
            rc = (cand){(uint8_t *)t->src + b * BLOCK_SIZE, {(uint32_t)n}, n, jobs[b].raw_xxh};
            c = &rc;
        }
        for (unsigned k = 0; k < P && !s; k++)
            s = put32(&pk->segs, c->seg[k], err);
        if (!s && !(s = put64(&pk->blocks, c->xxh, err)))
            s = put64(&pk->blocks, jobs[b].raw_xxh, err);
        if (!s)
            s = mcz_outfile_write(pk->out, c->data, c->len, err);
        stored += c->len;
    }
    if (s)
        return s;
    wr->nblocks = t->nblocks;
    wr->nsegs = t->nblocks * P;
    mcz_wr32(e + MCZ_E_ENCODING, (uint32_t)enc);
    mcz_wr64(e + MCZ_E_DATA_OFFSET, off);
    mcz_wr64(e + MCZ_E_STORED, stored);
    mcz_wr64(e + MCZ_E_RAW, t->raw);
    mcz_wr32(e + MCZ_E_BLOCK_SIZE, t->raw ? BLOCK_SIZE : 0);
    e[MCZ_E_PLANES] = (uint8_t)P;
    e[MCZ_E_TRANSFORM] = (uint8_t)(enc == MCZ_ENC_PLANES ? t->tf : 0);
    pk->st.stored_bytes += stored;
    return MCZ_OK;
}

static void free_jobs(packer *pk)
{
    for (size_t k = 0; k < pk->njobs; k++) {
        free(pk->jobs[k].planes.data);
        free(pk->jobs[k].plain.data);
    }
    pk->njobs = 0;
}

/* Tensors [i0, i1): prepare, encode in parallel, write in order. */
static mcz_status do_window(packer *pk, size_t i0, size_t i1, mcz_error *err)
{
    mcz_status s = MCZ_OK;
    pk->nwt = 0;
    size_t nj = 0;
    for (size_t i = i0; i < i1 && !s; i++) {
        const mcz_weight *w = mcz_model_weight(pk->m, i);
        wtensor *t = &pk->wt[pk->nwt++];
        *t = (wtensor){.idx = i, .dup_of = -1, .first_job = nj};
        if (!pk->marked[i]) { /* no marker: the values stay in the skeleton (strings...) */
            mcz_wr32(pk->entries + i * MCZ_ENTRY_SIZE + MCZ_E_FLAGS, MCZ_TF_IN_SKELETON);
            t->dup_of = -2;
            continue;
        }
        if (!(t->src = mcz_model_weight_data(pk->m, i, err)) && w->nbytes)
            return err ? err->code : MCZ_ERR_FORMAT;
        t->raw = w->nbytes;
        t->E = plane_count(w->dtype, &t->tf);
        t->level = t->E > 1 && pk->level > PROBE_LEVEL ? PROBE_LEVEL : pk->level;
        if (t->raw && (t->dup_of = find_dup(pk, i, t->src, t->raw)) >= 0)
            continue;
        t->nblocks = (t->raw + BLOCK_SIZE - 1) / BLOCK_SIZE;
        for (uint64_t b = 0; b < t->nblocks; b++)
            pk->jobs[nj++] = (bjob){.t = pk->nwt - 1, .b = b};
    }
    pk->njobs = nj;
    pk->pass = 0;
    if ((s = run_jobs(pk, err)))
        return s;
    /* plain zstd close to the planes at the cheap level: redo it at the real level */
    int again = 0;
    for (size_t k = 0; k < pk->nwt; k++) {
        wtensor *t = &pk->wt[k];
        uint64_t planes = 0, plain = 0;
        for (uint64_t b = 0; b < t->nblocks; b++) {
            planes += pk->jobs[t->first_job + b].planes.len;
            plain += pk->jobs[t->first_job + b].plain.len;
        }
        int redo = t->nblocks && t->E > 1 && t->level != pk->level && plain < planes + planes / 20;
        t->level = redo ? pk->level : 0;
        again |= redo;
    }
    pk->pass = 1;
    if (again && (s = run_jobs(pk, err)))
        return s;
    for (size_t k = 0; k < pk->nwt && !s; k++)
        if (pk->wt[k].dup_of != -2) {
            s = write_tensor(pk, &pk->wt[k], err);
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
    mcz_wr32(h + 8, (uint32_t)pk->n);
    mcz_wr32(h + 12, MCZ_SEC_KNOWN);
    const uint8_t *data[MCZ_SEC_KNOWN + 1] = {0, pk->entries, pk->names.p, pk->dims.p,
                                              pk->blocks.p, pk->segs.p, skel};
    size_t size[MCZ_SEC_KNOWN + 1] = {0, pk->n * MCZ_ENTRY_SIZE, pk->names.n, pk->dims.n,
                                      pk->blocks.n, pk->segs.n, skel_len};
    mcz_status s = put(&ix, h, sizeof h, err);
    for (int k = 1; k <= MCZ_SEC_KNOWN && !s; k++) {
        uint8_t sh[MCZ_SECTION_HEADER_SIZE], zero[8] = {0};
        mcz_wr32(sh, (uint32_t)k);
        mcz_wr32(sh + 4, MCZ_SEC_REQUIRED);
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

static mcz_status see_marker(void *ctx, uint64_t ordinal, const uint8_t *raw, size_t len,
                             const uint8_t **out, size_t *out_len, mcz_error *err)
{
    packer *pk = ctx;
    uint64_t i;
    (void)ordinal, (void)out, (void)out_len;
    if (mcz_marker_parse(raw, len, &i)) {
        if (i >= pk->n || pk->marked[i])
            return mcz_seterr(err, MCZ_ERR_FORMAT, "%s: skeleton marker %llu appears twice or "
                              "names no weight", pk->path, (unsigned long long)i);
        pk->marked[i] = 1;
    }
    return MCZ_OK;
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
    uint8_t *skel = NULL, *copy = NULL;
    size_t skel_len = 0, copy_len;
    if ((s = mcz_model_serialize_skeleton(pk->m, &skel, &skel_len, err)) ||
        (s = mcz_onnxwire_rewrite(skel, skel_len, see_marker, pk, &copy, &copy_len, pk->path, err)))
        goto done;
    free(copy);
    size_t maxjobs = 1;
    for (size_t i = 0; i < pk->n; i++) {
        const mcz_weight *w = mcz_model_weight(pk->m, i);
        size_t nb = (size_t)((w->nbytes + BLOCK_SIZE - 1) / BLOCK_SIZE);
        maxjobs = nb > maxjobs ? nb : maxjobs;
        if ((s = describe(pk, i, err)))
            goto done;
    }
    maxjobs += WINDOW_BYTES / BLOCK_SIZE + WINDOW_TENSORS + 1;
    if (!(pk->jobs = calloc(maxjobs, sizeof *pk->jobs))) {
        s = mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i0 = 0; i0 < pk->n && !s;) {
        size_t i1 = i0;
        uint64_t bytes = 0;
        while (i1 < pk->n && (i1 == i0 || (i1 - i0 < WINDOW_TENSORS &&
                              bytes + mcz_model_weight(pk->m, i1)->nbytes <= WINDOW_BYTES)))
            bytes += mcz_model_weight(pk->m, i1++)->nbytes;
        s = do_window(pk, i0, i1, err);
        free_jobs(pk);
        i0 = i1;
    }
    pk->st.skeleton_bytes = skel_len;
    if (!s)
        s = write_index(pk, skel, skel_len, err);
done:
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
    pk->n = mcz_model_weight_count(m);
    pk->level = o.level > 0 ? (o.level > ZSTD_maxCLevel() ? ZSTD_maxCLevel() : o.level)
                            : MCZ_PACK_DEFAULT_LEVEL;
    pk->threads = o.threads > 0 ? o.threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    pk->threads = pk->threads < 1 ? 1 : pk->threads > MAX_THREADS ? MAX_THREADS : pk->threads;
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
    if (!s && (!pk->entries || !pk->wt || !pk->wr || !pk->hash || !pk->dmap || !pk->marked))
        s = mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    for (int k = 0; k < pk->threads && !s; k++) {
        encoder *e = &pk->encs[k];
        e->lit = ZSTD_createCCtx();
        e->plain = ZSTD_createCCtx();
        e->scratch = malloc(BLOCK_SIZE);
        if (!e->lit || !e->plain || !e->scratch) {
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
    }
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
