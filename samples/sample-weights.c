/* sample-weights.c - the values of a generated weight, "drawn like trained ones".
 *
 * Each weight has its own xoshiro256** stream seeded (through splitmix64) from the --seed and
 * the weight's name, so a weight's values depend on (seed, name, kind, dims) only. Values are
 * produced in order, a chunk at a time, so a weight of any size needs a few hundred KiB.
 *
 *   matrices / conv kernels: normal-ish values (sum of four uniforms), scaled per output
 *       channel by std/sqrt(fan_in) * a log-normal factor (sigma 0.4, mean square 1), so some
 *       channels are several times wider than others; about one value in 1024 is an outlier
 *       of 6 to 12 times its channel's scale;
 *   biases: std 0.02;  norm scales: 1 + 0.1 n;  norm shifts: 0.05 n;
 *   BatchNorm running mean: 0.1 n;  running variance: exp(0.3 n) (positive, around 1).
 *
 * Values are plain float arithmetic on the PRNG output; libm's sqrtf / expf only make the
 * per-channel factors and running variances. The same arguments give the same bytes.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

#define CHUNK 16384u

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static void rng_seed(rng *r, uint64_t seed, const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the name */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    uint64_t x = seed ^ h;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

/* Uniform in [0, 1). */
static float uniform(rng *r)
{
    return (float)(rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

/* Mean 0, variance 1, within +-3.46: the sum of four 16-bit uniforms. */
static float normalish(rng *r)
{
    uint64_t u = rng_next(r);
    uint32_t s = (uint32_t)(u & 0xffff) + (uint32_t)((u >> 16) & 0xffff) +
                 (uint32_t)((u >> 32) & 0xffff) + (uint32_t)(u >> 48);
    return ((float)s * (1.0f / 65536.0f) - 2.0f) * 1.7320508f;
}

uint16_t sample_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 0xffu;
    uint32_t mant = x & 0x7fffffu;
    if (exp == 0xffu)
        return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31)
        return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10)
            return (uint16_t)sign;
        mant |= 0x800000u;
        unsigned shift = (unsigned)(14 - e);
        uint32_t h = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1)))
            h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
        h++; /* a carry into the exponent is the right result (up to infinity) */
    return (uint16_t)(sign | h);
}

uint16_t sample_f32_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7f800000u) == 0x7f800000u && (x & 0x7fffffu))
        return (uint16_t)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

/* Where the output channel of element i is, and how many there are. */
static uint64_t channels(const sample_weight *w)
{
    if (w->kind == SAMPLE_W_ROWS)
        return (uint64_t)w->dims[0];
    if (w->kind == SAMPLE_W_COLS)
        return (uint64_t)w->dims[w->ndims - 1];
    return 0;
}

bool sample_weight_emit(const sample_weight *w, uint64_t seed, sample_write_fn fn, void *ctx)
{
    rng r;
    rng_seed(&r, seed, w->name);
    uint64_t nch = channels(w);
    float *scale = NULL;
    float *vals = malloc(CHUNK * sizeof *vals);
    uint8_t *bytes = malloc(CHUNK * 4);
    bool ok = vals && bytes;
    if (ok && nch) {
        scale = malloc((size_t)nch * sizeof *scale);
        ok = scale != NULL;
        const float sigma = 0.4f;
        float base = 1.0f / sqrtf(w->fan_in > 0 ? w->fan_in : 1.0f);
        for (uint64_t c = 0; ok && c < nch; c++)
            scale[c] = base * expf(sigma * normalish(&r) - sigma * sigma);
    }
    if (!ok) {
        free(scale);
        free(vals);
        free(bytes);
        errno = ENOMEM;
        return false;
    }
    uint64_t row = nch ? w->count / nch : 1;
    uint64_t next_outlier = rng_next(&r) % 2048;
    size_t es = sample_elem_size(w->elem_type);
    for (uint64_t i = 0; ok && i < w->count;) {
        size_t n = w->count - i < CHUNK ? (size_t)(w->count - i) : CHUNK;
        for (size_t k = 0; k < n; k++, i++) {
            float z = normalish(&r), v;
            switch (w->kind) {
            case SAMPLE_W_ROWS:
            case SAMPLE_W_COLS: {
                float s = scale[w->kind == SAMPLE_W_ROWS ? i / row : i % nch];
                if (i == next_outlier) {
                    float mag = 6.0f + 6.0f * uniform(&r);
                    v = (z < 0 ? -mag : mag) * s;
                    next_outlier += 1 + rng_next(&r) % 2047;
                } else {
                    v = z * s;
                }
                break;
            }
            case SAMPLE_W_BIAS: v = 0.02f * z; break;
            case SAMPLE_W_GAMMA: v = 1.0f + 0.1f * z; break;
            case SAMPLE_W_BETA: v = 0.05f * z; break;
            case SAMPLE_W_MEAN: v = 0.1f * z; break;
            case SAMPLE_W_VAR: v = expf(0.3f * z); break;
            default: v = z; break;
            }
            vals[k] = v;
        }
        for (size_t k = 0; k < n; k++) {
            if (es == 4) {
                uint32_t u;
                memcpy(&u, &vals[k], 4);
                bytes[4 * k] = (uint8_t)u;
                bytes[4 * k + 1] = (uint8_t)(u >> 8);
                bytes[4 * k + 2] = (uint8_t)(u >> 16);
                bytes[4 * k + 3] = (uint8_t)(u >> 24);
            } else {
                uint16_t h = w->elem_type == SAMPLE_DT_BFLOAT16 ? sample_f32_to_bf16(vals[k])
                                                                : sample_f32_to_f16(vals[k]);
                bytes[2 * k] = (uint8_t)h;
                bytes[2 * k + 1] = (uint8_t)(h >> 8);
            }
        }
        ok = fn(ctx, bytes, n * es);
    }
    free(scale);
    free(vals);
    free(bytes);
    return ok;
}
