/* decode.c - payload blocks -> values: checksums, zstd, byte planes; one tensor, N threads. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include <zstd.h>

#include "halffloat.h"
#include "parallel.h"
#include "loader_impl.h"

/* Byte planes -> elements (format.md section 6): element size `planes` (2, 4, 8), `n`
 * bytes, transform `tf` (0, 1). */
static void planes_merge(uint8_t *dst, const uint8_t *const *pl, size_t n, unsigned planes,
                         unsigned tf)
{
    const uint8_t *a = pl[0], *b = pl[1], *c = pl[planes > 2 ? 2 : 0], *d = pl[planes > 2 ? 3 : 0];
    if (planes == 2) {
        for (size_t j = 0; j < n / 2; j++) {
            uint16_t v = (uint16_t)(a[j] | b[j] << 8);
            v = tf ? (uint16_t)(v >> 1 | v << 15) : v;
            memcpy(dst + 2 * j, &v, 2);
        }
    } else if (planes == 4) {
        for (size_t j = 0; j < n / 4; j++) {
            uint32_t v = a[j] | (uint32_t)b[j] << 8 | (uint32_t)c[j] << 16 | (uint32_t)d[j] << 24;
            v = tf ? v >> 1 | v << 31 : v;
            memcpy(dst + 4 * j, &v, 4);
        }
    } else {
        for (size_t j = 0; j < n / 8; j++) {
            uint64_t v = 0;
            for (int k = 0; k < 8; k++)
                v |= (uint64_t)pl[k][j] << (8 * k);
            v = tf ? v >> 1 | v << 63 : v;
            memcpy(dst + 8 * j, &v, 8);
        }
    }
}

/* Sparse (format.md section 6): the non-zero elements `vals` to their places in the k
 * elements of E bytes of dst, zeros elsewhere. */
static void scatter(uint8_t *dst, const uint8_t *bm, const uint8_t *vals, size_t k, unsigned E)
{
    for (size_t j = 0; j < k; j++) {
        if (!(j & 7) && !bm[j >> 3] && k - j >= 8) { /* a whole byte of zeros */
            memset(dst + j * E, 0, 8 * E);
            j += 7;
        } else if (bm[j >> 3] >> (j & 7) & 1) {
            memcpy(dst + j * E, vals, E);
            vals += E;
        } else {
            memset(dst + j * E, 0, E);
        }
    }
}

typedef struct worker {
    ZSTD_DCtx *dctx;
    uint8_t *buf; /* decoded planes, then (when checking) the decoded block */
    size_t cap;
} worker;

/* Block b of tensor ti into dst: the block's place in the tensor, the payload itself (a raw
 * tensor used in place: checked, not copied), or NULL: into the worker's memory, checking
 * the decoded checksum too. */
static mcz_status decode_block(const mcz_file *f, size_t ti, uint64_t b, uint8_t *dst,
                               worker *w, mcz_error *err)
{
    const tensor *t = &f->t[ti];
    const mcz_tensor_info *p = &t->pub;
    uint64_t gb = t->first_block + b, bs = p->block_size;
    size_t n = (size_t)(b + 1 < t->nblocks ? bs : p->raw_bytes - b * bs), m = n / p->planes;
    const uint8_t *src = f->base + f->blk_off[gb], *ent = f->blocks + MCZ_BLOCK_ENTRY_SIZE * gb;
    const uint8_t *seg = f->segs + 4 * (t->first_seg + b * p->planes), *plane[9];
    size_t stored = 0;
    for (unsigned k = 0; k < p->planes; k++)
        stored += mcz_rd32(seg + 4 * k);
    if (mcz_xxh64(src, stored) != mcz_rd64(ent))
        FAIL(MCZ_ERR_CHECKSUM, "%s: tensor '%s': block %llu (bytes %llu..%llu): checksum "
             "mismatch", f->name, p->name, ULL(b), ULL(f->blk_off[gb]),
             ULL(f->blk_off[gb] + stored));
    int check = dst == NULL, sparse = p->encoding == MCZ_ENC_SPARSE;
    /* planes | (sparse: merged non-zero values) | (checking: the decoded block) */
    size_t need = (sparse ? 4 : 2) * n + 16, pos = 0, nnz = 0, E = p->planes - sparse;
    if ((p->planes > 1 || check) && need > w->cap) {
        free(w->buf);
        if (!(w->buf = malloc(need)))
            FAIL(MCZ_ERR_NOMEM, "%s: out of memory for a %zu-byte block", f->name, n);
        w->cap = need;
    }
    dst = check ? w->buf + (sparse ? 3 : 1) * n + 16 : dst;
    for (unsigned k = 0; k < p->planes; k++) {
        size_t len = mcz_rd32(seg + 4 * k), r;
        size_t mk = !sparse ? m : k ? nnz : (n / E + 7) / 8; /* sparse: bitmap, then nnz */
        uint8_t *out = p->planes == 1 ? dst : w->buf + pos;
        plane[k] = src;
        if (len > mk)
            FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': block %llu: a %zu-byte segment for a "
                 "%zu-byte plane", f->name, p->name, ULL(b), len, mk);
        if (len < mk) {
            if (!w->dctx && !(w->dctx = ZSTD_createDCtx()))
                FAIL(MCZ_ERR_NOMEM, "%s: out of memory", f->name);
            if (ZSTD_isError(r = ZSTD_decompressDCtx(w->dctx, out, mk, src, len)) || r != mk)
                FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': block %llu plane %u does not decode to "
                     "%zu bytes (%s)", f->name, p->name, ULL(b), k, mk,
                     ZSTD_isError(r) ? ZSTD_getErrorName(r) : "wrong size");
            plane[k] = out;
        } else if (p->planes == 1 && dst != src) {
            memcpy(dst, src, m);
        }
        pos += mk;
        src += len;
        if (sparse && k == 0) { /* count the bitmap's ones; bits past the elements are 0 */
            for (size_t j = 0; j < mk; j++)
                nnz += (size_t)__builtin_popcount(plane[0][j]);
            if ((n / E) % 8 && plane[0][mk - 1] >> (n / E) % 8)
                FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': block %llu: bitmap bits past the last "
                     "element", f->name, p->name, ULL(b));
        }
    }
    if (sparse && E > 1)
        planes_merge(w->buf + 2 * n, plane + 1, nnz * E, (unsigned)E, p->transform);
    if (sparse)
        scatter(dst, plane[0], E > 1 ? w->buf + 2 * n : plane[1], n / E, (unsigned)E);
    else if (p->planes > 1)
        planes_merge(dst, plane, n, p->planes, p->transform);
    if (check && mcz_xxh64(dst, n) != mcz_rd64(ent + 8))
        FAIL(MCZ_ERR_CHECKSUM, "%s: tensor '%s': block %llu: decoded bytes do not match their "
             "checksum", f->name, p->name, ULL(b));
    return MCZ_OK;
}

static mcz_status tensor_arg(const mcz_file *f, size_t i, mcz_error *err)
{
    if (i >= f->n)
        FAIL(MCZ_ERR_ARG, "%s: no tensor %zu (%zu tensors)", f->name, i, f->n);
    if (f->t[i].pub.in_skeleton)
        FAIL(MCZ_ERR_UNSUPPORTED, "%s: tensor '%s': its values are kept in the skeleton",
             f->name, f->t[i].pub.name);
    return MCZ_OK;
}

/* Tensor i (checked by tensor_arg) block by block into dst. */
static mcz_status read_tensor(const mcz_file *f, size_t i, uint8_t *dst, mcz_error *err)
{
    worker w = {0};
    mcz_status s = MCZ_OK;
    for (uint64_t b = 0; b < f->t[i].nblocks && !s; b++)
        s = decode_block(f, i, b, dst + b * f->t[i].pub.block_size, &w, err);
    ZSTD_freeDCtx(w.dctx);
    free(w.buf);
    return s;
}

mcz_status mcz_read(const mcz_file *f, size_t i, void *dst, size_t dst_len, mcz_error *err)
{
    mcz_status s = tensor_arg(f, i, err);
    if (!s && (dst_len < f->t[i].pub.raw_bytes || (!dst && dst_len)))
        FAIL(MCZ_ERR_ARG, "%s: tensor '%s': %zu-byte buffer for %llu bytes", f->name,
             f->t[i].pub.name, dst_len, ULL(f->t[i].pub.raw_bytes));
    return s ? s : read_tensor(f, i, dst, err);
}

void *mcz_read_alloc(const mcz_file *f, size_t i, mcz_error *err)
{
    mcz_status s = tensor_arg(f, i, err);
    void *p = s ? NULL : malloc(f->t[i].pub.raw_bytes ? (size_t)f->t[i].pub.raw_bytes : 1);
    if (!s && !p)
        mcz_seterr(err, MCZ_ERR_NOMEM, "%s: tensor '%s': out of memory for %llu bytes", f->name,
                   f->t[i].pub.name, ULL(f->t[i].pub.raw_bytes));
    if (p && read_tensor(f, i, p, err) != MCZ_OK) {
        free(p);
        p = NULL;
    }
    return p;
}

/* Code j of 8- or 4-bit codes of dtype dt (format.md 5a). */
static inline int code_at(const uint8_t *c, size_t j, int32_t dt)
{
    int v = dt >= 21 ? c[j >> 1] >> (4 * (j & 1)) & 15 : c[j];
    return dt == 3 ? v - ((v & 0x80) << 1) : dt == 22 ? v - ((v & 8) << 1) : v;
}

/* Quantized tensor i as float32: the codes are decoded into the tail of dst and widened
 * front to back (element j is read before its 4 bytes are written, and never overtaken). */
static mcz_status dequantize(const mcz_file *f, size_t i, float *dst, mcz_error *err)
{
    const mcz_tensor_info *p = &f->t[i].pub;
    const mcz_quant_info *q = p->quant;
    size_t n = (size_t)p->count, ns = (size_t)f->t[q->scale].pub.count;
    uint8_t *codes = (uint8_t *)dst + 4 * n - p->raw_bytes, *zp = NULL;
    float *sc = malloc((ns ? ns : 1) * sizeof *sc);
    mcz_status s = sc ? mcz_read_f32(f, q->scale, sc, ns, err)
                      : mcz_seterr(err, MCZ_ERR_NOMEM, "%s: out of memory", f->name);
    if (!s && q->zero_point >= 0 && !(zp = mcz_read_alloc(f, (size_t)q->zero_point, err)))
        s = err ? err->code : MCZ_ERR_NOMEM;
    if (!s && !(s = read_tensor(f, i, codes, err))) {
        size_t D = q->axis < 0 ? 1 : (size_t)p->dims[q->axis], in = 1, bs = q->block_size;
        size_t nb = bs ? D / bs + (D % bs != 0) : D, j = 0, fast = p->dtype == 3 && !zp && !bs;
        for (int k = q->axis + 1; k < p->rank; k++) /* axis -1: D = 1, in = n */
            in *= (size_t)p->dims[k];
        for (size_t o = 0; o < (D && in ? n / D / in : 0); o++)
            for (size_t a = 0; a < D; a += fast && in == 1 ? D : 1)
                if (fast) /* int8 symmetric: a loop that vectorizes (in == 1: the whole row) */
                    for (size_t x = 0, len = in > 1 ? in : D; x < len; x++, j++)
                        dst[j] = (float)(int8_t)codes[j] * sc[in > 1 ? a : x];
                else
                    for (size_t x = 0, si = bs ? (o * nb + a / bs) * in : a; x < in;
                         x++, j++, si += bs != 0)
                        dst[j] = (float)(code_at(codes, j, p->dtype) -
                                         (zp ? code_at(zp, si, p->dtype) : 0)) * sc[si];
    }
    free(sc);
    free(zp);
    return s;
}

mcz_status mcz_read_f32(const mcz_file *f, size_t i, float *dst, size_t count, mcz_error *err)
{
    mcz_status s = tensor_arg(f, i, err);
    if (s)
        return s;
    const mcz_tensor_info *p = &f->t[i].pub;
    size_t n = (size_t)p->count;
    if (!p->quant && p->dtype != 1 && p->dtype != 10 && p->dtype != 16)
        FAIL(MCZ_ERR_UNSUPPORTED, "%s: tensor '%s': no float32 conversion from dtype %d",
             f->name, p->name, (int)p->dtype);
    if (count < p->count || !dst)
        FAIL(MCZ_ERR_ARG, "%s: tensor '%s': room for %zu floats, %llu needed", f->name, p->name,
             count, ULL(p->count));
    if (p->quant)
        return dequantize(f, i, dst, err);
    if (p->dtype == 1)
        return read_tensor(f, i, (uint8_t *)dst, err);
    /* 16-bit values decoded into the upper half, widened in place front to back */
    const uint8_t *h = (const uint8_t *)dst + 2 * n;
    if ((s = read_tensor(f, i, (uint8_t *)dst + 2 * n, err)))
        return s;
    for (size_t j = 0; j < n; j++) {
        uint32_t v = (uint32_t)(h[2 * j] | h[2 * j + 1] << 8), bits = v << 16;
        if (p->dtype == 10)
            dst[j] = mcz_f16_widen((uint16_t)v);
        else
            memcpy(&dst[j], &bits, 4);
    }
    return MCZ_OK;
}

mcz_status mcz_tensor_data(const mcz_file *f, size_t i, const void **data, mcz_error *err)
{
    mcz_status s = tensor_arg(f, i, err);
    if (!s && f->t[i].pub.encoding != MCZ_ENC_RAW)
        FAIL(MCZ_ERR_UNSUPPORTED, "%s: tensor '%s' is stored %s, not raw: use mcz_read", f->name,
             f->t[i].pub.name, mcz_encoding_name(f->t[i].pub.encoding));
    const uint8_t *p = s ? NULL : f->base + f->t[i].pub.offset;
    if (!s && !(s = read_tensor(f, i, (uint8_t *)p, err))) /* checks only: nothing copied */
        *data = p;
    return s;
}

/* ---- every block of every tensor, with N threads ---- */

typedef struct job {
    const mcz_file *f;
    void *const *dst;
    worker *w;                     /* one per thread: a decompression context and a buffer */
    atomic_uint_fast64_t fail_block; /* the lowest failing block (or UINT64_MAX) */
    pthread_mutex_t lock;
    mcz_error e;
} job;

/* The tensor owning global block gb: the last with first_block <= gb. */
static size_t owner(const mcz_file *f, uint64_t gb)
{
    size_t lo = 0, hi = f->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        *(f->t[mid].first_block <= gb ? &lo : &hi) = mid;
    }
    return lo;
}

static void work(void *arg, size_t block, unsigned tid)
{
    job *j = arg;
    const mcz_file *f = j->f;
    uint64_t gb = block;
    size_t ti = owner(f, gb);
    const tensor *t = &f->t[ti];
    uint8_t *d = j->dst ? j->dst[ti] : NULL;
    if (gb > atomic_load(&j->fail_block) || (j->dst && !d))
        return; /* an earlier block failed, or the caller skips this tensor */
    d = d ? d + (gb - t->first_block) * t->pub.block_size : NULL;
    mcz_error e;
    if (decode_block(f, ti, gb - t->first_block, d, &j->w[tid], &e)) {
        pthread_mutex_lock(&j->lock);
        if (gb < atomic_load(&j->fail_block)) {
            atomic_store(&j->fail_block, gb);
            j->e = e;
        }
        pthread_mutex_unlock(&j->lock);
    }
}

mcz_status mcz_run_blocks(const mcz_file *f, int threads, void *const *dst, long *bad,
                          mcz_error *err)
{
    worker w[MCZ_THREADS_MAX] = {{0}};
    job j = {.f = f, .dst = dst, .w = w, .lock = PTHREAD_MUTEX_INITIALIZER};
    atomic_init(&j.fail_block, UINT64_MAX);
    unsigned nt = mcz_thread_count(threads, (size_t)f->nblocks);
    mcz_parallel_for((size_t)f->nblocks, nt, work, &j);
    for (unsigned k = 0; k < nt; k++) {
        ZSTD_freeDCtx(w[k].dctx);
        free(w[k].buf);
    }
    uint64_t fb = atomic_load(&j.fail_block);
    if (bad)
        *bad = fb == UINT64_MAX ? -1 : (long)owner(f, fb);
    if (fb != UINT64_MAX && err)
        *err = j.e;
    return fb == UINT64_MAX ? MCZ_OK : j.e.code;
}

mcz_status mcz_load_all(const mcz_file *f, int threads, void *const *dst, mcz_error *err)
{
    if (!dst)
        FAIL(MCZ_ERR_ARG, "%s: no destination table", f->name);
    return mcz_run_blocks(f, threads, dst, NULL, err);
}
