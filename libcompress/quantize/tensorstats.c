/* tensorstats.c - see mcz/tensorstats.h. */
#include "mcz/tensorstats.h"

#include <math.h>
#include <string.h>

#include "mczerr.h"

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

static float half(uint16_t h)
{
    int e = (h >> 10) & 31, m = h & 1023;
    float v = e == 31 ? (m ? NAN : INFINITY)
                      : e ? ldexpf(1.0f + (float)m / 1024.0f, e - 15) : ldexpf((float)m, -24);
    return h & 0x8000 ? -v : v;
}

mcz_status mcz_values_to_f32(int32_t dtype, const void *raw, uint64_t count, float *out,
                             mcz_error *err)
{
    const uint8_t *p = raw;
    for (uint64_t i = 0; i < count; i++) {
        union { uint8_t b[8]; float f; double d; uint16_t u16; int16_t i16; uint32_t u32;
                int32_t i32; uint64_t u64; int64_t i64; } x = {{0}};
        switch (dtype) {
        case 1: case 6: case 12: memcpy(x.b, p + 4 * i, 4); break;
        case 4: case 5: case 10: case 16: memcpy(x.b, p + 2 * i, 2); break;
        case 7: case 11: case 13: memcpy(x.b, p + 8 * i, 8); break;
        default: break;
        }
        switch (dtype) {
        case 1: out[i] = x.f; break;
        case 2: case 9: out[i] = p[i]; break;
        case 3: out[i] = (int8_t)p[i]; break;
        case 4: out[i] = x.u16; break;
        case 5: out[i] = x.i16; break;
        case 6: out[i] = (float)x.i32; break;
        case 7: out[i] = (float)x.i64; break;
        case 10: out[i] = half(x.u16); break;
        case 11: out[i] = (float)x.d; break;
        case 12: out[i] = (float)x.u32; break;
        case 13: out[i] = (float)x.u64; break;
        case 16: x.u32 = (uint32_t)x.u16 << 16; out[i] = x.f; break;
        case 21: out[i] = (float)((p[i / 2] >> (4 * (i & 1))) & 15); break;
        case 22: out[i] = (float)((int8_t)(uint8_t)(p[i / 2] >> (4 * (i & 1)) << 4) >> 4); break;
        default:
            return mcz_seterr(err, MCZ_ERR_UNSUPPORTED, "no float32 view of dtype %d", (int)dtype);
        }
    }
    return MCZ_OK;
}
