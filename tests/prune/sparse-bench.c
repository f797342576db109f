/* sparse-bench.c - how to store pruned weights: a sparse-aware encoding against zstd on the
 * dense values, at several sparsities, on the prunable weights of real models; and how fast
 * the pruning selection runs.
 *
 *   sparse-bench [--level N] [--throughput MiB] MODEL.onnx...
 *
 * For each sparsity (unstructured, tensor scope: 30/50/70/90 %, and 2:4) every prunable
 * float32 weight of every model is pruned with mcz_prune_*_f32 and encoded whole (one block)
 * five ways; the table gives the total stored bytes and the ratio to the dense float32 bytes:
 *   zstd       zstd of the raw little-endian bytes (the container's encoding 1)
 *   planes     byte planes after rotating the sign to the low bit, each plane zstd
 *              (the container's encoding 2, transform 1)
 *   bitmap+v   one bit per element (1 = non-zero), zstd; then the non-zero values, zstd
 *   bitmap+vp  the same bitmap; the non-zero values as rotated byte planes, each zstd
 *   runs+vp    the zero-run length before each non-zero (bytes, 255 = "255 more and go on"),
 *              zstd; then the non-zero values as rotated byte planes, each zstd
 *   best-of    per weight, the smallest of zstd, planes and bitmap+vp (what a writer that
 *              "keeps the smallest" would store)
 * Every sparse encoding is decoded again and compared with the pruned values (a wrong
 * encoder fails the run). Decode speed of planes and bitmap+vp is printed too.
 * Timings are wall clock on whatever else the machine is doing: indicative only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "mcz/model.h"
#include "mcz/prune.h"
#include "mcz/roles.h"

enum { E_ZSTD, E_PLANES, E_BITMAP_V, E_BITMAP_VP, E_RUNS_VP, E_BEST, E_COUNT };
static const char *const enc_name[E_COUNT] = {"zstd", "planes", "bitmap+v", "bitmap+vp",
                                              "runs+vp", "best-of"};

static int g_level = 3;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "sparse-bench: out of memory\n");
        exit(1);
    }
    return p;
}

/* zstd of src, or the plain size when zstd does not help (as the container stores it) */
static size_t zsize(const void *src, size_t n)
{
    if (n == 0)
        return 0;
    size_t cap = ZSTD_compressBound(n);
    void *dst = xmalloc(cap);
    size_t r = ZSTD_compress(dst, cap, src, n, g_level);
    free(dst);
    if (ZSTD_isError(r))
        return n;
    return r < n ? r : n;
}

static uint32_t rotl1(uint32_t x)
{
    return x << 1 | x >> 31;
}

/* byte planes of rotated float32 bits, each zstd'd */
static size_t planes_size(const float *v, size_t n)
{
    uint8_t *pl = xmalloc(n);
    size_t total = 0;
    for (int p = 0; p < 4; p++) {
        for (size_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, &v[i], 4);
            pl[i] = (uint8_t)(rotl1(u) >> (8 * p));
        }
        total += zsize(pl, n);
    }
    free(pl);
    return total;
}

/* Sparse representation: bitmap, runs and the non-zero values. */
typedef struct sparse {
    uint8_t *bitmap; /* (n + 7) / 8 */
    uint8_t *runs;
    size_t nruns;
    float *nz;
    size_t nnz;
} sparse;

static void sparse_make(const float *v, size_t n, sparse *s)
{
    s->bitmap = calloc((n + 7) / 8 + 1, 1);
    s->runs = xmalloc(n + 16);
    s->nz = xmalloc(n * sizeof *s->nz + 4);
    s->nnz = s->nruns = 0;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == 0.0f) { /* pruned zeros are +0; a -0 would need the value kept */
            uint32_t u;
            memcpy(&u, &v[i], 4);
            if (u == 0) {
                run++;
                continue;
            }
        }
        s->bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
        while (run >= 255) {
            s->runs[s->nruns++] = 255;
            run -= 255;
        }
        s->runs[s->nruns++] = (uint8_t)run;
        run = 0;
        s->nz[s->nnz++] = v[i];
    }
}

static void sparse_free(sparse *s)
{
    free(s->bitmap);
    free(s->runs);
    free(s->nz);
}

/* Decode bitmap + values back and compare (the format is what we claim it is). */
static double check_bitmap_decode(const sparse *s, const float *v, size_t n)
{
    float *out = xmalloc(n * sizeof *out + 4);
    double t0 = now();
    size_t k = 0;
    for (size_t i = 0; i < n; i += 8) {
        unsigned b = s->bitmap[i / 8];
        size_t lim = n - i < 8 ? n - i : 8;
        for (size_t j = 0; j < lim; j++) {
            out[i + j] = (b >> j & 1) ? s->nz[k] : 0.0f;
            k += b >> j & 1;
        }
    }
    double dt = now() - t0;
    if (k != s->nnz || memcmp(out, v, n * sizeof *out) != 0) {
        fprintf(stderr, "sparse-bench: bitmap decode mismatch\n");
        exit(1);
    }
    free(out);
    return dt;
}

static void check_runs_decode(const sparse *s, const float *v, size_t n)
{
    float *out = calloc(n + 1, sizeof *out);
    size_t pos = 0, k = 0;
    for (size_t r = 0; r < s->nruns; r++) {
        pos += s->runs[r];
        if (s->runs[r] == 255)
            continue;
        out[pos++] = s->nz[k++];
    }
    if (k != s->nnz || memcmp(out, v, n * sizeof *out) != 0) {
        fprintf(stderr, "sparse-bench: runs decode mismatch\n");
        exit(1);
    }
    free(out);
}

/* zstd decode time of a buffer (compress once, decompress `reps` times) */
static double zstd_decode_seconds(const void *src, size_t n)
{
    size_t cap = ZSTD_compressBound(n);
    void *c = xmalloc(cap), *d = xmalloc(n);
    size_t cs = ZSTD_compress(c, cap, src, n, g_level);
    double t0 = now();
    size_t r = ZSTD_decompress(d, n, c, cs);
    double dt = now() - t0;
    if (ZSTD_isError(r) || memcmp(d, src, n) != 0) {
        fprintf(stderr, "sparse-bench: zstd round trip failed\n");
        exit(1);
    }
    free(c);
    free(d);
    return dt;
}

static double planes_decode_seconds(const float *v, size_t n)
{
    uint8_t *pl[4];
    for (int p = 0; p < 4; p++) {
        pl[p] = xmalloc(n);
        for (size_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, &v[i], 4);
            pl[p][i] = (uint8_t)(rotl1(u) >> (8 * p));
        }
    }
    double dt = 0;
    for (int p = 0; p < 4; p++)
        dt += zstd_decode_seconds(pl[p], n);
    double t0 = now();
    float *out = xmalloc(n * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        uint32_t x = (uint32_t)pl[0][i] | (uint32_t)pl[1][i] << 8 | (uint32_t)pl[2][i] << 16 |
                     (uint32_t)pl[3][i] << 24;
        x = x >> 1 | x << 31;
        memcpy(&out[i], &x, 4);
    }
    dt += now() - t0;
    free(out);
    for (int p = 0; p < 4; p++)
        free(pl[p]);
    return dt;
}

typedef struct weight {
    const char *model, *name;
    float *v;
    size_t n;
    int rank;
    int64_t dims[MCZ_MAX_RANK];
    int reduce_axis;
} weight;

typedef struct row {
    size_t bytes[E_COUNT];
    uint64_t dense, zeros, count;
    double rel_l2_sq, norm_sq, prune_s;
    double dec_planes_s, dec_bitmap_s;
} row;

static void encode_all(const float *v, size_t n, row *r)
{
    size_t sz[E_COUNT];
    sz[E_ZSTD] = zsize(v, n * 4);
    sz[E_PLANES] = planes_size(v, n);
    sparse s;
    sparse_make(v, n, &s);
    size_t bm = zsize(s.bitmap, (n + 7) / 8);
    sz[E_BITMAP_V] = bm + zsize(s.nz, s.nnz * 4);
    size_t vp = planes_size(s.nz, s.nnz);
    sz[E_BITMAP_VP] = bm + vp;
    sz[E_RUNS_VP] = zsize(s.runs, s.nruns) + vp;
    size_t best = sz[E_ZSTD];
    if (sz[E_PLANES] < best)
        best = sz[E_PLANES];
    if (sz[E_BITMAP_VP] < best)
        best = sz[E_BITMAP_VP];
    sz[E_BEST] = best;
    for (int e = 0; e < E_COUNT; e++)
        r->bytes[e] += sz[e];
    r->dense += n * 4;
    r->dec_bitmap_s += check_bitmap_decode(&s, v, n);
    check_runs_decode(&s, v, n);
    /* decode time of bitmap+vp = the value planes' zstd + the bitmap's zstd + the scatter */
    r->dec_bitmap_s += planes_decode_seconds(s.nz, s.nnz) +
                       zstd_decode_seconds(s.bitmap, (n + 7) / 8);
    r->dec_planes_s += planes_decode_seconds(v, n);
    sparse_free(&s);
}

static size_t load_weights(const char *path, weight **ws, size_t nws)
{
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx(path, &err);
    if (!m) {
        fprintf(stderr, "sparse-bench: %s\n", err.msg);
        exit(1);
    }
    size_t nw = mcz_model_weight_count(m);
    mcz_weight_role *roles = calloc(nw + 1, sizeof *roles);
    if (mcz_model_weight_roles(m, roles, &err)) {
        fprintf(stderr, "sparse-bench: %s\n", err.msg);
        exit(1);
    }
    for (size_t i = 0; i < nw; i++) {
        const mcz_weight *w = mcz_model_weight(m, i);
        if (roles[i].op == MCZ_ROLE_NONE || w->dtype != MCZ_DT_FLOAT || w->count < 16)
            continue;
        *ws = realloc(*ws, (nws + 1) * sizeof **ws);
        weight *x = &(*ws)[nws++];
        x->model = path;
        x->name = strdup(w->name);
        x->n = (size_t)w->count;
        x->v = xmalloc(x->n * sizeof *x->v);
        x->rank = w->rank;
        memcpy(x->dims, w->dims, (size_t)w->rank * sizeof *w->dims);
        x->reduce_axis = roles[i].reduce_axis;
        if (mcz_model_weight_to_f32(m, i, x->v, &err)) {
            fprintf(stderr, "sparse-bench: %s\n", err.msg);
            exit(1);
        }
    }
    free(roles);
    mcz_model_free(m);
    return nws;
}

static void throughput(size_t mib)
{
    size_t n = mib * 1024 * 1024 / 4;
    float *v = xmalloc(n * sizeof *v);
    uint32_t *scratch = xmalloc(n * sizeof *scratch);
    uint64_t x = 88172645463325252ull;
    printf("\nSelection throughput on %zu MiB of random float32 (one thread):\n\n", mib);
    printf("| sparsity | pattern | seconds | MB/s |\n|---:|---|---:|---:|\n");
    for (int rep = 0; rep < 5; rep++) {
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v[i] = (float)((double)(x >> 11) / 9007199254740992.0 - 0.5);
        }
        static const double fs[5] = {0.3, 0.5, 0.7, 0.9, 0.5};
        mcz_prune_stats st;
        double t0 = now();
        if (rep < 4) {
            mcz_prune_unstructured_f32(v, n, mcz_prune_target(fs[rep], n), scratch, &st);
        } else {
            int64_t d[2] = {(int64_t)(n / 1024), 1024};
            mcz_prune_nm_f32(v, 2, d, 0, 2, 4, &st);
        }
        double dt = now() - t0;
        printf("| %.0f %% | %s | %.3f | %.0f |\n", 100 * fs[rep], rep < 4 ? "unstructured" : "2:4", dt,
               (double)n * 4 / 1e6 / dt);
    }
    free(v);
    free(scratch);
}

int main(int argc, char **argv)
{
    weight *ws = NULL;
    size_t nws = 0, tp_mib = 0;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--level") == 0 && a + 1 < argc)
            g_level = atoi(argv[++a]);
        else if (strcmp(argv[a], "--throughput") == 0 && a + 1 < argc)
            tp_mib = (size_t)atol(argv[++a]);
        else
            nws = load_weights(argv[a], &ws, nws);
    }
    if (!nws && !tp_mib) {
        fprintf(stderr, "usage: sparse-bench [--level N] [--throughput MiB] MODEL.onnx...\n");
        return 2;
    }
    if (nws) {
        uint64_t total = 0;
        for (size_t i = 0; i < nws; i++)
            total += ws[i].n;
        printf("%zu prunable float32 weights, %llu elements (%.2f MB), zstd level %d\n\n", nws,
               (unsigned long long)total, (double)total * 4 / 1e6, g_level);
        printf("| pruning | zeros |");
        for (int e = 0; e < E_COUNT; e++)
            printf(" %s |", enc_name[e]);
        printf(" decode planes MB/s | decode bitmap+vp MB/s | prune MB/s |\n|---|---:|");
        for (int e = 0; e < E_COUNT + 3; e++)
            printf("---:|");
        printf("\n");
        static const double fs[] = {0.0, 0.3, 0.5, 0.7, 0.9, -1.0};
        for (size_t f = 0; f < sizeof fs / sizeof fs[0]; f++) {
            row r;
            memset(&r, 0, sizeof r);
            for (size_t i = 0; i < nws; i++) {
                weight *w = &ws[i];
                float *v = xmalloc(w->n * sizeof *v);
                memcpy(v, w->v, w->n * sizeof *v);
                mcz_prune_stats st;
                double t0 = now();
                if (fs[f] >= 0) {
                    mcz_prune_unstructured_f32(v, w->n, mcz_prune_target(fs[f], w->n), NULL, &st);
                } else if (w->reduce_axis >= 0) {
                    mcz_prune_nm_f32(v, w->rank, w->dims, w->reduce_axis, 2, 4, &st);
                } else {
                    memset(&st, 0, sizeof st);
                    for (size_t k = 0; k < w->n; k++)
                        st.zeros_after += v[k] == 0.0f;
                }
                r.prune_s += now() - t0;
                r.zeros += st.zeros_after;
                r.count += w->n;
                encode_all(v, w->n, &r);
                free(v);
            }
            char label[32];
            if (fs[f] >= 0)
                snprintf(label, sizeof label, "%.0f %%", 100 * fs[f]);
            else
                snprintf(label, sizeof label, "2:4");
            printf("| %s | %.1f %% |", label, 100.0 * (double)r.zeros / (double)r.count);
            for (int e = 0; e < E_COUNT; e++)
                printf(" %.3f (%.2f MB) |", (double)r.bytes[e] / (double)r.dense,
                       (double)r.bytes[e] / 1e6);
            printf(" %.0f | %.0f | %.0f |\n", (double)r.dense / 1e6 / r.dec_planes_s,
                   (double)r.dense / 1e6 / r.dec_bitmap_s,
                   fs[f] > 0 || fs[f] < 0 ? (double)r.dense / 1e6 / r.prune_s : 0.0);
        }
    }
    if (tp_mib)
        throughput(tp_mib);
    for (size_t i = 0; i < nws; i++) {
        free(ws[i].v);
        free((char *)ws[i].name);
    }
    free(ws);
    return 0;
}
