/* structured.c - structured patterns on one float32 array (see mcz/prune.h): N:M groups along
 * the reduction axis, and whole output channels by L2 norm. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prune/prune_impl.h"

/* Split a shape around `axis`: outer (before), len (the axis), inner (after). MCZ_ERR_ARG
 * for an axis outside the shape or a negative dimension. */
static mcz_status split_axis(int rank, const int64_t *dims, int axis, uint64_t *outer,
                             uint64_t *len, uint64_t *inner)
{
    if (axis < 0 || axis >= rank)
        return MCZ_ERR_ARG;
    *outer = *inner = 1;
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 0)
            return MCZ_ERR_ARG;
        if (d < axis)
            *outer *= (uint64_t)dims[d];
        else if (d > axis)
            *inner *= (uint64_t)dims[d];
    }
    *len = (uint64_t)dims[axis];
    return MCZ_OK;
}

/* ---- N:M ------------------------------------------------------------------------------- */

/* Zero the nz smallest keys of one group: glen elements `stride` apart from col. Ties go to
 * the lower index. */
static void nm_group(float *col, uint64_t stride, unsigned glen, unsigned nz, zero_acc *acc)
{
    uint32_t key[MCZ_PRUNE_MAX_M];
    for (unsigned j = 0; j < glen; j++)
        key[j] = mag_key(col[j * stride]);
    uint64_t chosen = 0;
    for (unsigned s = 0; s < nz; s++) {
        unsigned best = MCZ_PRUNE_MAX_M;
        for (unsigned j = 0; j < glen; j++)
            if (!(chosen >> j & 1) && (best == MCZ_PRUNE_MAX_M || key[j] < key[best]))
                best = j;
        chosen |= (uint64_t)1 << best;
        zero_acc_take(acc, &col[best * stride]);
    }
}

mcz_status mcz_prune_nm_f32(float *v, int rank, const int64_t *dims, int axis, unsigned n,
                            unsigned m, mcz_prune_stats *st)
{
    memset(st, 0, sizeof *st);
    uint64_t outer, len, inner;
    if (n < 1 || n >= m || m > MCZ_PRUNE_MAX_M ||
        split_axis(rank, dims, axis, &outer, &len, &inner) != MCZ_OK)
        return MCZ_ERR_ARG;
    uint64_t count = outer * len * inner, zeros = mcz_prune_count_zeros(v, count);
    double total = mcz_prune_sum_squares(v, count);
    st->sumsq = total;
    zero_acc acc = {0, 0, 0};
    for (uint64_t o = 0; o < outer; o++) {
        float *base = v + o * len * inner;
        for (uint64_t g0 = 0; g0 < len; g0 += m) {
            unsigned glen = len - g0 < m ? (unsigned)(len - g0) : m;
            unsigned pad = m - glen; /* a short last group counts its padding as zeros */
            if (pad >= n)
                continue;
            for (uint64_t i = 0; i < inner; i++)
                nm_group(base + g0 * inner + i, inner, glen, n - pad, &acc);
        }
    }
    st->zeros_before = zeros;
    st->zeros_after = zeros + acc.zeroed;
    st->threshold = acc.max_zeroed;
    st->rel_l2 = mcz_prune_rel_l2(acc.removed, total);
    return MCZ_OK;
}

uint64_t mcz_prune_nm_target(int rank, const int64_t *dims, int axis, unsigned n, unsigned m)
{
    uint64_t outer, len, inner;
    if (split_axis(rank, dims, axis, &outer, &len, &inner) != MCZ_OK)
        return 0;
    uint64_t per_line = len / m * n, tail = len % m;
    if (tail && m - tail < n)
        per_line += n - (m - tail);
    return outer * inner * per_line;
}

/* ---- whole channels -------------------------------------------------------------------- */

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
    if (split_axis(rank, dims, axis, &outer, &nch, &inner) != MCZ_OK || k > nch)
        return MCZ_ERR_ARG;
    uint64_t count = outer * nch * inner, zeros = mcz_prune_count_zeros(v, count);
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
            c[j].sq += mcz_prune_sum_squares(v + (o * nch + j) * inner, inner);
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
    st->rel_l2 = mcz_prune_rel_l2(acc.removed, total);
    return MCZ_OK;
}
