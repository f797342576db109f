/* mcz-partition - split a model into parts that load in parallel and run in sequence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/model.h"
#include "mcz/outfile.h"
#include "mcz/pack.h"
#include "mcz/partition.h"
#include "tool.h"

static const char usage[] =
    "Usage: mcz-partition MODEL -o DIR/|OUT.mcz (--parts K | --max-bytes SIZE |\n"
    "                     --cut T[,T...]...) [--balance weights|nodes] [-j N] [-f] [-q]\n"
    "                     [--json | --report FILE.json]\n"
    "\n"
    "Split a model into K parts that load in parallel and, run one after another, compute\n"
    "what the whole model computes. DIR/ receives part-000.onnx, part-001.onnx, ... and\n"
    "manifest.json (the parts in an order in which they can run, each part's inputs and\n"
    "outputs). Weights (initializers, Constant nodes, and nodes that compute from weights\n"
    "only, like DequantizeLinear of a quantized weight) are copied into every part that\n"
    "reads them; nodes with subgraphs (If/Loop/Scan) stay whole. OUT.mcz instead receives\n"
    "one container: the whole model and each part's graph, every weight stored once, the\n"
    "weights of each part together (mcz-unpack gives each part back as ONNX).\n"
    "\n"
    "  -o, --output DIR/      the folder to write, or OUT.mcz: one container\n"
    "      --parts K          split into K parts along a topological order, balanced and cut\n"
    "                         where few and small activations cross\n"
    "      --max-bytes SIZE   the fewest parts that each hold at most SIZE of weights\n"
    "                         (suffixes K, M, G: powers of 1024)\n"
    "      --balance WHAT     weights (default): balance the parts' weight bytes;\n"
    "                         nodes: balance their node counts\n"
    "      --cut T[,T...]     split exactly at these activations: each --cut is one\n"
    "                         boundary (repeatable: --cut a --cut b on a chain gives 3\n"
    "                         parts); T,T,... are tensors crossing the same boundary (e.g.\n"
    "                         a U-Net's skips with its bottleneck). Refused when they do\n"
    "                         not separate the graph\n"
    "  -j, --threads N        OUT.mcz: encoding threads (default 0 = all cores); the output\n"
    "                         is the same\n"
    "  -f, --force            replace an existing folder of parts (or OUT.mcz)\n"
    "  -q, --quiet            print nothing but errors\n"
    "      --json             print the report as JSON on standard output\n"
    "      --report FILE      write the JSON report to FILE\n"
    "  -h, --help             this help\n"
    "      --version          print the version\n"
    "\n"
    "The report gives per part its nodes, weight bytes, inputs and outputs, and per cut the\n"
    "activations crossing it (bytes where the model declares concrete shapes), and whether\n"
    "the largest part holds at most 1.25 x total/K (and why not).\n"
    "\n"
    "Exit status: 0 success, 1 failure (bad input, I/O, an impossible split), 2 usage error.\n";

enum { OPT_PARTS = TOOL_OPT_USER, OPT_MAX_BYTES, OPT_BALANCE, OPT_CUT };

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

static void json_names(FILE *f, const char *const *names, size_t n)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", f);
        tool_json_str(f, names[i]);
    }
    fputc(']', f);
}

static void json_report(FILE *f, const char *model, const char *out, const mcz_partition *p)
{
    mcz_partition_summary s;
    mcz_partition_get_summary(p, &s);
    fputs("{\"file\": ", f);
    tool_json_str(f, model);
    fputs(", \"output\": ", f);
    tool_json_str(f, out);
    fprintf(f, ", \"partition_count\": %zu, \"balance\": \"%s\",\n \"total_weight_bytes\": %llu, "
            "\"copied_weight_bytes\": %llu, \"largest_part_bytes\": %llu, "
            "\"balance_ratio\": %.4f,\n \"total_nodes\": %zu, \"largest_part_nodes\": %zu, "
            "\"node_balance_ratio\": %.4f,\n \"bound\": 1.25, \"bound_met\": %s, "
            "\"why_not_balanced\": ",
            s.parts, s.balance == MCZ_BALANCE_NODES ? "nodes" : "weights",
            (unsigned long long)s.total_weight_bytes, (unsigned long long)s.copied_weight_bytes,
            (unsigned long long)s.largest_part_bytes, s.balance_ratio, s.total_nodes,
            s.largest_part_nodes, s.node_balance_ratio, s.bound_met ? "true" : "false");
    if (s.why_not_balanced)
        tool_json_str(f, s.why_not_balanced);
    else
        fputs("null", f);
    fputs(",\n \"largest_weight\": ", f);
    if (s.largest_weight) {
        fputs("{\"name\": ", f);
        tool_json_str(f, s.largest_weight);
        fprintf(f, ", \"bytes\": %llu}", (unsigned long long)s.largest_weight_bytes);
    } else {
        fputs("null", f);
    }
    fputs(",\n \"inputs\": ", f);
    json_names(f, s.inputs, s.n_inputs);
    fputs(", \"outputs\": ", f);
    json_names(f, s.outputs, s.n_outputs);
    fputs(",\n \"partitions\": [", f);
    for (size_t k = 0; k < s.parts; k++) {
        const mcz_part_info *pi = mcz_partition_part(p, k);
        fprintf(f, "%s\n  {\"index\": %zu, \"file\": \"part-%03zu.onnx\", \"node_count\": %zu, "
                "\"placed_node_count\": %zu, \"tensor_count\": %zu, \"weight_bytes\": %llu, "
                "\"inputs\": ", k ? "," : "", k, k, pi->nodes, pi->placed_nodes, pi->n_weights,
                (unsigned long long)pi->weight_bytes);
        json_names(f, pi->inputs, pi->n_inputs);
        fputs(", \"outputs\": ", f);
        json_names(f, pi->outputs, pi->n_outputs);
        fputc('}', f);
    }
    fputs("],\n \"cuts\": [", f);
    for (size_t j = 0; j + 1 < s.parts; j++) {
        const mcz_cut_info *c = mcz_partition_cut(p, j);
        fprintf(f, "%s\n  {\"after_part\": %zu, \"tensor_count\": %zu, \"known_bytes\": %llu, "
                "\"unknown_count\": %zu, \"crossing\": [", j ? "," : "", j, c->n_tensors,
                (unsigned long long)c->known_bytes, c->n_unknown);
        for (size_t i = 0; i < c->n_tensors; i++) {
            const mcz_cut_tensor *t = &c->tensors[i];
            fputs(i ? ", {\"name\": " : "{\"name\": ", f);
            tool_json_str(f, t->name);
            fprintf(f, ", \"dtype\": \"%s\", \"shape\": ", t->dtype ? mcz_dtype_name(t->dtype) : "?");
            if (t->rank < 0) {
                fputs("null", f);
            } else {
                fputc('[', f);
                for (int d = 0; d < t->rank; d++) {
                    if (d)
                        fputs(", ", f);
                    if (t->dims[d] >= 0)
                        fprintf(f, "%lld", (long long)t->dims[d]);
                    else if (t->dim_names[d])
                        tool_json_str(f, t->dim_names[d]);
                    else
                        fputs("null", f);
                }
                fputc(']', f);
            }
            if (t->bytes_known)
                fprintf(f, ", \"bytes\": %llu}", (unsigned long long)t->bytes);
            else
                fputs(", \"bytes\": null}", f);
        }
        fputs("]}", f);
    }
    fputs("]}\n", f);
}

static void text_report(const char *model, const char *out, const mcz_partition *p)
{
    mcz_partition_summary s;
    mcz_partition_get_summary(p, &s);
    char b1[32], b2[32];
    printf("%s -> %s: %zu parts, balanced by %s\n", model, out, s.parts,
           s.balance == MCZ_BALANCE_NODES ? "nodes" : "weights");
    printf("%-6s %7s %14s %7s  %s\n", "PART", "NODES", "WEIGHTS", "x AVG", "INPUTS -> OUTPUTS");
    double avg = s.parts ? (double)s.total_weight_bytes / (double)s.parts : 0;
    for (size_t k = 0; k < s.parts; k++) {
        const mcz_part_info *pi = mcz_partition_part(p, k);
        printf("%-6zu %7zu %14s %7.2f  %zu -> %zu", k, pi->nodes,
               tool_bytes(pi->weight_bytes, b1, sizeof b1),
               avg > 0 ? (double)pi->weight_bytes / avg : 0.0, pi->n_inputs, pi->n_outputs);
        printf("\n");
        if (k + 1 < s.parts) {
            const mcz_cut_info *c = mcz_partition_cut(p, k);
            printf("  cut %zu|%zu: %zu tensor%s", k, k + 1, c->n_tensors,
                   c->n_tensors == 1 ? "" : "s");
            if (c->n_tensors - c->n_unknown)
                printf(", %s of known size", tool_bytes(c->known_bytes, b1, sizeof b1));
            if (c->n_unknown)
                printf(", %zu of unknown size", c->n_unknown);
            printf(" (");
            for (size_t i = 0; i < c->n_tensors && i < 4; i++)
                printf("%s%s", i ? ", " : "", c->tensors[i].name);
            if (c->n_tensors > 4)
                printf(", ...");
            printf(")\n");
        }
    }
    printf("weights: %s in all, %s held by more than one part; largest part %.3f x total/K",
           tool_bytes(s.total_weight_bytes, b1, sizeof b1),
           tool_bytes(s.copied_weight_bytes, b2, sizeof b2), s.balance_ratio);
    if (s.balance == MCZ_BALANCE_NODES)
        printf("; nodes: largest part %.3f x total/K", s.node_balance_ratio);
    printf(" (bound 1.25: %s)\n", s.bound_met ? "met" : "not met");
    if (!s.bound_met)
        printf("  %s\n", s.why_not_balanced);
}

/* One container: the whole model's skeleton and every part's, the weights stored once. */
static mcz_status write_mcz(mcz_model *m, mcz_partition *p, const char *out,
                            const tool_common *c, mcz_error *err)
{
    size_t K = mcz_partition_count(p);
    mcz_pack_part *parts = calloc(K, sizeof *parts);
    uint8_t **skel = calloc(K, sizeof *skel);
    mcz_status s = parts && skel ? MCZ_OK : MCZ_ERR_NOMEM;
    if (s) {
        err->code = s;
        snprintf(err->msg, sizeof err->msg, "out of memory");
    }
    for (size_t k = 0; k < K && !s; k++) {
        const mcz_part_info *pi = mcz_partition_part(p, k);
        s = mcz_partition_serialize_part_skeleton(p, k, &skel[k], &parts[k].skeleton_len, err);
        parts[k].skeleton = skel[k];
        parts[k].n_weights = pi->n_weights;
        parts[k].weights = pi->weights;
        parts[k].n_inputs = pi->n_inputs;
        parts[k].inputs = pi->inputs;
        parts[k].n_outputs = pi->n_outputs;
        parts[k].outputs = pi->outputs;
        parts[k].nodes = pi->nodes;
    }
    mcz_pack_opts o = {.threads = c->threads, .force = c->force, .nparts = K, .parts = parts};
    if (!s)
        s = mcz_pack(m, out, &o, NULL, err);
    for (size_t k = 0; skel && k < K; k++)
        free(skel[k]);
    free(skel);
    free(parts);
    return s;
}

int main(int argc, char **argv)
{
    tool_init("mcz-partition");
    static const tool_option options[] = {
        TOOL_OPTION_OUTPUT,
        {OPT_PARTS, 0, "parts", TOOL_ARG_REQUIRED},
        {OPT_MAX_BYTES, 0, "max-bytes", TOOL_ARG_REQUIRED},
        {OPT_BALANCE, 0, "balance", TOOL_ARG_REQUIRED},
        {OPT_CUT, 0, "cut", TOOL_ARG_REQUIRED},
        TOOL_OPTION_THREADS, TOOL_OPTION_FORCE, TOOL_OPTION_QUIET, TOOL_OPTION_JSON,
        TOOL_OPTION_REPORT, TOOL_OPTION_HELP, TOOL_OPTION_VERSION, TOOL_OPTION_END};
    tool_common c = {0};
    mcz_partition_params prm;
    mcz_partition_default_params(&prm);
    prm.parts = 0;
    const char **cuts = NULL;
    size_t ncuts = 0;
    unsigned long long max_bytes = 0;
    tool_args args;
    const char *arg;
    int have_parts = 0, have_max = 0, opt;
    long v;
    tool_args_init(&args, argc, argv, options);
    while ((opt = tool_next_option(&args, &arg)) != -1) {
        if (tool_common_opt(&c, opt, arg, usage))
            continue;
        switch (opt) {
        case OPT_PARTS:
            if (tool_parse_int(arg, 1, 1000000, &v) != 0)
                return tool_usage_error("invalid part count '%s' (1 or more)", arg);
            prm.parts = (size_t)v;
            have_parts = 1;
            break;
        case OPT_MAX_BYTES:
            if (tool_parse_size(arg, &max_bytes) != 0 || max_bytes == 0)
                return tool_usage_error("invalid size '%s' (e.g. 4M, 1.5G)", arg);
            have_max = 1;
            break;
        case OPT_BALANCE:
            if (strcmp(arg, "weights") == 0)
                prm.balance = MCZ_BALANCE_WEIGHTS;
            else if (strcmp(arg, "nodes") == 0)
                prm.balance = MCZ_BALANCE_NODES;
            else
                return tool_usage_error("invalid --balance '%s' (weights or nodes)", arg);
            break;
        case OPT_CUT: {
            const char **n = realloc(cuts, (ncuts + 1) * sizeof *n);
            if (!n) {
                tool_error(NULL, "out of memory");
                return TOOL_FAIL;
            }
            cuts = n;
            cuts[ncuts++] = arg;
            break;
        }
        }
    }
    if (args.noperands == 0)
        return tool_usage_error("no input model");
    if (args.noperands != 1)
        return tool_usage_error("one input model at a time");
    if (!c.output)
        return tool_usage_error("no output: use -o DIR/ (or -o OUT.mcz)");
    if (have_parts + have_max + (ncuts > 0) != 1)
        return tool_usage_error("give exactly one of --parts K, --max-bytes SIZE, --cut TENSOR");
    if (c.json && c.report)
        return tool_usage_error("--json and --report: choose one");
    if (strcmp(c.output, "-") == 0)
        return tool_usage_error("a partition is several files: -o - is not possible; use -o DIR/");
    if (has_suffix(c.output, ".onnx"))
        return tool_usage_error("a partition is several models: use -o DIR/ (a folder) or "
                                "-o OUT.mcz, not %s", c.output);
    int to_mcz = has_suffix(c.output, ".mcz");
    prm.max_bytes = max_bytes;
    prm.cuts = cuts;
    prm.ncuts = ncuts;

    const char *path = args.operands[0];
    mcz_error err = {0};
    int rc = TOOL_OK;
    mcz_partition *p = NULL;
    mcz_model *m = tool_read_model(path, &err);
    if (!m) {
        rc = tool_fail(&err);
        goto out;
    }
    if (!(p = mcz_partition_plan(m, &prm, &err))) {
        rc = tool_fail(&err);
        goto out;
    }
    /* the report file is opened first: an existing one without -f stops before any work */
    mcz_outfile *rep = NULL;
    if (c.report && !(rep = mcz_outfile_open(c.report, c.force, &err))) {
        rc = tool_fail(&err);
        goto out;
    }
    if ((to_mcz ? write_mcz(m, p, c.output, &c, &err)
                : mcz_partition_write_folder(p, c.output, c.force, &err)) != MCZ_OK) {
        mcz_outfile_abort(rep);
        rc = tool_fail(&err);
        goto out;
    }
    if (rep) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        mcz_status st = MCZ_ERR_NOMEM;
        if (f) {
            json_report(f, path, c.output, p);
            st = fclose(f) == 0 ? MCZ_OK : MCZ_ERR_NOMEM;
        }
        if (st == MCZ_OK)
            st = mcz_outfile_write(rep, buf, len, &err);
        else
            snprintf(err.msg, sizeof err.msg, "%s: out of memory", c.report);
        if (st == MCZ_OK)
            st = mcz_outfile_commit(rep, &err);
        else
            mcz_outfile_abort(rep);
        if (st != MCZ_OK)
            rc = tool_fail(&err);
        free(buf);
    }
    if (c.json)
        json_report(stdout, path, c.output, p);
    else if (!c.quiet)
        text_report(path, c.output, p);
out:
    mcz_partition_free(p);
    mcz_model_free(m);
    free(cuts);
    return rc;
}
