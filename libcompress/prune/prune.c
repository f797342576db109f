/* prune.c - magnitude pruning (see mcz/prune.h and docs/prune.md).
 *
 * Magnitudes are compared as keys: the bits of |x| as float32, which order exactly like the
 * magnitudes (NaN above +inf). Tensor scope selects the k-th smallest key per weight with a
 * quickselect; the global scope runs a two-pass radix selection (65,536-bin histograms of the
 * high then the low 16 key bits) over every prunable weight at once, chunked so threads share
 * big weights, without materialising the keys. Both then zero, in one pass in index order,
 * every element below the selected key and as many elements equal to it as the count needs. */
#include <fnmatch.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mcz/prune.h"
#include "mcz/roles.h"
#include "mcz/suggest.h"
#include "halffloat.h"
#include "parallel.h"
#include "onnx/model_impl.h"

#define HIST_BINS 65536u
#define CHUNK_ELEMS ((uint64_t)1 << 22) /* global scope: elements per job */
#define BUF_ELEMS 4096                  /* elements converted to float32 at a time */

/* ---- keys and element access ---------------------------------------------------------- */

static inline uint32_t mag_key(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    return u & 0x7fffffffu;
}

static inline float key_float(uint32_t k)
{
    float f;
    memcpy(&f, &k, 4);
    return f;
}

/* Elements [start, start+len) of raw little-endian values of `dtype` as float32 into out. */
static void load_f32(const uint8_t *raw, int32_t dtype, uint64_t start, size_t len, float *out)
{
    switch (dtype) {
    case MCZ_DT_FLOAT:
        memcpy(out, raw + 4 * start, 4 * len);
        break;
    case MCZ_DT_FLOAT16:
        for (size_t i = 0; i < len; i++) {
            uint16_t h;
            memcpy(&h, raw + 2 * (start + i), 2);
            out[i] = mcz_f16_widen(h);
        }
        break;
    case MCZ_DT_BFLOAT16:
        for (size_t i = 0; i < len; i++) {
            uint16_t h;
            memcpy(&h, raw + 2 * (start + i), 2);
            uint32_t u = (uint32_t)h << 16;
            memcpy(&out[i], &u, 4);
        }
        break;
    case MCZ_DT_DOUBLE:
        for (size_t i = 0; i < len; i++) {
            double d;
            memcpy(&d, raw + 8 * (start + i), 8);
            out[i] = (float)d;
        }
        break;
    default:
        memset(out, 0, 4 * len);
        break;
    }
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Sum of squares in double with four accumulators (fixed order: deterministic). */
static double sum_squares(const float *v, size_t n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += (double)v[i] * v[i];
        s1 += (double)v[i + 1] * v[i + 1];
        s2 += (double)v[i + 2] * v[i + 2];
        s3 += (double)v[i + 3] * v[i + 3];
    }
    for (; i < n; i++)
        s0 += (double)v[i] * v[i];
    return (s0 + s1) + (s2 + s3);
}

static double rel_l2_of(double removed, double total)
{
    if (removed == 0)
        return 0;
    return sqrt(removed / total);
}

/* ---- parameters ----------------------------------------------------------------------- */

mcz_prune_params mcz_prune_default_params(void)
{
    mcz_prune_params p;
    memset(&p, 0, sizeof p);
    p.pattern = MCZ_PRUNE_UNSTRUCTURED;
    p.scope = MCZ_PRUNE_SCOPE_TENSOR;
    return p;
}

mcz_status mcz_prune_parse_pattern(const char *s, mcz_prune_params *p, mcz_error *err)
{
    if (strcmp(s, "unstructured") == 0) {
        p->pattern = MCZ_PRUNE_UNSTRUCTURED;
        return MCZ_OK;
    }
    if (strcmp(s, "channel") == 0) {
        p->pattern = MCZ_PRUNE_CHANNEL;
        return MCZ_OK;
    }
    unsigned n = 0, m = 0;
    int used = 0;
    if (sscanf(s, "%u:%u%n", &n, &m, &used) == 2 && s[used] == '\0' && s[0] >= '0' &&
        s[0] <= '9') {
        if (n < 1 || n >= m || m > MCZ_PRUNE_MAX_M)
            return mcz_seterr(err, MCZ_ERR_ARG,
                              "pattern '%s': N:M needs 1 <= N < M <= %d", s, MCZ_PRUNE_MAX_M);
        p->pattern = MCZ_PRUNE_NM;
        p->nm_n = n;
        p->nm_m = m;
        return MCZ_OK;
    }
    return mcz_seterr(err, MCZ_ERR_ARG,
                      "unknown pattern '%s' (unstructured, N:M such as 2:4, or channel)", s);
}

const char *mcz_prune_pattern_str(const mcz_prune_params *p, char *buf, size_t cap)
{
    switch (p->pattern) {
    case MCZ_PRUNE_NM: snprintf(buf, cap, "%u:%u", p->nm_n, p->nm_m); break;
    case MCZ_PRUNE_CHANNEL: snprintf(buf, cap, "channel"); break;
    default: snprintf(buf, cap, "unstructured"); break;
    }
    return buf;
}

uint64_t mcz_prune_target(double sparsity, uint64_t count)
{
    if (!(sparsity > 0))
        return 0;
    double k = floor(sparsity * (double)count + 0.5);
    if (k >= (double)count) /* F < 1 never empties a weight (or all its channels) */
        return count ? count - 1 : 0;
    return (uint64_t)k;
}

/* ---- selection: quickselect with a radix fallback -------------------------------------- */

/* The r-th smallest (0-based) of a[0..n) by two histogram passes; *less = keys below it. */
static bool radix_select(const uint32_t *a, uint64_t n, uint64_t r, uint32_t *t, uint64_t *less)
{
    uint64_t *h = calloc(HIST_BINS, sizeof *h);
    if (!h)
        return false;
    for (uint64_t i = 0; i < n; i++)
        h[a[i] >> 16]++;
    uint64_t cum = 0;
    uint32_t b = 0;
    while (cum + h[b] <= r)
        cum += h[b++];
    memset(h, 0, HIST_BINS * sizeof *h);
    for (uint64_t i = 0; i < n; i++)
        if (a[i] >> 16 == b)
            h[a[i] & 0xffffu]++;
    uint32_t c = 0;
    while (cum + h[c] <= r)
        cum += h[c++];
    free(h);
    *t = b << 16 | c;
    *less = cum;
    return true;
}

static inline uint32_t median3(uint32_t x, uint32_t y, uint32_t z)
{
    if (x > y) {
        uint32_t s = x;
        x = y;
        y = s;
    }
    if (y > z)
        y = z;
    return x > y ? x : y;
}

/* Move the keys < p of a[lo..hi) to the front (branchless Lomuto); returns the boundary. */
static uint64_t partition_less(uint32_t *a, uint64_t lo, uint64_t hi, uint32_t p)
{
    uint64_t b = lo;
    for (uint64_t i = lo; i < hi; i++) {
        uint32_t x = a[i];
        a[i] = a[b];
        a[b] = x;
        b += x < p;
    }
    return b;
}

static uint64_t partition_less_equal(uint32_t *a, uint64_t lo, uint64_t hi, uint32_t p)
{
    uint64_t b = lo;
    for (uint64_t i = lo; i < hi; i++) {
        uint32_t x = a[i];
        a[i] = a[b];
        a[b] = x;
        b += x <= p;
    }
    return b;
}

uint32_t mcz_prune_select_u32(uint32_t *a, uint64_t n, uint64_t k, uint64_t *less)
{
    uint64_t r = k - 1, lo = 0, hi = n;
    int budget = 8;
    for (uint64_t s = n; s > 1; s >>= 1)
        budget += 2;
    while (hi - lo > 32) {
        if (budget-- == 0) { /* the pivots are losing: finish in linear time */
            uint32_t t;
            uint64_t l;
            if (radix_select(a + lo, hi - lo, r - lo, &t, &l)) {
                *less = lo + l;
                return t;
            }
            budget = -1; /* no memory: keep going with quickselect */
        }
        uint64_t len = hi - lo, q = len / 8;
        uint32_t p;
        if (len > 1024)
            p = median3(median3(a[lo], a[lo + q], a[lo + 2 * q]),
                        median3(a[lo + 3 * q], a[lo + len / 2], a[lo + 5 * q]),
                        median3(a[lo + 6 * q], a[lo + 7 * q], a[hi - 1]));
        else
            p = median3(a[lo], a[lo + len / 2], a[hi - 1]);
        uint64_t lt = partition_less(a, lo, hi, p);
        if (r < lt) {
            hi = lt;
            continue;
        }
        uint64_t le = partition_less_equal(a, lt, hi, p);
        if (r < le) { /* [lo, lt) < p, everything before lo is smaller still */
            *less = lt;
            return p;
        }
        lo = le;
    }
    /* small range: insertion sort */
    for (uint64_t i = lo + 1; i < hi; i++) {
        uint32_t x = a[i];
        uint64_t j = i;
        while (j > lo && a[j - 1] > x) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
    uint32_t t = a[r];
    uint64_t l = r;
    while (l > lo && a[l - 1] == t)
        l--;
    *less = l;
    return t;
}

/* ---- per-array algorithms --------------------------------------------------------------- */

/* Zero, in index order, the elements of v with key(|x| * scale) below t and the first `quota`
 * equal to t. Adds to the stats: newly zeroed elements, their sum of squares, and the largest
 * zeroed magnitude. */
typedef struct zero_acc {
    uint64_t zeroed;
    double removed;
    float max_zeroed;
} zero_acc;

static uint64_t zero_below(float *v, size_t n, float scale, uint32_t t, uint64_t quota,
                           zero_acc *acc)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t key = mag_key(scale == 1.0f ? v[i] : v[i] * scale);
        if (key > t || (key == t && quota == 0))
            continue;
        if (key == t)
            quota--;
        float x = v[i];
        if (x != 0.0f) { /* an existing zero keeps its sign bit: nothing changes */
            acc->zeroed++;
            acc->removed += (double)x * x;
            float ax = fabsf(x);
            if (!(ax <= acc->max_zeroed))
                acc->max_zeroed = ax;
            v[i] = 0.0f;
        }
    }
    return quota;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Keys of v into keys[], with the zero count and the sum of squares. */
static void keys_pass(const float *v, uint64_t n, uint32_t *keys, uint64_t *zeros, double *sumsq)
{
    uint64_t z = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t k = mag_key(v[i]);
        keys[i] = k;
        z += k == 0;
    }
    *zeros = z;
    *sumsq = sum_squares(v, (size_t)n);
}

#define SAMPLE 16384 /* keys sampled to bracket the k-th smallest (Floyd-Rivest) */

/* The k-th smallest key of v (1-based) and the count below it. Large arrays: a sorted sample
 * of evenly spaced keys gives two pivots that bracket rank k with a wide margin; one pass
 * counts the keys below the band and packs those inside it into `keys`, and quickselect runs
 * on that short band only. When the sample misled (the band does not hold rank k) the
 * selection runs on all keys. Also returns the zero count and sum of squares. */
static uint32_t select_kth(const float *v, uint64_t n, uint64_t k, uint32_t *keys,
                           uint64_t *less, uint64_t *zeros, double *sumsq)
{
    if (n >= 4 * SAMPLE) {
        uint32_t sample[SAMPLE];
        for (uint64_t j = 0; j < SAMPLE; j++)
            sample[j] = mag_key(v[j * n / SAMPLE]);
        qsort(sample, SAMPLE, sizeof *sample, cmp_u32);
        uint64_t at = (k - 1) * SAMPLE / n, d = 384; /* ~3 sqrt(SAMPLE) */
        uint32_t lo = at >= d ? sample[at - d] : 0;
        uint32_t hi = at + d < SAMPLE ? sample[at + d] : UINT32_MAX;
        uint64_t below = 0, m = 0, z = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint32_t key = mag_key(v[i]);
            z += key == 0;
            below += key < lo;
            keys[m] = key;
            m += key >= lo && key <= hi;
        }
        *zeros = z;
        *sumsq = sum_squares(v, (size_t)n);
        if (k > below && k <= below + m) {
            uint64_t l;
            uint32_t t = mcz_prune_select_u32(keys, m, k - below, &l);
            *less = below + l;
            return t;
        }
    }
    keys_pass(v, n, keys, zeros, sumsq);
    return mcz_prune_select_u32(keys, n, k, less);
}

mcz_status mcz_prune_unstructured_f32(float *v, uint64_t n, uint64_t k, uint32_t *scratch,
                                      mcz_prune_stats *st)
{
    memset(st, 0, sizeof *st);
    if (k > n)
        k = n;
    uint64_t zeros = 0, less = 0;
    double total = 0;
    if (k == 0) {
        for (uint64_t i = 0; i < n; i++)
            zeros += v[i] == 0.0f;
        st->zeros_before = st->zeros_after = zeros;
        st->sumsq = sum_squares(v, (size_t)n);
        return MCZ_OK;
    }
    uint32_t *keys = scratch;
    if (!keys && !(keys = malloc(n * sizeof *keys)))
        return MCZ_ERR_NOMEM;
    uint32_t t = select_kth(v, n, k, keys, &less, &zeros, &total);
    if (keys != scratch)
        free(keys);
    st->zeros_before = st->zeros_after = zeros;
    st->sumsq = total;
    if (k <= zeros)
        return MCZ_OK; /* already as sparse as asked: the zeros are the k smallest */
    zero_acc acc = {0, 0, 0};
    zero_below(v, (size_t)n, 1.0f, t, k - less, &acc);
    st->zeros_after = zeros + acc.zeroed;
    st->threshold = acc.max_zeroed;
    st->rel_l2 = rel_l2_of(acc.removed, total);
    return MCZ_OK;
}

/* Split a shape around `axis`: outer (before), len (the axis), inner (after). */
static bool split_axis(int rank, const int64_t *dims, int axis, uint64_t *outer, uint64_t *len,
                       uint64_t *inner)
{
    if (axis < 0 || axis >= rank)
        return false;
    *outer = *inner = 1;
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 0)
            return false;
        if (d < axis)
            *outer *= (uint64_t)dims[d];
        else if (d > axis)
            *inner *= (uint64_t)dims[d];
    }
    *len = (uint64_t)dims[axis];
    return true;
}

mcz_status mcz_prune_nm_f32(float *v, int rank, const int64_t *dims, int axis, unsigned n,
                            unsigned m, mcz_prune_stats *st)
{
    memset(st, 0, sizeof *st);
    uint64_t outer, len, inner;
    if (n < 1 || n >= m || m > MCZ_PRUNE_MAX_M || !split_axis(rank, dims, axis, &outer, &len, &inner))
        return MCZ_ERR_ARG;
    uint64_t count = outer * len * inner, zeros = 0;
    for (uint64_t i = 0; i < count; i++)
        zeros += v[i] == 0.0f;
    double total = sum_squares(v, count);
    st->sumsq = total;
    zero_acc acc = {0, 0, 0};
    uint32_t key[MCZ_PRUNE_MAX_M];
    for (uint64_t o = 0; o < outer; o++) {
        float *base = v + o * len * inner;
        for (uint64_t g0 = 0; g0 < len; g0 += m) {
            unsigned glen = len - g0 < m ? (unsigned)(len - g0) : m;
            unsigned pad = m - glen; /* a short last group counts its padding as zeros */
            if (pad >= n)
                continue;
            unsigned nz = n - pad;
            for (uint64_t i = 0; i < inner; i++) {
                float *col = base + g0 * inner + i;
                for (unsigned j = 0; j < glen; j++)
                    key[j] = mag_key(col[j * inner]);
                uint64_t chosen = 0;
                for (unsigned s = 0; s < nz; s++) {
                    unsigned best = MCZ_PRUNE_MAX_M;
                    for (unsigned j = 0; j < glen; j++)
                        if (!(chosen >> j & 1) && (best == MCZ_PRUNE_MAX_M || key[j] < key[best]))
                            best = j;
                    chosen |= (uint64_t)1 << best;
                    float x = col[best * inner];
                    if (x != 0.0f) {
                        acc.zeroed++;
                        acc.removed += (double)x * x;
                        if (!(fabsf(x) <= acc.max_zeroed))
                            acc.max_zeroed = fabsf(x);
                        col[best * inner] = 0.0f;
                    }
                }
            }
        }
    }
    st->zeros_before = zeros;
    st->zeros_after = zeros + acc.zeroed;
    st->threshold = acc.max_zeroed;
    st->rel_l2 = rel_l2_of(acc.removed, total);
    return MCZ_OK;
}

/* Zeros N:M asks for in a weight of this shape (full groups N each, a short last group
 * max(0, N - padding)). */
static uint64_t nm_target(int rank, const int64_t *dims, int axis, unsigned n, unsigned m)
{
    uint64_t outer, len, inner;
    if (!split_axis(rank, dims, axis, &outer, &len, &inner))
        return 0;
    uint64_t per_line = len / m * n, tail = len % m;
    if (tail && m - tail < n)
        per_line += n - (m - tail);
    return outer * inner * per_line;
}

typedef struct chan_norm {
    double sq;
    uint64_t index;
} chan_norm;

static int by_norm(const void *a, const void *b)
{
    const chan_norm *x = a, *y = b;
    int xn = isnan(x->sq), yn = isnan(y->sq);
    if (xn != yn)
        return xn - yn; /* NaN norms last */
    if (!xn && x->sq != y->sq)
        return x->sq < y->sq ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

mcz_status mcz_prune_channel_f32(float *v, int rank, const int64_t *dims, int axis, uint64_t k,
                                 mcz_prune_stats *st)
{
    memset(st, 0, sizeof *st);
    uint64_t outer, nch, inner;
    if (!split_axis(rank, dims, axis, &outer, &nch, &inner) || k > nch)
        return MCZ_ERR_ARG;
    uint64_t count = outer * nch * inner, zeros = 0;
    for (uint64_t i = 0; i < count; i++)
        zeros += v[i] == 0.0f;
    st->zeros_before = st->zeros_after = zeros;
    if (nch == 0)
        return MCZ_OK;
    chan_norm *c = calloc(nch, sizeof *c);
    if (!c)
        return MCZ_ERR_NOMEM;
    double total = 0;
    for (uint64_t j = 0; j < nch; j++)
        c[j].index = j;
    for (uint64_t o = 0; o < outer; o++)
        for (uint64_t j = 0; j < nch; j++)
            c[j].sq += sum_squares(v + (o * nch + j) * inner, inner);
    for (uint64_t j = 0; j < nch; j++)
        total += c[j].sq;
    st->sumsq = total;
    /* channel count is small (a few thousand): order them outright */
    qsort(c, nch, sizeof *c, by_norm);
    zero_acc acc = {0, 0, 0};
    double max_norm = 0;
    for (uint64_t r = 0; r < k; r++) {
        uint64_t j = c[r].index;
        uint64_t before = acc.zeroed;
        for (uint64_t o = 0; o < outer; o++) {
            float *s = v + (o * nch + j) * inner;
            for (uint64_t i = 0; i < inner; i++)
                if (s[i] != 0.0f) {
                    acc.zeroed++;
                    s[i] = 0.0f;
                }
        }
        if (acc.zeroed > before && c[r].sq > max_norm)
            max_norm = c[r].sq;
        if (c[r].sq != 0)
            acc.removed += c[r].sq;
    }
    /* channels all zero now: the k chosen plus zero channels beyond them */
    uint64_t zeroed_ch = k;
    for (uint64_t r = k; r < nch; r++)
        zeroed_ch += c[r].sq == 0;
    free(c);
    st->zeros_after = zeros + acc.zeroed;
    st->channels_zeroed = zeroed_ch;
    st->threshold = sqrt(max_norm);
    st->rel_l2 = rel_l2_of(acc.removed, total);
    return MCZ_OK;
}

/* ---- the model -------------------------------------------------------------------------- */

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
    mcz_status st;
    char msg[MCZ_ERRMSG_MAX];
} cand;

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
    pthread_mutex_t lock;
} prune_ctx;

static void cand_fail(cand *c, mcz_status s, const char *what)
{
    c->st = s;
    size_t l = strnlen(what, sizeof c->msg - 1);
    memcpy(c->msg, what, l);
    c->msg[l] = '\0';
}

/* Apply `f` (float32 values after pruning) to a copy of the raw values of another dtype:
 * elements zero in f but not in the original become zero. */
static void *write_back(const uint8_t *raw, int32_t dtype, uint64_t count, uint64_t nbytes,
                        const float *f)
{
    uint8_t *out = malloc(nbytes ? nbytes : 1);
    if (!out)
        return NULL;
    memcpy(out, raw, nbytes);
    size_t es = mcz_dtype_size(dtype);
    float buf[BUF_ELEMS];
    for (uint64_t s = 0; s < count; s += BUF_ELEMS) {
        size_t n = count - s < BUF_ELEMS ? (size_t)(count - s) : BUF_ELEMS;
        load_f32(raw, dtype, s, n, buf);
        for (size_t i = 0; i < n; i++)
            if (f[s + i] == 0.0f && buf[i] != 0.0f)
                memset(out + (s + i) * es, 0, es);
    }
    return out;
}

static void replace_locked(prune_ctx *x, cand *c, void *out)
{
    const mcz_weight *w = mcz_model_weight(x->m, c->w);
    mcz_error e = {0};
    pthread_mutex_lock(&x->lock);
    mcz_status s = mcz_model_weight_replace(x->m, c->w, w->dtype, w->rank, w->dims, out,
                                            w->nbytes, &e);
    pthread_mutex_unlock(&x->lock);
    if (s)
        cand_fail(c, s, e.msg);
    mcz_model_release_pages(x->m, c->data, w->nbytes); /* the input's pages: done with */
}

/* Tensor scope: prune one weight. */
static void job_tensor_body(void *ctx, size_t j, unsigned tid)
{
    (void)tid;
    prune_ctx *x = ctx;
    cand *c = &x->c[j];
    const mcz_prune_params *p = x->p;
    const mcz_weight *w = mcz_model_weight(x->m, c->w);
    mcz_prune_result *r = c->r;
    uint64_t n = w->count;
    float *f = malloc((n ? n : 1) * sizeof *f);
    if (!f) {
        cand_fail(c, MCZ_ERR_NOMEM, "out of memory");
        return;
    }
    /* float32: the input's pages go as their values are copied, so the weight is not held
     * twice (the largest weight of a CNN can be half the model) */
    for (uint64_t at = 0, step = (uint64_t)1 << 18; at < n; at += step) { /* 1 MiB */
        uint64_t len = n - at < step ? n - at : step;
        load_f32(c->data, w->dtype, at, len, f + at);
        if (w->dtype == MCZ_DT_FLOAT)
            mcz_model_release_pages(x->m, c->data + at * 4, len * 4);
    }
    mcz_prune_stats st;
    mcz_status s;
    switch (p->pattern) {
    case MCZ_PRUNE_NM:
        r->target = nm_target(w->rank, w->dims, c->axis, p->nm_n, p->nm_m);
        s = mcz_prune_nm_f32(f, w->rank, w->dims, c->axis, p->nm_n, p->nm_m, &st);
        break;
    case MCZ_PRUNE_CHANNEL: {
        uint64_t nch = (uint64_t)w->dims[c->axis];
        uint64_t k = mcz_prune_target(p->sparsity, nch);
        r->channels = nch;
        r->target = nch ? k * (n / nch) : 0;
        s = mcz_prune_channel_f32(f, w->rank, w->dims, c->axis, k, &st);
        break;
    }
    default:
        r->target = mcz_prune_target(p->sparsity, n);
        s = mcz_prune_unstructured_f32(f, n, r->target, NULL, &st);
        break;
    }
    if (s) {
        free(f);
        cand_fail(c, s, s == MCZ_ERR_NOMEM ? "out of memory" : "bad axis");
        return;
    }
    r->zeros_before = st.zeros_before;
    r->zeros_after = st.zeros_after;
    r->channels_zeroed = st.channels_zeroed;
    r->threshold = st.threshold;
    r->rel_l2 = st.rel_l2;
    c->sumsq = st.sumsq;
    r->changed = st.zeros_after > st.zeros_before;
    if (!r->changed) {
        free(f);
        return;
    }
    void *out;
    if (w->dtype == MCZ_DT_FLOAT) {
        out = f;
    } else {
        out = write_back(c->data, w->dtype, n, w->nbytes, f);
        free(f);
        if (!out) {
            cand_fail(c, MCZ_ERR_NOMEM, "out of memory");
            return;
        }
    }
    replace_locked(x, c, out);
}

static void job_tensor(void *ctx, size_t j, unsigned tid)
{
    prune_ctx *x = ctx;
    job_tensor_body(ctx, j, tid);
    if (x->p->progress)
        x->p->progress(x->p->progress_ctx, 1, mcz_model_weight(x->m, x->c[j].w)->nbytes);
}

/* ---- global scope ---------------------------------------------------------------------- */

static inline uint32_t gkey(float x, float scale)
{
    return mag_key(scale == 1.0f ? x : x * scale);
}

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
        load_f32(c->data, dt, k->start + s, n, buf);
        k->sumsq += sum_squares(buf, n);
        for (size_t i = 0; i < n; i++) {
            k->zeros += buf[i] == 0.0f;
            if (isfinite(buf[i]))
                k->sumsq_finite += (double)buf[i] * buf[i];
        }
    }
}

/* pass 1 (hi_only) and pass 2: histograms of the keys */
static void hist_chunk(prune_ctx *x, size_t j, unsigned tid, int pass)
{
    chunk *k = &x->ch[j];
    const cand *c = &x->c[k->c];
    int32_t dt = mcz_model_weight(x->m, c->w)->dtype;
    uint64_t *h = x->hist[tid];
    float buf[BUF_ELEMS];
    for (uint64_t s = 0; s < k->len; s += BUF_ELEMS) {
        size_t n = k->len - s < BUF_ELEMS ? (size_t)(k->len - s) : BUF_ELEMS;
        load_f32(c->data, dt, k->start + s, n, buf);
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
        load_f32(c->data, w->dtype, k->start + s, n, buf);
        uint64_t before = k->acc.zeroed;
        quota = zero_below(buf, n, c->scale, x->t, quota, &k->acc);
        if (k->acc.zeroed == before)
            continue;
        if (w->dtype == MCZ_DT_FLOAT) {
            memcpy(out + (k->start + s) * 4, buf, n * 4);
        } else {
            float orig[BUF_ELEMS];
            load_f32(c->data, w->dtype, k->start + s, n, orig);
            for (size_t i = 0; i < n; i++)
                if (buf[i] == 0.0f && orig[i] != 0.0f)
                    memset(out + (k->start + s + i) * es, 0, es);
        }
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

static int hist_find(const uint64_t *h, uint64_t r, uint64_t *cum)
{
    uint32_t b = 0;
    while (*cum + h[b] <= r)
        *cum += h[b++];
    return (int)b;
}

/* Sum the per-thread histograms into the first (integer sums: the same for any order). */
static void merge_hist(prune_ctx *x, unsigned threads)
{
    for (unsigned t = 1; t < threads; t++)
        for (uint32_t b = 0; b < HIST_BINS; b++)
            x->hist[0][b] += x->hist[t][b];
}

static mcz_status prune_global(prune_ctx *x, unsigned threads, mcz_prune_report *rep,
                               mcz_error *err)
{
    const mcz_prune_params *p = x->p;
    /* chunks */
    size_t nch = 0;
    for (size_t i = 0; i < x->nc; i++) {
        uint64_t n = mcz_model_weight(x->m, x->c[i].w)->count;
        x->c[i].chunk0 = nch;
        x->c[i].nchunks = (size_t)((n + CHUNK_ELEMS - 1) / CHUNK_ELEMS);
        nch += x->c[i].nchunks;
    }
    x->ch = calloc(nch ? nch : 1, sizeof *x->ch);
    if (!x->ch)
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    x->nch = nch;
    uint64_t total = 0;
    for (size_t i = 0; i < x->nc; i++) {
        uint64_t n = mcz_model_weight(x->m, x->c[i].w)->count;
        for (size_t q = 0; q < x->c[i].nchunks; q++) {
            chunk *k = &x->ch[x->c[i].chunk0 + q];
            k->c = i;
            k->start = q * CHUNK_ELEMS;
            k->len = n - k->start < CHUNK_ELEMS ? n - k->start : CHUNK_ELEMS;
        }
        total += n;
    }
    /* pass 0: norms, zeros, scales */
    mcz_parallel_for(nch, threads, job_sums, x);
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
        if (p->normalize && n && c->sumsq_finite > 0) {
            double rms = sqrt(c->sumsq_finite / (double)n);
            float s = (float)(1.0 / rms);
            if (isfinite(s) && s > 0)
                c->scale = s;
        }
    }
    uint64_t k = mcz_prune_target(p->sparsity, total);
    rep->target = k;
    if (k == 0)
        return MCZ_OK;
    x->hist = calloc(threads, sizeof *x->hist);
    if (!x->hist)
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    /* pass 1 and 2: the k-th smallest key over everything */
    mcz_parallel_for(nch, threads, job_hist1, x);
    merge_hist(x, threads);
    uint64_t cum = 0;
    x->hi_bin = (uint32_t)hist_find(x->hist[0], k - 1, &cum);
    memset(x->hist, 0, threads * sizeof *x->hist);
    mcz_parallel_for(nch, threads, job_hist2, x);
    merge_hist(x, threads);
    uint32_t lo = (uint32_t)hist_find(x->hist[0], k - 1, &cum);
    free(x->hist);
    x->hist = NULL;
    x->t = x->hi_bin << 16 | lo;
    uint64_t need_eq = k - cum; /* cum: keys below t */
    rep->threshold = key_float(x->t);
    /* pass 3: ties at t, given out in weight-table order then index order */
    mcz_parallel_for(nch, threads, job_eq, x);
    for (size_t q = 0; q < nch; q++) {
        x->ch[q].quota = x->ch[q].eq < need_eq ? x->ch[q].eq : need_eq;
        need_eq -= x->ch[q].quota;
    }
    /* pass 4: zero into new buffers, then replace the weights that changed */
    for (size_t i = 0; i < x->nc; i++) {
        const mcz_weight *w = mcz_model_weight(x->m, x->c[i].w);
        if (!(x->c[i].out = malloc(w->nbytes ? w->nbytes : 1)))
            return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory for '%s'", w->name);
    }
    mcz_parallel_for(nch, threads, job_zero, x);
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
        r->rel_l2 = rel_l2_of(a.removed, c->sumsq);
        r->changed = a.zeroed > 0;
        r->target = r->zeros_after; /* this weight's share of the global count */
        void *out = c->out;
        c->out = NULL;
        if (!r->changed) {
            free(out);
            continue;
        }
        replace_locked(x, c, out);
        if (c->st)
            return mcz_seterr(err, c->st, "%s: '%s': %s", mcz_model_path(x->m), r->name, c->msg);
    }
    return MCZ_OK;
}

/* ---- candidates, exclusion, the report ------------------------------------------------- */

static bool excluded(const mcz_prune_params *p, const char *name, const char *node,
                     const char **which)
{
    for (size_t e = 0; e < p->nexclude; e++)
        if (fnmatch(p->exclude[e], name, 0) == 0 || (node && *node && fnmatch(p->exclude[e], node, 0) == 0)) {
            *which = p->exclude[e];
            return true;
        }
    return false;
}

/* Every --exclude pattern must match a weight or consuming node name. */
static mcz_status check_excludes(mcz_model *m, const mcz_prune_params *p,
                                 const mcz_weight_role *roles, mcz_error *err)
{
    size_t nw = mcz_model_weight_count(m);
    for (size_t e = 0; e < p->nexclude; e++) {
        bool hit = false;
        for (size_t i = 0; i < nw && !hit; i++) {
            const char *node = roles[i].node;
            hit = fnmatch(p->exclude[e], mcz_model_weight(m, i)->name, 0) == 0 ||
                  (node && *node && fnmatch(p->exclude[e], node, 0) == 0);
        }
        if (hit)
            continue;
        /* suggest among the names of weights that feed a supported op, then their nodes */
        const char **names = calloc(2 * nw + 1, sizeof *names);
        if (!names)
            return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        size_t nn = 0;
        for (size_t i = 0; i < nw; i++)
            if (roles[i].op != MCZ_ROLE_NONE || roles[i].why_not)
                names[nn++] = mcz_model_weight(m, i)->name;
        for (size_t i = 0; i < nw; i++)
            if (roles[i].op != MCZ_ROLE_NONE || roles[i].why_not)
                names[nn++] = roles[i].node;
        size_t idx[3], k = mcz_suggest(p->exclude[e], names, nn, idx, 3);
        char list[400];
        mcz_suggest_list(names, idx, k, list, sizeof list);
        const char *pre = k ? " (did you mean " : "", *post = k ? "?)" : "";
        if (!k && nn) { /* nothing close: show what the names look like */
            idx[0] = 0;
            mcz_suggest_list(names, idx, 1, list, sizeof list);
            pre = " (prunable weights are named like ";
            post = ")";
        }
        mcz_status s = mcz_seterr(err, MCZ_ERR_NOT_FOUND,
                                  "%s: --exclude '%s' matches no weight or node%s%s%s",
                                  mcz_model_path(m), p->exclude[e], pre, list, post);
        free(names);
        return s;
    }
    return MCZ_OK;
}

void mcz_prune_report_free(mcz_prune_report *r)
{
    if (!r)
        return;
    free(r->w);
    free(r);
}

static mcz_status check_params(const mcz_prune_params *p, mcz_error *err)
{
    if (!(p->sparsity >= 0 && p->sparsity < 1))
        return mcz_seterr(err, MCZ_ERR_ARG, "sparsity %g is outside [0, 1)", p->sparsity);
    if (p->pattern == MCZ_PRUNE_NM && (p->nm_n < 1 || p->nm_n >= p->nm_m || p->nm_m > MCZ_PRUNE_MAX_M))
        return mcz_seterr(err, MCZ_ERR_ARG, "N:M needs 1 <= N < M <= %d", MCZ_PRUNE_MAX_M);
    if (p->pattern != MCZ_PRUNE_UNSTRUCTURED && p->pattern != MCZ_PRUNE_NM &&
        p->pattern != MCZ_PRUNE_CHANNEL)
        return mcz_seterr(err, MCZ_ERR_ARG, "unknown pattern %d", (int)p->pattern);
    if (p->scope == MCZ_PRUNE_SCOPE_GLOBAL && p->pattern != MCZ_PRUNE_UNSTRUCTURED)
        return mcz_seterr(err, MCZ_ERR_ARG, "the global scope applies to unstructured pruning only");
    if (p->scope != MCZ_PRUNE_SCOPE_TENSOR && p->scope != MCZ_PRUNE_SCOPE_GLOBAL)
        return mcz_seterr(err, MCZ_ERR_ARG, "unknown scope %d", (int)p->scope);
    if (p->normalize && p->scope != MCZ_PRUNE_SCOPE_GLOBAL)
        return mcz_seterr(err, MCZ_ERR_ARG, "normalised magnitudes apply to the global scope only");
    return MCZ_OK;
}

mcz_status mcz_prune_model(mcz_model *m, const mcz_prune_params *p, mcz_prune_report **report,
                           mcz_error *err)
{
    if (report)
        *report = NULL;
    mcz_status s = check_params(p, err);
    if (s)
        return s;
    size_t nw = mcz_model_weight_count(m);
    mcz_weight_role *roles = calloc(nw ? nw : 1, sizeof *roles);
    mcz_prune_report *rep = calloc(1, sizeof *rep);
    prune_ctx x;
    memset(&x, 0, sizeof x);
    x.m = m;
    x.p = p;
    pthread_mutex_init(&x.lock, NULL);
    if (!roles || !rep || !(rep->w = calloc(nw ? nw : 1, sizeof *rep->w)) ||
        !(x.c = calloc(nw ? nw : 1, sizeof *x.c))) {
        s = mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((s = mcz_model_weight_roles(m, roles, err)) || (s = check_excludes(m, p, roles, err)))
        goto out;
    /* the candidates, and why the others stay as they are */
    for (size_t i = 0; i < nw; i++) {
        const mcz_weight_role *ro = &roles[i];
        if (ro->op == MCZ_ROLE_NONE && !ro->why_not)
            continue;
        const mcz_weight *w = mcz_model_weight(m, i);
        mcz_prune_result *r = &rep->w[rep->n++];
        r->weight = i;
        r->name = w->name;
        r->op_type = ro->op_type ? ro->op_type : "";
        r->count = w->count;
        r->axis = p->pattern == MCZ_PRUNE_NM ? ro->reduce_axis
                  : p->pattern == MCZ_PRUNE_CHANNEL ? ro->channel_axis : -1;
        const char *which;
        if (ro->op == MCZ_ROLE_NONE)
            r->skipped = ro->why_not;
        else if (!mcz_dtype_is_float(w->dtype))
            r->skipped = "not a floating-point weight";
        else if (excluded(p, w->name, ro->node, &which))
            r->skipped = "excluded (--exclude)";
        else if (w->count == 0)
            r->skipped = "empty";
        else if (w->count < p->min_elements)
            r->skipped = "fewer elements than --min-elements";
        else if (p->pattern == MCZ_PRUNE_NM && ro->reduce_axis < 0)
            r->skipped = "no reduction axis for N:M";
        else if (p->pattern == MCZ_PRUNE_CHANNEL && ro->channel_axis < 0)
            r->skipped = "no output-channel axis";
        if (r->skipped)
            continue;
        cand *c = &x.c[x.nc++];
        c->w = i;
        c->r = r;
        c->axis = r->axis;
    }
    /* values: read in this thread (a typed-field weight is converted once, here) */
    for (size_t j = 0; j < x.nc; j++)
        if (!(x.c[j].data = mcz_model_weight_data(m, x.c[j].w, err))) {
            s = err ? err->code : MCZ_ERR_NOMEM;
            goto out;
        }
    unsigned threads = mcz_thread_count(p->threads, MCZ_THREADS_MAX);
    double t0 = now_seconds();
    if (p->sparsity > 0 || p->pattern == MCZ_PRUNE_NM) {
        if (p->scope == MCZ_PRUNE_SCOPE_GLOBAL) {
            s = prune_global(&x, threads, rep, err);
            if (s)
                goto out;
        } else {
            mcz_parallel_for(x.nc, threads, job_tensor, &x);
        }
    } else {
        for (size_t j = 0; j < x.nc; j++) { /* nothing to do but count the zeros */
            const mcz_weight *w = mcz_model_weight(m, x.c[j].w);
            float buf[BUF_ELEMS];
            uint64_t zeros = 0;
            for (uint64_t s0 = 0; s0 < w->count; s0 += BUF_ELEMS) {
                size_t n = w->count - s0 < BUF_ELEMS ? (size_t)(w->count - s0) : BUF_ELEMS;
                load_f32(x.c[j].data, w->dtype, s0, n, buf);
                for (size_t i = 0; i < n; i++)
                    zeros += buf[i] == 0.0f;
            }
            x.c[j].r->zeros_before = x.c[j].r->zeros_after = zeros;
            if (p->pattern == MCZ_PRUNE_CHANNEL)
                x.c[j].r->channels = (uint64_t)w->dims[x.c[j].axis];
        }
    }
    rep->seconds = now_seconds() - t0;
    for (size_t j = 0; j < x.nc; j++)
        if (x.c[j].st) {
            s = mcz_seterr(err, x.c[j].st, "%s: weight '%s': %s", mcz_model_path(m),
                           x.c[j].r->name, x.c[j].msg);
            goto out;
        }
    /* totals */
    double removed = 0, total_sq = 0;
    for (size_t j = 0; j < x.nc; j++) {
        const mcz_prune_result *r = x.c[j].r;
        rep->pruned++;
        rep->count += r->count;
        rep->zeros_before += r->zeros_before;
        rep->zeros_after += r->zeros_after;
        if (p->scope != MCZ_PRUNE_SCOPE_GLOBAL) {
            rep->target += r->target;
            if (r->threshold > rep->threshold)
                rep->threshold = r->threshold;
        }
        rep->bytes += mcz_model_weight(m, r->weight)->nbytes;
        /* ||dW||^2 = rel^2 * ||W||^2, summed over weights */
        total_sq += x.c[j].sumsq;
        removed += r->rel_l2 * r->rel_l2 * x.c[j].sumsq;
    }
    rep->rel_l2 = total_sq > 0 ? sqrt(removed / total_sq) : 0;
    if (report) {
        *report = rep;
        rep = NULL;
    }
    s = MCZ_OK;
out:
    for (size_t j = 0; j < x.nc; j++)
        free(x.c[j].out);
    free(x.c);
    free(x.ch);
    free(x.hist);
    free(roles);
    mcz_prune_report_free(rep);
    pthread_mutex_destroy(&x.lock);
    return s;
}
