/* tensorstats.c - see mcz/tensorstats.h. */
#include "mcz/tensorstats.h"

#include <math.h>
#include <string.h>


void mcz_tensor_stats_f32(const float *v, size_t n, mcz_tensor_stats *s)
{
    memset(s, 0, sizeof *s);
    s->count = n;
    double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x = v[i];
        if (isnan(x)) {
            s->nan++;
        } else if (isinf(x)) {
            s->inf++;
        } else {
            s->finite++;
            s->zeros += x == 0;
            sum += x;
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
    }
    if (!s->finite)
        return;
    s->min = lo;
    s->max = hi;
    s->mean = sum / (double)s->finite;
    for (size_t i = 0; i < n; i++) /* two passes: no cancellation in the variance */
        if (isfinite(v[i]))
            sq += ((double)v[i] - s->mean) * ((double)v[i] - s->mean);
    s->std = sqrt(sq / (double)s->finite);
    double w = (hi - lo) / MCZ_STATS_BINS;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        size_t b = w > 0 ? (size_t)(((double)v[i] - lo) / w) : 0;
        s->hist[b < MCZ_STATS_BINS ? b : MCZ_STATS_BINS - 1]++;
    }
}
