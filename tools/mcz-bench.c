/* mcz-bench - how fast an .mcz loads: open to every tensor in memory through the loader,
 * against memcpy of the same bytes (the ceiling) and, with --onnx, against parsing the ONNX
 * file with protobuf-c into float32 weights (what a user does without mcz). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "mcz/baseline.h"
#include "tool.h"

static const char usage[] =
    "Usage: mcz-bench ARTIFACT.mcz [-j N] [--repeat N] [--onnx MODEL.onnx] [--json]\n"
    "                 [--report FILE]\n"
    "\n"
    "Time loading an .mcz: from mcz_open to every tensor decoded in memory (mcz_load_all),\n"
    "the same decoding to float32 where the loader can (mcz_read_f32: float, float16,\n"
    "bfloat16; other types are read as they are), memcpy of the same number of bytes (the\n"
    "ceiling), and with --onnx the baseline without mcz: read the ONNX file, parse it with\n"
    "protobuf-c and convert its weights to float32. Each is run --repeat times: the median,\n"
    "min and max time, the output MB/s (10^6 bytes) of the median and the peak RSS.\n"
    "\n"
    "  -j, --threads N    loader threads (default 0 = all cores)\n"
    "      --repeat N     runs of each measurement, 1..1000 (default 5)\n"
    "      --onnx MODEL   also time the protobuf-c baseline on MODEL (the .onnx packed)\n"
    "  -q, --quiet        print nothing but errors (with --report: only the file)\n"
    "      --json         print the results as JSON\n"
    "      --report FILE  also write the JSON results to FILE\n"
    "  -h, --help         this help\n"
    "      --version      print the version\n"
    "\n"
    "Exit status: 0 success, 1 failure (bad input, I/O), 2 usage error.\n";

enum { OPT_REPEAT = TOOL_OPT_USER, OPT_ONNX };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Peak RSS since the last reset_peak(), in bytes: VmHWM (resettable on Linux >= 4.0), else
 * getrusage's lifetime peak. */
static int peak_resettable;
static void reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return;
    peak_resettable = fputs("5", f) >= 0;
    if (fclose(f) != 0)
        peak_resettable = 0;
}
static unsigned long long peak_rss(void)
{
    unsigned long long kb = 0;
    FILE *f = peak_resettable ? fopen("/proc/self/status", "r") : NULL;
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %llu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    if (!kb) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = (unsigned long long)ru.ru_maxrss;
    }
    return kb * 1024;
}

typedef struct measure {
    const char *name;
    unsigned long long bytes; /* output bytes per run */
    double *sec;              /* one per repeat */
    double med, min, max;
    unsigned long long rss;
    int done;
} measure;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void finish(measure *m, int n)
{
    qsort(m->sec, (size_t)n, sizeof *m->sec, cmp_double);
    m->min = m->sec[0];
    m->max = m->sec[n - 1];
    m->med = n % 2 ? m->sec[n / 2] : 0.5 * (m->sec[n / 2 - 1] + m->sec[n / 2]);
    m->done = 1;
}

/* ---- the loader ------------------------------------------------------------------------ */

static int load_all(const char *path, int threads, unsigned long long *bytes, double *t_done,
                    mcz_error *err)
{
    mcz_file *f = mcz_open(path, err);
    if (!f)
        return -1;
    size_t n = mcz_tensor_count(f);
    void **dst = calloc(n ? n : 1, sizeof *dst);
    int rc = dst ? 0 : -1;
    unsigned long long total = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const mcz_tensor_info *t = mcz_tensor(f, i);
        if (t->in_skeleton)
            continue;
        dst[i] = malloc(t->raw_bytes ? t->raw_bytes : 1);
        if (!dst[i])
            rc = -1;
        total += t->raw_bytes;
    }
    if (rc != 0) {
        err->code = MCZ_ERR_NOMEM;
        snprintf(err->msg, sizeof err->msg, "%s: out of memory", path);
    } else if (mcz_load_all(f, threads, dst, err) != MCZ_OK) {
        rc = -1;
    }
    *t_done = now(); /* ready: freeing is not part of loading */
    for (size_t i = 0; dst && i < n; i++)
        free(dst[i]);
    free(dst);
    mcz_close(f);
    *bytes = total;
    return rc;
}

/* float32 variant: tensors shared out to `threads` threads, each read with mcz_read_f32 when
 * the loader converts its type, else mcz_read. */
typedef struct f32_job {
    const mcz_file *f;
    void **dst;
    atomic_size_t next;
    atomic_int failed;
    mcz_error err;
    pthread_mutex_t lock;
} f32_job;

static int f32_type(int32_t dt) { return dt == 1 || dt == 10 || dt == 16; }

static void *f32_worker(void *arg)
{
    f32_job *j = arg;
    size_t n = mcz_tensor_count(j->f);
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= n || atomic_load(&j->failed))
            return NULL;
        const mcz_tensor_info *t = mcz_tensor(j->f, i);
        if (!j->dst[i])
            continue;
        mcz_error e = {0};
        mcz_status s = f32_type(t->dtype)
                           ? mcz_read_f32(j->f, i, j->dst[i], (size_t)t->count, &e)
                           : mcz_read(j->f, i, j->dst[i], (size_t)t->raw_bytes, &e);
        if (s != MCZ_OK && !atomic_exchange(&j->failed, 1)) {
            pthread_mutex_lock(&j->lock);
            j->err = e;
            pthread_mutex_unlock(&j->lock);
        }
    }
}

static int load_f32(const char *path, int threads, unsigned long long *bytes,
                    unsigned long long *unconverted, double *t_done, mcz_error *err)
{
    mcz_file *f = mcz_open(path, err);
    if (!f)
        return -1;
    size_t n = mcz_tensor_count(f);
    f32_job j = {.f = f, .lock = PTHREAD_MUTEX_INITIALIZER};
    j.dst = calloc(n ? n : 1, sizeof *j.dst);
    int rc = j.dst ? 0 : -1;
    unsigned long long total = 0, other = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const mcz_tensor_info *t = mcz_tensor(f, i);
        if (t->in_skeleton)
            continue;
        uint64_t b = f32_type(t->dtype) ? t->count * 4 : t->raw_bytes;
        other += f32_type(t->dtype) ? 0 : t->raw_bytes;
        j.dst[i] = malloc(b ? b : 1);
        if (!j.dst[i])
            rc = -1;
        total += b;
    }
    if (rc != 0) {
        err->code = MCZ_ERR_NOMEM;
        snprintf(err->msg, sizeof err->msg, "%s: out of memory", path);
    } else {
        if (threads <= 0)
            threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
        if (threads < 1)
            threads = 1;
        if (threads > 256)
            threads = 256;
        pthread_t tid[256];
        int started = 0;
        for (int k = 1; k < threads; k++, started++)
            if (pthread_create(&tid[k], NULL, f32_worker, &j) != 0)
                break;
        f32_worker(&j);
        for (int k = 1; k <= started; k++)
            pthread_join(tid[k], NULL);
        if (atomic_load(&j.failed)) {
            *err = j.err;
            rc = -1;
        }
    }
    *t_done = now();
    for (size_t i = 0; j.dst && i < n; i++)
        free(j.dst[i]);
    free(j.dst);
    mcz_close(f);
    *bytes = total;
    *unconverted = other;
    return rc;
}

/* ---- memcpy ---------------------------------------------------------------------------- */

static int copy_once(const void *src, size_t len, double *sec)
{
    double t0 = now();
    void *dst = malloc(len ? len : 1);
    if (!dst)
        return -1;
    memcpy(dst, src, len);
    *sec = now() - t0;
    volatile unsigned char sink = ((unsigned char *)dst)[len ? len - 1 : 0];
    (void)sink;
    free(dst);
    return 0;
}

/* ---- output ---------------------------------------------------------------------------- */

static void json_measure(FILE *f, const measure *m)
{
    fprintf(f, "\"%s\": {\"bytes\": %llu, \"median_s\": ", m->name, m->bytes);
    tool_json_num(f, m->med, 6);
    fputs(", \"min_s\": ", f);
    tool_json_num(f, m->min, 6);
    fputs(", \"max_s\": ", f);
    tool_json_num(f, m->max, 6);
    fputs(", \"mb_per_s\": ", f);
    tool_json_num(f, m->med > 0 ? (double)m->bytes / m->med / 1e6 : 0.0, 6);
    fprintf(f, ", \"peak_rss_bytes\": %llu}", m->rss);
}

static void json(FILE *f, const char *in, const char *onnx, int threads, int repeat,
                 unsigned long long file_bytes, unsigned long long unconverted,
                 const mcz_baseline_stats *bs, measure *ms, int nm)
{
    fputs("{\"input\": ", f);
    tool_json_str(f, in);
    fprintf(f, ", \"file_bytes\": %llu, \"threads\": %d, \"repeat\": %d, "
               "\"f32_unconverted_bytes\": %llu, \"peak_rss_kind\": \"%s\"",
            file_bytes, threads, repeat, unconverted, peak_resettable ? "phase" : "process");
    if (onnx) {
        fputs(", \"onnx\": ", f);
        tool_json_str(f, onnx);
        fprintf(f, ", \"onnx_bytes\": %llu, \"onnx_weights\": %llu, \"onnx_skipped\": %llu",
                (unsigned long long)bs->file_bytes, (unsigned long long)bs->weights,
                (unsigned long long)bs->skipped);
    }
    for (int k = 0; k < nm; k++) {
        if (!ms[k].done)
            continue;
        fputs(", ", f);
        json_measure(f, &ms[k]);
    }
    fputs("}\n", f);
}

int main(int argc, char **argv)
{
    tool_init("mcz-bench");
    static const struct option longopts[] = {
        TOOL_COMMON_LONGOPTS, {"repeat", required_argument, NULL, OPT_REPEAT},
        {"onnx", required_argument, NULL, OPT_ONNX}, {NULL, 0, NULL, 0}};
    tool_common c = {0};
    long repeat = 5;
    const char *onnx = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, TOOL_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (tool_common_opt(&c, opt, optarg, usage))
            continue;
        if (opt == OPT_REPEAT) {
            if (tool_parse_int(optarg, 1, 1000, &repeat) != 0)
                return tool_usage_error("invalid repeat count '%s' (1..1000)", optarg);
        } else if (opt == OPT_ONNX) {
            onnx = optarg;
        } else {
            return tool_usage_error("invalid option");
        }
    }
    if (optind + 1 != argc)
        return tool_usage_error(optind >= argc ? "no input artifact" : "one artifact at a time");
    if (c.output || c.force || c.nexclude || c.external_data)
        return tool_usage_error("mcz-bench takes only -j, --repeat, --onnx, -q, --json and "
                                "--report");
    const char *in = argv[optind];
    if (!tool_is_mcz_file(in)) {
        tool_error(in, "not an .mcz container (pack it first: mcz-pack MODEL -o OUT.mcz)");
        return TOOL_FAIL;
    }
    int n = (int)repeat;
    double *sec = calloc((size_t)n * 4, sizeof *sec);
    if (!sec) {
        tool_error(in, "out of memory");
        return TOOL_FAIL;
    }
    measure ms[4] = {{.name = "load", .sec = sec},
                     {.name = "load_f32", .sec = sec + n},
                     {.name = "memcpy", .sec = sec + 2 * n},
                     {.name = "onnx_protobuf_c", .sec = sec + 3 * n}};
    mcz_error err = {0};
    unsigned long long file_bytes = 0, unconverted = 0;
    {
        FILE *fp = fopen(in, "rb");
        if (fp && fseek(fp, 0, SEEK_END) == 0)
            file_bytes = (unsigned long long)ftell(fp);
        if (fp)
            fclose(fp);
    }
    int rc = TOOL_OK;
    /* the loader, then the float32 variant */
    for (int k = 0; k < 2 && rc == TOOL_OK; k++) {
        reset_peak();
        for (int r = 0; r < n; r++) {
            double t0 = now(), t1 = 0;
            int bad = k == 0 ? load_all(in, c.threads, &ms[k].bytes, &t1, &err)
                             : load_f32(in, c.threads, &ms[k].bytes, &unconverted, &t1, &err);
            ms[k].sec[r] = t1 - t0;
            if (bad) {
                rc = tool_fail(&err);
                break;
            }
        }
        if (rc == TOOL_OK) {
            ms[k].rss = peak_rss();
            finish(&ms[k], n);
        }
    }
    /* memcpy of as many bytes as the loader produced */
    if (rc == TOOL_OK) {
        size_t len = (size_t)ms[0].bytes;
        unsigned char *src = malloc(len ? len : 1);
        if (!src) {
            tool_error(in, "out of memory for the memcpy source (%zu bytes)", len);
            rc = TOOL_FAIL;
        } else {
            memset(src, 0x5a, len);
            reset_peak();
            ms[2].bytes = len;
            for (int r = 0; r < n && rc == TOOL_OK; r++)
                if (copy_once(src, len, &ms[2].sec[r]) != 0) {
                    tool_error(in, "out of memory for the memcpy destination");
                    rc = TOOL_FAIL;
                }
            if (rc == TOOL_OK) {
                ms[2].rss = peak_rss();
                finish(&ms[2], n);
            }
            free(src);
        }
    }
    mcz_baseline_stats bs = {0};
    if (rc == TOOL_OK && onnx) {
        reset_peak();
        for (int r = 0; r < n; r++) {
            double t0 = now();
            mcz_baseline *b = mcz_baseline_load(onnx, &bs, &err);
            ms[3].sec[r] = now() - t0;
            if (!b) {
                rc = tool_fail(&err);
                break;
            }
            mcz_baseline_free(b);
        }
        if (rc == TOOL_OK) {
            ms[3].bytes = bs.f32_bytes;
            ms[3].rss = peak_rss();
            finish(&ms[3], n);
        }
    }
    if (rc != TOOL_OK) {
        free(sec);
        return rc;
    }
    if (c.report) {
        FILE *f = fopen(c.report, "w");
        if (!f || (json(f, in, onnx, c.threads, n, file_bytes, unconverted, &bs, ms, 4),
                   fclose(f) != 0)) {
            tool_error(c.report, "cannot write the report");
            free(sec);
            return TOOL_FAIL;
        }
    }
    if (c.json) {
        json(stdout, in, onnx, c.threads, n, file_bytes, unconverted, &bs, ms, 4);
    } else if (!c.quiet) {
        char a[32];
        printf("%s: %s on disk, %d run%s each, %d thread%s (0 = all cores)\n", in,
               tool_bytes(file_bytes, a, sizeof a), n, n == 1 ? "" : "s", c.threads,
               c.threads == 1 ? "" : "s");
        printf("  %-16s %12s %10s %10s %10s %10s %12s\n", "what", "bytes out", "median s",
               "min s", "max s", "MB/s", "peak RSS");
        for (int k = 0; k < 4; k++) {
            if (!ms[k].done)
                continue;
            char b[32];
            printf("  %-16s %12llu %10.4f %10.4f %10.4f %10.1f %12s\n", ms[k].name, ms[k].bytes,
                   ms[k].med, ms[k].min, ms[k].max,
                   ms[k].med > 0 ? (double)ms[k].bytes / ms[k].med / 1e6 : 0.0,
                   tool_bytes(ms[k].rss, b, sizeof b));
        }
        if (unconverted)
            printf("  load_f32: %llu bytes of other types (int8, int4, ...) read as stored: the "
                   "loader does not dequantize them\n", unconverted);
        if (onnx && bs.skipped)
            printf("  onnx: %llu weights not converted (not a float type, or external data)\n",
                   (unsigned long long)bs.skipped);
    }
    free(sec);
    return TOOL_OK;
}
