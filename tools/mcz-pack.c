/* mcz-pack - write a model (ONNX or .mcz) as an .mcz container. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mcz/pack.h"
#include "progress.h"
#include "tool.h"

static const char usage[] =
    "Usage: mcz-pack MODEL -o OUT.mcz [--level N] [-j N] [-f] [-q] [--json] [--report FILE]\n"
    "\n"
    "Pack an ONNX model (or an .mcz, recognised by content) into an .mcz container: every\n"
    "weight losslessly compressed in independently decodable blocks (byte planes, zstd,\n"
    "sparse or raw, whichever is smallest per tensor), the graph kept beside them.\n"
    "Quantized weights (DequantizeLinear of constant codes) keep their integer codes, marked\n"
    "with their scales so a loader can dequantize them.\n"
    "\n"
    "  -o, --output PATH  the .mcz to write ('-' for standard output)\n"
    "      --level N      zstd level 1..22 for plainly compressed tensors (default 19)\n"
    "  -j, --threads N    encoding threads (default 0 = all cores); the output is the same\n"
    "  -f, --force        overwrite an existing output\n"
    "  -q, --quiet        print nothing on success\n"
    "      --json         print the summary as JSON\n"
    "      --report FILE  also write the JSON summary to FILE\n"
    "  -h, --help         this help\n"
    "      --version      print the version\n"
    "\n"
    "Exit status: 0 success, 1 failure (bad input, I/O), 2 usage error.\n";

enum { OPT_LEVEL = TOOL_OPT_USER };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void json(FILE *f, const char *in, const char *out, const mcz_pack_stats *s, double sec)
{
    fputs("{\"input\": ", f);
    tool_json_str(f, in);
    fputs(", \"output\": ", f);
    tool_json_str(f, out);
    fprintf(f, ", \"tensors\": %zu, \"deduplicated\": %zu, \"raw_bytes\": %llu, "
               "\"stored_bytes\": %llu, \"file_bytes\": %llu, \"index_bytes\": %llu, "
               "\"skeleton_bytes\": %llu, \"ratio\": %.4f, \"seconds\": %.3f, \"quantized\": %zu, "
               "\"encodings\": {",
            s->tensors, s->deduplicated, (unsigned long long)s->raw_bytes,
            (unsigned long long)s->stored_bytes, (unsigned long long)s->file_bytes,
            (unsigned long long)s->index_bytes, (unsigned long long)s->skeleton_bytes,
            s->file_bytes ? (double)s->raw_bytes / (double)s->file_bytes : 0.0, sec, s->quantized);
    for (int k = 0; k < 4; k++)
        fprintf(f, "%s\"%s\": {\"tensors\": %zu, \"raw_bytes\": %llu, \"stored_bytes\": %llu}",
                k ? ", " : "", mcz_encoding_name((mcz_encoding)k), s->count_by_encoding[k],
                (unsigned long long)s->raw_by_encoding[k],
                (unsigned long long)s->stored_by_encoding[k]);
    fputs("}}\n", f);
}

int main(int argc, char **argv)
{
    tool_init("mcz-pack");
    static const tool_option options[] = {
        TOOL_OPTION_OUTPUT, {OPT_LEVEL, 0, "level", TOOL_ARG_REQUIRED}, TOOL_OPTION_THREADS,
        TOOL_OPTION_FORCE, TOOL_OPTION_QUIET, TOOL_OPTION_JSON, TOOL_OPTION_REPORT,
        TOOL_OPTION_HELP, TOOL_OPTION_VERSION, TOOL_OPTION_END};
    tool_common c = {0};
    tool_args args;
    const char *arg;
    long level = 0;
    int opt;
    tool_args_init(&args, argc, argv, options);
    while ((opt = tool_next_option(&args, &arg)) != -1) {
        if (tool_common_opt(&c, opt, arg, usage))
            continue;
        if (tool_parse_int(arg, 1, 22, &level) != 0) /* OPT_LEVEL, the one left */
            return tool_usage_error("invalid level '%s' (1..22)", arg);
    }
    int io = tool_want_io(&args, &c, "model", "OUT.mcz");
    if (io != TOOL_OK)
        return io;
    const char *in = args.operands[0];
    mcz_error err = {0};
    double t0 = now();
    mcz_model *m = mcz_model_load_any(in, c.threads, &err);
    if (!m)
        return tool_fail(&err);
    uint64_t total = 0;
    for (size_t i = 0; i < mcz_model_weight_count(m); i++)
        total += mcz_model_weight(m, i)->nbytes;
    progress *bar = progress_start("pack", mcz_model_weight_count(m), total, c.quiet);
    mcz_pack_opts o = {.level = (int)level, .threads = c.threads, .force = c.force,
                       .progress = progress_callback, .progress_ctx = bar};
    mcz_pack_stats st;
    mcz_status s = mcz_pack(m, c.output, &o, &st, &err);
    progress_done(bar);
    mcz_model_free(m);
    if (s)
        return tool_fail(&err);
    double sec = now() - t0;
    if (c.report) {
        FILE *f = fopen(c.report, "w");
        if (!f || (json(f, in, c.output, &st, sec), fclose(f) != 0)) {
            tool_error(c.report, "cannot write the report");
            return TOOL_FAIL;
        }
    }
    FILE *f = strcmp(c.output, "-") == 0 ? stderr : stdout; /* stdout may be the .mcz */
    if (c.json) {
        json(f, in, c.output, &st, sec);
    } else if (!c.quiet) {
        char a[32], b[32];
        fprintf(f, "%s -> %s: %s of weights in %s (%.3fx), %zu tensors (planes %zu, zstd %zu, "
                   "sparse %zu, raw %zu, shared %zu, quantized %zu), %.2f s\n",
                in, c.output, tool_bytes(st.raw_bytes, a, sizeof a),
                tool_bytes(st.file_bytes, b, sizeof b),
                st.file_bytes ? (double)st.raw_bytes / (double)st.file_bytes : 0.0, st.tensors,
                st.count_by_encoding[MCZ_ENC_PLANES], st.count_by_encoding[MCZ_ENC_ZSTD],
                st.count_by_encoding[MCZ_ENC_SPARSE], st.count_by_encoding[MCZ_ENC_RAW],
                st.deduplicated, st.quantized, sec);
    }
    return TOOL_OK;
}
