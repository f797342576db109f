/* inspect-mcz.c - mcz-inspect for .mcz containers: summary, --tensors, --tensor NAME,
 * --verify, --json. Called by mcz-inspect.c (which handles options and ONNX). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/load.h"
#include "mcz/model.h"
#include "mcz/pack.h"
#include "mcz/suggest.h"
#include "mcz/tensorstats.h"
#include "inspect-mcz.h"
#include "tool.h"

static double ratio(uint64_t raw, uint64_t stored)
{
    return stored ? (double)raw / (double)stored : 0.0;
}

static void shape_str(const mcz_tensor_info *t, char *buf, size_t cap)
{
    size_t p = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < t->rank && p < cap; d++)
        p += (size_t)snprintf(buf + p, cap - p, "%s%lld", d ? "," : "", (long long)t->dims[d]);
    if (p < cap)
        snprintf(buf + p, cap - p, "]");
}

void inspect_quant_scheme(const mcz_tensor_info *t, char *buf, size_t cap)
{
    const mcz_quant_info *q = t->quant;
    if (!q)
        snprintf(buf, cap, "%s", "");
    else if (q->axis < 0)
        snprintf(buf, cap, "%s tensor", mcz_dtype_name(t->dtype));
    else if (q->block_size)
        snprintf(buf, cap, "%s block %u (axis %d)", mcz_dtype_name(t->dtype), q->block_size,
                 q->axis);
    else
        snprintf(buf, cap, "%s channel (axis %d)", mcz_dtype_name(t->dtype), q->axis);
}

static const char *granularity_name(const mcz_quant_info *q)
{
    return q->axis < 0 ? "tensor" : q->block_size ? "block" : "channel";
}

static const char *tensor_name_at(const mcz_file *f, size_t i)
{
    const mcz_tensor_info *t = mcz_tensor(f, i);
    return t ? t->name : "?";
}

/* The "quantization" JSON value of tensor t: null, or its scheme and the tensors it names. */
static void quant_json(const mcz_file *f, const mcz_tensor_info *t)
{
    const mcz_quant_info *q = t->quant;
    if (!q) {
        printf("null");
        return;
    }
    printf("{\"dtype\": \"%s\", \"granularity\": \"%s\", \"axis\": %d, \"block_size\": %u, "
           "\"scale\": ", mcz_dtype_name(t->dtype), granularity_name(q), q->axis, q->block_size);
    tool_json_str(stdout, tensor_name_at(f, q->scale));
    printf(", \"zero_point\": ");
    if (q->zero_point >= 0)
        tool_json_str(stdout, tensor_name_at(f, (size_t)q->zero_point));
    else
        printf("null");
    printf("}");
}

/* Elements of tensor t whose stored bytes are all zero (what the sparse encoding's bitmap
 * leaves out; -0.0 is not zero here), from its decoded raw bytes. */
static uint64_t zero_elements(const mcz_tensor_info *t, const uint8_t *raw)
{
    uint64_t z = 0;
    if (t->dtype == MCZ_DT_INT4 || t->dtype == MCZ_DT_UINT4 || t->dtype == 23) {
        for (uint64_t i = 0; i < t->count; i++)
            z += ((raw[i / 2] >> (4 * (i % 2))) & 15) == 0;
        return z;
    }
    uint64_t e = t->count ? t->raw_bytes / t->count : 1;
    for (uint64_t i = 0; i < t->count; i++) {
        const uint8_t *p = raw + i * e;
        uint8_t any = 0;
        for (uint64_t k = 0; k < e; k++)
            any |= p[k];
        z += any == 0;
    }
    return z;
}

/* Shared payloads (deduplicated tensors) start before the end of the previous payload. */
static int *shared_flags(const mcz_file *f)
{
    size_t n = mcz_tensor_count(f);
    int *sh = calloc(n ? n : 1, sizeof *sh);
    uint64_t end = 0;
    for (size_t i = 0; sh && i < n; i++) {
        const mcz_tensor_info *t = mcz_tensor(f, i);
        if (t->in_skeleton)
            continue;
        sh[i] = t->stored_bytes && t->offset < end;
        if (!sh[i])
            end = t->offset + t->stored_bytes;
    }
    return sh;
}

static int do_verify(mcz_file *f, const char *path, int json)
{
    mcz_error err = {0};
    long bad = -1;
    mcz_status s = mcz_verify(f, 0, &bad, &err);
    const char *name = bad >= 0 ? mcz_tensor(f, (size_t)bad)->name : NULL;
    if (json) {
        printf("{\"file\": ");
        tool_json_str(stdout, path);
        printf(", \"verify\": %s, \"tensors\": %zu", s ? "false" : "true", mcz_tensor_count(f));
        if (s) {
            printf(", \"bad_tensor\": ");
            if (name)
                tool_json_str(stdout, name);
            else
                printf("null");
            printf(", \"error\": ");
            tool_json_str(stdout, err.msg);
        }
        printf("}\n");
    } else if (!s) {
        printf("verify: ok: %zu tensors, every payload decodes and every checksum matches\n",
               mcz_tensor_count(f));
    }
    if (s) {
        tool_fail(&err);
        if (name)
            tool_error(path, "first bad tensor: '%s' (tensor %ld)", name, bad);
        return TOOL_FAIL;
    }
    return TOOL_OK;
}

static int no_such_tensor(const mcz_file *f, const char *path, const char *name)
{
    size_t n = mcz_tensor_count(f), idx[3], k;
    const char **names = malloc((n ? n : 1) * sizeof *names);
    char list[512] = "";
    if (names) {
        for (size_t i = 0; i < n; i++)
            names[i] = mcz_tensor(f, i)->name;
        k = mcz_suggest(name, names, n, idx, 3);
        mcz_suggest_list(names, idx, k, list, sizeof list);
        free(names);
    }
    if (*list)
        tool_error(path, "no tensor '%s'; did you mean %s?", name, list);
    else
        tool_error(path, "no tensor '%s'", name);
    return TOOL_FAIL;
}

static void stats_json(const char *key, const mcz_tensor_stats *st)
{
    printf(", \"%s\": {\"min\": %.9g, \"max\": %.9g, \"mean\": %.9g, \"std\": %.9g, "
           "\"zeros\": %llu, \"nan\": %llu, \"inf\": %llu, \"histogram\": [",
           key, st->min, st->max, st->mean, st->std, (unsigned long long)st->zeros,
           (unsigned long long)st->nan, (unsigned long long)st->inf);
    for (int k = 0; k < MCZ_STATS_BINS; k++)
        printf("%s%llu", k ? ", " : "", (unsigned long long)st->hist[k]);
    printf("]}");
}

static void stats_text(const mcz_tensor_stats *st)
{
    printf("min:       %.9g\nmax:       %.9g\nmean:      %.9g\nstd:       %.9g\n"
           "zeros:     %llu", st->min, st->max, st->mean, st->std, (unsigned long long)st->zeros);
    if (st->nan || st->inf)
        printf(", NaN: %llu, inf: %llu", (unsigned long long)st->nan,
               (unsigned long long)st->inf);
    printf("\nhistogram (%d bins over [min, max]):\n", MCZ_STATS_BINS);
    uint64_t top = 1;
    for (int k = 0; k < MCZ_STATS_BINS; k++)
        top = st->hist[k] > top ? st->hist[k] : top;
    double w = (st->max - st->min) / MCZ_STATS_BINS;
    for (int k = 0; k < MCZ_STATS_BINS; k++) {
        int bar = (int)((st->hist[k] * 40 + top - 1) / top);
        printf("  %12.5g .. %-12.5g %10llu %.*s\n", st->min + k * w, st->min + (k + 1) * w,
               (unsigned long long)st->hist[k], bar,
               "########################################");
    }
}

/* What --tensor learns by decoding a tensor. */
typedef struct decoded {
    int have_stats, have_codes; /* stats: the values (dequantized for codes); codes: the codes */
    mcz_tensor_stats st, codes;
    uint64_t zeros;             /* elements whose stored bytes are all zero */
} decoded;

static int decode_one(mcz_file *f, const char *path, size_t i, decoded *d)
{
    const mcz_tensor_info *t = mcz_tensor(f, i);
    mcz_error err = {0};
    void *raw = mcz_read_alloc(f, i, &err);
    float *v = raw ? malloc(t->count ? t->count * sizeof *v : 1) : NULL;
    if (!raw || !v) {
        free(raw);
        if (!raw)
            return tool_fail(&err);
        tool_error(path, "out of memory");
        return TOOL_FAIL;
    }
    d->zeros = zero_elements(t, raw);
    if (mcz_values_to_f32(t->dtype, raw, t->count, v, &err) == MCZ_OK) {
        mcz_tensor_stats_f32(v, t->count, t->quant ? &d->codes : &d->st);
        *(t->quant ? &d->have_codes : &d->have_stats) = 1;
    }
    free(raw);
    if (t->quant) { /* the values ONNX Runtime computes: (code - zero point) x scale */
        if (mcz_read_f32(f, i, v, (size_t)t->count, &err) != MCZ_OK) {
            free(v);
            return tool_fail(&err);
        }
        mcz_tensor_stats_f32(v, t->count, &d->st);
        d->have_stats = 1;
    }
    free(v);
    return TOOL_OK;
}

static int one_tensor(mcz_file *f, const char *path, const char *name, int json)
{
    long i = mcz_find(f, name);
    if (i < 0)
        return no_such_tensor(f, path, name);
    const mcz_tensor_info *t = mcz_tensor(f, (size_t)i);
    const mcz_quant_info *q = t->quant;
    decoded d = {0};
    char shp[512], b1[32], b2[32], scheme[96];
    shape_str(t, shp, sizeof shp);
    inspect_quant_scheme(t, scheme, sizeof scheme);
    if (!t->in_skeleton && decode_one(f, path, (size_t)i, &d) != TOOL_OK)
        return TOOL_FAIL;
    double sparsity = t->count ? (double)d.zeros / (double)t->count : 0.0;
    if (json) {
        printf("{\"name\": ");
        tool_json_str(stdout, t->name);
        printf(", \"index\": %ld, \"dtype\": \"%s\", \"shape\": [", i, mcz_dtype_name(t->dtype));
        for (int k = 0; k < t->rank; k++)
            printf("%s%lld", k ? ", " : "", (long long)t->dims[k]);
        printf("], \"elements\": %llu, \"encoding\": \"%s\", \"planes\": %u, \"transform\": %u, "
               "\"block_size\": %u, \"raw_bytes\": %llu, \"stored_bytes\": %llu, \"ratio\": %.4f, "
               "\"offset\": %llu, \"part\": %u, \"in_skeleton\": %s, \"quantization\": ",
               (unsigned long long)t->count, mcz_encoding_name(t->encoding), t->planes,
               t->transform, t->block_size, (unsigned long long)t->raw_bytes,
               (unsigned long long)t->stored_bytes, ratio(t->raw_bytes, t->stored_bytes),
               (unsigned long long)t->offset, t->part, t->in_skeleton ? "true" : "false");
        quant_json(f, t);
        if (!t->in_skeleton)
            printf(", \"zero_elements\": %llu, \"sparsity\": %.6f", (unsigned long long)d.zeros,
                   sparsity);
        if (d.have_stats)
            stats_json("stats", &d.st);
        if (d.have_codes)
            stats_json("code_stats", &d.codes);
        printf("}\n");
        return TOOL_OK;
    }
    printf("name:      %s\ntensor:    %ld of %zu\ntype:      %s\nshape:     %s\n"
           "elements:  %llu\n", t->name, i, mcz_tensor_count(f), mcz_dtype_name(t->dtype), shp,
           (unsigned long long)t->count);
    if (mcz_part_count(f))
        printf("part:      %u (its payload lies in that part's area)\n", t->part);
    if (t->in_skeleton) {
        printf("stored:    in the skeleton (values kept as the model had them)\n");
        return TOOL_OK;
    }
    printf("encoding:  %s", mcz_encoding_name(t->encoding));
    if (t->encoding == MCZ_ENC_PLANES)
        printf(" (%u byte planes%s)", t->planes, t->transform ? ", sign rotated" : "");
    else if (t->encoding == MCZ_ENC_SPARSE)
        printf(" (bitmap of the non-zero elements + %u byte plane%s%s)", t->planes - 1,
               t->planes > 2 ? "s" : "", t->transform ? ", sign rotated" : "");
    printf(", blocks of %u bytes\nbytes:     %s raw, %s stored (%.3fx) at byte %llu\n",
           t->block_size, tool_bytes(t->raw_bytes, b1, sizeof b1),
           tool_bytes(t->stored_bytes, b2, sizeof b2), ratio(t->raw_bytes, t->stored_bytes),
           (unsigned long long)t->offset);
    printf("sparsity:  %.2f%% (%llu of %llu elements are zero%s)\n", 100.0 * sparsity,
           (unsigned long long)d.zeros, (unsigned long long)t->count,
           t->quant ? " codes" : "");
    if (!q) {
        printf("quantization: none\n");
    } else {
        printf("quantization: %s: value = (code - zero point) x scale\n", scheme);
        const mcz_tensor_info *s = mcz_tensor(f, q->scale);
        printf("  scales:      '%s' (%s, %llu values)\n", s->name, mcz_dtype_name(s->dtype),
               (unsigned long long)s->count);
        if (q->zero_point >= 0) {
            const mcz_tensor_info *z = mcz_tensor(f, (size_t)q->zero_point);
            printf("  zero points: '%s' (%s, %llu values)\n", z->name, mcz_dtype_name(z->dtype),
                   (unsigned long long)z->count);
        } else {
            printf("  zero points: none (0)\n");
        }
    }
    if (d.have_stats) {
        if (q)
            printf("values (dequantized, as ONNX DequantizeLinear computes them):\n");
        stats_text(&d.st);
    }
    if (d.have_codes) {
        printf("codes (%s):\n", mcz_dtype_name(t->dtype));
        stats_text(&d.codes);
    }
    return TOOL_OK;
}

typedef struct group {
    size_t n;
    uint64_t raw, stored;
} group;

#define NENC 4 /* encodings raw, zstd, planes, sparse */

/* Up to `max` names joined with ", " (then "(+N more)"); "(none)" for none. */
static void print_names(const char *const *names, size_t n, size_t max)
{
    if (!n)
        printf("(none)");
    for (size_t k = 0; k < n && k < max; k++)
        printf("%s%s", k ? ", " : "", names[k]);
    if (n > max)
        printf(" (+%zu more)", n - max);
}

static void names_json(const char *const *names, size_t n)
{
    printf("[");
    for (size_t k = 0; k < n; k++) {
        printf("%s", k ? ", " : "");
        tool_json_str(stdout, names[k]);
    }
    printf("]");
}

static void partitions_json(const mcz_file *f)
{
    size_t np = mcz_part_count(f);
    printf(",\n \"part_count\": %zu, \"partitions\": [", np);
    for (size_t p = 0; p < np; p++) {
        const mcz_part_desc *d = mcz_part(f, p);
        printf("%s\n  {\"index\": %zu, \"nodes\": %u, \"tensors\": %zu, \"weight_bytes\": "
               "%llu, \"skeleton_bytes\": %llu, \"inputs\": ", p ? "," : "", p, d->node_count,
               d->tensor_count, (unsigned long long)d->weight_bytes,
               (unsigned long long)d->skeleton_bytes);
        names_json(d->inputs, d->input_count);
        printf(", \"outputs\": ");
        names_json(d->outputs, d->output_count);
        printf("}");
    }
    printf("%s]", np ? "\n " : "");
}

static void partitions_text(const mcz_file *f)
{
    size_t np = mcz_part_count(f);
    char b[32];
    if (!np) {
        printf("partitions:  none (one unsplit model)\n");
        return;
    }
    printf("partitions:  %zu, to run in this order (each part's payloads contiguous in the file)\n",
           np);
    printf("  %4s %6s %8s %12s  %s\n", "PART", "NODES", "TENSORS", "WEIGHTS",
           "INPUTS -> OUTPUTS");
    for (size_t p = 0; p < np; p++) {
        const mcz_part_desc *d = mcz_part(f, p);
        printf("  %4zu %6u %8zu %12s  ", p, d->node_count, d->tensor_count,
               tool_bytes(d->weight_bytes, b, sizeof b));
        print_names(d->inputs, d->input_count, 8);
        printf(" -> ");
        print_names(d->outputs, d->output_count, 8);
        printf("\n");
    }
}

static int summary(mcz_file *f, const char *path, int tensors, int json)
{
    size_t n = mcz_tensor_count(f), nshared = 0, nskel = 0, nquant = 0, np = mcz_part_count(f);
    group enc[NENC] = {{0}}, dt[32] = {{0}};
    uint64_t raw = 0, stored = 0, file_size = 0;
    int *sh = shared_flags(f);
    FILE *fp = fopen(path, "rb");
    if (fp && fseek(fp, 0, SEEK_END) == 0)
        file_size = (uint64_t)ftell(fp);
    if (fp)
        fclose(fp);
    for (size_t i = 0; i < n; i++) {
        const mcz_tensor_info *t = mcz_tensor(f, i);
        int d = t->dtype >= 0 && t->dtype < 32 ? t->dtype : 0;
        int e = (int)t->encoding < NENC ? (int)t->encoding : 0;
        uint64_t st = sh && sh[i] ? 0 : t->stored_bytes;
        nskel += t->in_skeleton != 0;
        nshared += sh && sh[i];
        nquant += t->quant != NULL;
        raw += t->raw_bytes;
        stored += st;
        enc[e] = (group){enc[e].n + 1, enc[e].raw + t->raw_bytes, enc[e].stored + st};
        dt[d] = (group){dt[d].n + 1, dt[d].raw + t->raw_bytes, dt[d].stored + st};
    }
    free(sh);
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_mcz(path, 0, &err);
    if (!m)
        return tool_fail(&err);
    mcz_model_info info;
    mcz_model_get_info(m, &info);
    if (json) {
        printf("{\"file\": ");
        tool_json_str(stdout, path);
        printf(", \"format\": \"mcz\", \"format_version\": %u, \"file_bytes\": %llu, "
               "\"ir_version\": %lld, \"producer\": ", mcz_format_version(f),
               (unsigned long long)file_size, (long long)info.ir_version);
        tool_json_str(stdout, info.producer_name);
        printf(", \"producer_version\": ");
        tool_json_str(stdout, info.producer_version);
        printf(", \"opsets\": {");
        for (size_t i = 0; i < info.opset_count; i++) {
            const char *d;
            int64_t v;
            mcz_model_opset(m, i, &d, &v);
            printf("%s", i ? ", " : "");
            tool_json_str(stdout, *d ? d : "ai.onnx");
            printf(": %lld", (long long)v);
        }
        printf("}, \"nodes\": %zu, \"subgraphs\": %zu, \"inputs\": %zu, \"outputs\": %zu,\n"
               " \"tensors\": %zu, \"shared_payloads\": %zu, \"in_skeleton\": %zu, "
               "\"quantized\": %zu, \"raw_bytes\": %llu, \"stored_bytes\": %llu, "
               "\"ratio\": %.4f, \"file_ratio\": %.4f,\n \"by_encoding\": {", info.node_count,
               info.subgraph_count, info.input_count, info.output_count, n, nshared, nskel,
               nquant, (unsigned long long)raw, (unsigned long long)stored, ratio(raw, stored),
               ratio(raw, file_size));
        for (int k = 0; k < NENC; k++)
            printf("%s\"%s\": {\"tensors\": %zu, \"raw_bytes\": %llu, \"stored_bytes\": %llu}",
                   k ? ", " : "", mcz_encoding_name(k), enc[k].n, (unsigned long long)enc[k].raw,
                   (unsigned long long)enc[k].stored);
        printf("},\n \"by_type\": {");
        for (int d = 0, first = 1; d < 32; d++) {
            if (!dt[d].n)
                continue;
            printf("%s\"%s\": {\"tensors\": %zu, \"raw_bytes\": %llu, \"stored_bytes\": %llu}",
                   first ? "" : ", ", mcz_dtype_name(d), dt[d].n, (unsigned long long)dt[d].raw,
                   (unsigned long long)dt[d].stored);
            first = 0;
        }
        printf("}");
        partitions_json(f);
        if (tensors) {
            printf(",\n \"tensor_table\": [");
            for (size_t i = 0; i < n; i++) {
                const mcz_tensor_info *t = mcz_tensor(f, i);
                printf("%s\n  {\"name\": ", i ? "," : "");
                tool_json_str(stdout, t->name);
                printf(", \"dtype\": \"%s\", \"shape\": [", mcz_dtype_name(t->dtype));
                for (int d = 0; d < t->rank; d++)
                    printf("%s%lld", d ? ", " : "", (long long)t->dims[d]);
                printf("], \"encoding\": \"%s\", \"raw_bytes\": %llu, \"stored_bytes\": %llu, "
                       "\"ratio\": %.4f, \"in_skeleton\": %s, \"part\": %u, \"quantization\": ",
                       mcz_encoding_name(t->encoding), (unsigned long long)t->raw_bytes,
                       (unsigned long long)t->stored_bytes, ratio(t->raw_bytes, t->stored_bytes),
                       t->in_skeleton ? "true" : "false", t->part);
                quant_json(f, t);
                printf("}");
            }
            printf("\n ]");
        }
        printf("}\n");
        mcz_model_free(m);
        return TOOL_OK;
    }
    if (tensors) {
        printf("%-48s %-9s %-22s %-8s %-24s %12s %12s %7s%s\n", "NAME", "TYPE", "SHAPE",
               "ENCODING", "QUANTIZATION", "RAW", "STORED", "RATIO", np ? "  PART" : "");
        for (size_t i = 0; i < n; i++) {
            const mcz_tensor_info *t = mcz_tensor(f, i);
            char shp[256], scheme[96];
            shape_str(t, shp, sizeof shp);
            inspect_quant_scheme(t, scheme, sizeof scheme);
            printf("%-48s %-9s %-22s %-8s %-24s %12llu %12llu %7.3f", t->name,
                   mcz_dtype_name(t->dtype), shp,
                   t->in_skeleton ? "skeleton" : mcz_encoding_name(t->encoding),
                   *scheme ? scheme : "-", (unsigned long long)t->raw_bytes,
                   (unsigned long long)t->stored_bytes, ratio(t->raw_bytes, t->stored_bytes));
            if (np)
                printf("  %4u", t->part);
            printf("\n");
        }
        mcz_model_free(m);
        return TOOL_OK;
    }
    char b1[32], b2[32], b3[32];
    printf("file:        %s (%s)\nformat:      .mcz container, format version %u\n", path,
           tool_bytes(file_size, b1, sizeof b1), mcz_format_version(f));
    printf("model:       ONNX IR version %lld, producer %s%s%s\nopsets:     ",
           (long long)info.ir_version, *info.producer_name ? info.producer_name : "(none)",
           *info.producer_version ? " " : "", info.producer_version);
    for (size_t i = 0; i < info.opset_count; i++) {
        const char *d;
        int64_t v;
        mcz_model_opset(m, i, &d, &v);
        printf(" %s %lld%s", *d ? d : "ai.onnx", (long long)v, i + 1 < info.opset_count ? "," : "");
    }
    printf("\nnodes:       %zu (%zu in the main graph, %zu subgraphs), %zu inputs, %zu outputs\n",
           info.node_count, info.main_node_count, info.subgraph_count, info.input_count,
           info.output_count);
    printf("tensors:     %zu (%zu sharing an identical tensor's payload, %zu kept in the "
           "skeleton)\n", n, nshared, nskel);
    printf("weights:     %s raw, %s stored (%.3fx); whole file %.3fx\n",
           tool_bytes(raw, b2, sizeof b2), tool_bytes(stored, b3, sizeof b3), ratio(raw, stored),
           ratio(raw, file_size));
    printf("quantized:   %zu tensors of integer codes", nquant);
    if (nquant) { /* by scheme: "int8 channel (axis 0) x12, uint4 block 32 (axis 1) x3" */
        enum { MAXS = 8 };
        char seen[MAXS][96];
        size_t cnt[MAXS] = {0}, ns = 0, other = 0;
        for (size_t i = 0; i < n; i++) {
            const mcz_tensor_info *t = mcz_tensor(f, i);
            char sc[96];
            size_t k = 0;
            if (!t->quant)
                continue;
            inspect_quant_scheme(t, sc, sizeof sc);
            while (k < ns && strcmp(seen[k], sc) != 0)
                k++;
            if (k == ns && ns == MAXS) {
                other++;
                continue;
            }
            if (k == ns)
                memcpy(seen[ns++], sc, sizeof sc);
            cnt[k]++;
        }
        for (size_t k = 0; k < ns; k++)
            printf("%s %s x%zu", k ? "," : ":", seen[k], cnt[k]);
        if (other)
            printf(", other schemes x%zu", other);
    }
    printf("\nby encoding:\n");
    for (int k = 0; k < NENC; k++)
        if (enc[k].n)
            printf("  %-10s %6zu tensors %12s -> %12s (%.3fx)\n", mcz_encoding_name(k), enc[k].n,
                   tool_bytes(enc[k].raw, b1, sizeof b1), tool_bytes(enc[k].stored, b2, sizeof b2),
                   ratio(enc[k].raw, enc[k].stored));
    printf("by type:\n");
    for (int d = 0; d < 32; d++)
        if (dt[d].n)
            printf("  %-10s %6zu tensors %12s -> %12s (%.3fx)\n", mcz_dtype_name(d), dt[d].n,
                   tool_bytes(dt[d].raw, b1, sizeof b1), tool_bytes(dt[d].stored, b2, sizeof b2),
                   ratio(dt[d].raw, dt[d].stored));
    partitions_text(f);
    mcz_model_free(m);
    return TOOL_OK;
}

int inspect_mcz(const char *path, int tensors, const char *tensor_name, int verify, int json)
{
    mcz_error err = {0};
    mcz_file *f = mcz_open(path, &err);
    if (!f)
        return tool_fail(&err);
    int rc = TOOL_OK;
    if (verify)
        rc = do_verify(f, path, json);
    if (rc == TOOL_OK && tensor_name)
        rc = one_tensor(f, path, tensor_name, json);
    else if (rc == TOOL_OK && (!verify || tensors))
        rc = summary(f, path, tensors, json);
    mcz_close(f);
    return rc;
}
