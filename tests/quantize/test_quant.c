/* test_quant.c - the quantizers (mcz/quant.h) against a plain reference implementation, with
 * an explicit error budget per scheme, and their edge cases.
 *
 * The reference is min/max quantization written straight from the ONNX formulas (double
 * precision range, nearbyint, clamp). min/max must match it bit for bit; mse must never be
 * worse than it on any group, and must meet its own budget; weighted must never be worse than
 * it under the importance-weighted error (weights sqrt(mean x^2) + |x_i|). Data: seeded
 * Gaussian, Laplacian (heavy tails) and Gaussian-with-outliers channels, like trained weights,
 * and edge cases. */
#include <check.h>
#include <pthread.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "mcz/quant.h"
#include "mcz/quantize.h"

/* ---- data ------------------------------------------------------------------------------------ */

static uint64_t rng_state;

static void seed(uint64_t s)
{
    rng_state = s * 0x9e3779b97f4a7c15ull + 1;
}

static double uniform(void) /* (0, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return ((rng_state >> 11) + 0.5) / 9007199254740992.0;
}

static float gaussian(void)
{
    return (float)(sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform()));
}

static float laplacian(void)
{
    double u = uniform() - 0.5;
    return (float)(u < 0 ? log(1 + 2 * u) : -log(1 - 2 * u));
}

typedef enum { GAUSS, LAPLACE, OUTLIERS, SKEWED } dist;

static float *make(size_t n, dist d, uint64_t s)
{
    seed(s);
    float *x = malloc(n * sizeof *x);
    ck_assert(x != NULL);
    for (size_t i = 0; i < n; i++) {
        switch (d) {
        case GAUSS: x[i] = 0.02f * gaussian(); break;
        case LAPLACE: x[i] = 0.02f * laplacian(); break;
        case OUTLIERS: x[i] = 0.02f * gaussian() * (uniform() < 0.01 ? 8.0f : 1.0f); break;
        case SKEWED: x[i] = 0.01f + 0.02f * fabsf(gaussian()); break;
        }
    }
    return x;
}

/* ---- the reference ---------------------------------------------------------------------------- */

static void ref_range(int bits, bool asym, int *qmin, int *qmax)
{
    if (bits == 8) {
        *qmin = asym ? 0 : -127;
        *qmax = asym ? 255 : 127;
    } else {
        *qmin = asym ? 0 : -8;
        *qmax = asym ? 15 : 7;
    }
}

/* min/max quantization of one group; returns the squared error of x' = (q - zp) * s. */
static double ref_minmax(const float *x, size_t n, int bits, bool asym, float *scale,
                         int32_t *zp, int32_t *codes)
{
    int qmin, qmax;
    ref_range(bits, asym, &qmin, &qmax);
    double lo = 0, hi = 0;
    for (size_t i = 0; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    float s;
    int32_t z = 0;
    if (!asym) {
        double amax = -lo > hi ? -lo : hi;
        s = amax > 0 ? (float)(amax / qmax) : 1.0f;
    } else {
        s = hi > lo ? (float)((hi - lo) / (qmax - qmin)) : 1.0f;
        double zz = nearbyint(qmin - lo / s);
        z = (int32_t)(zz < qmin ? qmin : zz > qmax ? qmax : zz);
    }
    double err = 0;
    for (size_t i = 0; i < n; i++) {
        double q = nearbyintf(x[i] / s) + z;
        q = q < qmin ? qmin : q > qmax ? qmax : q;
        if (codes)
            codes[i] = (int32_t)q;
        float deq = (float)(q - z) * s;
        err += ((double)x[i] - deq) * ((double)x[i] - deq);
    }
    *scale = s;
    *zp = z;
    return err;
}

static double sumsq(const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return s;
}

static double db(double signal, double noise)
{
    return 10 * log10(signal / noise);
}

/* Reference unpacking of a raw code array. */
static int32_t ref_code(const uint8_t *raw, int32_t dtype, uint64_t i)
{
    switch (dtype) {
    case MCZ_DT_INT8: return (int8_t)raw[i];
    case MCZ_DT_UINT8: return raw[i];
    default: {
        int v = (raw[i / 2] >> (i % 2 ? 4 : 0)) & 15;
        return dtype == MCZ_DT_INT4 && v >= 8 ? v - 16 : v;
    }
    }
}

/* ---- one group: min/max is the reference, mse is never worse ------------------------------ */

static const struct {
    int bits;
    bool asym;
} schemes[] = {{8, false}, {8, true}, {4, false}, {4, true}};

START_TEST(minmax_matches_the_reference_bit_for_bit)
{
    for (size_t k = 0; k < 4; k++)
        for (dist d = GAUSS; d <= SKEWED; d++)
            for (size_t n = 1; n <= 300; n += 37) {
                float *x = make(n, d, 100 * d + n);
                int32_t *c1 = malloc(n * sizeof *c1), *c2 = malloc(n * sizeof *c2);
                float rs;
                int32_t rz;
                double re = ref_minmax(x, n, schemes[k].bits, schemes[k].asym, &rs, &rz, c1);
                mcz_qparams p;
                double e = mcz_qgroup_quantize(x, n, schemes[k].bits, schemes[k].asym,
                                               MCZ_QMETHOD_MINMAX, &p, c2);
                ck_assert_msg(p.scale == rs && p.zero_point == rz,
                              "bits %d asym %d n %zu: scale %g zp %d, reference %g %d",
                              schemes[k].bits, schemes[k].asym, n, p.scale, p.zero_point, rs, rz);
                ck_assert_msg(memcmp(c1, c2, n * sizeof *c1) == 0, "codes differ (n %zu)", n);
                ck_assert_msg(fabs(e - re) <= 1e-12 * re, "error %.17g, reference %.17g", e, re);
                free(c1);
                free(c2);
                free(x);
            }
}
END_TEST

START_TEST(mse_is_never_worse_than_the_reference_minmax_on_any_group)
{
    for (size_t k = 0; k < 4; k++)
        for (dist d = GAUSS; d <= SKEWED; d++)
            for (size_t n = 1; n <= 2048; n = n * 3 + 1) {
                for (uint64_t s = 0; s < 5; s++) {
                    float *x = make(n, d, 7 * s + 1000 * d + n);
                    float rs;
                    int32_t rz;
                    double re = ref_minmax(x, n, schemes[k].bits, schemes[k].asym, &rs, &rz, NULL);
                    mcz_qparams p;
                    double e = mcz_qgroup_quantize(x, n, schemes[k].bits, schemes[k].asym,
                                                   MCZ_QMETHOD_MSE, &p, NULL);
                    ck_assert_msg(e <= re, "bits %d asym %d dist %d n %zu: mse %.9g > minmax %.9g",
                                  schemes[k].bits, schemes[k].asym, d, n, e, re);
                    free(x);
                }
            }
}
END_TEST

START_TEST(mse_error_is_what_its_codes_and_scale_give)
{
    /* the error mse reports is the one DequantizeLinear will produce from the codes */
    for (size_t k = 0; k < 4; k++) {
        size_t n = 777;
        float *x = make(n, LAPLACE, 31 + k);
        int32_t *c = malloc(n * sizeof *c);
        mcz_qparams p;
        double e = mcz_qgroup_quantize(x, n, schemes[k].bits, schemes[k].asym, MCZ_QMETHOD_MSE,
                                       &p, c);
        int qmin, qmax;
        ref_range(schemes[k].bits, schemes[k].asym, &qmin, &qmax);
        double re = 0;
        for (size_t i = 0; i < n; i++) {
            ck_assert_int_ge(c[i], qmin);
            ck_assert_int_le(c[i], qmax);
            float deq = (float)(c[i] - p.zero_point) * p.scale;
            re += ((double)x[i] - deq) * ((double)x[i] - deq);
        }
        ck_assert_msg(fabs(e - re) <= 1e-9 * re, "reported %.12g, recomputed %.12g", e, re);
        ck_assert(p.scale > 0);
        free(c);
        free(x);
    }
}
END_TEST

/* Per-scheme budgets: SQNR in dB over 64 groups of `n`, for min/max and mse. */
typedef struct budget {
    int bits;
    bool asym;
    size_t n;        /* group size */
    dist d;
    double minmax_db, mse_db, mse_gain_db; /* at least */
} budget;

static const budget budgets[] = {
    /* int8, groups of 512 (a per-channel row). Theory for Gaussian rows: the max is ~3.2
       sigma, the step 3.2 sigma / 127, the noise step^2 / 12: 42.8 dB. Clipping buys int8
       little (a few hundredths of a dB); it must not cost anything. */
    {8, false, 512, GAUSS, 42.4, 42.4, 0.0},
    {8, true, 512, GAUSS, 42.7, 42.7, 0.0},
    {8, false, 512, LAPLACE, 38.8, 38.8, 0.0},
    {8, false, 512, OUTLIERS, 32.1, 32.1, 0.0},
    {8, true, 512, SKEWED, 50.2, 50.2, 0.0},  /* all positive: uint8 uses the whole range */
    {8, false, 512, SKEWED, 44.4, 44.4, 0.0}, /* int8 wastes its negative half (~6 dB) */
    {8, false, 16384, GAUSS, 40.2, 40.5, 0.2}, /* per-tensor size: longer tails to clip */
    /* int4 blocks: 16 levels, so the clipping search pays */
    {4, false, 32, GAUSS, 20.1, 21.2, 0.9},
    {4, true, 32, GAUSS, 21.7, 22.1, 0.25},
    {4, false, 32, LAPLACE, 17.8, 18.8, 0.7},
    {4, true, 32, LAPLACE, 20.5, 20.8, 0.15},
    {4, false, 32, OUTLIERS, 15.6, 16.2, 0.4},
    {4, false, 128, LAPLACE, 15.4, 16.7, 1.0},
    {4, false, 256, GAUSS, 17.6, 19.3, 1.4},
};

START_TEST(each_scheme_meets_its_error_budget)
{
    for (size_t b = 0; b < sizeof budgets / sizeof *budgets; b++) {
        const budget *u = &budgets[b];
        double sig = 0, nmm = 0, nmse = 0, nref = 0;
        for (int g = 0; g < 64; g++) {
            float *x = make(u->n, u->d, 5000 + 97 * b + g);
            float rs;
            int32_t rz;
            mcz_qparams p;
            sig += sumsq(x, u->n);
            nref += ref_minmax(x, u->n, u->bits, u->asym, &rs, &rz, NULL);
            nmm += mcz_qgroup_quantize(x, u->n, u->bits, u->asym, MCZ_QMETHOD_MINMAX, &p, NULL);
            nmse += mcz_qgroup_quantize(x, u->n, u->bits, u->asym, MCZ_QMETHOD_MSE, &p, NULL);
            free(x);
        }
        double mm = db(sig, nmm), mse = db(sig, nmse), ref = db(sig, nref);
        if (getenv("MCZ_TEST_VERBOSE"))
            printf("budget %zu: %d bits asym %d n %zu dist %d: minmax %.3f dB, mse %.3f dB\n", b,
                   u->bits, u->asym, u->n, u->d, mm, mse);
        ck_assert_msg(fabs(mm - ref) < 1e-9, "budget %zu: minmax %.3f dB, reference %.3f dB", b,
                      mm, ref);
        ck_assert_msg(mm >= u->minmax_db, "budget %zu (%d bits, asym %d, n %zu, dist %d): minmax "
                      "%.3f dB < %.1f", b, u->bits, u->asym, u->n, u->d, mm, u->minmax_db);
        ck_assert_msg(mse >= u->mse_db, "budget %zu: mse %.3f dB < %.1f", b, mse, u->mse_db);
        ck_assert_msg(mse - mm >= u->mse_gain_db, "budget %zu: mse gains %.3f dB over minmax, "
                      "budget %.1f", b, mse - mm, u->mse_gain_db);
    }
}
END_TEST

/* ---- one tensor: layouts, packing, shapes ------------------------------------------------- */

/* Quantize x [dims] with s and check every group against mcz_qgroup_quantize on the group's
 * values gathered by hand: same scale, zero point and codes, bit for bit. */
static void check_layout(int rank, const int64_t *dims, mcz_qscheme s)
{
    uint64_t count = 1;
    for (int d = 0; d < rank; d++)
        count *= (uint64_t)dims[d];
    float *x = make(count, LAPLACE, 77 + count);
    mcz_qtensor q;
    mcz_error err = {0};
    expect_ok(mcz_quantize_tensor(x, MCZ_DT_FLOAT, rank, dims, &s, &q, &err), &err);
    uint64_t P = 1, A = count, Q = 1;
    if (s.granularity != MCZ_QGRAN_TENSOR) {
        A = (uint64_t)dims[s.axis];
        for (int d = 0; d < s.axis; d++)
            P *= (uint64_t)dims[d];
        for (int d = s.axis + 1; d < rank; d++)
            Q *= (uint64_t)dims[d];
    }
    uint64_t B = s.granularity == MCZ_QGRAN_BLOCK ? s.block_size : A;
    uint64_t NB = (A + B - 1) / B;
    /* the groups: (channel) every (p, q) of one a; (block/tensor) a run of B along the axis */
    float *g = malloc(count * sizeof *g);
    int32_t *c = malloc(count * sizeof *c);
    uint64_t *idx = malloc(count * sizeof *idx);
    uint64_t ngroups = s.granularity == MCZ_QGRAN_CHANNEL ? A : P * NB * Q;
    ck_assert_uint_eq(q.nscales, ngroups);
    double noise = 0;
    for (uint64_t k = 0; k < ngroups; k++) {
        size_t n = 0;
        if (s.granularity == MCZ_QGRAN_CHANNEL) {
            for (uint64_t p = 0; p < P; p++)
                for (uint64_t r = 0; r < Q; r++)
                    idx[n++] = (p * A + k) * Q + r;
        } else {
            uint64_t p = k / (NB * Q), b = (k / Q) % NB, r = k % Q;
            for (uint64_t a = b * B; a < A && a < (b + 1) * B; a++)
                idx[n++] = (p * A + a) * Q + r;
        }
        for (size_t i = 0; i < n; i++)
            g[i] = x[idx[i]];
        mcz_qparams p;
        noise += mcz_qgroup_quantize(g, n, s.bits, s.asymmetric, s.method, &p, c);
        ck_assert_msg(q.scales[k] == p.scale, "group %llu: scale %g, expected %g",
                      (unsigned long long)k, q.scales[k], p.scale);
        if (s.asymmetric)
            ck_assert_int_eq(ref_code(q.zero_points, q.dtype, k), p.zero_point);
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(ref_code(q.codes, q.dtype, idx[i]) == c[i],
                          "group %llu element %llu: code %d, expected %d", (unsigned long long)k,
                          (unsigned long long)idx[i], ref_code(q.codes, q.dtype, idx[i]), c[i]);
    }
    ck_assert_msg(fabs(q.noise - noise) <= 1e-9 * noise, "noise %.12g, groups say %.12g",
                  q.noise, noise);
    /* and dequantize gives (code - zp) * scale */
    float *deq = malloc(count * sizeof *deq);
    mcz_qtensor_dequantize(&q, deq);
    double n2 = 0;
    for (uint64_t i = 0; i < count; i++)
        n2 += ((double)x[i] - deq[i]) * ((double)x[i] - deq[i]);
    ck_assert_msg(fabs(n2 - noise) <= 1e-9 * noise, "dequantized error %.12g vs %.12g", n2, noise);
    free(deq);
    free(idx);
    free(c);
    free(g);
    mcz_qtensor_free(&q);
    free(x);
}

START_TEST(per_channel_groups_are_the_slices_of_the_channel_axis)
{
    for (int axis = 0; axis < 4; axis++) {
        mcz_qscheme s = {8, false, MCZ_QGRAN_CHANNEL, axis, 0, MCZ_QMETHOD_MSE, false};
        check_layout(4, (const int64_t[]){6, 5, 7, 4}, s);
        s.asymmetric = true;
        check_layout(4, (const int64_t[]){6, 5, 7, 4}, s);
        s.bits = 4;
        check_layout(4, (const int64_t[]){6, 5, 7, 4}, s);
    }
}
END_TEST

START_TEST(blocks_run_along_the_axis_and_the_last_may_be_shorter)
{
    /* 100 = 3 * 32 + 4: the last block has 4 elements */
    mcz_qscheme s = {4, false, MCZ_QGRAN_BLOCK, 1, 32, MCZ_QMETHOD_MSE, false};
    check_layout(2, (const int64_t[]){6, 100}, s);
    s.axis = 0;
    check_layout(2, (const int64_t[]){100, 6}, s);
    s.asymmetric = true;
    s.block_size = 48;
    check_layout(3, (const int64_t[]){3, 100, 5}, (mcz_qscheme){4, true, MCZ_QGRAN_BLOCK, 1, 48,
                                                                MCZ_QMETHOD_MSE, false});
    s = (mcz_qscheme){8, false, MCZ_QGRAN_BLOCK, 1, 16, MCZ_QMETHOD_MINMAX, false};
    check_layout(4, (const int64_t[]){4, 37, 3, 3}, s); /* a Conv weight blocked along C */
}
END_TEST

START_TEST(block_scales_have_the_weight_rank_with_the_axis_divided)
{
    mcz_qscheme s = {4, false, MCZ_QGRAN_BLOCK, 1, 32, MCZ_QMETHOD_MSE, false};
    float *x = make(8 * 100 * 3, GAUSS, 3);
    mcz_qtensor q;
    mcz_error err = {0};
    expect_ok(mcz_quantize_tensor(x, MCZ_DT_FLOAT, 3, (const int64_t[]){8, 100, 3}, &s, &q, &err),
              &err);
    ck_assert_int_eq(q.scale_rank, 3);
    ck_assert_int_eq(q.scale_dims[0], 8);
    ck_assert_int_eq(q.scale_dims[1], 4); /* ceil(100 / 32) */
    ck_assert_int_eq(q.scale_dims[2], 3);
    ck_assert_uint_eq(q.nscales, 96);
    ck_assert_int_eq(q.dtype, MCZ_DT_INT4);
    ck_assert_uint_eq(q.codes_bytes, 1200);
    ck_assert_uint_eq(q.block_size, 32);
    ck_assert_int_eq(q.axis, 1);
    mcz_qtensor_free(&q);
    free(x);
}
END_TEST

START_TEST(per_tensor_streams_one_group_in_chunks)
{
    /* larger than one chunk (16384): the result is the one-group result */
    mcz_qscheme s = {8, true, MCZ_QGRAN_TENSOR, 0, 0, MCZ_QMETHOD_MSE, false};
    check_layout(2, (const int64_t[]){300, 123}, s);
    s = (mcz_qscheme){4, false, MCZ_QGRAN_TENSOR, 0, 0, MCZ_QMETHOD_MINMAX, false};
    check_layout(1, (const int64_t[]){40000}, s);
}
END_TEST

START_TEST(int4_codes_are_packed_low_nibble_first)
{
    /* symmetric int4 min/max of {-7, 7, 0, 3.5, -3.5}: scale 1, codes -7 7 0 4 -4 (rounded
       half to even: 3.5 -> 4) */
    const float x[5] = {-7, 7, 0, 3.5f, -3.5f};
    mcz_qscheme s = {4, false, MCZ_QGRAN_TENSOR, 0, 0, MCZ_QMETHOD_MINMAX, false};
    mcz_qtensor q;
    mcz_error err = {0};
    expect_ok(mcz_quantize_tensor(x, MCZ_DT_FLOAT, 1, (const int64_t[]){5}, &s, &q, &err), &err);
    ck_assert_uint_eq(q.codes_bytes, 3);
    ck_assert_uint_eq(q.codes[0], 0x79); /* -7 = 0x9 low, 7 high */
    ck_assert_uint_eq(q.codes[1], 0x40); /* 0 low, 4 high */
    ck_assert_uint_eq(q.codes[2], 0x0c); /* -4 = 0xc low, the unused high nibble 0 */
    ck_assert(q.scales[0] == 1.0f);
    mcz_qtensor_free(&q);
    /* uint4: zero points are packed the same way */
    s.asymmetric = true;
    s.granularity = MCZ_QGRAN_CHANNEL;
    s.axis = 0;
    const float y[3] = {1, -1, 0.25f};
    expect_ok(mcz_quantize_tensor(y, MCZ_DT_FLOAT, 2, (const int64_t[]){3, 1}, &s, &q, &err), &err);
    ck_assert_int_eq(q.dtype, MCZ_DT_UINT4);
    ck_assert_uint_eq(q.zp_bytes, 2);
    /* channel 0 = {1}: range [0, 1], zp 0; channel 1 = {-1}: [-1, 0], zp 15 */
    ck_assert_uint_eq(q.zero_points[0], 0xf0);
    ck_assert_uint_eq(q.zero_points[1] & 0x0f, 0);
    mcz_qtensor_free(&q);
}
END_TEST

/* ---- weighted: never worse than min/max under its weighted error ------------------------ */

/* sum((sqrt(mean x^2) + |x_i|) (x_i - x'_i)^2), x' = (code - zp) * scale in float32. */
static double ref_werr(const float *x, size_t n, const int32_t *codes, float scale, int32_t zp)
{
    double rms = sqrt(sumsq(x, n) / (double)n), e = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)x[i] - (double)((float)(codes[i] - zp) * scale);
        e += (rms + fabs((double)x[i])) * d * d;
    }
    return e;
}

enum { NSPECIAL = 8 };

/* Edge-case groups: all zero, one outlier among small values, a lone value among zeros, tiny
 * (subnormal) values, negative only, positive only, constant, alternating signs. */
static float *make_special(size_t n, int kind, uint64_t s)
{
    float *x = make(n, GAUSS, s);
    for (size_t i = 0; i < n; i++) {
        switch (kind) {
        case 0: x[i] = 0; break;
        case 1: x[i] = i == n / 2 ? 1.5f : 0.001f * x[i]; break;
        case 2: x[i] = i == n - 1 ? -0.3f : 0; break;
        case 3: x[i] = x[i] * 1e-39f; break;
        case 4: x[i] = -fabsf(x[i]) - 0.001f; break;
        case 5: x[i] = fabsf(x[i]); break;
        case 6: x[i] = 0.125f; break;
        default: x[i] = (i % 2 ? 1 : -1) * (0.01f + fabsf(x[i])); break;
        }
    }
    return x;
}

static void check_weighted_group(const float *x, size_t n, int bits, bool asym, double *sum_w,
                                 double *sum_rtn)
{
    int32_t *c = malloc(n * sizeof *c), *rc = malloc(n * sizeof *rc);
    float rs;
    int32_t rz;
    ref_minmax(x, n, bits, asym, &rs, &rz, rc);
    mcz_qparams p;
    double e = mcz_qgroup_quantize(x, n, bits, asym, MCZ_QMETHOD_WEIGHTED, &p, c);
    int qmin, qmax;
    ref_range(bits, asym, &qmin, &qmax);
    ck_assert(p.scale > 0 && isfinite(p.scale));
    ck_assert_int_ge(p.zero_point, qmin);
    ck_assert_int_le(p.zero_point, qmax);
    double plain = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_ge(c[i], qmin);
        ck_assert_int_le(c[i], qmax);
        float deq = (float)(c[i] - p.zero_point) * p.scale;
        if (x[i] == 0)
            ck_assert_msg(deq == 0, "a zero dequantizes to %g", deq);
        plain += ((double)x[i] - deq) * ((double)x[i] - deq);
    }
    ck_assert_msg(fabs(e - plain) <= 1e-9 * plain, "reported %.12g, recomputed %.12g", e, plain);
    double ew = ref_werr(x, n, c, p.scale, p.zero_point), er = ref_werr(x, n, rc, rs, rz);
    ck_assert_msg(ew <= er * (1 + 1e-12), "bits %d asym %d n %zu: weighted %.12g > min/max %.12g",
                  bits, asym, n, ew, er);
    *sum_w += ew;
    *sum_rtn += er;
    free(c);
    free(rc);
}

START_TEST(weighted_is_never_worse_than_minmax_under_its_weighted_error)
{
    static const size_t sizes[] = {1, 2, 3, 7, 16, 31, 32, 33, 64, 100, 256, 1000};
    for (size_t k = 0; k < 4; k++) {
        double w32 = 0, r32 = 0, w = 0, r = 0;
        for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++)
            for (uint64_t s = 0; s < 12; s++) {
                size_t n = sizes[z];
                for (dist d = GAUSS; d <= SKEWED; d++) {
                    float *x = make(n, d, 31 * s + 1000 * d + n);
                    if (n == 32)
                        check_weighted_group(x, n, schemes[k].bits, schemes[k].asym, &w32, &r32);
                    else
                        check_weighted_group(x, n, schemes[k].bits, schemes[k].asym, &w, &r);
                    free(x);
                }
                for (int kind = 0; kind < NSPECIAL; kind++) {
                    float *x = make_special(n, kind, 7 * s + n);
                    check_weighted_group(x, n, schemes[k].bits, schemes[k].asym, &w, &r);
                    free(x);
                }
            }
        if (getenv("MCZ_TEST_VERBOSE"))
            printf("weighted / min/max weighted error, %d bits asym %d: blocks of 32 %.4f, "
                   "other groups %.4f\n", schemes[k].bits, schemes[k].asym, w32 / r32, w / r);
        /* and it pays where it is meant to: int4 blocks of 32 */
        if (schemes[k].bits == 4)
            ck_assert_msg(w32 < 0.97 * r32, "int4 asym %d: weighted error ratio %.4f",
                          schemes[k].asym, w32 / r32);
    }
}
END_TEST

/* Per block of a quantized tensor [R, C] blocked along axis 1: the weighted error of its
 * codes, scale and zero point. */
static double block_werr(const mcz_qtensor *q, const float *x, uint64_t C, uint64_t b,
                         uint64_t B)
{
    uint64_t NB = (C + B - 1) / B, r = b / NB, k0 = (b % NB) * B, n = C - k0 < B ? C - k0 : B;
    int32_t codes[MCZ_QBLOCK_MAX];
    int32_t zp = q->zero_points ? ref_code(q->zero_points, q->dtype, b) : 0;
    for (uint64_t i = 0; i < n; i++)
        codes[i] = ref_code(q->codes, q->dtype, r * C + k0 + i);
    return ref_werr(x + r * C + k0, (size_t)n, codes, q->scales[b], zp);
}

START_TEST(weighted_with_float16_scales_is_never_worse_than_minmax_per_block)
{
    enum { R = 48, C = 200 }; /* 200 = 6 * 32 + 8: a short last block */
    for (int asym = 0; asym < 2; asym++)
        for (dist d = GAUSS; d <= SKEWED; d++) {
            float *x = make(R * C, d, 444 + d);
            mcz_qscheme s = {4, asym, MCZ_QGRAN_BLOCK, 1, 32, MCZ_QMETHOD_WEIGHTED, true};
            mcz_qtensor qw, qm;
            mcz_error err = {0};
            expect_ok(mcz_quantize_tensor(x, MCZ_DT_FLOAT, 2, (const int64_t[]){R, C}, &s, &qw,
                                          &err), &err);
            s.method = MCZ_QMETHOD_MINMAX;
            expect_ok(mcz_quantize_tensor(x, MCZ_DT_FLOAT, 2, (const int64_t[]){R, C}, &s, &qm,
                                          &err), &err);
            for (uint64_t b = 0; b < qw.nscales; b++) {
                double ew = block_werr(&qw, x, C, b, 32), em = block_werr(&qm, x, C, b, 32);
                ck_assert_msg(ew <= em * (1 + 1e-12), "asym %d dist %d block %llu: %.9g > %.9g",
                              asym, d, (unsigned long long)b, ew, em);
                uint32_t u;
                memcpy(&u, &qw.scales[b], 4);
                ck_assert_msg((u & 0x1fff) == 0, "scale %g is not float16-exact", qw.scales[b]);
            }
            mcz_qtensor_free(&qw);
            mcz_qtensor_free(&qm);
            free(x);
        }
}
END_TEST

START_TEST(int8_default_codes_are_onnx_runtime_round_to_nearest)
{
    /* the default (8 bits, per channel, symmetric, min/max): codes = round_half_even(x / s),
       s = max|x| / 127 in float32, as ONNX Runtime's quantizer computes them */
    mcz_quantize_params dp = mcz_quantize_default_params();
    ck_assert_int_eq(dp.bits, 8);
    ck_assert_int_eq(dp.method, MCZ_QMETHOD_DEFAULT);
    ck_assert_int_eq(mcz_qmethod_for_bits(dp.method, 8), MCZ_QMETHOD_MINMAX);
    ck_assert_int_eq(mcz_qmethod_for_bits(dp.method, 4), MCZ_QMETHOD_WEIGHTED);
    ck_assert(!dp.asymmetric);
    enum { R = 16, C = 300 };
    for (dist d = GAUSS; d <= SKEWED; d++) {
        float *x = make(R * C, d, 555 + d);
        mcz_qscheme s = {8, false, MCZ_QGRAN_CHANNEL, 0, 0, dp.method, false};
        mcz_qtensor q;
        mcz_error err = {0};
        expect_ok(mcz_quantize_tensor(x, MCZ_DT_FLOAT, 2, (const int64_t[]){R, C}, &s, &q, &err),
                  &err);
        for (int r = 0; r < R; r++) {
            float amax = 0;
            for (int i = 0; i < C; i++)
                amax = fabsf(x[r * C + i]) > amax ? fabsf(x[r * C + i]) : amax;
            float sc = amax / 127.0f;
            ck_assert_msg(q.scales[r] == sc, "row %d: scale %.9g, expected %.9g", r, q.scales[r],
                          sc);
            for (int i = 0; i < C; i++) {
                float v = nearbyintf(x[r * C + i] / sc);
                ck_assert_int_eq((int8_t)q.codes[r * C + i], (int)v);
            }
        }
        mcz_qtensor_free(&q);
        free(x);
    }
}
END_TEST

typedef struct wjob {
    const float *x;
    mcz_qscheme s;
    mcz_qtensor q;
} wjob;

static void *wjob_run(void *arg)
{
    wjob *j = arg;
    mcz_error err = {0};
    mcz_status st = mcz_quantize_tensor(j->x, MCZ_DT_FLOAT, 2, (const int64_t[]){64, 256}, &j->s,
                                        &j->q, &err);
    return st == MCZ_OK ? j : NULL;
}

START_TEST(weighted_is_deterministic_across_threads_and_streams_like_in_memory)
{
    /* per tensor, larger than a chunk: streamed from the source, equal to the one-group result */
    for (int asym = 0; asym < 2; asym++) {
        check_layout(1, (const int64_t[]){40000}, (mcz_qscheme){4, asym, MCZ_QGRAN_TENSOR, 0, 0,
                                                                MCZ_QMETHOD_WEIGHTED, false});
        check_layout(2, (const int64_t[]){300, 123}, (mcz_qscheme){8, asym, MCZ_QGRAN_TENSOR, 0,
                                                                   0, MCZ_QMETHOD_WEIGHTED,
                                                                   false});
        check_layout(2, (const int64_t[]){6, 100}, (mcz_qscheme){4, asym, MCZ_QGRAN_BLOCK, 1, 32,
                                                                 MCZ_QMETHOD_WEIGHTED, false});
        check_layout(3, (const int64_t[]){5, 7, 9}, (mcz_qscheme){8, asym, MCZ_QGRAN_CHANNEL, 1,
                                                                  0, MCZ_QMETHOD_WEIGHTED,
                                                                  false});
    }
    /* four threads at once give the bytes one thread gives */
    float *x = make(64 * 256, OUTLIERS, 98);
    wjob j[5];
    pthread_t t[4];
    for (int k = 0; k < 5; k++)
        j[k] = (wjob){x, {4, k % 2 == 0, MCZ_QGRAN_BLOCK, 1, 32, MCZ_QMETHOD_WEIGHTED, true}, {0}};
    j[4].s.asymmetric = true;
    ck_assert_ptr_nonnull(wjob_run(&j[4]));
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(pthread_create(&t[k], NULL, wjob_run, &j[k]), 0);
    for (int k = 0; k < 4; k++) {
        void *r;
        ck_assert_int_eq(pthread_join(t[k], &r), 0);
        ck_assert_ptr_nonnull(r);
    }
    for (int k = 0; k < 4; k += 2) {
        ck_assert(memcmp(j[k].q.codes, j[4].q.codes, j[4].q.codes_bytes) == 0);
        ck_assert(memcmp(j[k].q.scales, j[4].q.scales, j[4].q.nscales * 4) == 0);
        ck_assert(memcmp(j[k].q.zero_points, j[4].q.zero_points, j[4].q.zp_bytes) == 0);
        ck_assert(j[k].q.noise == j[4].q.noise);
    }
    ck_assert(memcmp(j[1].q.codes, j[3].q.codes, j[1].q.codes_bytes) == 0);
    ck_assert(memcmp(j[1].q.scales, j[3].q.scales, j[1].q.nscales * 4) == 0);
    for (int k = 0; k < 5; k++)
        mcz_qtensor_free(&j[k].q);
    free(x);
}
END_TEST

/* ---- edge cases --------------------------------------------------------------------------- */

static const mcz_qmethod methods[3] = {MCZ_QMETHOD_MSE, MCZ_QMETHOD_MINMAX,
                                       MCZ_QMETHOD_WEIGHTED};

static void quantize_all_ways(const float *x, int rank, const int64_t *dims, int axis,
                              void (*check)(const float *x, const float *deq, uint64_t n,
                                            const mcz_qtensor *q))
{
    static const mcz_qgranularity grans[] = {MCZ_QGRAN_TENSOR, MCZ_QGRAN_CHANNEL, MCZ_QGRAN_BLOCK};
    uint64_t n = 1;
    for (int d = 0; d < rank; d++)
        n *= (uint64_t)dims[d];
    float *deq = malloc((n ? n : 1) * sizeof *deq);
    for (size_t k = 0; k < 4; k++)
        for (size_t g = 0; g < 3; g++)
            for (int m = 0; m < 3; m++) {
                mcz_qscheme s = {schemes[k].bits, schemes[k].asym, grans[g], axis, 16,
                                 methods[m], false};
                mcz_qtensor q;
                mcz_error err = {0};
                expect_ok(mcz_quantize_tensor(x, MCZ_DT_FLOAT, rank, dims, &s, &q, &err), &err);
                mcz_qtensor_dequantize(&q, deq);
                check(x, deq, n, &q);
                mcz_qtensor_free(&q);
            }
    free(deq);
}

static void check_exact(const float *x, const float *deq, uint64_t n, const mcz_qtensor *q)
{
    for (uint64_t i = 0; i < n; i++)
        ck_assert_msg(deq[i] == x[i], "element %llu: %g dequantizes to %g (%s, bits %d)",
                      (unsigned long long)i, x[i], deq[i],
                      q->granularity == MCZ_QGRAN_BLOCK ? "block" : "channel/tensor",
                      q->dtype == MCZ_DT_INT4 || q->dtype == MCZ_DT_UINT4 ? 4 : 8);
    ck_assert(q->noise == 0);
}

START_TEST(an_all_zero_weight_stays_exactly_zero)
{
    float x[4 * 40] = {0};
    quantize_all_ways(x, 2, (const int64_t[]){4, 40}, 1, check_exact);
}
END_TEST

START_TEST(an_all_zero_channel_stays_exactly_zero_and_gets_scale_one)
{
    float *x = make(4 * 40, GAUSS, 9);
    for (int i = 0; i < 40; i++)
        x[2 * 40 + i] = 0; /* channel 2 */
    mcz_qscheme s = {8, false, MCZ_QGRAN_CHANNEL, 0, 0, MCZ_QMETHOD_MSE, false};
    mcz_qtensor q;
    mcz_error err = {0};
    expect_ok(mcz_quantize_tensor(x, MCZ_DT_FLOAT, 2, (const int64_t[]){4, 40}, &s, &q, &err), &err);
    ck_assert(q.scales[2] == 1.0f);
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(q.codes[2 * 40 + i], 0);
    for (int c = 0; c < 4; c++)
        ck_assert(q.scales[c] > 0 && isfinite(q.scales[c]));
    mcz_qtensor_free(&q);
    free(x);
}
END_TEST

static void check_constant(const float *x, const float *deq, uint64_t n, const mcz_qtensor *q)
{
    (void)q;
    for (uint64_t i = 0; i < n; i++)
        ck_assert_msg(fabsf(deq[i] - x[i]) <= 1e-6f * fabsf(x[i]), "element %llu: %.9g -> %.9g",
                      (unsigned long long)i, x[i], deq[i]);
}

START_TEST(constant_channels_are_reproduced)
{
    /* each channel one value (positive, negative, tiny, large): the extreme maps to a code */
    float x[4 * 33];
    const float v[4] = {0.37f, -2.5f, 1e-30f, -7e20f};
    for (int c = 0; c < 4; c++)
        for (int i = 0; i < 33; i++)
            x[c * 33 + i] = v[c];
    for (size_t k = 0; k < 4; k++)
        for (int m = 0; m < 3; m++) {
            mcz_qscheme s = {schemes[k].bits, schemes[k].asym, MCZ_QGRAN_CHANNEL, 0, 0,
                             methods[m], false};
            mcz_qtensor q;
            mcz_error err = {0};
            float deq[4 * 33];
            expect_ok(mcz_quantize_tensor(x, MCZ_DT_FLOAT, 2, (const int64_t[]){4, 33}, &s, &q,
                                          &err), &err);
            mcz_qtensor_dequantize(&q, deq);
            check_constant(x, deq, 4 * 33, &q);
            mcz_qtensor_free(&q);
        }
}
END_TEST

START_TEST(channels_of_one_element_are_reproduced)
{
    float *x = make(9, LAPLACE, 4);
    mcz_qscheme s = {8, false, MCZ_QGRAN_CHANNEL, 0, 0, MCZ_QMETHOD_MSE, false};
    for (size_t k = 0; k < 4; k++)
        for (int m = 0; m < 3; m++) {
            s.bits = schemes[k].bits;
            s.asymmetric = schemes[k].asym;
            s.method = methods[m];
            mcz_qtensor q;
            mcz_error err = {0};
            float deq[9];
            expect_ok(mcz_quantize_tensor(x, MCZ_DT_FLOAT, 2, (const int64_t[]){9, 1}, &s, &q,
                                          &err), &err);
            ck_assert_uint_eq(q.nscales, 9);
            mcz_qtensor_dequantize(&q, deq);
            check_constant(x, deq, 9, &q);
            mcz_qtensor_free(&q);
        }
    free(x);
}
END_TEST

static void check_zeros(const float *x, const float *deq, uint64_t n, const mcz_qtensor *q)
{
    (void)q;
    for (uint64_t i = 0; i < n; i++)
        if (x[i] == 0)
            ck_assert_msg(deq[i] == 0, "pruned element %llu dequantizes to %g",
                          (unsigned long long)i, deq[i]);
}

START_TEST(pruned_zeros_stay_exactly_zero_in_every_scheme)
{
    float *x = make(8 * 96, SKEWED, 12); /* all positive: asymmetric ranges start at 0 */
    float *y = make(8 * 96, LAPLACE, 13);
    for (int i = 0; i < 8 * 96; i++) {
        if (i % 2 == 0 || i % 7 == 0) /* 2:4-like and scattered zeros */
            x[i] = 0;
        if (i % 3 == 1)
            y[i] = 0;
    }
    quantize_all_ways(x, 2, (const int64_t[]){8, 96}, 1, check_zeros);
    quantize_all_ways(y, 2, (const int64_t[]){8, 96}, 0, check_zeros);
    free(x);
    free(y);
}
END_TEST

START_TEST(nan_and_infinity_are_refused_naming_the_element)
{
    float x[64];
    for (int i = 0; i < 64; i++)
        x[i] = (float)i / 64;
    mcz_qscheme s = {8, false, MCZ_QGRAN_CHANNEL, 0, 0, MCZ_QMETHOD_MSE, false};
    const float bad[3] = {NAN, INFINITY, -INFINITY};
    for (int b = 0; b < 3; b++) {
        x[17] = bad[b];
        mcz_qtensor q;
        mcz_error err = {0};
        expect_status(mcz_quantize_tensor(x, MCZ_DT_FLOAT, 2, (const int64_t[]){8, 8}, &s, &q,
                                          &err), MCZ_ERR_ARG, &err);
        expect_msg_has(&err, "element 17");
        ck_assert(q.codes == NULL && q.scales == NULL);
    }
    /* float16 infinity, bfloat16 NaN, a double beyond float's range */
    uint16_t h[4] = {0x3c00, 0x7c00, 0, 0};
    ck_assert_int_eq(mcz_find_nonfinite(h, MCZ_DT_FLOAT16, 4), 1);
    uint16_t bf[3] = {0x3f80, 0x3f80, 0x7fc0};
    ck_assert_int_eq(mcz_find_nonfinite(bf, MCZ_DT_BFLOAT16, 3), 2);
    double d[2] = {1.0, 1e300};
    ck_assert_int_eq(mcz_find_nonfinite(d, MCZ_DT_DOUBLE, 2), 1);
    ck_assert_int_eq(mcz_find_nonfinite(x, MCZ_DT_FLOAT, 17), -1);
}
END_TEST

START_TEST(float16_bfloat16_and_double_weights_quantize_like_their_float_values)
{
    /* values exactly representable in every type */
    enum { N = 4 * 48 };
    float f[N];
    uint16_t h[N], b[N];
    double d[N];
    seed(21);
    for (int i = 0; i < N; i++) {
        int k = (int)(uniform() * 512) - 256;
        f[i] = (float)k / 256;
        d[i] = f[i];
        uint32_t u;
        memcpy(&u, &f[i], 4);
        b[i] = (uint16_t)(u >> 16);
        /* float16 of k/256: exact (|k| <= 256 needs 9 bits of mantissa) */
        if (k == 0) {
            h[i] = 0;
        } else {
            int e = (int)((u >> 23) & 0xff) - 127 + 15;
            h[i] = (uint16_t)(((u >> 16) & 0x8000) | (e << 10) | ((u >> 13) & 0x3ff));
        }
        ck_assert(mcz_f16_to_f32(h[i]) == f[i] && mcz_bf16_to_f32(b[i]) == f[i]);
    }
    mcz_qscheme s = {4, false, MCZ_QGRAN_BLOCK, 1, 16, MCZ_QMETHOD_MSE, false};
    const void *src[3] = {h, b, d};
    const int32_t types[3] = {MCZ_DT_FLOAT16, MCZ_DT_BFLOAT16, MCZ_DT_DOUBLE};
    mcz_qtensor ref, q;
    mcz_error err = {0};
    expect_ok(mcz_quantize_tensor(f, MCZ_DT_FLOAT, 2, (const int64_t[]){4, 48}, &s, &ref, &err),
              &err);
    for (int t = 0; t < 3; t++) {
        expect_ok(mcz_quantize_tensor(src[t], types[t], 2, (const int64_t[]){4, 48}, &s, &q, &err),
                  &err);
        ck_assert(memcmp(q.codes, ref.codes, ref.codes_bytes) == 0);
        ck_assert(memcmp(q.scales, ref.scales, ref.nscales * 4) == 0);
        mcz_qtensor_free(&q);
    }
    mcz_qtensor_free(&ref);
}
END_TEST

START_TEST(unaligned_source_gives_the_same_result)
{
    enum { N = 6 * 50 };
    float *x = make(N, GAUSS, 8);
    uint8_t *buf = malloc(N * 4 + 3);
    memcpy(buf + 3, x, N * 4);
    mcz_qscheme s = {8, false, MCZ_QGRAN_CHANNEL, 1, 0, MCZ_QMETHOD_MSE, false};
    mcz_qtensor a, b;
    mcz_error err = {0};
    expect_ok(mcz_quantize_tensor(x, MCZ_DT_FLOAT, 2, (const int64_t[]){6, 50}, &s, &a, &err), &err);
    expect_ok(mcz_quantize_tensor(buf + 3, MCZ_DT_FLOAT, 2, (const int64_t[]){6, 50}, &s, &b, &err),
              &err);
    ck_assert(memcmp(a.codes, b.codes, a.codes_bytes) == 0);
    ck_assert(memcmp(a.scales, b.scales, a.nscales * 4) == 0);
    mcz_qtensor_free(&a);
    mcz_qtensor_free(&b);
    free(buf);
    free(x);
}
END_TEST

START_TEST(bad_schemes_are_refused)
{
    float x[32] = {0};
    mcz_qtensor q;
    mcz_error err = {0};
    const int64_t dims[2] = {4, 8};
    mcz_qscheme bad[] = {
        {5, false, MCZ_QGRAN_CHANNEL, 0, 0, MCZ_QMETHOD_MSE, false},      /* bits */
        {8, false, MCZ_QGRAN_CHANNEL, 2, 0, MCZ_QMETHOD_MSE, false},      /* axis past the rank */
        {8, false, MCZ_QGRAN_CHANNEL, -1, 0, MCZ_QMETHOD_MSE, false},
        {4, false, MCZ_QGRAN_BLOCK, 1, 8, MCZ_QMETHOD_MSE, false},        /* block below 16 */
        {4, false, MCZ_QGRAN_BLOCK, 1, 512, MCZ_QMETHOD_MSE, false},      /* block above 256 */
        {8, false, (mcz_qgranularity)7, 0, 0, MCZ_QMETHOD_MSE, false},
        {8, false, MCZ_QGRAN_CHANNEL, 0, 0, (mcz_qmethod)4, false},       /* method */
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
        expect_status(mcz_quantize_tensor(x, MCZ_DT_FLOAT, 2, dims, &bad[k], &q, &err),
                      MCZ_ERR_ARG, &err);
    mcz_qscheme ok = {8, false, MCZ_QGRAN_CHANNEL, 0, 0, MCZ_QMETHOD_MSE, false};
    expect_status(mcz_quantize_tensor(x, MCZ_DT_INT32, 2, dims, &ok, &q, &err),
                  MCZ_ERR_UNSUPPORTED, &err);
}
END_TEST

START_TEST(the_same_input_gives_the_same_bytes)
{
    float *x = make(64 * 256, OUTLIERS, 99);
    mcz_qscheme s = {4, true, MCZ_QGRAN_BLOCK, 1, 64, MCZ_QMETHOD_MSE, false};
    mcz_qtensor a, b;
    mcz_error err = {0};
    expect_ok(mcz_quantize_tensor(x, MCZ_DT_FLOAT, 2, (const int64_t[]){64, 256}, &s, &a, &err), &err);
    expect_ok(mcz_quantize_tensor(x, MCZ_DT_FLOAT, 2, (const int64_t[]){64, 256}, &s, &b, &err), &err);
    ck_assert(memcmp(a.codes, b.codes, a.codes_bytes) == 0);
    ck_assert(memcmp(a.scales, b.scales, a.nscales * 4) == 0);
    ck_assert(memcmp(a.zero_points, b.zero_points, a.zp_bytes) == 0);
    ck_assert(a.noise == b.noise);
    mcz_qtensor_free(&a);
    mcz_qtensor_free(&b);
    free(x);
}
END_TEST

static bool f16_exact(float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    return (u & 0x1fff) == 0; /* normal float16 range: 10 mantissa bits, the rest zero */
}

START_TEST(float16_exact_scales_cost_almost_nothing_and_keep_mse_ahead)
{
    float *x = make(64 * 256, LAPLACE, 31);
    mcz_qtensor a, b, c;
    mcz_error err = {0};
    mcz_qscheme s = {4, false, MCZ_QGRAN_BLOCK, 1, 32, MCZ_QMETHOD_MSE, true};
    expect_ok(mcz_quantize_tensor(x, MCZ_DT_FLOAT, 2, (const int64_t[]){64, 256}, &s, &a, &err), &err);
    s.f16_scales = false;
    expect_ok(mcz_quantize_tensor(x, MCZ_DT_FLOAT, 2, (const int64_t[]){64, 256}, &s, &b, &err), &err);
    s.f16_scales = true;
    s.method = MCZ_QMETHOD_MINMAX;
    expect_ok(mcz_quantize_tensor(x, MCZ_DT_FLOAT, 2, (const int64_t[]){64, 256}, &s, &c, &err), &err);
    for (uint64_t g = 0; g < a.nscales; g++) {
        ck_assert_msg(f16_exact(a.scales[g]), "scale %g is not a float16", a.scales[g]);
        ck_assert(f16_exact(c.scales[g]));
    }
    double sa = mcz_sqnr_db(a.signal, a.noise), sb = mcz_sqnr_db(b.signal, b.noise),
           sc = mcz_sqnr_db(c.signal, c.noise);
    ck_assert_msg(sb - sa < 0.02, "float16 scales cost %.4f dB", sb - sa);
    ck_assert_msg(sa >= sc, "mse %.3f dB < minmax %.3f dB with float16 scales", sa, sc);
    /* the recorded error is the one the stored scales give */
    float *deq = malloc(64 * 256 * sizeof *deq);
    mcz_qtensor_dequantize(&a, deq);
    double n = 0;
    for (int i = 0; i < 64 * 256; i++)
        n += ((double)x[i] - deq[i]) * ((double)x[i] - deq[i]);
    ck_assert(fabs(n - a.noise) <= 1e-9 * n);
    free(deq);
    mcz_qtensor_free(&a);
    mcz_qtensor_free(&b);
    mcz_qtensor_free(&c);
    free(x);
}
END_TEST

START_TEST(sqnr_of_an_exact_quantization_is_infinite)
{
    ck_assert(isinf(mcz_sqnr_db(1.0, 0.0)) && mcz_sqnr_db(1.0, 0.0) > 0);
    ck_assert(fabs(mcz_sqnr_db(100.0, 1.0) - 20.0) < 1e-12);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("quant");
    TCase *t = tcase_create("quant");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, minmax_matches_the_reference_bit_for_bit);
    tcase_add_test(t, mse_is_never_worse_than_the_reference_minmax_on_any_group);
    tcase_add_test(t, mse_error_is_what_its_codes_and_scale_give);
    tcase_add_test(t, each_scheme_meets_its_error_budget);
    tcase_add_test(t, per_channel_groups_are_the_slices_of_the_channel_axis);
    tcase_add_test(t, blocks_run_along_the_axis_and_the_last_may_be_shorter);
    tcase_add_test(t, block_scales_have_the_weight_rank_with_the_axis_divided);
    tcase_add_test(t, per_tensor_streams_one_group_in_chunks);
    tcase_add_test(t, int4_codes_are_packed_low_nibble_first);
    tcase_add_test(t, an_all_zero_weight_stays_exactly_zero);
    tcase_add_test(t, an_all_zero_channel_stays_exactly_zero_and_gets_scale_one);
    tcase_add_test(t, constant_channels_are_reproduced);
    tcase_add_test(t, channels_of_one_element_are_reproduced);
    tcase_add_test(t, pruned_zeros_stay_exactly_zero_in_every_scheme);
    tcase_add_test(t, nan_and_infinity_are_refused_naming_the_element);
    tcase_add_test(t, float16_bfloat16_and_double_weights_quantize_like_their_float_values);
    tcase_add_test(t, unaligned_source_gives_the_same_result);
    tcase_add_test(t, bad_schemes_are_refused);
    tcase_add_test(t, the_same_input_gives_the_same_bytes);
    tcase_add_test(t, float16_exact_scales_cost_almost_nothing_and_keep_mse_ahead);
    tcase_add_test(t, sqnr_of_an_exact_quantization_is_infinite);
    tcase_add_test(t, weighted_is_never_worse_than_minmax_under_its_weighted_error);
    tcase_add_test(t, weighted_with_float16_scales_is_never_worse_than_minmax_per_block);
    tcase_add_test(t, int8_default_codes_are_onnx_runtime_round_to_nearest);
    tcase_add_test(t, weighted_is_deterministic_across_threads_and_streams_like_in_memory);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
