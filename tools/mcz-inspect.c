/* mcz-inspect - what is in a model or an .mcz artifact. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/model.h"
#include "mcz/qdq.h"
#include "mcz/roles.h"
#include "inspect-html.h"
#include "inspect-mcz.h"
#include "tool.h"

static const char usage[] =
    "Usage: mcz-inspect FILE [--tensors] [--tensor NAME] [--verify] [--json]\n"
    "       mcz-inspect FILE --html REPORT [-f]\n"
    "\n"
    "Describe an ONNX model or an .mcz container (recognised by content).\n"
    "\n"
    "An .mcz summary also gives the quantized tensors by scheme, the encodings (raw, zstd,\n"
    "planes, sparse) and the partitions: per part its tensors, weight bytes, inputs, outputs.\n"
    "\n"
    "  --tensors        one row per weight: name, type, shape, location, bytes (.mcz:\n"
    "                   encoding, quantization scheme, part)\n"
    "  --tensor NAME    details of one weight (.mcz: encoding, sparsity, quantization with\n"
    "                   its scale and zero-point tensors, stats and histogram; quantized:\n"
    "                   of the dequantized values and of the codes)\n"
    "  --verify         decode every payload and check every checksum (.mcz)\n"
    "      --json       machine-readable output\n"
    "      --html REPORT  write a self-contained HTML report of FILE (summary, operators,\n"
    "                   one row per weight: bytes before/after, encoding, sparsity, SQNR;\n"
    "                   the partitions); '-' for standard output\n"
    "  -f, --force      overwrite an existing REPORT\n"
    "  -q, --quiet      print nothing; the exit status tells\n"
    "  -h, --help       this help\n"
    "      --version    print the version\n"
    "\n"
    "Exit status: 0 success, 1 failure (bad input, I/O), 2 usage error.\n";

enum { OPT_TENSORS = TOOL_OPT_USER, OPT_TENSOR, OPT_VERIFY, OPT_HTML };

/* ---- ONNX summary --------------------------------------------------------------------- */

typedef struct op_count {
    char name[64];
    size_t n;
} op_count;

typedef struct hist {
    op_count *ops;
    size_t n, cap;
} hist;

static void count_op(void *ctx, const char *op, const char *domain, int depth)
{
    (void)depth;
    hist *h = ctx;
    char key[64];
    snprintf(key, sizeof key, "%s%s%s", *domain && strcmp(domain, "ai.onnx") ? domain : "",
             *domain && strcmp(domain, "ai.onnx") ? "." : "", op);
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->ops[i].name, key) == 0) {
            h->ops[i].n++;
            return;
        }
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 32;
        op_count *n = realloc(h->ops, nc * sizeof *n);
        if (!n)
            return;
        h->ops = n;
        h->cap = nc;
    }
    snprintf(h->ops[h->n].name, sizeof h->ops[h->n].name, "%s", key);
    h->ops[h->n++].n = 1;
}

static int by_count(const void *a, const void *b)
{
    const op_count *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->name, y->name);
}

static const char *location_of(const mcz_weight *w)
{
    if (w->kind == MCZ_WEIGHT_CONSTANT)
        return w->depth ? "subgraph-constant" : "constant";
    return w->depth ? "subgraph-initializer" : "initializer";
}

static void shape_str(const mcz_weight *w, char *buf, size_t cap)
{
    size_t p = 0;
    p += (size_t)snprintf(buf + p, cap - p, "[");
    for (int d = 0; d < w->rank && p < cap; d++)
        p += (size_t)snprintf(buf + p, cap - p, "%s%lld", d ? "," : "", (long long)w->dims[d]);
    if (p < cap)
        snprintf(buf + p, cap - p, "]");
}

typedef struct dtype_total {
    uint64_t count, params, bytes;
} dtype_total;

static int inspect_onnx(const char *path, const tool_common *c, int tensors, const char *one)
{
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx(path, &err);
    if (!m)
        return tool_fail(&err);
    if (c->quiet) {
        mcz_model_free(m);
        return TOOL_OK;
    }
    mcz_model_info info;
    mcz_model_get_info(m, &info);
    size_t nw = mcz_model_weight_count(m);
    dtype_total per[32] = {{0}};
    uint64_t loc[5] = {0}, loc_bytes[5] = {0}, total_bytes = 0, total_params = 0;
    for (size_t i = 0; i < nw; i++) {
        const mcz_weight *w = mcz_model_weight(m, i);
        int dt = w->dtype >= 0 && w->dtype < 32 ? w->dtype : 0;
        per[dt].count++;
        per[dt].params += w->count;
        per[dt].bytes += w->nbytes;
        int l = (w->kind == MCZ_WEIGHT_CONSTANT) + 2 * (w->depth > 0);
        loc[l]++;
        loc_bytes[l] += w->nbytes;
        if (w->external) {
            loc[4]++;
            loc_bytes[4] += w->nbytes;
        }
        total_bytes += w->nbytes;
        total_params += w->count;
    }
    hist h = {0};
    mcz_model_for_each_node(m, count_op, &h);
    qsort(h.ops, h.n, sizeof *h.ops, by_count);
    static const char *const locname[5] = {"initializer", "constant", "subgraph-initializer",
                                           "subgraph-constant", "external"};
    int rc = TOOL_OK;
    if (one) {
        long i = mcz_model_find_weight(m, one);
        if (i < 0) {
            tool_error(path, "no tensor '%s'", one);
            rc = TOOL_FAIL;
        } else {
            const mcz_weight *w = mcz_model_weight(m, (size_t)i);
            char shp[256];
            shape_str(w, shp, sizeof shp);
            if (c->json) {
                printf("{\"name\": ");
                tool_json_str(stdout, w->name);
                printf(", \"dtype\": \"%s\", \"shape\": \"%s\", \"location\": \"%s\", "
                       "\"external\": %s, \"field\": \"%s\", \"bytes\": %llu}\n",
                       mcz_dtype_name(w->dtype), shp, location_of(w), w->external ? "true" : "false",
                       w->field, (unsigned long long)w->nbytes);
            } else {
                printf("name:      %s\ntype:      %s\nshape:     %s\nelements:  %llu\n"
                       "location:  %s%s\ngraph:     %s\nfield:     %s\nbytes:     %llu\n",
                       w->name, mcz_dtype_name(w->dtype), shp, (unsigned long long)w->count,
                       location_of(w), w->external ? " (external data)" : "",
                       *w->graph ? w->graph : "(main)", w->field, (unsigned long long)w->nbytes);
            }
        }
    } else if (c->json) {
        printf("{\"file\": ");
        tool_json_str(stdout, path);
        printf(", \"format\": \"onnx\", \"ir_version\": %lld, \"producer\": ",
               (long long)info.ir_version);
        tool_json_str(stdout, info.producer_name);
        printf(", \"producer_version\": ");
        tool_json_str(stdout, info.producer_version);
        printf(",\n \"opsets\": {");
        for (size_t i = 0; i < info.opset_count; i++) {
            const char *d;
            int64_t v;
            mcz_model_opset(m, i, &d, &v);
            printf("%s", i ? ", " : "");
            tool_json_str(stdout, *d ? d : "ai.onnx");
            printf(": %lld", (long long)v);
        }
        printf("},\n \"nodes\": %zu, \"main_graph_nodes\": %zu, \"subgraphs\": %zu, "
               "\"inputs\": %zu, \"outputs\": %zu,\n \"ops\": {",
               info.node_count, info.main_node_count, info.subgraph_count, info.input_count,
               info.output_count);
        for (size_t i = 0; i < h.n; i++) {
            printf("%s", i ? ", " : "");
            tool_json_str(stdout, h.ops[i].name);
            printf(": %zu", h.ops[i].n);
        }
        printf("},\n \"weights\": %zu, \"parameters\": %llu, \"weight_bytes\": %llu,\n"
               " \"by_type\": {", nw, (unsigned long long)total_params,
               (unsigned long long)total_bytes);
        int first = 1;
        for (int d = 0; d < 32; d++) {
            if (!per[d].count)
                continue;
            printf("%s\"%s\": {\"weights\": %llu, \"parameters\": %llu, \"bytes\": %llu}",
                   first ? "" : ", ", mcz_dtype_name(d), (unsigned long long)per[d].count,
                   (unsigned long long)per[d].params, (unsigned long long)per[d].bytes);
            first = 0;
        }
        printf("},\n \"by_location\": {");
        for (int l = 0; l < 5; l++)
            printf("%s\"%s\": {\"weights\": %llu, \"bytes\": %llu}", l ? ", " : "", locname[l],
                   (unsigned long long)loc[l], (unsigned long long)loc_bytes[l]);
        printf("}");
        if (tensors) {
            printf(",\n \"tensors\": [");
            for (size_t i = 0; i < nw; i++) {
                const mcz_weight *w = mcz_model_weight(m, i);
                char shp[256];
                shape_str(w, shp, sizeof shp);
                printf("%s\n  {\"name\": ", i ? "," : "");
                tool_json_str(stdout, w->name);
                printf(", \"dtype\": \"%s\", \"shape\": [", mcz_dtype_name(w->dtype));
                for (int d = 0; d < w->rank; d++)
                    printf("%s%lld", d ? ", " : "", (long long)w->dims[d]);
                printf("], \"location\": \"%s\", \"external\": %s, \"graph\": ", location_of(w),
                       w->external ? "true" : "false");
                tool_json_str(stdout, w->graph);
                printf(", \"field\": \"%s\", \"bytes\": %llu}", w->field,
                       (unsigned long long)w->nbytes);
            }
            printf("\n ]");
        }
        printf("}\n");
    } else if (tensors) {
        mcz_weight_role *roles = calloc(nw ? nw : 1, sizeof *roles);
        if (!roles || mcz_model_weight_roles(m, roles, &err) != MCZ_OK) {
            free(roles);
            free(h.ops);
            mcz_model_free(m);
            return tool_fail(&err);
        }
        mcz_qdq_weight *qw = NULL;
        size_t nq = 0;
        if (mcz_model_qdq_weights(m, &qw, &nq, &err) != MCZ_OK)
            nq = 0;
        printf("%-48s %-9s %-22s %-21s %-16s %12s\n", "NAME", "TYPE", "SHAPE", "LOCATION",
               "WEIGHT OF", "BYTES");
        for (size_t i = 0; i < nw; i++) {
            const mcz_weight *w = mcz_model_weight(m, i);
            char shp[256], role[48] = "-";
            shape_str(w, shp, sizeof shp);
            if (roles[i].op != MCZ_ROLE_NONE)
                snprintf(role, sizeof role, "%s(axis %d)", mcz_role_name(roles[i].op),
                         roles[i].channel_axis);
            for (size_t k = 0; k < nq; k++) /* quantized codes: show their scheme */
                if (qw[k].codes == i) {
                    if (qw[k].block_size)
                        snprintf(role, sizeof role, "q%d block%u(axis %d)", qw[k].bits,
                                 qw[k].block_size, qw[k].axis);
                    else if (qw[k].axis >= 0)
                        snprintf(role, sizeof role, "q%d channel(axis %d)", qw[k].bits, qw[k].axis);
                    else
                        snprintf(role, sizeof role, "q%d tensor", qw[k].bits);
                }
            printf("%-48s %-9s %-22s %-21s %-16s %12llu%s\n", w->name, mcz_dtype_name(w->dtype),
                   shp, location_of(w), role, (unsigned long long)w->nbytes,
                   w->external ? " ext" : "");
        }
        free(roles);
        free(qw);
    } else {
        char b[32];
        printf("file:        %s\nformat:      ONNX (IR version %lld)\n", path,
               (long long)info.ir_version);
        printf("producer:    %s%s%s\n", *info.producer_name ? info.producer_name : "(none)",
               *info.producer_version ? " " : "", info.producer_version);
        printf("opsets:     ");
        for (size_t i = 0; i < info.opset_count; i++) {
            const char *d;
            int64_t v;
            mcz_model_opset(m, i, &d, &v);
            printf(" %s %lld%s", *d ? d : "ai.onnx", (long long)v,
                   i + 1 < info.opset_count ? "," : "");
        }
        printf("\nnodes:       %zu (%zu in the main graph, %zu subgraphs)\n", info.node_count,
               info.main_node_count, info.subgraph_count);
        printf("inputs:      %zu, outputs: %zu\n", info.input_count, info.output_count);
        printf("ops:        ");
        for (size_t i = 0; i < h.n && i < 12; i++)
            printf(" %s x%zu%s", h.ops[i].name, h.ops[i].n, i + 1 < h.n && i < 11 ? "," : "");
        if (h.n > 12)
            printf(" (+%zu more)", h.n - 12);
        printf("\nweights:     %zu tensors, %llu parameters, %s\n", nw,
               (unsigned long long)total_params, tool_bytes(total_bytes, b, sizeof b));
        for (int d = 0; d < 32; d++)
            if (per[d].count)
                printf("  %-10s %6llu tensors %14llu parameters %14s\n", mcz_dtype_name(d),
                       (unsigned long long)per[d].count, (unsigned long long)per[d].params,
                       tool_bytes(per[d].bytes, b, sizeof b));
        printf("where:\n");
        for (int l = 0; l < 5; l++)
            if (loc[l])
                printf("  %-21s %6llu tensors %14s\n", locname[l], (unsigned long long)loc[l],
                       tool_bytes(loc_bytes[l], b, sizeof b));
    }
    free(h.ops);
    mcz_model_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    tool_init("mcz-inspect");
    static const struct option longopts[] = {
        TOOL_COMMON_LONGOPTS,
        {"tensors", no_argument, NULL, OPT_TENSORS},
        {"tensor", required_argument, NULL, OPT_TENSOR},
        {"verify", no_argument, NULL, OPT_VERIFY},
        {"html", required_argument, NULL, OPT_HTML},
        {NULL, 0, NULL, 0}};
    tool_common c = {0};
    int tensors = 0, verify = 0, opt;
    const char *one = NULL, *html = NULL;
    while ((opt = getopt_long(argc, argv, TOOL_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (tool_common_opt(&c, opt, optarg, usage))
            continue;
        switch (opt) {
        case OPT_TENSORS: tensors = 1; break;
        case OPT_TENSOR: one = optarg; break;
        case OPT_VERIFY: verify = 1; break;
        case OPT_HTML: html = optarg; break;
        default: return tool_usage_error("invalid option");
        }
    }
    if (optind + 1 != argc)
        return tool_usage_error(optind >= argc ? "no input file" : "one input file at a time");
    const char *path = argv[optind];
    if (html) {
        if (tensors || one || verify || c.json)
            return tool_usage_error("--html goes alone (not with --tensors, --tensor, --verify, "
                                    "--json)");
        return inspect_html(path, html, c.force);
    }
    if (tool_is_mcz_file(path))
        return inspect_mcz(path, tensors, one, verify, c.json);
    if (verify && !c.quiet)
        printf("verify: ONNX has no checksums; the model parses and every weight fits its shape\n");
    return inspect_onnx(path, &c, tensors, one);
}
