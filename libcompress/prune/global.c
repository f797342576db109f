/* global.c - the global scope: one threshold over every candidate's elements at once (see
 * prune_impl.h). The elements are cut into chunks of CHUNK_ELEMS, the jobs of every pass, so
 * threads share big weights; the keys are never materialised, each pass reads the values
 * again:
 *   0  sums of squares and zeros per chunk (the per-weight scales of --normalize)
 *   1  histogram of the high 16 key bits          -> the bin of the k-th smallest key
 *   2  histogram of the low 16 bits in that bin   -> the key t itself
 *   3  keys equal to t per chunk, given out as quotas in weight-table then index order
 *   4  the zeroing, into new buffers; then the weights that changed are replaced
 * Every sum of a pass is an integer or taken in chunk order: the result does not depend on
 * the thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parallel.h"
#include "prune/prune_impl.h"

static inline float key_float(uint32_t k)
{
    float f;
    memcpy(&f, &k, 4);
    return f;
}

static inline uint32_t gkey(float x, float scale)
{
    return mag_key(scale == 1.0f ? x : x * scale);
}

/* ---- the jobs -------------------------------------------------------------------------- */

/* pass 0: sums of squares and zeros per chunk */
static void job_sums(void *ctx, size_t j, unsigned tid)
{
    (void)tid;
    prune_ctx *x = ctx;
    chunk *k = &x->ch[j];
    const cand *c = &x->c[k->c];
    int32_t dt = mcz_model_weight(x->m, c->w)->dtype;
    float buf[BUF_ELEMS];
    for (uint64_t s = 0; s < k->len; s += BUF_ELEMS) {
        size_t n = k->len - s < BUF_ELEMS ? (size_t)(k->len - s) : BUF_ELEMS;
        mcz_prune_load_f32(c->data, dt, k->start + s, n, buf);
        k->sumsq += mcz_prune_sum_squares(buf, n);
        for (size_t i = 0; i < n; i++) {
            k->zeros += buf[i] == 0.0f;
            if (isfinite(buf[i]))
                k->sumsq_finite += (double)buf[i] * buf[i];
        }
    }
}

/* pass 1 and 2: histograms of the keys; pass 3: the keys equal to the threshold */
static void hist_chunk(prune_ctx *x, size_t j, unsigned tid, int pass)
{
    chunk *k = &x->ch[j];
    const cand *c = &x->c[k->c];
    int32_t dt = mcz_model_weight(x->m, c->w)->dtype;
    uint64_t *h = x->hist ? x->hist[tid] : NULL;
    float buf[BUF_ELEMS];
    for (uint64_t s = 0; s < k->len; s += BUF_ELEMS) {
        size_t n = k->len - s < BUF_ELEMS ? (size_t)(k->len - s) : BUF_ELEMS;
        mcz_prune_load_f32(c->data, dt, k->start + s, n, buf);
        if (pass == 1) {
            for (size_t i = 0; i < n; i++)
                h[gkey(buf[i], c->scale) >> 16]++;
        } else if (pass == 2) {
            for (size_t i = 0; i < n; i++) {
                uint32_t key = gkey(buf[i], c->scale);
                if (key >> 16 == x->hi_bin)
                    h[key & 0xffffu]++;
            }
        } else {
            for (size_t i = 0; i < n; i++)
                k->eq += gkey(buf[i], c->scale) == x->t;
        }
    }
}

static void job_hist1(void *ctx, size_t j, unsigned tid) { hist_chunk(ctx, j, tid, 1); }
static void job_hist2(void *ctx, size_t j, unsigned tid) { hist_chunk(ctx, j, tid, 2); }
static void job_eq(void *ctx, size_t j, unsigned tid) { hist_chunk(ctx, j, tid, 3); }

/* pass 4: copy the chunk's values to the output and zero what falls under the threshold */
static void job_zero_body(void *ctx, size_t j, unsigned tid)
{
    (void)tid;
    prune_ctx *x = ctx;
    chunk *k = &x->ch[j];
    cand *c = &x->c[k->c];
    const mcz_weight *w = mcz_model_weight(x->m, c->w);
    size_t es = mcz_dtype_size(w->dtype);
    uint8_t *out = c->out;
    memcpy(out + k->start * es, c->data + k->start * es, k->len * es);
    float buf[BUF_ELEMS];
    uint64_t quota = k->quota;
    for (uint64_t s = 0; s < k->len; s += BUF_ELEMS) {
        size_t n = k->len - s < BUF_ELEMS ? (size_t)(k->len - s) : BUF_ELEMS;
        mcz_prune_load_f32(c->data, w->dtype, k->start + s, n, buf);
        uint64_t before = k->acc.zeroed;
        quota = mcz_prune_zero_below(buf, n, c->scale, x->t, quota, &k->acc);
        if (k->acc.zeroed == before)
            continue;
        if (w->dtype == MCZ_DT_FLOAT)
            memcpy(out + (k->start + s) * 4, buf, n * 4);
        else
            mcz_prune_store_zeros(out, c->data, w->dtype, k->start + s, n, buf);
    }
    mcz_model_release_pages(x->m, c->data + k->start * es, k->len * es); /* last pass read */
}

static void job_zero(void *ctx, size_t j, unsigned tid)
{
    prune_ctx *x = ctx;
    job_zero_body(ctx, j, tid);
    if (x->p->progress) {
        const chunk *k = &x->ch[j];
        const mcz_weight *w = mcz_model_weight(x->m, x->c[k->c].w);
        x->p->progress(x->p->progress_ctx, 0, k->len * mcz_dtype_size(w->dtype));
    }
}

/* ---- the passes ------------------------------------------------------------------------ */

/* Cut every candidate into chunks (x->ch); *total = the elements of all candidates. */
static mcz_status make_chunks(prune_ctx *x, uint64_t *total, mcz_error *err)
{
    size_t nch = 0;
    for (size_t i = 0; i < x->nc; i++) {
        uint64_t n = mcz_model_weight(x->m, x->c[i].w)->count;
        x->c[i].chunk0 = nch;
        x->c[i].nchunks = (size_t)((n + CHUNK_ELEMS - 1) / CHUNK_ELEMS);
        nch += x->c[i].nchunks;
    }
    x->ch = calloc(nch ? nch : 1, sizeof *x->ch);
    if (!x->ch)
        return NOMEM(err);
    x->nch = nch;
    *total = 0;
    for (size_t i = 0; i < x->nc; i++) {
        uint64_t n = mcz_model_weight(x->m, x->c[i].w)->count;
        for (size_t q = 0; q < x->c[i].nchunks; q++) {
            chunk *k = &x->ch[x->c[i].chunk0 + q];
            k->c = i;
            k->start = q * CHUNK_ELEMS;
            k->len = n - k->start < CHUNK_ELEMS ? n - k->start : CHUNK_ELEMS;
        }
        *total += n;
    }
    return MCZ_OK;
}

/* Pass 0: each candidate's norms and zeros, and its scale (1 / RMS of its finite values with
 * --normalize, else 1). */
static void sums_pass(prune_ctx *x, unsigned threads)
{
    mcz_parallel_for(x->nch, threads, job_sums, x);
    for (size_t i = 0; i < x->nc; i++) {
        cand *c = &x->c[i];
        uint64_t zeros = 0;
        for (size_t q = 0; q < c->nchunks; q++) {
            c->sumsq += x->ch[c->chunk0 + q].sumsq;
            c->sumsq_finite += x->ch[c->chunk0 + q].sumsq_finite;
            zeros += x->ch[c->chunk0 + q].zeros;
        }
        c->r->zeros_before = c->r->zeros_after = zeros;
        c->scale = 1.0f;
        uint64_t n = c->r->count;
        if (x->p->normalize && n && c->sumsq_finite > 0) {
            double rms = sqrt(c->sumsq_finite / (double)n);
            float s = (float)(1.0 / rms);
            if (isfinite(s) && s > 0)
                c->scale = s;
        }
    }
}

/* The bin of rank r in histogram h, counting from *cum keys below it (updated). */
static uint32_t hist_find(const uint64_t *h, uint64_t r, uint64_t *cum)
{
    uint32_t b = 0;
    while (*cum + h[b] <= r)
        *cum += h[b++];
    return b;
}

/* Sum the per-thread histograms into the first (integer sums: the same for any order). */
static void merge_hist(prune_ctx *x, unsigned threads)
{
    for (unsigned t = 1; t < threads; t++)
        for (uint32_t b = 0; b < HIST_BINS; b++)
            x->hist[0][b] += x->hist[t][b];
}

/* Passes 1 and 2: x->t = the k-th smallest key over every candidate; *less = keys below it. */
static mcz_status threshold_passes(prune_ctx *x, unsigned threads, uint64_t k, uint64_t *less,
                                   mcz_error *err)
{
    x->hist = calloc(threads, sizeof *x->hist);
    if (!x->hist)
        return NOMEM(err);
    mcz_parallel_for(x->nch, threads, job_hist1, x);
    merge_hist(x, threads);
    uint64_t cum = 0;
    x->hi_bin = hist_find(x->hist[0], k - 1, &cum);
    memset(x->hist, 0, threads * sizeof *x->hist);
    mcz_parallel_for(x->nch, threads, job_hist2, x);
    merge_hist(x, threads);
    uint32_t lo = hist_find(x->hist[0], k - 1, &cum);
    free(x->hist);
    x->hist = NULL;
    x->t = x->hi_bin << 16 | lo;
    *less = cum;
    return MCZ_OK;
}

/* Pass 3: of the keys equal to t, need_eq are zeroed, given out in weight-table order then
 * index order as each chunk's quota. */
static void ties_pass(prune_ctx *x, unsigned threads, uint64_t need_eq)
{
    mcz_parallel_for(x->nch, threads, job_eq, x);
    for (size_t q = 0; q < x->nch; q++) {
        x->ch[q].quota = x->ch[q].eq < need_eq ? x->ch[q].eq : need_eq;
        need_eq -= x->ch[q].quota;
    }
}

/* Pass 4 and after: zero into new buffers, then each candidate's result from its chunks, and
 * the weights that changed replaced. */
static mcz_status zero_pass(prune_ctx *x, unsigned threads, mcz_error *err)
{
    for (size_t i = 0; i < x->nc; i++) {
        const mcz_weight *w = mcz_model_weight(x->m, x->c[i].w);
        if (!(x->c[i].out = malloc(w->nbytes ? w->nbytes : 1)))
            FAIL(MCZ_ERR_NOMEM, "out of memory for '%s'", w->name);
    }
    mcz_parallel_for(x->nch, threads, job_zero, x);
    for (size_t i = 0; i < x->nc; i++) {
        cand *c = &x->c[i];
        mcz_prune_result *r = c->r;
        zero_acc a = {0, 0, 0};
        for (size_t q = 0; q < c->nchunks; q++) {
            const zero_acc *ca = &x->ch[c->chunk0 + q].acc;
            a.zeroed += ca->zeroed;
            a.removed += ca->removed;
            if (ca->max_zeroed > a.max_zeroed)
                a.max_zeroed = ca->max_zeroed;
        }
        r->zeros_after = r->zeros_before + a.zeroed;
        r->threshold = a.max_zeroed;
        r->rel_l2 = mcz_prune_rel_l2(a.removed, c->sumsq);
        r->changed = a.zeroed > 0;
        r->target = r->zeros_after; /* this weight's share of the global count */
        void *out = c->out;
        c->out = NULL;
        if (!r->changed) {
            free(out);
            continue;
        }
        mcz_prune_replace(x, c, out);
        if (c->st)
            FAIL(c->st, "%s: '%s': %s", mcz_model_path(x->m), r->name, c->msg);
    }
    return MCZ_OK;
}

mcz_status mcz_prune_global(prune_ctx *x, unsigned threads, mcz_prune_report *rep,
                            mcz_error *err)
{
    uint64_t total = 0;
    mcz_status s = make_chunks(x, &total, err);
    if (s)
        return s;
    sums_pass(x, threads);
    uint64_t k = mcz_prune_target(x->p->sparsity, total);
    rep->target = k;
    if (k == 0)
        return MCZ_OK;
    uint64_t less = 0;
    if ((s = threshold_passes(x, threads, k, &less, err)))
        return s;
    rep->threshold = key_float(x->t);
    ties_pass(x, threads, k - less);
    return zero_pass(x, threads, err);
}
