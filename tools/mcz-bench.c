/* mcz-bench - how fast an .mcz loads: open to every tensor in memory through the loader,
 * against memcpy of the same bytes (the ceiling) and, with --onnx, against parsing the ONNX
 * file with protobuf-c into float32 weights (what a user does without mcz). With --f32, every
 * tensor as float32 (quantized codes dequantized) against memcpy of those float32 bytes; for a
 * file with partitions, loading all partitions on one thread and on N. */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench-baseline.h"
#include "parallel.h"
#include "tool.h"

static const char usage[] =
    "Usage: mcz-bench ARTIFACT.mcz [-j N] [--repeat N] [--f32] [--onnx MODEL.onnx] [--json]\n"
    "                 [--report FILE]\n"
    "\n"
    "Time loading an .mcz: from mcz_open to every tensor decoded in memory (mcz_load_all)\n"
    "and memcpy of the same number of bytes (the ceiling). With --f32, also every tensor\n"
    "as float32 (mcz_read_f32: float, float16 and bfloat16 converted, quantized int8/int4\n"
    "codes dequantized; other types read as stored), tensors shared out to the threads, and\n"
    "memcpy of those float32 bytes. When the file has partitions, also loading all of them\n"
    "(mcz_load_part) on 1 thread and on N threads, one partition per thread at a time.\n"
    "With --onnx, the baseline without mcz: read the ONNX file, parse it with protobuf-c and\n"
    "convert its weights to float32. Each is run --repeat times: the median, min and max\n"
    "time, the output MB/s (10^6 bytes) of the median and the peak RSS. Every run writes\n"
    "into freshly mapped memory, as a program does at start-up: page faults are included.\n"
    "\n"
    "  -j, --threads N    threads (default 0 = all cores)\n"
    "      --repeat N     runs of each measurement, 1..1000 (default 5)\n"
    "      --f32          also time every tensor read as float32, against memcpy of as many\n"
    "                     bytes\n"
    "      --onnx MODEL   also time the protobuf-c baseline on MODEL (the .onnx packed)\n"
    "  -q, --quiet        print nothing but errors (with --report: only the file)\n"
    "      --json         print the results as JSON\n"
    "      --report FILE  also write the JSON results to FILE\n"
    "  -h, --help         this help\n"
    "      --version      print the version\n"
    "\n"
    "Exit status: 0 success, 1 failure (bad input, I/O), 2 usage error.\n";

enum { OPT_REPEAT = TOOL_OPT_USER, OPT_ONNX, OPT_F32 };

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

/* The measurements, in the order they are printed. */
enum { M_LOAD, M_LOAD_F32, M_MEMCPY, M_MEMCPY_F32, M_ONNX, M_PARTS_1, M_PARTS_N, M_COUNT };

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

/* A shared queue of items (tensors or partitions) and the first error met. */
typedef struct queue {
    const mcz_file *f;
    void **dst;        /* per tensor (float32 variant) */
    void ***part_dst;  /* per partition: its own dst array (partition variant) */
    size_t items;      /* tensors or partitions */
    atomic_int failed;
    mcz_error err;
    pthread_mutex_t lock;
} queue;

static void queue_fail(queue *q, const mcz_error *e)
{
    if (atomic_exchange(&q->failed, 1))
        return;
    pthread_mutex_lock(&q->lock);
    q->err = *e;
    pthread_mutex_unlock(&q->lock);
}

/* float32 variant: tensors shared out to the threads, each read with mcz_read_f32 when the
 * loader converts it (float types; integer codes with quantization parameters, which it
 * dequantizes), else mcz_read as stored. */
static int f32_convertible(const mcz_tensor_info *t)
{
    return t->dtype == 1 || t->dtype == 10 || t->dtype == 16 || t->quant != NULL;
}

static void f32_worker(void *arg, size_t i, unsigned tid)
{
    queue *q = arg;
    (void)tid;
    if (atomic_load(&q->failed) || !q->dst[i])
        return;
    const mcz_tensor_info *t = mcz_tensor(q->f, i);
    mcz_error e = {0};
    mcz_status s = f32_convertible(t) ? mcz_read_f32(q->f, i, q->dst[i], (size_t)t->count, &e)
                                      : mcz_read(q->f, i, q->dst[i], (size_t)t->raw_bytes, &e);
    if (s != MCZ_OK)
        queue_fail(q, &e);
}

static int load_f32(const char *path, int threads, unsigned long long *bytes,
                    unsigned long long *unconverted, double *t_done, mcz_error *err)
{
    mcz_file *f = mcz_open(path, err);
    if (!f)
        return -1;
    size_t n = mcz_tensor_count(f);
    queue q = {.f = f, .items = n, .lock = PTHREAD_MUTEX_INITIALIZER};
    q.dst = calloc(n ? n : 1, sizeof *q.dst);
    int rc = q.dst ? 0 : -1;
    unsigned long long total = 0, other = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const mcz_tensor_info *t = mcz_tensor(f, i);
        if (t->in_skeleton)
            continue;
        uint64_t b = f32_convertible(t) ? t->count * 4 : t->raw_bytes;
        other += f32_convertible(t) ? 0 : t->raw_bytes;
        q.dst[i] = malloc(b ? b : 1);
        if (!q.dst[i])
            rc = -1;
        total += b;
    }
    if (rc != 0) {
        err->code = MCZ_ERR_NOMEM;
        snprintf(err->msg, sizeof err->msg, "%s: out of memory", path);
    } else {
        mcz_parallel_for(n, mcz_thread_count(threads, n), f32_worker, &q);
        if (atomic_load(&q.failed)) {
            *err = q.err;
            rc = -1;
        }
    }
    *t_done = now();
    for (size_t i = 0; q.dst && i < n; i++)
        free(q.dst[i]);
    free(q.dst);
    mcz_close(f);
    *bytes = total;
    *unconverted = other;
    return rc;
}

/* ---- partitions ------------------------------------------------------------------------ */

/* Every partition loaded with mcz_load_part on one thread; `threads` threads take the
 * partitions one at a time. A tensor shared by several partitions is decoded once, by the
 * first partition that lists it (each partition has its own dst array), so no two threads
 * write the same memory. */
static void part_worker(void *arg, size_t p, unsigned tid)
{
    queue *q = arg;
    mcz_error e = {0};
    (void)tid;
    if (!atomic_load(&q->failed) && mcz_load_part(q->f, p, 1, q->part_dst[p], &e) != MCZ_OK)
        queue_fail(q, &e);
}

static int load_parts(const char *path, int threads, unsigned long long *bytes, double *t_done,
                      mcz_error *err)
{
    mcz_file *f = mcz_open(path, err);
    if (!f)
        return -1;
    size_t n = mcz_tensor_count(f), np = mcz_part_count(f);
    queue q = {.f = f, .items = np, .lock = PTHREAD_MUTEX_INITIALIZER};
    void **dst = calloc(n ? n : 1, sizeof *dst);
    q.part_dst = calloc(np ? np : 1, sizeof *q.part_dst);
    int rc = dst && q.part_dst ? 0 : -1;
    unsigned long long total = 0;
    for (size_t p = 0; rc == 0 && p < np; p++) {
        const mcz_part_desc *d = mcz_part(f, p);
        q.part_dst[p] = calloc(n ? n : 1, sizeof **q.part_dst);
        if (!q.part_dst[p]) {
            rc = -1;
            break;
        }
        for (size_t k = 0; d && k < d->tensor_count; k++) {
            uint32_t i = d->tensors[k];
            const mcz_tensor_info *t = i < n ? mcz_tensor(f, i) : NULL;
            if (!t || t->in_skeleton || dst[i])
                continue;
            dst[i] = malloc(t->raw_bytes ? t->raw_bytes : 1);
            if (!dst[i]) {
                rc = -1;
                break;
            }
            q.part_dst[p][i] = dst[i];
            total += t->raw_bytes;
        }
    }
    if (rc != 0) {
        err->code = MCZ_ERR_NOMEM;
        snprintf(err->msg, sizeof err->msg, "%s: out of memory", path);
    } else {
        mcz_parallel_for(np, mcz_thread_count(threads, np), part_worker, &q);
        if (atomic_load(&q.failed)) {
            *err = q.err;
            rc = -1;
        }
    }
    *t_done = now();
    for (size_t i = 0; dst && i < n; i++)
        free(dst[i]);
    for (size_t p = 0; q.part_dst && p < np; p++)
        free(q.part_dst[p]);
    free(q.part_dst);
    free(dst);
    mcz_close(f);
    *bytes = total;
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

/* memcpy of m->bytes into fresh memory, n times. Returns a tool exit status. */
static int time_memcpy(const char *in, measure *m, int n)
{
    size_t len = (size_t)m->bytes;
    unsigned char *src = malloc(len ? len : 1);
    if (!src) {
        tool_error(in, "out of memory for the memcpy source (%zu bytes)", len);
        return TOOL_FAIL;
    }
    memset(src, 0x5a, len);
    reset_peak();
    for (int r = 0; r < n; r++)
        if (copy_once(src, len, &m->sec[r]) != 0) {
            tool_error(in, "out of memory for the memcpy destination");
            free(src);
            return TOOL_FAIL;
        }
    m->rss = peak_rss();
    finish(m, n);
    free(src);
    return TOOL_OK;
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

typedef struct result {
    const char *in, *onnx;
    int threads, repeat;
    unsigned long long file_bytes, unconverted;
    size_t parts, quantized; /* partitions; tensors with quantization parameters */
    int part_threads;
    mcz_baseline_stats bs;
} result;

static void json(FILE *f, const result *r, measure *ms, int nm)
{
    fputs("{\"input\": ", f);
    tool_json_str(f, r->in);
    fprintf(f, ", \"file_bytes\": %llu, \"threads\": %d, \"repeat\": %d, "
               "\"quantized_tensors\": %zu, \"f32_unconverted_bytes\": %llu, \"parts\": %zu, "
               "\"parts_threads\": %d, \"peak_rss_kind\": \"%s\"",
            r->file_bytes, r->threads, r->repeat, r->quantized, r->unconverted, r->parts,
            r->part_threads,
            peak_resettable ? "phase" : "process");
    if (r->onnx) {
        fputs(", \"onnx\": ", f);
        tool_json_str(f, r->onnx);
        fprintf(f, ", \"onnx_bytes\": %llu, \"onnx_weights\": %llu, \"onnx_skipped\": %llu",
                (unsigned long long)r->bs.file_bytes, (unsigned long long)r->bs.weights,
                (unsigned long long)r->bs.skipped);
    }
    for (int k = 0; k < nm; k++) {
        if (!ms[k].done)
            continue;
        fputs(", ", f);
        json_measure(f, &ms[k]);
    }
    fputs("}\n", f);
}

static void human(const result *r, const measure *ms, int nm)
{
    char a[32];
    printf("%s: %s on disk, %d run%s each, %d thread%s (0 = all cores)\n", r->in,
           tool_bytes(r->file_bytes, a, sizeof a), r->repeat, r->repeat == 1 ? "" : "s",
           r->threads, r->threads == 1 ? "" : "s");
    printf("  %-16s %12s %10s %10s %10s %10s %12s\n", "what", "bytes out", "median s", "min s",
           "max s", "MB/s", "peak RSS");
    for (int k = 0; k < nm; k++) {
        if (!ms[k].done)
            continue;
        char b[32];
        printf("  %-16s %12llu %10.4f %10.4f %10.4f %10.1f %12s\n", ms[k].name, ms[k].bytes,
               ms[k].med, ms[k].min, ms[k].max,
               ms[k].med > 0 ? (double)ms[k].bytes / ms[k].med / 1e6 : 0.0,
               tool_bytes(ms[k].rss, b, sizeof b));
    }
    if (ms[M_LOAD_F32].done && ms[M_MEMCPY_F32].done && ms[M_MEMCPY_F32].med > 0)
        printf("  load_f32 takes %.2fx the time of memcpy_f32 (%zu quantized tensors "
               "dequantized)\n", ms[M_LOAD_F32].med / ms[M_MEMCPY_F32].med, r->quantized);
    if (r->unconverted)
        printf("  load_f32: %llu bytes of other types (integers without quantization "
               "parameters, ...) read as stored\n", r->unconverted);
    if (r->parts) {
        printf("  %zu partitions; parts_serial: one after another on 1 thread; parts_parallel: "
               "%d threads", r->parts, r->part_threads);
        if (ms[M_PARTS_1].done && ms[M_PARTS_N].done && ms[M_PARTS_N].med > 0)
            printf(", %.2fx faster", ms[M_PARTS_1].med / ms[M_PARTS_N].med);
        printf("\n");
    }
    if (r->onnx && r->bs.skipped)
        printf("  onnx: %llu weights not converted (not a float type, or external data)\n",
               (unsigned long long)r->bs.skipped);
}

/* time `n` runs of one loader measurement. Returns a tool exit status. */
static int time_load(const char *in, measure *m, int n, int which, int threads,
                     unsigned long long *unconverted)
{
    mcz_error err = {0};
    reset_peak();
    for (int r = 0; r < n; r++) {
        double t0 = now(), t1 = 0;
        int bad = which == M_LOAD      ? load_all(in, threads, &m->bytes, &t1, &err)
                  : which == M_LOAD_F32 ? load_f32(in, threads, &m->bytes, unconverted, &t1, &err)
                                        : load_parts(in, threads, &m->bytes, &t1, &err);
        m->sec[r] = t1 - t0;
        if (bad)
            return tool_fail(&err);
    }
    m->rss = peak_rss();
    finish(m, n);
    return TOOL_OK;
}

int main(int argc, char **argv)
{
    tool_init("mcz-bench");
    /* Every destination is fresh memory, as at a program's start-up: glibc would otherwise
     * raise its mmap threshold after the first free and hand later repeats (and memcpy's
     * destination) memory already faulted in, for buffers up to 32 MiB only. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    static const tool_option options[] = {
        TOOL_OPTION_THREADS,
        {OPT_REPEAT, 0, "repeat", TOOL_ARG_REQUIRED},
        {OPT_F32, 0, "f32", TOOL_ARG_NONE},
        {OPT_ONNX, 0, "onnx", TOOL_ARG_REQUIRED},
        TOOL_OPTION_QUIET, TOOL_OPTION_JSON, TOOL_OPTION_REPORT, TOOL_OPTION_HELP,
        TOOL_OPTION_VERSION, TOOL_OPTION_END};
    tool_common c = {0};
    tool_args args;
    const char *arg;
    long repeat = 5;
    int f32 = 0;
    const char *onnx = NULL;
    int opt;
    tool_args_init(&args, argc, argv, options);
    while ((opt = tool_next_option(&args, &arg)) != -1) {
        if (tool_common_opt(&c, opt, arg, usage))
            continue;
        if (opt == OPT_REPEAT) {
            if (tool_parse_int(arg, 1, 1000, &repeat) != 0)
                return tool_usage_error("invalid repeat count '%s' (1..1000)", arg);
        } else if (opt == OPT_ONNX) {
            onnx = arg;
        } else if (opt == OPT_F32) {
            f32 = 1;
        }
    }
    if (args.noperands != 1)
        return tool_usage_error(args.noperands == 0 ? "no input artifact"
                                                    : "one artifact at a time");
    const char *in = args.operands[0];
    if (!tool_is_mcz_file(in)) {
        tool_error(in, "not an .mcz container (pack it first: mcz-pack MODEL -o OUT.mcz)");
        return TOOL_FAIL;
    }
    int n = (int)repeat;
    double *sec = calloc((size_t)n * M_COUNT, sizeof *sec);
    if (!sec) {
        tool_error(in, "out of memory");
        return TOOL_FAIL;
    }
    static const char *const names[M_COUNT] = {"load",     "load_f32",        "memcpy",
                                               "memcpy_f32", "onnx_protobuf_c", "parts_serial",
                                               "parts_parallel"};
    measure ms[M_COUNT];
    memset(ms, 0, sizeof ms);
    for (int k = 0; k < M_COUNT; k++) {
        ms[k].name = names[k];
        ms[k].sec = sec + (size_t)k * (size_t)n;
    }
    result res = {.in = in, .onnx = onnx, .threads = c.threads, .repeat = n};
    mcz_error err = {0};
    {
        FILE *fp = fopen(in, "rb");
        if (fp && fseek(fp, 0, SEEK_END) == 0)
            res.file_bytes = (unsigned long long)ftell(fp);
        if (fp)
            fclose(fp);
        mcz_file *f = mcz_open(in, &err);
        if (!f) {
            free(sec);
            return tool_fail(&err);
        }
        res.parts = mcz_part_count(f);
        for (size_t i = 0; i < mcz_tensor_count(f); i++)
            res.quantized += mcz_tensor(f, i)->quant != NULL;
        mcz_close(f);
    }
    int rc = time_load(in, &ms[M_LOAD], n, M_LOAD, c.threads, NULL);
    if (rc == TOOL_OK && f32)
        rc = time_load(in, &ms[M_LOAD_F32], n, M_LOAD_F32, c.threads, &res.unconverted);
    if (rc == TOOL_OK) {
        ms[M_MEMCPY].bytes = ms[M_LOAD].bytes;
        rc = time_memcpy(in, &ms[M_MEMCPY], n);
    }
    if (rc == TOOL_OK && f32) {
        ms[M_MEMCPY_F32].bytes = ms[M_LOAD_F32].bytes;
        rc = time_memcpy(in, &ms[M_MEMCPY_F32], n);
    }
    if (rc == TOOL_OK && res.parts) {
        res.part_threads = (int)mcz_thread_count(c.threads, MCZ_THREADS_MAX);
        rc = time_load(in, &ms[M_PARTS_1], n, M_PARTS_1, 1, NULL);
        if (rc == TOOL_OK)
            rc = time_load(in, &ms[M_PARTS_N], n, M_PARTS_N, res.part_threads, NULL);
    }
    if (rc == TOOL_OK && onnx) {
        measure *m = &ms[M_ONNX];
        reset_peak();
        for (int r = 0; r < n; r++) {
            double t0 = now();
            mcz_baseline *b = mcz_baseline_load(onnx, &res.bs, &err);
            m->sec[r] = now() - t0;
            if (!b) {
                rc = tool_fail(&err);
                break;
            }
            mcz_baseline_free(b);
        }
        if (rc == TOOL_OK) {
            m->bytes = res.bs.f32_bytes;
            m->rss = peak_rss();
            finish(m, n);
        }
    }
    if (rc != TOOL_OK) {
        free(sec);
        return rc;
    }
    if (c.report) {
        FILE *f = fopen(c.report, "w");
        if (!f || (json(f, &res, ms, M_COUNT), fclose(f) != 0)) {
            tool_error(c.report, "cannot write the report");
            free(sec);
            return TOOL_FAIL;
        }
    }
    if (c.json)
        json(stdout, &res, ms, M_COUNT);
    else if (!c.quiet)
        human(&res, ms, M_COUNT);
    free(sec);
    return TOOL_OK;
}
