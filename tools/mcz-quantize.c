/* mcz-quantize - weight-only quantization: int8 per channel, int4 per block, in QDQ form. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/outfile.h"
#include "mcz/quantize.h"
#include "progress.h"
#include "tool.h"

static const char usage[] =
    "Usage: mcz-quantize MODEL -o OUTPUT [--bits 8|4] [--granularity channel|tensor|block]\n"
    "                    [--block-size N] [--symmetric|--asymmetric]\n"
    "                    [--method minmax|weighted|mse] [--target-sqnr DB]\n"
    "                    [--min-elements N] [--exclude PATTERN]...\n"
    "\n"
    "Quantize the weights of Conv, ConvTranspose, Gemm, MatMul, LSTM/GRU/RNN and the\n"
    "embeddings a Gather reads (wherever they live: initializers, Constant nodes, subgraphs,\n"
    "external data; also behind Transpose, Slice, Concat, Reshape... on the way to their op);\n"
    "activations stay float. Every float tensor of --min-elements or more is in the report.\n"
    "ONNX output is in QDQ form: the codes, their scales (and zero points) and a\n"
    "DequantizeLinear feeding the original consumers; the opset is raised only as far as\n"
    "needed (per-channel: 13; int4 or blocks: 21).\n"
    "\n"
    "  -o, --output PATH     .onnx or .mcz; '-' for standard output\n"
    "      --bits B          8 (default): int8; 4: int4\n"
    "      --granularity G   channel: one scale per output channel (default for 8 bits);\n"
    "                        block: one per --block-size weights along the reduction axis\n"
    "                        (default for 4 bits); tensor: one per weight\n"
    "      --block-size N    16..256 (default 32); the last block of an axis may be shorter\n"
    "      --symmetric       signed codes, zero point 0 (default for 8 bits and for\n"
    "                        --target-sqnr, whose 8-bit weights do better signed)\n"
    "      --asymmetric      unsigned codes (uint8/uint4) with a zero point per scale\n"
    "                        (default for 4 bits: less output error than int4)\n"
    "      --method M        minmax (default for 8 bits): the full range, rounded to nearest\n"
    "                        (ONNX Runtime's codes); weighted (default for 4 bits): per\n"
    "                        channel/block, the scale (and zero point) with the least error\n"
    "                        weighted by rms + |x|; mse: the clipping range with the least\n"
    "                        squared error; with --target-sqnr, weights moved up to 8 bits\n"
    "                        get the 8-bit default unless M is given\n"
    "      --target-sqnr DB  mixed precision: a weight whose SQNR would fall below DB dB\n"
    "                        takes the next higher precision (4 -> 8 bits -> float)\n"
    "      --keep-sensitive  4 bits: keep at 8 bits the weights a data-free rule calls\n"
    "                        sensitive: embeddings and tied heads, the first and the last\n"
    "                        weight layers, and any weight whose 4-bit SQNR is more than\n"
    "                        6 dB below the model's median (as llama.cpp's Q4_K_M does)\n"
    "      --min-elements N  weights with fewer elements stay float (default 1024)\n"
    "      --exclude PAT     leave weights whose name (or the name of the node holding or\n"
    "                        consuming them) matches the glob PAT; repeatable; a PAT that\n"
    "                        matches nothing is an error\n"
    "      --external-data   ONNX output: every weight in OUTPUT.data, whatever the size\n"
    "  -j, --threads N       threads (0 = all cores, the default); the output is the same\n"
    "      --json            the report as JSON on standard output (instead of the table)\n"
    "      --report FILE     also write the JSON report to FILE\n"
    "  -f, --force           overwrite existing outputs\n"
    "  -q, --quiet           print nothing but errors\n"
    "  -h, --help            this help\n"
    "      --version         print the version\n"
    "\n"
    "Exit status: 0 success, 1 failure (bad input, I/O), 2 usage error.\n";

enum {
    OPT_BITS = TOOL_OPT_USER, OPT_GRANULARITY, OPT_BLOCK_SIZE, OPT_SYMMETRIC, OPT_ASYMMETRIC,
    OPT_METHOD, OPT_TARGET_SQNR, OPT_KEEP_SENSITIVE
};

static double ratio(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 1.0;
}

static const char *scheme_str(const mcz_quantize_result *w, char *buf, size_t cap)
{
    if (!w->bits)
        snprintf(buf, cap, "float");
    else if (w->granularity == MCZ_QGRAN_BLOCK)
        snprintf(buf, cap, "%sint%d block %u", w->asymmetric ? "u" : "", w->bits, w->block_size);
    else
        snprintf(buf, cap, "%sint%d %s", w->asymmetric ? "u" : "", w->bits,
                 mcz_qgranularity_name(w->granularity));
    return buf;
}

static double bits_per_weight(uint64_t bytes, uint64_t count)
{
    return count ? 8.0 * (double)bytes / (double)count : 0.0;
}

static void print_json(FILE *f, const char *in, const char *out, const mcz_quantize_params *p,
                       const mcz_quantize_report *r)
{
    fputs("{\"tool\": \"mcz-quantize\", \"input\": ", f);
    tool_json_str(f, in);
    fputs(", \"output\": ", f);
    tool_json_str(f, out);
    fprintf(f, ",\n \"bits\": %d, \"granularity\": \"%s\", \"block_size\": ", p->bits,
            mcz_qgranularity_name(p->granularity));
    if (p->granularity == MCZ_QGRAN_BLOCK)
        fprintf(f, "%u", p->block_size);
    else
        fputs("null", f);
    fprintf(f, ", \"symmetric\": %s, \"method\": \"%s\", \"target_sqnr_db\": ",
            p->asymmetric ? "false" : "true",
            mcz_qmethod_name(mcz_qmethod_for_bits(p->method, p->bits)));
    tool_json_num(f, p->mixed ? p->target_sqnr_db : NAN, 6);
    fprintf(f, ", \"keep_sensitive\": %s", p->keep_sensitive ? "true" : "false");
    fprintf(f, ", \"min_elements\": %llu, \"exclude\": [", (unsigned long long)p->min_elements);
    for (size_t e = 0; e < p->nexclude; e++) {
        fputs(e ? ", " : "", f);
        tool_json_str(f, p->exclude[e]);
    }
    fprintf(f, "],\n \"opset_before\": %lld, \"opset_after\": %lld, \"ir_version_before\": %lld, "
               "\"ir_version_after\": %lld, \"threads\": %d,\n \"weights\": [",
            (long long)r->opset_before, (long long)r->opset_after, (long long)r->ir_before,
            (long long)r->ir_after, r->threads);
    for (size_t i = 0; i < r->n; i++) {
        const mcz_quantize_result *w = &r->w[i];
        fprintf(f, "%s\n  {\"name\": ", i ? "," : "");
        tool_json_str(f, w->name);
        fputs(", \"op\": ", f);
        tool_json_str(f, w->op_type);
        fprintf(f, ", \"dtype\": \"%s\", \"shape\": [", mcz_dtype_name(w->dtype));
        for (int d = 0; d < w->rank; d++)
            fprintf(f, "%s%lld", d ? ", " : "", (long long)w->dims[d]);
        fprintf(f, "], \"elements\": %llu, \"status\": \"%s\"", (unsigned long long)w->count,
                w->already ? "already quantized" : w->skipped ? "kept" : "quantized");
        if (w->skipped) {
            fputs(", \"reason\": ", f);
            tool_json_str(f, w->skipped);
        }
        if (w->bits) {
            fprintf(f, ", \"bits\": %d, \"granularity\": \"%s\", \"axis\": ", w->bits,
                    mcz_qgranularity_name(w->granularity));
            if (w->axis >= 0)
                fprintf(f, "%d", w->axis);
            else
                fputs("null", f);
            fprintf(f, ", \"block_size\": ");
            if (w->granularity == MCZ_QGRAN_BLOCK)
                fprintf(f, "%u", w->block_size);
            else
                fputs("null", f);
            fprintf(f, ", \"asymmetric\": %s", w->asymmetric ? "true" : "false");
            if (!w->already) {
                fprintf(f, ", \"method\": \"%s\"", mcz_qmethod_name(w->method));
                fputs(", \"bits_per_weight\": ", f);
                tool_json_num(f, bits_per_weight(w->bytes_after, w->count), 6);
            }
        }
        fputs(", \"sqnr_db\": ", f);
        tool_json_num(f, w->sqnr_db, 6);
        if (isinf(w->sqnr_db) && w->sqnr_db > 0)
            fputs(", \"exact\": true", f);
        if (!isnan(w->sqnr_lower_db)) {
            fputs(", \"sqnr_lower_precision_db\": ", f);
            tool_json_num(f, w->sqnr_lower_db, 6);
        }
        if (w->sensitive) {
            fputs(", \"sensitive\": ", f);
            tool_json_str(f, w->sensitive);
        }
        fprintf(f, ", \"bytes_before\": %llu, \"bytes_after\": %llu}",
                (unsigned long long)w->bytes_before, (unsigned long long)w->bytes_after);
    }
    fprintf(f, "\n ],\n \"totals\": {\"quantized\": %zu, \"int8\": %zu, \"int4\": %zu, "
               "\"kept\": %zu, \"already_quantized\": %zu, \"bytes_before\": %llu, "
               "\"bytes_after\": %llu, \"ratio\": ",
            r->quantized, r->at_bits[8], r->at_bits[4], r->skipped, r->already,
            (unsigned long long)r->bytes_before, (unsigned long long)r->bytes_after);
    tool_json_num(f, ratio(r->bytes_after, r->bytes_before), 6);
    fprintf(f, ", \"model_bytes_before\": %llu, \"model_bytes_after\": %llu, \"model_ratio\": ",
            (unsigned long long)r->model_bytes_before, (unsigned long long)r->model_bytes_after);
    tool_json_num(f, ratio(r->model_bytes_after, r->model_bytes_before), 6);
    fputs(", \"sqnr_db\": ", f);
    tool_json_num(f, r->quantized ? mcz_sqnr_db(r->signal, r->noise) : NAN, 6);
    fputs(", \"seconds\": ", f);
    tool_json_num(f, r->seconds, 6);
    fputs("}}\n", f);
}

static void print_table(FILE *f, const mcz_quantize_report *r)
{
    char b1[32], b2[32];
    fprintf(f, "%-44s %-13s %-20s %4s %-17s %-8s %6s %8s %11s %11s\n", "WEIGHT", "OP", "SHAPE",
            "AXIS", "SCHEME", "METHOD", "BITS", "SQNR dB", "BEFORE", "AFTER");
    for (size_t i = 0; i < r->n; i++) {
        const mcz_quantize_result *w = &r->w[i];
        if (w->skipped)
            continue;
        char shp[128], axis[16], sch[40], sq[24];
        tool_shape_str(w->rank, w->dims, shp, sizeof shp);
        if (w->axis >= 0)
            snprintf(axis, sizeof axis, "%d", w->axis);
        else
            snprintf(axis, sizeof axis, "-");
        if (w->already)
            snprintf(sq, sizeof sq, "(before)");
        else if (isinf(w->sqnr_db))
            snprintf(sq, sizeof sq, "exact");
        else
            snprintf(sq, sizeof sq, "%.2f", w->sqnr_db);
        char bpw[16]; /* bits per weight: codes, scales and zero points */
        snprintf(bpw, sizeof bpw, "%.2f", bits_per_weight(w->bytes_after, w->count));
        fprintf(f, "%-44s %-13s %-20s %4s %-17s %-8s %6s %8s %11s %11s", w->name,
                *w->op_type ? w->op_type : "-", shp, axis, scheme_str(w, sch, sizeof sch),
                w->already ? "-" : mcz_qmethod_name(w->method), bpw, sq,
                tool_bytes(w->bytes_before, b1, sizeof b1),
                tool_bytes(w->bytes_after, b2, sizeof b2));
        if (!w->already && !isnan(w->sqnr_lower_db)) /* moved up to 8 bits */
            fprintf(f, "  (int4: %.2f dB%s%s)", w->sqnr_lower_db, w->sensitive ? "; " : "",
                    w->sensitive ? w->sensitive : "");
        fputc('\n', f);
    }
    if (r->skipped) {
        fprintf(f, "kept as they are:\n");
        for (size_t i = 0; i < r->n; i++) {
            const mcz_quantize_result *w = &r->w[i];
            if (!w->skipped)
                continue;
            char shp[128];
            tool_shape_str(w->rank, w->dims, shp, sizeof shp);
            fprintf(f, "  %-44s %-13s %-20s %s", w->name, *w->op_type ? w->op_type : "-", shp,
                    w->skipped);
            if (!isnan(w->sqnr_lower_db))
                fprintf(f, " (%.2f dB at 8 bits)", w->sqnr_lower_db);
            fputc('\n', f);
        }
    }
    fprintf(f, "total: %zu weights quantized (%zu int8, %zu int4), %zu kept, %zu already "
               "quantized\n",
            r->quantized, r->at_bits[8], r->at_bits[4], r->skipped, r->already);
    uint64_t count = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->w[i].bits && !r->w[i].already && !r->w[i].skipped)
            count += r->w[i].count;
    if (r->quantized)
        fprintf(f, "quantized weights: %s -> %s (%.3fx), SQNR %.2f dB, %.2f bits per weight\n",
                tool_bytes(r->bytes_before, b1, sizeof b1),
                tool_bytes(r->bytes_after, b2, sizeof b2), ratio(r->bytes_after, r->bytes_before),
                mcz_sqnr_db(r->signal, r->noise), bits_per_weight(r->bytes_after, count));
    fprintf(f, "all weights:       %s -> %s (%.3fx)\n",
            tool_bytes(r->model_bytes_before, b1, sizeof b1),
            tool_bytes(r->model_bytes_after, b2, sizeof b2),
            ratio(r->model_bytes_after, r->model_bytes_before));
    if (r->opset_after != r->opset_before || r->ir_after != r->ir_before)
        fprintf(f, "opset %lld -> %lld, IR version %lld -> %lld\n", (long long)r->opset_before,
                (long long)r->opset_after, (long long)r->ir_before, (long long)r->ir_after);
    if (r->quantized && r->seconds > 0)
        fprintf(f, "%.3f s on %d thread%s (%.0f MB/s of weights)\n", r->seconds, r->threads,
                r->threads == 1 ? "" : "s", (double)r->bytes_before / 1e6 / r->seconds);
}

/* The pass as tool_run_pass runs it. */
typedef struct quantize_pass {
    mcz_quantize_params p;
    mcz_quantize_report *rep;
} quantize_pass;

static mcz_status pass_run(void *ctx, mcz_model *m, mcz_progress_fn fn, void *fctx,
                           mcz_error *err)
{
    quantize_pass *x = ctx;
    x->p.progress = fn;
    x->p.progress_ctx = fctx;
    return mcz_quantize_model(m, &x->p, &x->rep, err);
}

static int pass_changed(void *ctx)
{
    return ((const quantize_pass *)ctx)->rep->quantized != 0;
}

/* any weight stored as external data: the output keeps external data */
static int pass_external(void *ctx, int any_external)
{
    (void)ctx;
    return any_external;
}

static void pass_json(void *ctx, FILE *f, const char *in, const char *out, mcz_model *m)
{
    const quantize_pass *x = ctx;
    (void)m;
    print_json(f, in, out, &x->p, x->rep);
}

static void pass_table(void *ctx, FILE *f, mcz_model *m)
{
    (void)m;
    print_table(f, ((const quantize_pass *)ctx)->rep);
}

int main(int argc, char **argv)
{
    tool_init("mcz-quantize");
    static const tool_option options[] = {
        TOOL_OPTION_OUTPUT,
        {OPT_BITS, 0, "bits", TOOL_ARG_REQUIRED},
        {OPT_GRANULARITY, 0, "granularity", TOOL_ARG_REQUIRED},
        {OPT_BLOCK_SIZE, 0, "block-size", TOOL_ARG_REQUIRED},
        {OPT_SYMMETRIC, 0, "symmetric", TOOL_ARG_NONE},
        {OPT_ASYMMETRIC, 0, "asymmetric", TOOL_ARG_NONE},
        {OPT_METHOD, 0, "method", TOOL_ARG_REQUIRED},
        {OPT_TARGET_SQNR, 0, "target-sqnr", TOOL_ARG_REQUIRED},
        {OPT_KEEP_SENSITIVE, 0, "keep-sensitive", TOOL_ARG_NONE},
        TOOL_OPTIONS_WEIGHT_PASS};
    tool_common c = {0};
    mcz_quantize_params p = mcz_quantize_default_params();
    tool_args args;
    const char *arg;
    int have_granularity = 0, have_block = 0, have_symmetry = 0, opt;
    long v;
    tool_args_init(&args, argc, argv, options);
    while ((opt = tool_next_option(&args, &arg)) != -1) {
        if (tool_common_opt(&c, opt, arg, usage))
            continue;
        switch (opt) {
        case OPT_BITS:
            if (tool_parse_int(arg, 4, 8, &v) != 0 || (v != 4 && v != 8))
                return tool_usage_error("invalid --bits '%s' (8 or 4)", arg);
            p.bits = (int)v;
            break;
        case OPT_GRANULARITY:
            if (strcmp(arg, "channel") == 0)
                p.granularity = MCZ_QGRAN_CHANNEL;
            else if (strcmp(arg, "tensor") == 0)
                p.granularity = MCZ_QGRAN_TENSOR;
            else if (strcmp(arg, "block") == 0)
                p.granularity = MCZ_QGRAN_BLOCK;
            else
                return tool_usage_error("invalid --granularity '%s' (channel, tensor or block)",
                                        arg);
            have_granularity = 1;
            break;
        case OPT_BLOCK_SIZE:
            if (tool_parse_int(arg, MCZ_QBLOCK_MIN, MCZ_QBLOCK_MAX, &v) != 0)
                return tool_usage_error("invalid --block-size '%s' (%d..%d)", arg,
                                        MCZ_QBLOCK_MIN, MCZ_QBLOCK_MAX);
            p.block_size = (uint32_t)v;
            have_block = 1;
            break;
        case OPT_SYMMETRIC:
            p.asymmetric = false;
            have_symmetry = 1;
            break;
        case OPT_ASYMMETRIC:
            p.asymmetric = true;
            have_symmetry = 1;
            break;
        case OPT_METHOD:
            if (strcmp(arg, "mse") == 0)
                p.method = MCZ_QMETHOD_MSE;
            else if (strcmp(arg, "minmax") == 0)
                p.method = MCZ_QMETHOD_MINMAX;
            else if (strcmp(arg, "weighted") == 0)
                p.method = MCZ_QMETHOD_WEIGHTED;
            else
                return tool_usage_error("invalid --method '%s' (weighted, mse or minmax)", arg);
            break;
        case OPT_TARGET_SQNR: {
            char *end;
            errno = 0;
            double d = strtod(arg, &end);
            if (errno || end == arg || *end || !isfinite(d))
                return tool_usage_error("invalid --target-sqnr '%s' (a number of dB)", arg);
            p.mixed = true;
            p.target_sqnr_db = d;
            break;
        }
        case OPT_KEEP_SENSITIVE:
            p.keep_sensitive = true;
            break;
        }
    }
    int io = tool_want_io(&args, &c, "model", "PATH");
    if (io != TOOL_OK)
        return io;
    if (c.have_min_elements)
        p.min_elements = c.min_elements;
    if (!have_granularity)
        p.granularity = p.bits == 4 ? MCZ_QGRAN_BLOCK : MCZ_QGRAN_CHANNEL;
    if (!have_symmetry) /* uint4 beats int4 at the output; uint8 loses to int8 (quantize.md) */
        p.asymmetric = p.bits == 4 && !p.mixed;
    if (p.keep_sensitive && p.bits != 4)
        return tool_usage_error("--keep-sensitive applies to --bits 4 only");
    if (have_block && p.granularity != MCZ_QGRAN_BLOCK)
        return tool_usage_error("--block-size applies to --granularity block only");
    int to_stdout = strcmp(c.output, "-") == 0;
    if (to_stdout && c.json)
        return tool_usage_error("--json and -o - both use standard output: use --report FILE");
    p.exclude = c.exclude;
    p.nexclude = c.nexclude;
    p.threads = c.threads;

    quantize_pass x = {.p = p};
    tool_pass ps = {.verb = "quantize", .min_elements = p.min_elements, .ctx = &x,
                    .run = pass_run, .usage_errors = TOOL_STATUS_BIT(MCZ_ERR_NOT_FOUND),
                    .changed = pass_changed, .external = pass_external, .json = pass_json,
                    .table = pass_table};
    int rc = tool_run_pass(&c, args.operands[0], &ps);
    mcz_quantize_report_free(x.rep);
    free(c.exclude);
    return rc;
}
