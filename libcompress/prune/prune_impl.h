/* prune_impl.h - the inside of magnitude pruning (libcompress only):
 *   prune.c       the API and the model pass: parameters, candidates and --exclude, the tensor
 *                 scope (one job a weight), the report
 *   select.c      keys and element access, selection of the k-th smallest key, unstructured
 *                 pruning of a float32 array
 *   structured.c  N:M and whole-channel pruning of a float32 array
 *   global.c      the global scope: one threshold over every candidate at once
 *
 * Magnitudes are compared as keys: the bits of |x| as float32, which order exactly like the
 * magnitudes (NaN above +inf). Tensor scope selects the k-th smallest key per weight with a
 * quickselect; the global scope runs a two-pass radix selection (65,536-bin histograms of the
 * high then the low 16 key bits) over every prunable weight at once, chunked so threads share
 * big weights, without materialising the keys. Both then zero, in one pass in index order,
 * every element below the selected key and as many elements equal to it as the count needs. */
#ifndef MCZ_PRUNE_IMPL_H
#define MCZ_PRUNE_IMPL_H

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "mcz/prune.h"
#include "onnx/model_impl.h"

#define HIST_BINS 65536u
#define CHUNK_ELEMS ((uint64_t)1 << 22) /* global scope: elements per job */
#define BUF_ELEMS 4096                  /* elements converted to float32 at a time */

/* ---- keys and element access (select.c) ------------------------------------------------ */

static inline uint32_t mag_key(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    return u & 0x7fffffffu;
}

/* Elements [start, start+len) of raw little-endian values of `dtype` as float32 into out
 * (a dtype that is not floating point reads as zeros). */
void mcz_prune_load_f32(const uint8_t *raw, int32_t dtype, uint64_t start, size_t len, float *out);

/* Carry the zeros pruning made to elements [start, start+n) (n <= BUF_ELEMS) back to `out`,
 * a copy of the raw values of `dtype`: an element zero in `pruned` (its float32 values) but
 * not in `raw` becomes all zero bytes. */
void mcz_prune_store_zeros(uint8_t *out, const uint8_t *raw, int32_t dtype, uint64_t start,
                           size_t n, const float *pruned);

/* Sum of squares in double with four accumulators (fixed order: deterministic). */
double mcz_prune_sum_squares(const float *v, size_t n);

/* Elements of v[0..n) equal to zero (either sign). */
uint64_t mcz_prune_count_zeros(const float *v, uint64_t n);

/* ||dW|| / ||W|| from the sum of squares removed and the total. */
double mcz_prune_rel_l2(double removed, double total);

/* What zeroing elements adds up: how many became zero, their sum of squares, and the largest
 * magnitude among them. */
typedef struct zero_acc {
    uint64_t zeroed;
    double removed;
    float max_zeroed;
} zero_acc;

/* Zero *x, counting it in acc; an existing zero keeps its sign bit: nothing changes. */
static inline void zero_acc_take(zero_acc *acc, float *x)
{
    float v = *x;
    if (v == 0.0f)
        return;
    acc->zeroed++;
    acc->removed += (double)v * v;
    float av = fabsf(v);
    if (!(av <= acc->max_zeroed))
        acc->max_zeroed = av;
    *x = 0.0f;
}

/* Zero, in index order, the elements of v with key(|x| * scale) below t and the first `quota`
 * equal to t, counting them in acc. Returns the quota left. */
uint64_t mcz_prune_zero_below(float *v, size_t n, float scale, uint32_t t, uint64_t quota,
                              zero_acc *acc);

/* ---- structured patterns (structured.c) ------------------------------------------------ */

/* Zeros N:M asks for in a weight of this shape (full groups N each, a short last group
 * max(0, N - padding)); 0 for a bad axis. */
uint64_t mcz_prune_nm_target(int rank, const int64_t *dims, int axis, unsigned n, unsigned m);

/* ---- the model pass (prune.c, global.c) ------------------------------------------------ */

/* A weight that will be pruned. */
typedef struct cand {
    size_t w;            /* weight index */
    const uint8_t *data; /* raw values */
    int axis;
    mcz_prune_result *r;
    /* global scope */
    float scale;
    double sumsq, sumsq_finite;
    size_t chunk0, nchunks;
    void *out;           /* new values (NULL: unchanged) */
    mcz_status st;       /* a job's failure, reported after the pool is done */
    char msg[MCZ_ERRMSG_MAX];
} cand;

/* Global scope: a run of one candidate's elements, one job of every pass. */
typedef struct chunk {
    size_t c;            /* candidate */
    uint64_t start, len;
    /* pass results */
    double sumsq, sumsq_finite;
    uint64_t zeros, eq, quota;
    zero_acc acc;
} chunk;

typedef struct prune_ctx {
    mcz_model *m;
    const mcz_prune_params *p;
    cand *c;
    size_t nc;
    chunk *ch;
    size_t nch;
    uint64_t (*hist)[HIST_BINS]; /* one per thread */
    uint32_t hi_bin, t;
    pthread_mutex_t lock;        /* the weight table, while jobs replace weights */
} prune_ctx;

/* Record a job's failure on its candidate. */
void mcz_prune_cand_fail(cand *c, mcz_status s, const char *what);

/* Replace the candidate's values with `out` (taken over) under the lock, then release the
 * pages of the input. A failure is recorded on the candidate. */
void mcz_prune_replace(prune_ctx *x, cand *c, void *out);

/* Unstructured pruning with one threshold over all candidates (x->c, their values read). */
mcz_status mcz_prune_global(prune_ctx *x, unsigned threads, mcz_prune_report *rep,
                            mcz_error *err);

#endif
