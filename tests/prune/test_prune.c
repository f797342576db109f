/* test_prune.c - pruning: the selection against a sorted reference, exact sparsity, ties and
 * existing zeros, N:M groups along the reduction axis, whole channels, the global threshold,
 * and the model-level behaviour (every place a weight lives, 0 % changes nothing, the same
 * bytes whatever the thread count, --exclude suggestions). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "mcz/model.h"
#include "mcz/prune.h"
#include "mcz/suggest.h"
#include "testfs.h"
#include "testmodel.h"

/* ---- helpers -------------------------------------------------------------------------------- */

static uint64_t rng_state = 1;

static void rng_seed(uint64_t s)
{
    rng_state = s * 0x9e3779b97f4a7c15ull + 1;
}

static uint64_t rng(void)
{
    uint64_t x = rng_state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* uniform in [-1, 1) */
static float rng_f(void)
{
    return (float)((double)(rng() >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static float *random_floats(size_t n, float scale)
{
    float *v = tm_alloc(n * sizeof *v + 1);
    for (size_t i = 0; i < n; i++)
        v[i] = rng_f() * scale;
    return v;
}

static float *copy_floats(const float *v, size_t n)
{
    return tm_dup(v, n * sizeof *v);
}

static uint64_t zeros_in(const float *v, size_t n)
{
    uint64_t z = 0;
    for (size_t i = 0; i < n; i++)
        z += v[i] == 0.0f;
    return z;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_absf(const void *a, const void *b)
{
    float x = fabsf(*(const float *)a), y = fabsf(*(const float *)b);
    return x < y ? -1 : x > y;
}

/* Every element is its original value or zero; returns how many became zero. */
static uint64_t check_only_zeroed(const float *orig, const float *v, size_t n)
{
    uint64_t changed = 0;
    for (size_t i = 0; i < n; i++) {
        if (memcmp(&orig[i], &v[i], 4) == 0)
            continue;
        ck_assert_msg(v[i] == 0.0f, "element %zu changed from %g to %g (not to zero)", i,
                      (double)orig[i], (double)v[i]);
        changed++;
    }
    return changed;
}

static void teardown(void)
{
    td_cleanup();
    tm_reset();
}

/* ---- the target count ------------------------------------------------------------------------ */

START_TEST(target_rounds_to_the_nearest_element)
{
    ck_assert_uint_eq(mcz_prune_target(0.5, 7), 4); /* 3.5 -> 4 */
    ck_assert_uint_eq(mcz_prune_target(0.3, 10), 3);
    ck_assert_uint_eq(mcz_prune_target(0.34, 10), 3);
    ck_assert_uint_eq(mcz_prune_target(0.36, 10), 4);
    ck_assert_uint_eq(mcz_prune_target(0.0, 1000), 0);
    ck_assert_uint_eq(mcz_prune_target(0.999999, 10), 9); /* never everything */
    ck_assert_uint_eq(mcz_prune_target(0.5, 1), 0);
    ck_assert_uint_eq(mcz_prune_target(0.95, 1000), 950);
    ck_assert_uint_eq(mcz_prune_target(0.5, 0), 0);
}
END_TEST

/* ---- selection -------------------------------------------------------------------------------- */

/* The k-th smallest and the count below it, against a sorted copy. */
static void check_select(uint32_t *a, uint64_t n, uint64_t k)
{
    uint32_t *sorted = tm_dup(a, n * sizeof *a);
    qsort(sorted, n, sizeof *sorted, cmp_u32);
    uint64_t less = 12345;
    uint32_t t = mcz_prune_select_u32(a, n, k, &less);
    ck_assert_msg(t == sorted[k - 1], "n %llu k %llu: selected %u, sorted says %u",
                  (unsigned long long)n, (unsigned long long)k, t, sorted[k - 1]);
    uint64_t want_less = 0;
    while (want_less < n && sorted[want_less] < t)
        want_less++;
    ck_assert_uint_eq(less, want_less);
}

START_TEST(select_matches_a_sorted_reference_on_random_keys)
{
    rng_seed(11);
    static const uint64_t sizes[] = {1, 2, 3, 31, 32, 33, 100, 1000, 1025, 4096, 100000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint64_t n = sizes[s];
        for (int rep = 0; rep < 6; rep++) {
            uint32_t *a = tm_alloc(n * sizeof *a);
            for (uint64_t i = 0; i < n; i++)
                a[i] = (uint32_t)rng();
            uint64_t k = rep == 0 ? 1 : rep == 1 ? n : 1 + rng() % n;
            check_select(a, n, k);
        }
    }
}
END_TEST

START_TEST(select_handles_many_duplicates_and_ordered_inputs)
{
    rng_seed(12);
    uint64_t n = 50000;
    uint32_t *a = tm_alloc(n * sizeof *a);
    for (int kind = 0; kind < 6; kind++) {
        for (uint64_t i = 0; i < n; i++) {
            switch (kind) {
            case 0: a[i] = 7; break;                            /* all equal */
            case 1: a[i] = (uint32_t)(rng() % 3); break;        /* three values */
            case 2: a[i] = (uint32_t)i; break;                  /* ascending */
            case 3: a[i] = (uint32_t)(n - i); break;            /* descending */
            case 4: a[i] = (uint32_t)(i < n / 2 ? i : n - i); break; /* organ pipe */
            default: a[i] = (uint32_t)(i % 2 ? 0 : rng()); break;    /* half zeros */
            }
        }
        for (uint64_t k = 1; k <= n; k += n / 7)
            check_select(tm_dup(a, n * sizeof *a), n, k);
        check_select(tm_dup(a, n * sizeof *a), n, n);
    }
}
END_TEST

/* ---- unstructured ------------------------------------------------------------------------------ */

START_TEST(unstructured_zeroes_exactly_the_target_count_of_the_smallest)
{
    rng_seed(21);
    static const double fs[] = {0.1, 0.3, 0.5, 0.7, 0.9, 0.33333};
    static const size_t ns[] = {1, 7, 100, 1001, 65536 + 3};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t b = 0; b < sizeof fs / sizeof fs[0]; b++) {
            size_t n = ns[a];
            float *orig = random_floats(n, 3.0f), *v = copy_floats(orig, n);
            uint64_t k = mcz_prune_target(fs[b], n);
            mcz_prune_stats st;
            ck_assert_int_eq(mcz_prune_unstructured_f32(v, n, k, NULL, &st), MCZ_OK);
            ck_assert_uint_eq(zeros_in(v, n), k);
            ck_assert_uint_eq(st.zeros_after, k);
            ck_assert_uint_eq(check_only_zeroed(orig, v, n), k);
            /* every zeroed magnitude is at most every kept one */
            float max_zeroed = 0, min_kept = INFINITY;
            for (size_t i = 0; i < n; i++) {
                if (v[i] == 0.0f && fabsf(orig[i]) > max_zeroed)
                    max_zeroed = fabsf(orig[i]);
                if (v[i] != 0.0f && fabsf(v[i]) < min_kept)
                    min_kept = fabsf(v[i]);
            }
            ck_assert(max_zeroed <= min_kept);
            if (k)
                ck_assert_float_eq(st.threshold, max_zeroed);
            /* the threshold is the k-th smallest magnitude of a sorted copy */
            float *sorted = copy_floats(orig, n);
            qsort(sorted, n, sizeof *sorted, cmp_absf);
            if (k)
                ck_assert_float_eq(max_zeroed, fabsf(sorted[k - 1]));
        }
}
END_TEST

/* Large arrays select through a sampled band; data that fools the sample (a period equal to
 * the sampling stride) must still give the exact answer. */
START_TEST(large_arrays_and_samples_that_mislead_still_select_exactly)
{
    rng_seed(22);
    size_t n = 16384 * 16; /* the sample takes every 16th element */
    for (int kind = 0; kind < 3; kind++) {
        float *orig = tm_alloc(n * sizeof *orig);
        for (size_t i = 0; i < n; i++) {
            if (kind == 0)
                orig[i] = rng_f();
            else if (kind == 1) /* the sampled positions all hold 5; the rest are small */
                orig[i] = i % 16 == 0 ? 5.0f : rng_f() * 0.001f;
            else /* the sampled positions are the smallest of all */
                orig[i] = i % 16 == 0 ? 1e-6f * rng_f() : 1.0f + rng_f();
        }
        float *sorted = copy_floats(orig, n);
        qsort(sorted, n, sizeof *sorted, cmp_absf);
        static const double fs[3] = {0.05, 0.5, 0.97};
        for (int f = 0; f < 3; f++) {
            float *v = copy_floats(orig, n);
            uint64_t k = mcz_prune_target(fs[f], n);
            mcz_prune_stats st;
            ck_assert_int_eq(mcz_prune_unstructured_f32(v, n, k, NULL, &st), MCZ_OK);
            ck_assert_uint_eq(zeros_in(v, n), k);
            ck_assert_float_eq(st.threshold, fabsf(sorted[k - 1]));
            ck_assert_uint_eq(check_only_zeroed(orig, v, n), k);
        }
    }
}
END_TEST

START_TEST(unstructured_rel_l2_is_the_norm_of_what_was_removed)
{
    float v[8] = {1, -2, 3, -4, 0.5f, 6, -7, 8};
    float orig[8];
    memcpy(orig, v, sizeof v);
    mcz_prune_stats st;
    ck_assert_int_eq(mcz_prune_unstructured_f32(v, 8, 3, NULL, &st), MCZ_OK);
    /* removed: 0.5, 1, -2 */
    double total = 0;
    for (int i = 0; i < 8; i++)
        total += (double)orig[i] * orig[i];
    ck_assert_double_eq_tol(st.rel_l2, sqrt((0.25 + 1 + 4) / total), 1e-12);
    ck_assert_double_eq_tol(st.sumsq, total, 1e-9);
    ck_assert_float_eq(st.threshold, 2.0f);
}
END_TEST

START_TEST(ties_at_the_threshold_go_to_the_lower_indices_and_the_count_stays_exact)
{
    /* magnitudes: 1 x4, 2 x4, 3 x4; k = 6 takes every 1 and the first two 2s */
    float v[12] = {2, -1, 3, 2, 1, -2, 3, 1, -2, 3, -1, 3};
    float orig[12];
    memcpy(orig, v, sizeof v);
    mcz_prune_stats st;
    ck_assert_int_eq(mcz_prune_unstructured_f32(v, 12, 6, NULL, &st), MCZ_OK);
    ck_assert_uint_eq(zeros_in(v, 12), 6);
    const float want[12] = {0, 0, 3, 0, 0, -2, 3, 0, -2, 3, 0, 3};
    for (int i = 0; i < 12; i++)
        ck_assert_msg(v[i] == want[i], "element %d: %g, want %g", i, (double)v[i], (double)want[i]);
    ck_assert_float_eq(st.threshold, 2.0f);
}
END_TEST

START_TEST(all_equal_magnitudes_still_give_the_exact_count)
{
    size_t n = 1000;
    float *v = tm_alloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = i % 2 ? 0.25f : -0.25f;
    mcz_prune_stats st;
    ck_assert_int_eq(mcz_prune_unstructured_f32(v, n, 333, NULL, &st), MCZ_OK);
    ck_assert_uint_eq(zeros_in(v, n), 333);
    for (size_t i = 0; i < 333; i++)
        ck_assert(v[i] == 0.0f);
}
END_TEST

START_TEST(existing_zeros_count_towards_the_target)
{
    rng_seed(31);
    size_t n = 1000;
    float *orig = random_floats(n, 1.0f);
    for (size_t i = 0; i < n; i += 5)
        orig[i] = 0.0f; /* 200 zeros */
    orig[1] = -0.0f;    /* a negative zero is a zero too: 201 */
    float *v = copy_floats(orig, n);
    mcz_prune_stats st;
    ck_assert_int_eq(mcz_prune_unstructured_f32(v, n, 500, NULL, &st), MCZ_OK);
    ck_assert_uint_eq(st.zeros_before, 201);
    ck_assert_uint_eq(st.zeros_after, 500);
    ck_assert_uint_eq(zeros_in(v, n), 500);
    ck_assert_uint_eq(check_only_zeroed(orig, v, n), 299);
    ck_assert(signbit(v[1])); /* untouched: still -0 */
}
END_TEST

START_TEST(a_weight_already_sparser_than_the_target_is_left_as_it_is)
{
    rng_seed(32);
    size_t n = 100;
    float *orig = random_floats(n, 1.0f);
    for (size_t i = 0; i < 60; i++)
        orig[i * 100 / 60] = i % 2 ? 0.0f : -0.0f;
    float *v = copy_floats(orig, n);
    mcz_prune_stats st;
    ck_assert_int_eq(mcz_prune_unstructured_f32(v, n, 50, NULL, &st), MCZ_OK);
    ck_assert_uint_eq(st.zeros_before, 60);
    ck_assert_uint_eq(st.zeros_after, 60);
    ck_assert(memcmp(orig, v, n * sizeof *v) == 0);
    ck_assert_float_eq(st.threshold, 0.0f);
    ck_assert_double_eq(st.rel_l2, 0.0);
}
END_TEST

START_TEST(nan_is_larger_than_every_number_and_pruned_last)
{
    float v[6] = {NAN, 1, -INFINITY, 2, 0.5f, -3};
    mcz_prune_stats st;
    ck_assert_int_eq(mcz_prune_unstructured_f32(v, 6, 4, NULL, &st), MCZ_OK);
    ck_assert(isnan(v[0]));
    ck_assert(isinf(v[2]));
    ck_assert(v[1] == 0 && v[3] == 0 && v[4] == 0 && v[5] == 0);
}
END_TEST

/* ---- N:M ------------------------------------------------------------------------------------------ */

/* Every full group of m along `axis` has at least n zeros and nothing else changed; the
 * short last group follows the padding rule. Returns zeros counted. */
static void check_nm(const float *orig, const float *v, int rank, const int64_t *dims, int axis,
                     unsigned n, unsigned m)
{
    uint64_t outer = 1, inner = 1, len = (uint64_t)dims[axis];
    for (int d = 0; d < rank; d++) {
        if (d < axis)
            outer *= (uint64_t)dims[d];
        if (d > axis)
            inner *= (uint64_t)dims[d];
    }
    uint64_t count = outer * len * inner;
    check_only_zeroed(orig, v, count);
    for (uint64_t o = 0; o < outer; o++)
        for (uint64_t i = 0; i < inner; i++)
            for (uint64_t g0 = 0; g0 < len; g0 += m) {
                uint64_t glen = len - g0 < m ? len - g0 : m, z = 0, zorig = 0;
                unsigned want = glen == m ? n : (m - glen >= n ? 0 : n - (unsigned)(m - glen));
                float max_zeroed = 0, min_kept = INFINITY;
                for (uint64_t j = 0; j < glen; j++) {
                    uint64_t at = (o * len + g0 + j) * inner + i;
                    z += v[at] == 0.0f;
                    zorig += orig[at] == 0.0f;
                    if (v[at] == 0.0f && fabsf(orig[at]) > max_zeroed)
                        max_zeroed = fabsf(orig[at]);
                    if (v[at] != 0.0f && fabsf(v[at]) < min_kept)
                        min_kept = fabsf(v[at]);
                }
                ck_assert_msg(z >= want, "group at o=%llu i=%llu g=%llu: %llu zeros, want %u",
                              (unsigned long long)o, (unsigned long long)i,
                              (unsigned long long)g0, (unsigned long long)z, want);
                ck_assert_uint_eq(z, zorig > want ? zorig : want); /* no more than needed */
                ck_assert(max_zeroed <= min_kept); /* the smallest went */
            }
}

START_TEST(two_four_zeroes_two_of_every_four_along_the_matmul_reduction_axis)
{
    rng_seed(41);
    const int64_t dims[2] = {16, 5}; /* MatMul B [K, N]: reduction axis 0 */
    float *orig = random_floats(80, 1.0f), *v = copy_floats(orig, 80);
    mcz_prune_stats st;
    ck_assert_int_eq(mcz_prune_nm_f32(v, 2, dims, 0, 2, 4, &st), MCZ_OK);
    check_nm(orig, v, 2, dims, 0, 2, 4);
    ck_assert_uint_eq(zeros_in(v, 80), 40);
    ck_assert_uint_eq(st.zeros_after, 40);
}
END_TEST

START_TEST(two_four_works_along_the_conv_input_channel_axis)
{
    rng_seed(42);
    const int64_t dims[4] = {6, 8, 3, 3}; /* Conv W [M, C, kh, kw]: reduction axis 1 */
    size_t n = 6 * 8 * 9;
    float *orig = random_floats(n, 1.0f), *v = copy_floats(orig, n);
    mcz_prune_stats st;
    ck_assert_int_eq(mcz_prune_nm_f32(v, 4, dims, 1, 2, 4, &st), MCZ_OK);
    check_nm(orig, v, 4, dims, 1, 2, 4);
    ck_assert_uint_eq(zeros_in(v, n), n / 2);
    /* and along axis 0 for ConvTranspose [C, M, kh, kw] */
    v = copy_floats(orig, n);
    ck_assert_int_eq(mcz_prune_nm_f32(v, 4, dims, 0, 2, 4, &st), MCZ_OK);
    check_nm(orig, v, 4, dims, 0, 2, 4);
}
END_TEST

START_TEST(nm_short_last_group_counts_its_padding_as_zeros)
{
    rng_seed(43);
    /* K = 7: one full group of 4 (2 zeros) and a tail of 3 (padding 1: 1 zero) */
    const int64_t dims[2] = {7, 3};
    float *orig = random_floats(21, 1.0f), *v = copy_floats(orig, 21);
    mcz_prune_stats st;
    ck_assert_int_eq(mcz_prune_nm_f32(v, 2, dims, 0, 2, 4, &st), MCZ_OK);
    check_nm(orig, v, 2, dims, 0, 2, 4);
    ck_assert_uint_eq(zeros_in(v, 21), 3 * (2 + 1));
    /* K = 6: tail of 2 (padding 2) needs nothing */
    const int64_t d6[2] = {6, 3};
    v = copy_floats(orig, 18);
    ck_assert_int_eq(mcz_prune_nm_f32(v, 2, d6, 0, 2, 4, &st), MCZ_OK);
    ck_assert_uint_eq(zeros_in(v, 18), 3 * 2);
    /* a 1-long axis (depthwise conv) has no full group: nothing changes */
    const int64_t dw[4] = {8, 1, 3, 3};
    float *big = random_floats(72, 1.0f), *bv = copy_floats(big, 72);
    ck_assert_int_eq(mcz_prune_nm_f32(bv, 4, dw, 1, 2, 4, &st), MCZ_OK);
    ck_assert(memcmp(big, bv, 72 * sizeof *bv) == 0);
}
END_TEST

START_TEST(nm_other_ratios_and_ties)
{
    rng_seed(44);
    const int64_t dims[2] = {64, 4};
    float *orig = random_floats(256, 1.0f);
    for (int r = 0; r < 3; r++) {
        static const unsigned nn[3] = {1, 3, 4}, mm[3] = {2, 8, 16};
        float *v = copy_floats(orig, 256);
        mcz_prune_stats st;
        ck_assert_int_eq(mcz_prune_nm_f32(v, 2, dims, 0, nn[r], mm[r], &st), MCZ_OK);
        check_nm(orig, v, 2, dims, 0, nn[r], mm[r]);
    }
    /* equal magnitudes in a group: the first ones go */
    float t[8] = {1, -1, 1, -1, 2, 2, 2, 2};
    const int64_t d[1] = {8};
    mcz_prune_stats st;
    ck_assert_int_eq(mcz_prune_nm_f32(t, 1, d, 0, 2, 4, &st), MCZ_OK);
    const float want[8] = {0, 0, 1, -1, 0, 0, 2, 2};
    for (int i = 0; i < 8; i++)
        ck_assert(t[i] == want[i]);
}
END_TEST

START_TEST(nm_groups_with_enough_zeros_are_left_alone)
{
    float v[8] = {0, 5, 0, 6, 0, 0, 0, 7};
    float orig[8];
    memcpy(orig, v, sizeof v);
    const int64_t d[1] = {8};
    mcz_prune_stats st;
    ck_assert_int_eq(mcz_prune_nm_f32(v, 1, d, 0, 2, 4, &st), MCZ_OK);
    ck_assert(memcmp(v, orig, sizeof v) == 0);
    ck_assert_uint_eq(st.zeros_before, 5);
    ck_assert_uint_eq(st.zeros_after, 5);
}
END_TEST

START_TEST(nm_bad_arguments_are_refused)
{
    float v[8] = {0};
    const int64_t d[1] = {8};
    mcz_prune_stats st;
    ck_assert_int_eq(mcz_prune_nm_f32(v, 1, d, 0, 4, 4, &st), MCZ_ERR_ARG);
    ck_assert_int_eq(mcz_prune_nm_f32(v, 1, d, 0, 0, 4, &st), MCZ_ERR_ARG);
    ck_assert_int_eq(mcz_prune_nm_f32(v, 1, d, 1, 2, 4, &st), MCZ_ERR_ARG);
    ck_assert_int_eq(mcz_prune_nm_f32(v, 1, d, 0, 2, MCZ_PRUNE_MAX_M + 1, &st), MCZ_ERR_ARG);
}
END_TEST

/* ---- channels ------------------------------------------------------------------------------------- */

START_TEST(channel_pattern_zeroes_whole_output_channels_with_the_smallest_norm)
{
    rng_seed(51);
    const int64_t dims[4] = {8, 3, 2, 2}; /* Conv: channel axis 0 */
    size_t n = 8 * 12;
    float *orig = random_floats(n, 1.0f);
    /* channel c scaled by a distinct factor: norms ordered 3,1,7,5,0,2,6,4 */
    static const float scale[8] = {4, 2, 8, 6, 1, 3, 7, 5};
    for (size_t c = 0; c < 8; c++)
        for (size_t i = 0; i < 12; i++)
            orig[c * 12 + i] = (0.5f + 0.1f * fabsf(orig[c * 12 + i])) * scale[c];
    float *v = copy_floats(orig, n);
    mcz_prune_stats st;
    ck_assert_int_eq(mcz_prune_channel_f32(v, 4, dims, 0, 4, &st), MCZ_OK);
    check_only_zeroed(orig, v, n);
    for (size_t c = 0; c < 8; c++) {
        uint64_t z = zeros_in(v + c * 12, 12);
        int gone = scale[c] <= 4;
        ck_assert_msg(z == (gone ? 12u : 0u), "channel %zu: %llu zeros", c, (unsigned long long)z);
    }
    ck_assert_uint_eq(st.channels_zeroed, 4);
    ck_assert_uint_eq(st.zeros_after, 48);
}
END_TEST

START_TEST(channel_pattern_along_a_middle_axis_zeroes_strided_slices)
{
    rng_seed(52);
    const int64_t dims[3] = {2, 5, 3}; /* channel axis 1 (ConvTranspose-like) */
    float *orig = random_floats(30, 1.0f);
    for (int o = 0; o < 2; o++) /* make channel 3 the weakest, channel 1 next */
        for (int i = 0; i < 3; i++) {
            orig[(o * 5 + 3) * 3 + i] *= 0.01f;
            orig[(o * 5 + 1) * 3 + i] *= 0.1f;
        }
    float *v = copy_floats(orig, 30);
    mcz_prune_stats st;
    ck_assert_int_eq(mcz_prune_channel_f32(v, 3, dims, 1, 2, &st), MCZ_OK);
    for (int o = 0; o < 2; o++)
        for (int c = 0; c < 5; c++)
            for (int i = 0; i < 3; i++) {
                float x = v[(o * 5 + c) * 3 + i];
                if (c == 1 || c == 3)
                    ck_assert(x == 0.0f);
                else
                    ck_assert(x == orig[(o * 5 + c) * 3 + i]);
            }
}
END_TEST

START_TEST(channel_pattern_counts_an_all_zero_channel_as_pruned_first)
{
    const int64_t dims[2] = {4, 2};
    float v[8] = {0, 0, 5, 5, 0.1f, 0.1f, 7, 7};
    mcz_prune_stats st;
    ck_assert_int_eq(mcz_prune_channel_f32(v, 2, dims, 0, 2, &st), MCZ_OK);
    const float want[8] = {0, 0, 5, 5, 0, 0, 7, 7};
    for (int i = 0; i < 8; i++)
        ck_assert(v[i] == want[i]);
    ck_assert_uint_eq(st.channels_zeroed, 2);
    ck_assert_double_eq_tol(st.threshold, sqrt(0.02), 1e-7);
}
END_TEST

/* ---- models -------------------------------------------------------------------------------------- */

static Onnx__NodeProto *op2(Onnx__GraphProto *g, const char *op, const char *name,
                            const char *a, const char *b, const char *out)
{
    Onnx__NodeProto *n = tm_node(g, op, name, out);
    TM_PUSH(n->input, n->n_input, tm_str(a));
    TM_PUSH(n->input, n->n_input, tm_str(b));
    return n;
}

typedef struct fixture {
    float *w1, *w2, *w3, *w4; /* originals */
} fixture;

/* A model with prunable weights in four places: an initializer (MatMul, 64x32), a Constant
 * (Conv, 16x8x3x3), a typed float_data initializer (MatMul 32x16, scaled x100), an If
 * subgraph initializer (MatMul 16x8), plus a bias that is not prunable. */
static const char *build_model(fixture *fx)
{
    rng_seed(61);
    Onnx__GraphProto *g = tm_graph("main");
    fx->w1 = random_floats(64 * 32, 1.0f);
    tm_add_initializer(g, tm_raw("w1", MCZ_DT_FLOAT, 2, TM_DIMS(64, 32), fx->w1, 64 * 32 * 4));
    op2(g, "MatMul", "mm1", "x", "w1", "h1");
    fx->w2 = random_floats(16 * 8 * 9, 0.1f);
    tm_constant(g, "cw", "w2", tm_raw("w2", MCZ_DT_FLOAT, 4, TM_DIMS(16, 8, 3, 3), fx->w2, 16 * 8 * 9 * 4));
    op2(g, "Conv", "conv", "img", "w2", "c1");
    fx->w3 = random_floats(32 * 16, 100.0f);
    Onnx__TensorProto *t3 = tm_tensor("w3", MCZ_DT_FLOAT, 2, TM_DIMS(32, 16));
    t3->float_data = tm_dup(fx->w3, 32 * 16 * 4);
    t3->n_float_data = 32 * 16;
    tm_add_initializer(g, t3);
    op2(g, "MatMul", "mm3", "h1", "w3", "h3");
    float bias[16];
    for (int i = 0; i < 16; i++)
        bias[i] = (float)i;
    tm_add_initializer(g, tm_raw("bias", MCZ_DT_FLOAT, 1, TM_DIMS(16), bias, sizeof bias));
    op2(g, "Add", "add", "h3", "bias", "h4");
    Onnx__GraphProto *sub = tm_graph("then");
    fx->w4 = random_floats(16 * 8, 1.0f);
    tm_add_initializer(sub, tm_raw("w4", MCZ_DT_FLOAT, 2, TM_DIMS(16, 8), fx->w4, 16 * 8 * 4));
    op2(sub, "MatMul", "mm4", "h4", "w4", "y_then");
    Onnx__NodeProto *ifn = tm_node(g, "If", "if", "y");
    TM_PUSH(ifn->input, ifn->n_input, tm_str("cond"));
    tm_attr_graph(ifn, "then_branch", sub);
    tm_attr_graph(ifn, "else_branch", tm_graph("else"));
    return tm_save(td_new(), "model.onnx", tm_model(g));
}

static mcz_model *load(const char *path)
{
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx(path, &err);
    ck_assert_msg(m != NULL, "load %s: %s", path, err.msg);
    return m;
}

static float *values(mcz_model *m, const char *name)
{
    long i = mcz_model_find_weight(m, name);
    ck_assert_msg(i >= 0, "no weight '%s'", name);
    size_t n = (size_t)mcz_model_weight(m, (size_t)i)->count;
    float *out = tm_alloc(n * sizeof *out + 1);
    mcz_error err = {0};
    expect_ok(mcz_model_weight_to_f32(m, (size_t)i, out, &err), &err);
    return out;
}

static const mcz_prune_result *result_for(const mcz_prune_report *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->w[i].name, name) == 0)
            return &r->w[i];
    ck_abort_msg("no report row for '%s'", name);
    return NULL;
}

static uint8_t *serialize(mcz_model *m, size_t *len)
{
    uint8_t *b;
    mcz_error err = {0};
    expect_ok(mcz_model_serialize(m, &b, len, &err), &err);
    uint8_t *copy = tm_dup(b, *len);
    free(b);
    return copy;
}

START_TEST(model_weights_everywhere_get_the_exact_sparsity)
{
    fixture fx;
    mcz_model *m = load(build_model(&fx));
    mcz_prune_params p = mcz_prune_default_params();
    p.sparsity = 0.5;
    p.threads = 2;
    mcz_prune_report *r = NULL;
    mcz_error err = {0};
    expect_ok(mcz_prune_model(m, &p, &r, &err), &err);
    ck_assert_uint_eq(r->pruned, 4);
    static const char *const names[4] = {"w1", "w2", "w3", "w4"};
    const float *orig[4] = {fx.w1, fx.w2, fx.w3, fx.w4};
    for (int i = 0; i < 4; i++) {
        const mcz_prune_result *res = result_for(r, names[i]);
        ck_assert_ptr_null(res->skipped);
        float *v = values(m, names[i]);
        ck_assert_uint_eq(zeros_in(v, res->count), mcz_prune_target(0.5, res->count));
        ck_assert_uint_eq(res->zeros_after, res->target);
        ck_assert_uint_eq(check_only_zeroed(orig[i], v, res->count), res->target);
        ck_assert(res->rel_l2 > 0 && res->rel_l2 < 0.5);
        ck_assert(res->changed);
    }
    /* the bias feeds Add: not a candidate, not in the report */
    for (size_t i = 0; i < r->n; i++)
        ck_assert_str_ne(r->w[i].name, "bias");
    ck_assert_uint_eq(r->count, 64 * 32 + 16 * 8 * 9 + 32 * 16 + 16 * 8);
    /* and it survives a save and a reload */
    char *out = td_path(td_new(), "pruned.onnx");
    expect_ok(mcz_model_save_onnx(m, out, NULL, &err), &err);
    mcz_model *m2 = load(out);
    ck_assert_uint_eq(zeros_in(values(m2, "w4"), 128), 64);
    ck_assert_uint_eq(zeros_in(values(m2, "w2"), 16 * 8 * 9), 576);
    mcz_model_free(m2);
    mcz_prune_report_free(r);
    mcz_model_free(m);
}
END_TEST

START_TEST(zero_sparsity_changes_nothing_byte_for_byte)
{
    fixture fx;
    const char *path = build_model(&fx);
    size_t in_len;
    uint8_t *in = td_read(path, &in_len);
    mcz_model *m = load(path);
    size_t before_len, after_len;
    uint8_t *before = serialize(m, &before_len);
    mcz_prune_params p = mcz_prune_default_params();
    mcz_prune_report *r = NULL;
    mcz_error err = {0};
    expect_ok(mcz_prune_model(m, &p, &r, &err), &err);
    uint8_t *after = serialize(m, &after_len);
    ck_assert_uint_eq(before_len, after_len);
    ck_assert(memcmp(before, after, before_len) == 0);
    for (size_t i = 0; i < r->n; i++)
        ck_assert(!r->w[i].changed);
    char *out = td_path(td_new(), "same.onnx");
    expect_ok(mcz_model_save_onnx(m, out, NULL, &err), &err);
    size_t out_len;
    uint8_t *saved = td_read(out, &out_len);
    ck_assert_uint_eq(out_len, in_len);
    ck_assert(memcmp(saved, in, in_len) == 0);
    mcz_prune_report_free(r);
    mcz_model_free(m);
}
END_TEST

START_TEST(a_weight_already_as_sparse_as_asked_keeps_its_bytes)
{
    rng_seed(62);
    Onnx__GraphProto *g = tm_graph("main");
    float *w = random_floats(100, 1.0f);
    for (int i = 0; i < 100; i += 2)
        w[i] = 0;
    Onnx__TensorProto *t = tm_tensor("w", MCZ_DT_FLOAT, 2, TM_DIMS(10, 10));
    t->float_data = w; /* a typed field: a replaced weight would become raw_data */
    t->n_float_data = 100;
    tm_add_initializer(g, t);
    op2(g, "MatMul", "mm", "x", "w", "y");
    mcz_model *m = load(tm_save(td_new(), "m.onnx", tm_model(g)));
    size_t l0, l1;
    uint8_t *b0 = serialize(m, &l0);
    mcz_prune_params p = mcz_prune_default_params();
    p.sparsity = 0.4;
    mcz_prune_report *r = NULL;
    mcz_error err = {0};
    expect_ok(mcz_prune_model(m, &p, &r, &err), &err);
    uint8_t *b1 = serialize(m, &l1);
    ck_assert(l0 == l1 && memcmp(b0, b1, l0) == 0);
    ck_assert_uint_eq(r->w[0].zeros_before, 50);
    ck_assert_uint_eq(r->w[0].zeros_after, 50);
    ck_assert(!r->w[0].changed);
    mcz_prune_report_free(r);
    mcz_model_free(m);
}
END_TEST

static void prune_bytes(const char *path, const mcz_prune_params *p, uint8_t **out, size_t *len)
{
    mcz_model *m = load(path);
    mcz_error err = {0};
    expect_ok(mcz_prune_model(m, p, NULL, &err), &err);
    *out = serialize(m, len);
    mcz_model_free(m);
}

START_TEST(the_result_is_the_same_whatever_the_thread_count)
{
    fixture fx;
    const char *path = build_model(&fx);
    for (int variant = 0; variant < 4; variant++) {
        mcz_prune_params p = mcz_prune_default_params();
        p.sparsity = 0.6;
        if (variant == 1)
            p.scope = MCZ_PRUNE_SCOPE_GLOBAL;
        if (variant == 2) {
            p.scope = MCZ_PRUNE_SCOPE_GLOBAL;
            p.normalize = true;
        }
        if (variant == 3) {
            p.pattern = MCZ_PRUNE_NM;
            p.nm_n = 2;
            p.nm_m = 4;
        }
        uint8_t *a, *b, *c;
        size_t la, lb, lc;
        p.threads = 1;
        prune_bytes(path, &p, &a, &la);
        p.threads = 4;
        prune_bytes(path, &p, &b, &lb);
        prune_bytes(path, &p, &c, &lc);
        ck_assert_msg(la == lb && memcmp(a, b, la) == 0, "variant %d: 1 vs 4 threads differ", variant);
        ck_assert_msg(lb == lc && memcmp(b, c, lb) == 0, "variant %d: two runs differ", variant);
    }
}
END_TEST

/* All magnitudes of the candidates, with (weight, index), for the global references. */
typedef struct mag {
    float key;
    int w;
    size_t i;
} mag;

static int cmp_mag(const void *a, const void *b)
{
    const mag *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->w != y->w)
        return x->w - y->w;
    return x->i < y->i ? -1 : x->i > y->i;
}

static void check_global(bool normalize)
{
    fixture fx;
    const char *path = build_model(&fx);
    mcz_model *m = load(path);
    static const char *const names[4] = {"w1", "w2", "w3", "w4"};
    const float *orig[4] = {fx.w1, fx.w2, fx.w3, fx.w4};
    size_t counts[4], total = 0;
    for (int w = 0; w < 4; w++)
        total += counts[w] = (size_t)mcz_model_weight(m, (size_t)mcz_model_find_weight(m, names[w]))->count;
    mag *all = tm_alloc(total * sizeof *all);
    size_t k = 0;
    /* the reference: ties go to the weight earlier in the table, then the lower index */
    for (int w = 0; w < 4; w++) {
        int table = (int)mcz_model_find_weight(m, names[w]);
        double ss = 0;
        for (size_t i = 0; i < counts[w]; i++)
            ss += (double)orig[w][i] * orig[w][i];
        float scale = normalize ? (float)(1.0 / sqrt(ss / (double)counts[w])) : 1.0f;
        for (size_t i = 0; i < counts[w]; i++)
            all[k++] = (mag){fabsf(normalize ? orig[w][i] * scale : orig[w][i]), table, i};
    }
    qsort(all, total, sizeof *all, cmp_mag);
    mcz_prune_params p = mcz_prune_default_params();
    p.sparsity = 0.55;
    p.scope = MCZ_PRUNE_SCOPE_GLOBAL;
    p.normalize = normalize;
    p.threads = 3;
    mcz_prune_report *r = NULL;
    mcz_error err = {0};
    expect_ok(mcz_prune_model(m, &p, &r, &err), &err);
    uint64_t want = mcz_prune_target(0.55, total);
    ck_assert_uint_eq(r->zeros_after, want);
    ck_assert_uint_eq(r->target, want);
    ck_assert_float_eq((float)r->threshold, all[want - 1].key);
    /* exactly the first `want` of the sorted reference are zero */
    float *v[4];
    for (int w = 0; w < 4; w++)
        v[w] = values(m, names[w]);
    for (size_t j = 0; j < total; j++) {
        int w = 0;
        while (mcz_model_find_weight(m, names[w]) != all[j].w)
            w++;
        float x = v[w][all[j].i];
        if (j < want)
            ck_assert_msg(x == 0.0f, "reference rank %zu (%s[%zu]) kept", j, names[w], all[j].i);
        else
            ck_assert_msg(x == orig[w][all[j].i], "reference rank %zu (%s[%zu]) changed", j,
                          names[w], all[j].i);
    }
    if (!normalize) /* w3 (scale 100) keeps nearly everything, w2 (scale 0.1) loses all */
        ck_assert(result_for(r, "w3")->zeros_after < result_for(r, "w2")->zeros_after);
    mcz_prune_report_free(r);
    mcz_model_free(m);
}

START_TEST(global_threshold_matches_a_sorted_reference)
{
    check_global(false);
}
END_TEST

START_TEST(global_normalized_threshold_matches_a_sorted_reference)
{
    check_global(true);
}
END_TEST

START_TEST(global_ties_at_the_threshold_go_to_earlier_weights_first)
{
    Onnx__GraphProto *g = tm_graph("main");
    float a[8] = {1, 1, 1, 1, 2, 2, 2, 2}, b[8] = {1, 1, 1, 1, 3, 3, 3, 3};
    tm_add_initializer(g, tm_raw("a", MCZ_DT_FLOAT, 2, TM_DIMS(2, 4), a, sizeof a));
    tm_add_initializer(g, tm_raw("b", MCZ_DT_FLOAT, 2, TM_DIMS(2, 4), b, sizeof b));
    op2(g, "MatMul", "m1", "x", "a", "y");
    op2(g, "MatMul", "m2", "y", "b", "z");
    mcz_model *m = load(tm_save(td_new(), "t.onnx", tm_model(g)));
    mcz_prune_params p = mcz_prune_default_params();
    p.sparsity = 6.0 / 16; /* 8 ones tie: the 4 of a and the first 2 of b */
    p.scope = MCZ_PRUNE_SCOPE_GLOBAL;
    mcz_error err = {0};
    mcz_prune_report *r = NULL;
    expect_ok(mcz_prune_model(m, &p, &r, &err), &err);
    float *va = values(m, "a"), *vb = values(m, "b");
    ck_assert_uint_eq(zeros_in(va, 8), 4);
    ck_assert_uint_eq(zeros_in(vb, 8), 2);
    ck_assert(vb[0] == 0 && vb[1] == 0 && vb[2] == 1);
    mcz_prune_report_free(r);
    mcz_model_free(m);
}
END_TEST

START_TEST(float16_weights_keep_their_type_and_get_zeros)
{
    Onnx__GraphProto *g = tm_graph("main");
    uint16_t h[16];
    for (int i = 0; i < 16; i++)
        h[i] = (uint16_t)(0x3c00 + (i << 4)) | (i % 2 ? 0x8000 : 0); /* +-(1 + i/64) */
    tm_add_initializer(g, tm_raw("h", MCZ_DT_FLOAT16, 2, TM_DIMS(4, 4), h, sizeof h));
    op2(g, "MatMul", "mm", "x", "h", "y");
    mcz_model *m = load(tm_save(td_new(), "h.onnx", tm_model(g)));
    mcz_prune_params p = mcz_prune_default_params();
    p.pattern = MCZ_PRUNE_NM;
    p.nm_n = 2;
    p.nm_m = 4;
    mcz_error err = {0};
    expect_ok(mcz_prune_model(m, &p, NULL, &err), &err);
    const mcz_weight *w = mcz_model_weight(m, 0);
    ck_assert_int_eq(w->dtype, MCZ_DT_FLOAT16);
    const uint16_t *d = mcz_model_weight_data(m, 0, &err);
    ck_assert_ptr_nonnull(d);
    /* K = 4 (axis 0): in each column, rows 0 and 1 (the smaller magnitudes) go */
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(d[i], i < 8 ? 0 : h[i]);
    mcz_model_free(m);
}
END_TEST

START_TEST(channel_pattern_on_a_model_reports_channels)
{
    fixture fx;
    mcz_model *m = load(build_model(&fx));
    mcz_prune_params p = mcz_prune_default_params();
    p.pattern = MCZ_PRUNE_CHANNEL;
    p.sparsity = 0.25;
    mcz_prune_report *r = NULL;
    mcz_error err = {0};
    expect_ok(mcz_prune_model(m, &p, &r, &err), &err);
    const mcz_prune_result *c = result_for(r, "w2"); /* Conv [16,8,3,3], channel axis 0 */
    ck_assert_int_eq(c->axis, 0);
    ck_assert_uint_eq(c->channels, 16);
    ck_assert_uint_eq(c->channels_zeroed, 4);
    float *v = values(m, "w2");
    int zero_channels = 0;
    for (int ch = 0; ch < 16; ch++) {
        uint64_t z = zeros_in(v + ch * 72, 72);
        ck_assert(z == 0 || z == 72);
        zero_channels += z == 72;
    }
    ck_assert_int_eq(zero_channels, 4);
    const mcz_prune_result *mm = result_for(r, "w1"); /* MatMul [64,32]: channel axis 1 */
    ck_assert_int_eq(mm->axis, 1);
    ck_assert_uint_eq(mm->channels_zeroed, 8);
    mcz_prune_report_free(r);
    mcz_model_free(m);
}
END_TEST

START_TEST(exclude_and_min_elements_leave_weights_untouched)
{
    fixture fx;
    mcz_model *m = load(build_model(&fx));
    const char *ex[2] = {"w1", "mm4"}; /* a weight name and a node name */
    mcz_prune_params p = mcz_prune_default_params();
    p.sparsity = 0.5;
    p.exclude = ex;
    p.nexclude = 2;
    p.min_elements = 600; /* w3 (512) is too small; w2 (1152) is not */
    mcz_prune_report *r = NULL;
    mcz_error err = {0};
    expect_ok(mcz_prune_model(m, &p, &r, &err), &err);
    ck_assert_str_eq(result_for(r, "w1")->skipped, "excluded (--exclude)");
    ck_assert_str_eq(result_for(r, "w4")->skipped, "excluded (--exclude)");
    ck_assert_ptr_nonnull(result_for(r, "w3")->skipped);
    ck_assert_ptr_null(result_for(r, "w2")->skipped);
    ck_assert_uint_eq(r->pruned, 1);
    ck_assert(memcmp(values(m, "w1"), fx.w1, 64 * 32 * 4) == 0);
    ck_assert(memcmp(values(m, "w4"), fx.w4, 16 * 8 * 4) == 0);
    ck_assert(memcmp(values(m, "w3"), fx.w3, 32 * 16 * 4) == 0);
    mcz_prune_report_free(r);
    mcz_model_free(m);
}
END_TEST

START_TEST(an_exclude_pattern_matching_nothing_is_an_error_that_suggests_names)
{
    fixture fx;
    mcz_model *m = load(build_model(&fx));
    const char *ex[1] = {"mm_3"};
    mcz_prune_params p = mcz_prune_default_params();
    p.sparsity = 0.5;
    p.exclude = ex;
    p.nexclude = 1;
    mcz_error err = {0};
    expect_status(mcz_prune_model(m, &p, NULL, &err), MCZ_ERR_NOT_FOUND, &err);
    expect_msg_has(&err, "'mm_3' matches no weight");
    expect_msg_has(&err, "did you mean 'mm3'");
    ck_assert(memcmp(values(m, "w1"), fx.w1, 64 * 32 * 4) == 0); /* nothing pruned */
    mcz_model_free(m);
}
END_TEST

START_TEST(bad_parameters_are_refused)
{
    fixture fx;
    mcz_model *m = load(build_model(&fx));
    mcz_error err = {0};
    mcz_prune_params p = mcz_prune_default_params();
    p.sparsity = 1.0;
    expect_status(mcz_prune_model(m, &p, NULL, &err), MCZ_ERR_ARG, &err);
    p.sparsity = -0.1;
    expect_status(mcz_prune_model(m, &p, NULL, &err), MCZ_ERR_ARG, &err);
    p = mcz_prune_default_params();
    p.sparsity = 0.5;
    p.pattern = MCZ_PRUNE_CHANNEL;
    p.scope = MCZ_PRUNE_SCOPE_GLOBAL;
    expect_status(mcz_prune_model(m, &p, NULL, &err), MCZ_ERR_ARG, &err);
    expect_ok(mcz_prune_parse_pattern("2:4", &p, &err), &err);
    ck_assert(p.pattern == MCZ_PRUNE_NM && p.nm_n == 2 && p.nm_m == 4);
    expect_status(mcz_prune_parse_pattern("4:4", &p, &err), MCZ_ERR_ARG, &err);
    expect_status(mcz_prune_parse_pattern("2:4x", &p, &err), MCZ_ERR_ARG, &err);
    expect_status(mcz_prune_parse_pattern("-1:4", &p, &err), MCZ_ERR_ARG, &err);
    expect_status(mcz_prune_parse_pattern("blocks", &p, &err), MCZ_ERR_ARG, &err);
    mcz_model_free(m);
}
END_TEST

/* ---- suggestions ---------------------------------------------------------------------------------- */

START_TEST(edit_distance_counts_inserts_deletes_and_substitutions)
{
    ck_assert_uint_eq(mcz_edit_distance("kitten", "sitting", 10), 3);
    ck_assert_uint_eq(mcz_edit_distance("", "abc", 10), 3);
    ck_assert_uint_eq(mcz_edit_distance("same", "same", 0), 0);
    ck_assert_uint_eq(mcz_edit_distance("conv1.weight", "conv1.wieght", 10), 2);
    ck_assert_uint_eq(mcz_edit_distance("abcdef", "uvwxyz", 2), 3); /* capped at max + 1 */
}
END_TEST

START_TEST(suggestions_are_the_nearest_names_first)
{
    const char *names[6] = {"conv2.weight", "fc.weight", "conv1.weight", NULL, "conv1.weight",
                            "conv1.bias"};
    size_t idx[3];
    size_t k = mcz_suggest("conv1.wieght", names, 6, idx, 3);
    ck_assert_uint_eq(k, 2);
    ck_assert_uint_eq(idx[0], 2); /* distance 2, duplicate at 4 given once */
    ck_assert_uint_eq(idx[1], 0); /* distance 3 */
    char buf[64];
    ck_assert_str_eq(mcz_suggest_list(names, idx, k, buf, sizeof buf),
                     "'conv1.weight' or 'conv2.weight'");
    ck_assert_uint_eq(mcz_suggest("zzzzzzzzzzzzzz", names, 6, idx, 3), 0);
}
END_TEST

static Suite *prune_suite(void)
{
    Suite *s = suite_create("prune");
    TCase *tc = tcase_create("select");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, target_rounds_to_the_nearest_element);
    tcase_add_test(tc, select_matches_a_sorted_reference_on_random_keys);
    tcase_add_test(tc, select_handles_many_duplicates_and_ordered_inputs);
    suite_add_tcase(s, tc);

    tc = tcase_create("unstructured");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 30); /* large arrays: seconds alone, more on a loaded machine */
    tcase_add_test(tc, unstructured_zeroes_exactly_the_target_count_of_the_smallest);
    tcase_add_test(tc, large_arrays_and_samples_that_mislead_still_select_exactly);
    tcase_add_test(tc, unstructured_rel_l2_is_the_norm_of_what_was_removed);
    tcase_add_test(tc, ties_at_the_threshold_go_to_the_lower_indices_and_the_count_stays_exact);
    tcase_add_test(tc, all_equal_magnitudes_still_give_the_exact_count);
    tcase_add_test(tc, existing_zeros_count_towards_the_target);
    tcase_add_test(tc, a_weight_already_sparser_than_the_target_is_left_as_it_is);
    tcase_add_test(tc, nan_is_larger_than_every_number_and_pruned_last);
    suite_add_tcase(s, tc);

    tc = tcase_create("nm");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, two_four_zeroes_two_of_every_four_along_the_matmul_reduction_axis);
    tcase_add_test(tc, two_four_works_along_the_conv_input_channel_axis);
    tcase_add_test(tc, nm_short_last_group_counts_its_padding_as_zeros);
    tcase_add_test(tc, nm_other_ratios_and_ties);
    tcase_add_test(tc, nm_groups_with_enough_zeros_are_left_alone);
    tcase_add_test(tc, nm_bad_arguments_are_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("channel");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, channel_pattern_zeroes_whole_output_channels_with_the_smallest_norm);
    tcase_add_test(tc, channel_pattern_along_a_middle_axis_zeroes_strided_slices);
    tcase_add_test(tc, channel_pattern_counts_an_all_zero_channel_as_pruned_first);
    suite_add_tcase(s, tc);

    tc = tcase_create("model");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, model_weights_everywhere_get_the_exact_sparsity);
    tcase_add_test(tc, zero_sparsity_changes_nothing_byte_for_byte);
    tcase_add_test(tc, a_weight_already_as_sparse_as_asked_keeps_its_bytes);
    tcase_add_test(tc, the_result_is_the_same_whatever_the_thread_count);
    tcase_add_test(tc, global_threshold_matches_a_sorted_reference);
    tcase_add_test(tc, global_normalized_threshold_matches_a_sorted_reference);
    tcase_add_test(tc, global_ties_at_the_threshold_go_to_earlier_weights_first);
    tcase_add_test(tc, float16_weights_keep_their_type_and_get_zeros);
    tcase_add_test(tc, channel_pattern_on_a_model_reports_channels);
    tcase_add_test(tc, exclude_and_min_elements_leave_weights_untouched);
    tcase_add_test(tc, an_exclude_pattern_matching_nothing_is_an_error_that_suggests_names);
    tcase_add_test(tc, bad_parameters_are_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("suggest");
    tcase_add_test(tc, edit_distance_counts_inserts_deletes_and_substitutions);
    tcase_add_test(tc, suggestions_are_the_nearest_names_first);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(prune_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
