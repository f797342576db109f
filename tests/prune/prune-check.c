/* prune-check.c - check a pruned model against its original, independently of prune.c:
 *
 *   prune-check ORIG.onnx PRUNED.onnx --sparsity F [--pattern unstructured|N:M|channel]
 *               [--scope tensor|global] [--normalize] [--min-elements N]
 *
 * - both models have the same weights (names, types, shapes) in the same order;
 * - every element of every weight is its original value (byte for byte) or zero; weights that
 *   are not prunable (not the weight input of Conv/ConvTranspose/Gemm/MatMul, not floating
 *   point, fewer than N elements) are unchanged;
 * - unstructured, tensor scope: each weight has exactly max(round(F * n), zeros before) zeros,
 *   and no zeroed magnitude exceeds a kept one;
 * - global scope: the same over all prunable weights together (|w| / RMS with --normalize);
 * - N:M: every full group of M along the reduction axis has max(N, zeros before) zeros, the
 *   smallest; a short last group of t has max(N - (M - t), 0, zeros before);
 * - channel: max(round(F * C), zero channels before) channels are all zero, the others
 *   untouched, and no zeroed channel has a larger L2 norm than a kept one.
 * Exit 0 when everything holds, 1 with a message naming the weight otherwise, 2 usage. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/model.h"
#include "mcz/prune.h"
#include "mcz/roles.h"

static int failures;

#define FAIL(...)                                                                               \
    do {                                                                                        \
        fprintf(stderr, "prune-check: " __VA_ARGS__);                                           \
        fputc('\n', stderr);                                                                    \
        if (++failures > 20)                                                                    \
            exit(1);                                                                            \
    } while (0)

static uint64_t round_target(double f, uint64_t n)
{
    double k = floor(f * (double)n + 0.5); /* never all of them */
    return k >= (double)n ? (n ? n - 1 : 0) : (uint64_t)k;
}

static float *to_f32(mcz_model *m, size_t i)
{
    const mcz_weight *w = mcz_model_weight(m, i);
    float *v = malloc((size_t)w->count * sizeof *v + 4);
    mcz_error err = {0};
    if (!v || mcz_model_weight_to_f32(m, i, v, &err)) {
        fprintf(stderr, "prune-check: %s\n", v ? err.msg : "out of memory");
        exit(1);
    }
    return v;
}

static void split(const mcz_weight *w, int axis, uint64_t *outer, uint64_t *len, uint64_t *inner)
{
    *outer = *inner = 1;
    for (int d = 0; d < w->rank; d++) {
        if (d < axis)
            *outer *= (uint64_t)w->dims[d];
        if (d > axis)
            *inner *= (uint64_t)w->dims[d];
    }
    *len = (uint64_t)w->dims[axis];
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: prune-check ORIG PRUNED --sparsity F [--pattern P] [--scope S] "
                        "[--normalize] [--min-elements N]\n");
        return 2;
    }
    double f = -1;
    mcz_prune_params p = mcz_prune_default_params();
    mcz_error err = {0};
    for (int a = 3; a < argc; a++) {
        if (strcmp(argv[a], "--sparsity") == 0 && a + 1 < argc)
            f = atof(argv[++a]);
        else if (strcmp(argv[a], "--pattern") == 0 && a + 1 < argc) {
            if (mcz_prune_parse_pattern(argv[++a], &p, &err)) {
                fprintf(stderr, "prune-check: %s\n", err.msg);
                return 2;
            }
        } else if (strcmp(argv[a], "--scope") == 0 && a + 1 < argc)
            p.scope = strcmp(argv[++a], "global") == 0 ? MCZ_PRUNE_SCOPE_GLOBAL
                                                        : MCZ_PRUNE_SCOPE_TENSOR;
        else if (strcmp(argv[a], "--normalize") == 0)
            p.normalize = true;
        else if (strcmp(argv[a], "--min-elements") == 0 && a + 1 < argc)
            p.min_elements = strtoull(argv[++a], NULL, 10);
        else {
            fprintf(stderr, "prune-check: bad argument '%s'\n", argv[a]);
            return 2;
        }
    }
    if (p.pattern == MCZ_PRUNE_NM)
        f = (double)p.nm_n / p.nm_m;
    if (f < 0) {
        fprintf(stderr, "prune-check: --sparsity is required\n");
        return 2;
    }
    mcz_model *a = mcz_model_load_onnx(argv[1], &err);
    if (!a) {
        fprintf(stderr, "prune-check: %s\n", err.msg);
        return 1;
    }
    mcz_model *b = mcz_model_load_onnx(argv[2], &err);
    if (!b) {
        fprintf(stderr, "prune-check: %s\n", err.msg);
        return 1;
    }
    size_t nw = mcz_model_weight_count(a);
    if (mcz_model_weight_count(b) != nw) {
        FAIL("%zu weights in the original, %zu in the pruned model", nw, mcz_model_weight_count(b));
        return 1;
    }
    mcz_weight_role *roles = calloc(nw + 1, sizeof *roles);
    if (!roles || mcz_model_weight_roles(a, roles, &err)) {
        fprintf(stderr, "prune-check: roles: %s\n", err.msg);
        return 1;
    }
    /* global scope: all keys of the candidates, then one threshold */
    uint64_t g_count = 0, g_zeros_before = 0, g_zeros_after = 0;
    float g_max_zeroed = 0, g_min_kept = INFINITY;
    size_t checked = 0, untouched = 0;
    uint64_t total_elems = 0, total_zeros = 0;
    for (size_t i = 0; i < nw; i++) {
        const mcz_weight *wa = mcz_model_weight(a, i), *wb = mcz_model_weight(b, i);
        if (strcmp(wa->name, wb->name) || wa->dtype != wb->dtype || wa->rank != wb->rank ||
            wa->count != wb->count ||
            (wa->rank && memcmp(wa->dims, wb->dims, (size_t)wa->rank * sizeof *wa->dims))) {
            FAIL("weight %zu: '%s' does not match '%s' (name, type or shape)", i, wa->name,
                 wb->name);
            continue;
        }
        if (wa->dtype == MCZ_DT_STRING)
            continue;
        const uint8_t *ra = mcz_model_weight_data(a, i, &err), *rb = mcz_model_weight_data(b, i, &err);
        if (!ra || !rb) {
            FAIL("%s: %s", wa->name, err.msg);
            continue;
        }
        const mcz_weight_role *ro = &roles[i];
        bool floating = wa->dtype == MCZ_DT_FLOAT || wa->dtype == MCZ_DT_FLOAT16 ||
                        wa->dtype == MCZ_DT_BFLOAT16 || wa->dtype == MCZ_DT_DOUBLE;
        int axis = p.pattern == MCZ_PRUNE_NM ? ro->reduce_axis
                   : p.pattern == MCZ_PRUNE_CHANNEL ? ro->channel_axis : 0;
        bool cand = ro->op != MCZ_ROLE_NONE && floating && wa->count > 0 &&
                    wa->count >= p.min_elements && axis >= 0;
        if (!cand) {
            if (memcmp(ra, rb, (size_t)wa->nbytes) != 0)
                FAIL("%s: not prunable, but its values changed", wa->name);
            untouched++;
            continue;
        }
        checked++;
        size_t es = mcz_dtype_size(wa->dtype);
        float *va = to_f32(a, i), *vb = to_f32(b, i);
        uint64_t n = wa->count, z0 = 0, z1 = 0;
        float max_zeroed = 0, min_kept = INFINITY;
        for (uint64_t k = 0; k < n; k++) {
            bool same = memcmp(ra + k * es, rb + k * es, es) == 0;
            if (!same && vb[k] != 0.0f) {
                FAIL("%s[%llu]: %g became %g, not zero", wa->name, (unsigned long long)k,
                     (double)va[k], (double)vb[k]);
                break;
            }
            z0 += va[k] == 0.0f;
            z1 += vb[k] == 0.0f;
            if (vb[k] == 0.0f && fabsf(va[k]) > max_zeroed)
                max_zeroed = fabsf(va[k]);
            if (vb[k] != 0.0f && fabsf(va[k]) < min_kept)
                min_kept = fabsf(va[k]);
        }
        total_elems += n;
        total_zeros += z1;
        if (p.pattern == MCZ_PRUNE_UNSTRUCTURED && p.scope == MCZ_PRUNE_SCOPE_TENSOR) {
            uint64_t want = round_target(f, n);
            if (want < z0)
                want = z0;
            if (z1 != want)
                FAIL("%s: %llu zeros of %llu, want exactly %llu", wa->name,
                     (unsigned long long)z1, (unsigned long long)n, (unsigned long long)want);
            if (max_zeroed > min_kept)
                FAIL("%s: zeroed |%g| but kept |%g|", wa->name, (double)max_zeroed,
                     (double)min_kept);
        } else if (p.pattern == MCZ_PRUNE_UNSTRUCTURED) {
            double ss = 0;
            for (uint64_t k = 0; k < n; k++)
                if (isfinite(va[k]))
                    ss += (double)va[k] * va[k];
            float scale = 1.0f;
            if (p.normalize && ss > 0) {
                float s = (float)(1.0 / sqrt(ss / (double)n));
                if (isfinite(s) && s > 0)
                    scale = s;
            }
            for (uint64_t k = 0; k < n; k++) {
                float key = fabsf(scale == 1.0f ? va[k] : va[k] * scale);
                if (vb[k] == 0.0f && key > g_max_zeroed)
                    g_max_zeroed = key;
                if (vb[k] != 0.0f && key < g_min_kept)
                    g_min_kept = key;
            }
            g_count += n;
            g_zeros_before += z0;
            g_zeros_after += z1;
        } else if (p.pattern == MCZ_PRUNE_NM) {
            uint64_t outer, len, inner;
            split(wa, axis, &outer, &len, &inner);
            unsigned N = p.nm_n, M = p.nm_m;
            for (uint64_t o = 0; o < outer; o++)
                for (uint64_t in = 0; in < inner; in++)
                    for (uint64_t g0 = 0; g0 < len; g0 += M) {
                        uint64_t glen = len - g0 < M ? len - g0 : M, gz0 = 0, gz1 = 0;
                        uint64_t want = glen == M ? N : (M - glen >= N ? 0 : N - (M - glen));
                        float mz = 0, mk = INFINITY;
                        for (uint64_t j = 0; j < glen; j++) {
                            uint64_t at = (o * len + g0 + j) * inner + in;
                            gz0 += va[at] == 0.0f;
                            gz1 += vb[at] == 0.0f;
                            if (vb[at] == 0.0f && fabsf(va[at]) > mz)
                                mz = fabsf(va[at]);
                            if (vb[at] != 0.0f && fabsf(va[at]) < mk)
                                mk = fabsf(va[at]);
                        }
                        if (want < gz0)
                            want = gz0;
                        if (gz1 != want || mz > mk) {
                            FAIL("%s: group at outer %llu, axis %d from %llu, inner %llu: %llu "
                                 "zeros (want %llu), zeroed |%g| kept |%g|",
                                 wa->name, (unsigned long long)o, axis, (unsigned long long)g0,
                                 (unsigned long long)in, (unsigned long long)gz1,
                                 (unsigned long long)want, (double)mz, (double)mk);
                            o = outer, in = inner, g0 = len; /* one message per weight */
                        }
                    }
        } else { /* channel */
            uint64_t outer, nch, inner;
            split(wa, axis, &outer, &nch, &inner);
            uint64_t zc0 = 0, zc1 = 0;
            double max_zn = 0, min_kn = INFINITY;
            for (uint64_t c = 0; c < nch; c++) {
                uint64_t cz0 = 0, cz1 = 0, changed = 0;
                double norm = 0;
                for (uint64_t o = 0; o < outer; o++)
                    for (uint64_t in = 0; in < inner; in++) {
                        uint64_t at = (o * nch + c) * inner + in;
                        cz0 += va[at] == 0.0f;
                        cz1 += vb[at] == 0.0f;
                        changed += memcmp(ra + at * es, rb + at * es, es) != 0;
                        norm += (double)va[at] * va[at];
                    }
                uint64_t per = outer * inner;
                zc0 += cz0 == per;
                zc1 += cz1 == per;
                if (changed && cz1 != per)
                    FAIL("%s: channel %llu partly zeroed", wa->name, (unsigned long long)c);
                if (cz1 == per && norm > max_zn)
                    max_zn = norm;
                if (cz1 != per && norm < min_kn)
                    min_kn = norm;
            }
            uint64_t want = round_target(f, nch);
            if (want < zc0)
                want = zc0;
            if (zc1 != want)
                FAIL("%s: %llu of %llu channels zero, want %llu", wa->name,
                     (unsigned long long)zc1, (unsigned long long)nch, (unsigned long long)want);
            if (max_zn > min_kn)
                FAIL("%s: a zeroed channel has a larger norm than a kept one", wa->name);
        }
        free(va);
        free(vb);
    }
    if (p.pattern == MCZ_PRUNE_UNSTRUCTURED && p.scope == MCZ_PRUNE_SCOPE_GLOBAL) {
        uint64_t want = round_target(f, g_count);
        if (want < g_zeros_before)
            want = g_zeros_before;
        if (g_zeros_after != want)
            FAIL("global: %llu zeros of %llu, want exactly %llu", (unsigned long long)g_zeros_after,
                 (unsigned long long)g_count, (unsigned long long)want);
        if (g_max_zeroed > g_min_kept)
            FAIL("global: zeroed key %g but kept key %g", (double)g_max_zeroed, (double)g_min_kept);
    }
    if (checked == 0)
        FAIL("no prunable weight in %s", argv[1]);
    if (!failures)
        printf("prune-check: ok: %zu pruned weights (%llu elements, %.2f %% zero), %zu others "
               "unchanged\n",
               checked, (unsigned long long)total_elems,
               total_elems ? 100.0 * (double)total_zeros / (double)total_elems : 0.0, untouched);
    free(roles);
    mcz_model_free(a);
    mcz_model_free(b);
    return failures ? 1 : 0;
}
