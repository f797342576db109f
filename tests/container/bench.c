/* bench.c - container throughput, for docs/benchmarks.md (a benchmark, not a test):
 *
 *   mcz-container-bench MODEL [-j N]...
 *
 * MODEL is ONNX or .mcz. Packs it (to /dev/null, default level) with each thread count and
 * decodes every tensor of the packed form into memory (mcz_load_all) with each thread count;
 * prints MB/s of raw weights (1 MB = 10^6 bytes), best of several runs, by wall-clock time
 * and per CPU-second (process CPU time: what one core does, less sensitive to a busy
 * machine). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mcz/load.h"
#include "mcz/pack.h"

static double clk(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
#define now() clk(CLOCK_MONOTONIC)
#define cpu() clk(CLOCK_PROCESS_CPUTIME_ID)

int main(int argc, char **argv)
{
    int threads[16], nt = 0;
    const char *in = NULL, *tmp = getenv("TMPDIR");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-j") == 0 && i + 1 < argc && nt < 16)
            threads[nt++] = atoi(argv[++i]);
        else
            in = argv[i];
    }
    if (!in) {
        fprintf(stderr, "usage: mcz-container-bench MODEL [-j N]...\n");
        return 2;
    }
    if (!nt)
        threads[nt++] = 1;
    char packed[4096];
    snprintf(packed, sizeof packed, "%s/mcz-bench-%d.mcz", tmp ? tmp : "/tmp", (int)getpid());
    mcz_error e = {0};
    mcz_model *m = mcz_model_load_any(in, 0, &e);
    if (!m) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    mcz_pack_stats st = {0};
    for (int k = 0; k < nt; k++) {
        double best = 1e30, bcpu = 1e30;
        for (int r = 0; r < 3; r++) {
            double t0 = now(), c0 = cpu();
            mcz_pack_opts o = {.threads = threads[k], .force = 1};
            if (mcz_pack(m, packed, &o, &st, &e)) {
                fprintf(stderr, "%s\n", e.msg);
                return 1;
            }
            double t = now() - t0, c = cpu() - c0;
            best = t < best ? t : best;
            bcpu = c < bcpu ? c : bcpu;
        }
        printf("pack  %-28s threads %d: %8.1f MB/s wall, %8.1f MB per CPU-s (%.1f MB raw -> "
               "%.1f MB)\n", in, threads[k], (double)st.raw_bytes / best / 1e6,
               (double)st.raw_bytes / bcpu / 1e6, (double)st.raw_bytes / 1e6,
               (double)st.file_bytes / 1e6);
    }
    mcz_model_free(m);
    mcz_file *f = mcz_open(packed, &e);
    if (!f) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    size_t n = mcz_tensor_count(f);
    void **dst = calloc(n ? n : 1, sizeof *dst);
    uint64_t raw = 0;
    for (size_t i = 0; i < n; i++) {
        const mcz_tensor_info *t = mcz_tensor(f, i);
        if (!t->in_skeleton) {
            dst[i] = malloc(t->raw_bytes ? t->raw_bytes : 1);
            memset(dst[i], 1, t->raw_bytes); /* fault the pages in: measure decoding only */
            raw += t->raw_bytes;
        }
    }
    for (int k = 0; k < nt; k++) {
        double best = 1e30, bcpu = 1e30;
        for (int r = 0; r < 7; r++) {
            double t0 = now(), c0 = cpu();
            if (mcz_load_all(f, threads[k], dst, &e)) {
                fprintf(stderr, "%s\n", e.msg);
                return 1;
            }
            double t = now() - t0, c = cpu() - c0;
            best = t < best ? t : best;
            bcpu = c < bcpu ? c : bcpu;
        }
        printf("load  %-28s threads %d: %8.1f MB/s wall, %8.1f MB per CPU-s (%.1f MB raw)\n", in,
               threads[k], (double)raw / best / 1e6, (double)raw / bcpu / 1e6, (double)raw / 1e6);
    }
    for (size_t i = 0; i < n; i++)
        free(dst[i]);
    free(dst);
    mcz_close(f);
    remove(packed);
    return 0;
}
