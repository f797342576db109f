/* mcz-prune - zero the least important weights: unstructured, N:M or whole channels. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/outfile.h"
#include "mcz/prune.h"
#include "progress.h"
#include "tool.h"

static const char usage[] =
    "Usage: mcz-prune MODEL -o OUTPUT --sparsity F [--pattern unstructured|N:M|channel]\n"
    "                 [--scope tensor|global] [--normalize] [--embeddings] [--min-elements N]\n"
    "                 [--exclude PATTERN]...\n"
    "\n"
    "Zero the smallest-magnitude weights of Conv, ConvTranspose, Gemm, MatMul and LSTM/GRU/RNN\n"
    "(wherever they live: initializers, Constant nodes, subgraphs, external data; also behind\n"
    "Transpose, Slice, Split, Reshape... on the way to their op). Shapes and types are kept.\n"
    "\n"
    "  -o, --output PATH    .onnx (zeros in place) or .mcz; '-' for standard output\n"
    "      --sparsity F     fraction of zeros wanted, 0 <= F < 1 (existing zeros count)\n"
    "      --pattern P      unstructured (default): the smallest magnitudes anywhere;\n"
    "                       N:M (e.g. 2:4): N smallest of every M consecutive weights along\n"
    "                       the reduction axis (--sparsity is then N/M);\n"
    "                       channel: whole output channels with the smallest L2 norm\n"
    "      --scope S        tensor (default): each weight gets F;\n"
    "                       global: one threshold over all prunable weights (unstructured)\n"
    "      --normalize      global scope: compare |w| / RMS of its weight\n"
    "      --embeddings     also prune embeddings (the tables a Gather reads rows of, a head\n"
    "                       tied to one); left as they are by default\n"
    "      --min-elements N leave weights with fewer than N elements as they are\n"
    "      --exclude PAT    leave weights whose name (or consuming node's name) matches the\n"
    "                       glob PAT; repeatable; a PAT matching nothing is an error\n"
    "      --external-data  ONNX output: every weight in OUTPUT.data, whatever the size\n"
    "  -j, --threads N      threads (0 = all cores, the default)\n"
    "      --json           the report as JSON on standard output (instead of the table)\n"
    "      --report FILE    also write the JSON report to FILE\n"
    "  -f, --force          overwrite existing outputs\n"
    "  -q, --quiet          print nothing but errors\n"
    "  -h, --help           this help\n"
    "      --version        print the version\n"
    "\n"
    "Exit status: 0 success, 1 failure (bad input, I/O), 2 usage error.\n";

enum { OPT_SPARSITY = TOOL_OPT_USER, OPT_PATTERN, OPT_SCOPE, OPT_NORMALIZE, OPT_EMBEDDINGS };

static double frac(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 0.0;
}

/* The values of "sparsity_before" (its key already written), "sparsity", "threshold" and
 * "rel_l2", for one weight or the totals. */
static void json_sparsity(FILE *f, uint64_t zeros_before, uint64_t zeros, uint64_t count,
                          double threshold, double rel_l2)
{
    tool_json_num(f, frac(zeros_before, count), 9);
    fputs(", \"sparsity\": ", f);
    tool_json_num(f, frac(zeros, count), 9);
    fputs(", \"threshold\": ", f);
    tool_json_num(f, threshold, 9);
    fputs(", \"rel_l2\": ", f);
    tool_json_num(f, rel_l2, 9);
}

static void print_json(FILE *f, const char *in, const char *out, mcz_model *m,
                       const mcz_prune_params *p, const tool_common *c,
                       const mcz_prune_report *r)
{
    char pat[32];
    fputs("{\"tool\": \"mcz-prune\", \"input\": ", f);
    tool_json_str(f, in);
    fputs(", \"output\": ", f);
    tool_json_str(f, out);
    fprintf(f, ",\n \"pattern\": \"%s\", \"scope\": \"%s\", \"sparsity\": ",
            mcz_prune_pattern_str(p, pat, sizeof pat),
            p->scope == MCZ_PRUNE_SCOPE_GLOBAL ? "global" : "tensor");
    tool_json_num(f, p->pattern == MCZ_PRUNE_NM ? (double)p->nm_n / p->nm_m : p->sparsity, 9);
    fprintf(f, ", \"normalize\": %s, \"embeddings\": %s, \"min_elements\": %llu, "
            "\"exclude\": [", p->normalize ? "true" : "false", p->embeddings ? "true" : "false",
            (unsigned long long)p->min_elements);
    for (size_t e = 0; e < c->nexclude; e++) {
        fputs(e ? ", " : "", f);
        tool_json_str(f, c->exclude[e]);
    }
    fputs("],\n \"weights\": [", f);
    for (size_t i = 0; i < r->n; i++) {
        const mcz_prune_result *w = &r->w[i];
        const mcz_weight *mw = mcz_model_weight(m, w->weight);
        fprintf(f, "%s\n  {\"name\": ", i ? "," : "");
        tool_json_str(f, w->name);
        fputs(", \"op\": ", f);
        tool_json_str(f, w->op_type);
        fprintf(f, ", \"dtype\": \"%s\", \"shape\": [", mcz_dtype_name(mw->dtype));
        for (int d = 0; d < mw->rank; d++)
            fprintf(f, "%s%lld", d ? ", " : "", (long long)mw->dims[d]);
        fprintf(f, "], \"elements\": %llu, \"pruned\": %s", (unsigned long long)w->count,
                w->skipped ? "false" : "true");
        if (w->skipped) {
            fputs(", \"skipped\": ", f);
            tool_json_str(f, w->skipped);
            fputs("}", f);
            continue;
        }
        fprintf(f, ", \"axis\": %d, \"zeros_before\": %llu, \"zeros\": %llu, \"target\": %llu, "
                   "\"sparsity_before\": ",
                w->axis, (unsigned long long)w->zeros_before, (unsigned long long)w->zeros_after,
                (unsigned long long)w->target);
        json_sparsity(f, w->zeros_before, w->zeros_after, w->count, w->threshold, w->rel_l2);
        if (p->pattern == MCZ_PRUNE_CHANNEL)
            fprintf(f, ", \"channels\": %llu, \"channels_zeroed\": %llu",
                    (unsigned long long)w->channels, (unsigned long long)w->channels_zeroed);
        fputs("}", f);
    }
    fprintf(f, "\n ],\n \"totals\": {\"weights\": %zu, \"skipped\": %zu, \"elements\": %llu, "
               "\"zeros_before\": %llu, \"zeros\": %llu, \"target\": %llu, \"sparsity_before\": ",
            r->pruned, r->n - r->pruned, (unsigned long long)r->count,
            (unsigned long long)r->zeros_before, (unsigned long long)r->zeros_after,
            (unsigned long long)r->target);
    json_sparsity(f, r->zeros_before, r->zeros_after, r->count, r->threshold, r->rel_l2);
    fprintf(f, ", \"bytes\": %llu, \"seconds\": ", (unsigned long long)r->bytes);
    tool_json_num(f, r->seconds, 9);
    fputs("}}\n", f);
}

static void print_table(FILE *f, mcz_model *m, const mcz_prune_params *p,
                        const mcz_prune_report *r)
{
    fprintf(f, "%-44s %-13s %-20s %10s %17s %11s %8s\n", "WEIGHT", "OP", "SHAPE", "ELEMENTS",
            "SPARSITY", p->pattern == MCZ_PRUNE_CHANNEL ? "NORM CUT" : "THRESHOLD", "REL L2");
    size_t skipped = 0;
    for (size_t i = 0; i < r->n; i++) {
        const mcz_prune_result *w = &r->w[i];
        if (w->skipped) {
            skipped++;
            continue;
        }
        char shp[128], sp[40];
        const mcz_weight *mw = mcz_model_weight(m, w->weight);
        tool_shape_str(mw->rank, mw->dims, shp, sizeof shp);
        snprintf(sp, sizeof sp, "%5.1f%% -> %5.1f%%", 100 * frac(w->zeros_before, w->count),
                 100 * frac(w->zeros_after, w->count));
        fprintf(f, "%-44s %-13s %-20s %10llu %17s %11.4g %8.4f\n", w->name, w->op_type, shp,
                (unsigned long long)w->count, sp, w->threshold, w->rel_l2);
    }
    if (skipped) {
        fprintf(f, "left as they are:\n");
        for (size_t i = 0; i < r->n; i++)
            if (r->w[i].skipped)
                fprintf(f, "  %-44s %-13s %s\n", r->w[i].name, r->w[i].op_type, r->w[i].skipped);
    }
    char b[32];
    fprintf(f, "total: %zu weights pruned, %zu left, %llu elements (%s): sparsity %.2f%% -> %.2f%%, "
               "rel L2 %.4f",
            r->pruned, skipped, (unsigned long long)r->count, tool_bytes(r->bytes, b, sizeof b),
            100 * frac(r->zeros_before, r->count), 100 * frac(r->zeros_after, r->count),
            r->rel_l2);
    if (p->scope == MCZ_PRUNE_SCOPE_GLOBAL)
        fprintf(f, ", global threshold %.4g%s", r->threshold, p->normalize ? " (x RMS)" : "");
    if (r->seconds > 0)
        fprintf(f, ", %.3f s (%.0f MB/s)", r->seconds, (double)r->bytes / 1e6 / r->seconds);
    fputc('\n', f);
}

/* The pass as tool_run_pass runs it. */
typedef struct prune_pass {
    mcz_prune_params p;
    const tool_common *c;
    unsigned char *was_external; /* per weight, before pruning */
    mcz_prune_report *rep;
} prune_pass;

static mcz_status pass_run(void *ctx, mcz_model *m, mcz_progress_fn fn, void *fctx,
                           mcz_error *err)
{
    prune_pass *x = ctx;
    /* weights stored as external data: a pruned one is written back as external data too
     * (replacing a weight's values makes it inline) */
    size_t nw = mcz_model_weight_count(m);
    if (!(x->was_external = calloc(nw ? nw : 1, 1))) {
        err->code = MCZ_ERR_NOMEM;
        snprintf(err->msg, sizeof err->msg, "%s: out of memory", mcz_model_path(m));
        return MCZ_ERR_NOMEM;
    }
    for (size_t i = 0; i < nw; i++)
        x->was_external[i] = mcz_model_weight(m, i)->external;
    x->p.progress = fn;
    x->p.progress_ctx = fctx;
    return mcz_prune_model(m, &x->p, &x->rep, err);
}

static int pass_changed(void *ctx)
{
    const prune_pass *x = ctx;
    for (size_t i = 0; i < x->rep->n; i++)
        if (x->rep->w[i].changed)
            return 1;
    return 0;
}

static int pass_external(void *ctx, int any_external)
{
    const prune_pass *x = ctx;
    (void)any_external;
    for (size_t i = 0; i < x->rep->n; i++)
        if (x->rep->w[i].changed && x->was_external[x->rep->w[i].weight])
            return 1;
    return 0;
}

static void pass_json(void *ctx, FILE *f, const char *in, const char *out, mcz_model *m)
{
    const prune_pass *x = ctx;
    print_json(f, in, out, m, &x->p, x->c, x->rep);
}

static void pass_table(void *ctx, FILE *f, mcz_model *m)
{
    const prune_pass *x = ctx;
    print_table(f, m, &x->p, x->rep);
}

int main(int argc, char **argv)
{
    tool_init("mcz-prune");
    static const tool_option options[] = {
        TOOL_OPTION_OUTPUT,
        {OPT_SPARSITY, 0, "sparsity", TOOL_ARG_REQUIRED},
        {OPT_PATTERN, 0, "pattern", TOOL_ARG_REQUIRED},
        {OPT_SCOPE, 0, "scope", TOOL_ARG_REQUIRED},
        {OPT_NORMALIZE, 0, "normalize", TOOL_ARG_NONE},
        {OPT_EMBEDDINGS, 0, "embeddings", TOOL_ARG_NONE},
        TOOL_OPTIONS_WEIGHT_PASS};
    tool_common c = {0};
    mcz_prune_params p = mcz_prune_default_params();
    mcz_error err = {0};
    tool_args args;
    const char *arg;
    int have_sparsity = 0, opt;
    tool_args_init(&args, argc, argv, options);
    while ((opt = tool_next_option(&args, &arg)) != -1) {
        if (tool_common_opt(&c, opt, arg, usage))
            continue;
        switch (opt) {
        case OPT_SPARSITY: {
            char *end;
            double v = strtod(arg, &end);
            if (end == arg || *end || !(v >= 0 && v < 1))
                return tool_usage_error("invalid sparsity '%s' (0 <= F < 1)", arg);
            p.sparsity = v;
            have_sparsity = 1;
            break;
        }
        case OPT_PATTERN:
            if (mcz_prune_parse_pattern(arg, &p, &err) != MCZ_OK)
                return tool_usage_error("%s", err.msg);
            break;
        case OPT_SCOPE:
            if (strcmp(arg, "tensor") == 0)
                p.scope = MCZ_PRUNE_SCOPE_TENSOR;
            else if (strcmp(arg, "global") == 0)
                p.scope = MCZ_PRUNE_SCOPE_GLOBAL;
            else
                return tool_usage_error("invalid scope '%s' (tensor or global)", arg);
            break;
        case OPT_NORMALIZE:
            p.normalize = true;
            break;
        case OPT_EMBEDDINGS:
            p.embeddings = true;
            break;
        }
    }
    int io = tool_want_io(&args, &c, "model", "PATH");
    if (io != TOOL_OK)
        return io;
    if (c.have_min_elements)
        p.min_elements = c.min_elements;
    if (p.pattern == MCZ_PRUNE_NM) {
        double implied = (double)p.nm_n / p.nm_m;
        if (have_sparsity && fabs(p.sparsity - implied) > 1e-9)
            return tool_usage_error("--pattern %u:%u implies --sparsity %g, not %g", p.nm_n,
                                    p.nm_m, implied, p.sparsity);
        p.sparsity = implied;
    } else if (!have_sparsity) {
        return tool_usage_error("--sparsity F is required");
    }
    if (p.scope == MCZ_PRUNE_SCOPE_GLOBAL && p.pattern != MCZ_PRUNE_UNSTRUCTURED)
        return tool_usage_error("--scope global applies to --pattern unstructured only");
    if (p.normalize && p.scope != MCZ_PRUNE_SCOPE_GLOBAL)
        return tool_usage_error("--normalize applies to --scope global only");
    int to_stdout = strcmp(c.output, "-") == 0;
    if (to_stdout && c.json)
        return tool_usage_error("--json and -o - both use standard output: use --report FILE");
    p.exclude = c.exclude;
    p.nexclude = c.nexclude;
    p.threads = c.threads;

    prune_pass x = {.p = p, .c = &c};
    tool_pass ps = {.verb = "prune", .min_elements = p.min_elements, .ctx = &x, .run = pass_run,
                    .usage_errors = TOOL_STATUS_BIT(MCZ_ERR_NOT_FOUND) |
                                    TOOL_STATUS_BIT(MCZ_ERR_ARG),
                    .changed = pass_changed, .external = pass_external, .json = pass_json,
                    .table = pass_table};
    int rc = tool_run_pass(&c, args.operands[0], &ps);
    mcz_prune_report_free(x.rep);
    free(x.was_external);
    free(c.exclude);
    return rc;
}
