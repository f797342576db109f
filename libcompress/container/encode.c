/* encode.c - values -> payload blocks: the candidate encodings of a block, N threads, and the
 * choice of a tensor's encoding (the writer's side of formats/mcz/decode.c; docs/format.md 6).
 *
 * Per tensor the smallest of its candidates is kept: raw, plain zstd, and byte planes (floats:
 * sign rotated to the low bit first) whose planes are each entropy-coded by zstd in a fast
 * literal-only setting or stored. Byte-sized elements (integer codes) have one literal-only
 * segment in the place of the planes. Plain zstd is first tried at a cheap level and redone at
 * the requested level only when it comes close to the planes (repetitive tensors). A block
 * with a tenth or more of zero elements also makes the sparse candidate: a bitmap of the
 * non-zero elements, then their byte planes. */
#include <stdlib.h>
#include <string.h>

#include "container/pack_impl.h"
#include "onnx/model_impl.h" /* mcz_model_release_pages */

mcz_status mcz_encoders_init(packer *pk, mcz_error *err)
{
    for (int k = 0; k < pk->threads; k++) {
        encoder *e = &pk->encs[k];
        e->lit = ZSTD_createCCtx();
        e->plain = ZSTD_createCCtx();
        e->scratch = malloc(BLOCK_SIZE);
        e->gather = malloc(BLOCK_SIZE);
        e->bitmap = malloc(BLOCK_SIZE / 8 + 1);
        if (!e->lit || !e->plain || !e->scratch || !e->gather || !e->bitmap)
            return NOMEM(err);
        /* entropy coding only: matches of 7+ bytes within 128 KiB are rare in a byte plane */
        ZSTD_CCtx_setParameter(e->lit, ZSTD_c_strategy, ZSTD_fast);
        ZSTD_CCtx_setParameter(e->lit, ZSTD_c_windowLog, 17);
        ZSTD_CCtx_setParameter(e->lit, ZSTD_c_hashLog, 12);
        ZSTD_CCtx_setParameter(e->lit, ZSTD_c_minMatch, 7);
    }
    return MCZ_OK;
}

void mcz_encoders_free(packer *pk)
{
    for (int k = 0; k < pk->threads; k++) {
        ZSTD_freeCCtx(pk->encs[k].lit);
        ZSTD_freeCCtx(pk->encs[k].plain);
        free(pk->encs[k].scratch);
        free(pk->encs[k].gather);
        free(pk->encs[k].bitmap);
    }
}

/* Byte planes of elements of dtype (2, 4 or 8 bytes, else 0: none); *tf: floats get the sign
 * rotation. */
unsigned mcz_plane_count(int32_t dtype, unsigned *tf)
{
    *tf = dtype == MCZ_DT_FLOAT || dtype == MCZ_DT_FLOAT16 || dtype == MCZ_DT_BFLOAT16 ||
          dtype == MCZ_DT_DOUBLE;
    int e = mcz_elem_size(dtype);
    return e == 2 || e == 4 || e == 8 ? (unsigned)e : 0;
}

/* Inverse of planes_merge (decode.c). */
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
static mcz_status encode_sparse(const wtensor *t, cand *c, const uint8_t *src, size_t n,
                                encoder *e)
{
    unsigned E = t->es;
    size_t k = n / E, nb = (k + 7) / 8, nnz = 0;
    if (!c->data && !(c->data = malloc(n + nb + 16)))
        return MCZ_ERR_NOMEM;
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
    return MCZ_OK;
}

/* The `planes` candidate: byte planes, or with `lit` the bytes entropy-coded alone (what
 * integer codes need). */
static mcz_status encode_planes(const wtensor *t, bjob *j, const uint8_t *src, size_t n,
                                encoder *e)
{
    if (t->E > 1) {
        size_t m = n / t->E;
        uint8_t *pl[8];
        if (!j->planes.data && !(j->planes.data = malloc(n)))
            return MCZ_ERR_NOMEM;
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
            return MCZ_ERR_NOMEM;
        j->planes.len = j->planes.seg[0] = segment(e->lit, j->planes.data, src, n);
        j->planes.xxh = j->planes.len == n ? j->raw_xxh
                                           : mcz_xxh64(j->planes.data, j->planes.len);
    }
    return MCZ_OK;
}

/* The plain zstd candidate, at the tensor's level for the current pass. */
static mcz_status encode_plain(const wtensor *t, bjob *j, const uint8_t *src, size_t n,
                               encoder *e)
{
    if (!j->plain.data && !(j->plain.data = malloc(n ? n : 1)))
        return MCZ_ERR_NOMEM;
    ZSTD_CCtx_setParameter(e->plain, ZSTD_c_compressionLevel, t->level);
    j->plain.seg[0] = segment(e->plain, j->plain.data, src, n);
    j->plain.len = j->plain.seg[0];
    j->plain.xxh = j->plain.len == n ? j->raw_xxh : mcz_xxh64(j->plain.data, j->plain.len);
    return MCZ_OK;
}

/* Block j as pk->pass says. */
static mcz_status encode_block(packer *pk, bjob *j, encoder *e)
{
    wtensor *t = &pk->wt[j->t];
    uint64_t off = j->b * BLOCK_SIZE;
    size_t n = (size_t)(t->raw - off < BLOCK_SIZE ? t->raw - off : BLOCK_SIZE);
    const uint8_t *src = t->src + off;
    mcz_status s;
    switch (pk->pass) {
    case PASS_HASH:
        j->raw_xxh = mcz_xxh64(src, n);
        /* read again only when this block is encoded: not resident until then */
        mcz_model_release_pages(pk->m, src, n);
        return MCZ_OK;
    case PASS_ONE: /* any block can be stored sparse, even with few zeros */
        if (t->enc == MCZ_ENC_SPARSE)
            return encode_sparse(t, &j->sparse, src, n, e);
        if (t->enc == MCZ_ENC_PLANES || t->zlit)
            return encode_planes(t, j, src, n, e);
        return encode_plain(t, j, src, n, e);
    case PASS_ALL: {
        j->raw_xxh = mcz_xxh64(src, n);
        if ((s = encode_planes(t, j, src, n, e)))
            return s;
        uint64_t k = t->sparse ? n / t->es : 0;
        if (k && zero_elements(src, k, t->es) * 10 >= k) {
            if ((s = encode_sparse(t, &j->sparse, src, n, e)))
                return s;
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
    if (encode_block(pk, j, &pk->encs[tid]))
        atomic_store(&pk->failed, 1);
}

/* Jobs [j0, j1) in parallel, as pk->pass says. The encoders fail only for memory. */
mcz_status mcz_encode_jobs(packer *pk, size_t j0, size_t j1, mcz_error *err)
{
    pk->j0 = j0;
    mcz_parallel_for(j1 - j0, mcz_thread_count(pk->threads, j1 - j0), encode_one, pk);
    if (atomic_load(&pk->failed))
        FAIL(MCZ_ERR_NOMEM, "%s: out of memory while encoding", pk->path);
    return MCZ_OK;
}

/* Free the candidates of jobs [j0, j1). */
void mcz_free_cands(packer *pk, size_t j0, size_t j1)
{
    for (size_t k = j0; k < j1; k++) {
        bjob *j = &pk->jobs[k];
        free(j->planes.data);
        free(j->plain.data);
        free(j->sparse.data);
        j->planes.data = j->plain.data = j->sparse.data = NULL;
    }
}

/* Tensor t's encoding, from the candidates of its first nb blocks (raw bytes): the smallest
 * in total. */
void mcz_choose_encoding(wtensor *t, const bjob *jobs, uint64_t nb, uint64_t raw)
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
bool mcz_redo_plain(const packer *pk, const wtensor *t, const bjob *jobs, uint64_t nb)
{
    uint64_t planes = 0, plain = 0;
    for (uint64_t b = 0; b < nb; b++) {
        planes += jobs[b].planes.len;
        plain += jobs[b].plain.len;
    }
    return nb && t->dup_of == -1 && (t->E > 1 || t->lit) && t->level != pk->level &&
           (t->lit ? plain < planes - planes / 20 : plain < planes + planes / 20);
}
