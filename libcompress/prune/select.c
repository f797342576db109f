/* select.c - the selection kernels of magnitude pruning (see prune_impl.h): element access as
 * float32, the k-th smallest key (quickselect with a radix fallback, bracketed by a sample for
 * large arrays), and unstructured pruning of one float32 array. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "halffloat.h"
#include "prune/prune_impl.h"

/* ---- element access and sums ----------------------------------------------------------- */

void mcz_prune_load_f32(const uint8_t *raw, int32_t dtype, uint64_t start, size_t len, float *out)
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
            out[i] = mcz_bf16_widen(h);
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

void mcz_prune_store_zeros(uint8_t *out, const uint8_t *raw, int32_t dtype, uint64_t start,
                           size_t n, const float *pruned)
{
    size_t es = mcz_dtype_size(dtype);
    float orig[BUF_ELEMS];
    mcz_prune_load_f32(raw, dtype, start, n, orig);
    for (size_t i = 0; i < n; i++)
        if (pruned[i] == 0.0f && orig[i] != 0.0f)
            memset(out + (start + i) * es, 0, es);
}

double mcz_prune_sum_squares(const float *v, size_t n)
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

uint64_t mcz_prune_count_zeros(const float *v, uint64_t n)
{
    uint64_t zeros = 0;
    for (uint64_t i = 0; i < n; i++)
        zeros += v[i] == 0.0f;
    return zeros;
}

double mcz_prune_rel_l2(double removed, double total)
{
    if (removed == 0)
        return 0;
    return sqrt(removed / total);
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

/* The r-th smallest (0-based) of a[0..n) by two histogram passes; *less = keys below it.
 * MCZ_ERR_NOMEM when the histogram cannot be allocated. */
static mcz_status radix_select(const uint32_t *a, uint64_t n, uint64_t r, uint32_t *t,
                               uint64_t *less)
{
    uint64_t *h = calloc(HIST_BINS, sizeof *h);
    if (!h)
        return MCZ_ERR_NOMEM;
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
    return MCZ_OK;
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
            if (radix_select(a + lo, hi - lo, r - lo, &t, &l) == MCZ_OK) {
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

/* ---- unstructured pruning of an array ---------------------------------------------------- */

uint64_t mcz_prune_zero_below(float *v, size_t n, float scale, uint32_t t, uint64_t quota,
                              zero_acc *acc)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t key = mag_key(scale == 1.0f ? v[i] : v[i] * scale);
        if (key > t || (key == t && quota == 0))
            continue;
        if (key == t)
            quota--;
        zero_acc_take(acc, &v[i]);
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
    *sumsq = mcz_prune_sum_squares(v, (size_t)n);
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
        *sumsq = mcz_prune_sum_squares(v, (size_t)n);
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
        st->zeros_before = st->zeros_after = mcz_prune_count_zeros(v, n);
        st->sumsq = mcz_prune_sum_squares(v, (size_t)n);
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
    mcz_prune_zero_below(v, (size_t)n, 1.0f, t, k - less, &acc);
    st->zeros_after = zeros + acc.zeroed;
    st->threshold = acc.max_zeroed;
    st->rel_l2 = mcz_prune_rel_l2(acc.removed, total);
    return MCZ_OK;
}
