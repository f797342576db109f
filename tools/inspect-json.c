/* inspect-json.c - mcz-inspect --json over the report (inspect-report.h). One vocabulary
 * whatever the input (docs/inspect.md): a count is NAME_count, a list is the plural NAME, a
 * size in bytes is raw_bytes (decoded) / stored_bytes (in the file); a key an input kind has
 * no value for is null, not left out. */
#include <math.h>
#include <stdio.h>

#include "inspect-text.h"
#include "tool.h"

static void str_or_null(const char *s)
{
    if (s)
        tool_json_str(stdout, s);
    else
        printf("null");
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

/* ---- one tensor ----------------------------------------------------------------------------- */

static void quant_json(const inspect_tensor *t)
{
    if (!t->quantized) {
        printf("null");
        return;
    }
    const inspect_quant *q = &t->quant;
    printf("{\"dtype\": \"%s\", \"bits\": %d, \"granularity\": \"%s\", \"axis\": %d, "
           "\"block_size\": %u, \"scheme\": ", mcz_dtype_name(q->dtype), t->bits,
           q->granularity, q->axis, q->block_size);
    tool_json_str(stdout, t->scheme);
    printf(", \"scale\": ");
    tool_json_str(stdout, q->scale);
    printf(", \"zero_point\": ");
    str_or_null(q->zero_point);
    printf("}");
}

/* The keys every tensor has, in the list and alone (without the braces). */
static void tensor_fields(const inspect_tensor *t, size_t i)
{
    printf("\"index\": %zu, \"name\": ", i);
    tool_json_str(stdout, t->name);
    printf(", \"dtype\": \"%s\", \"shape\": [", mcz_dtype_name(t->dtype));
    for (int d = 0; d < t->rank; d++)
        printf("%s%lld", d ? ", " : "", (long long)t->dims[d]);
    printf("], \"element_count\": %llu, \"raw_bytes\": %llu, \"stored_bytes\": %llu, "
           "\"ratio\": %.4f, \"location\": ", (unsigned long long)t->count,
           (unsigned long long)t->raw_bytes, (unsigned long long)t->stored_bytes,
           inspect_ratio(t->raw_bytes, t->stored_bytes));
    str_or_null(t->location >= 0 ? inspect_location_names[t->location] : NULL);
    printf(", \"external\": %s, \"graph\": ", t->external ? "true" : "false");
    str_or_null(t->graph);
    printf(", \"field\": ");
    str_or_null(t->field);
    printf(", \"encoding\": ");
    str_or_null(t->in_skeleton ? "skeleton" : t->encoding);
    printf(", \"in_skeleton\": %s, \"shared\": %s, \"part\": ", t->in_skeleton ? "true" : "false",
           t->shared ? "true" : "false");
    if (t->part >= 0)
        printf("%ld", t->part);
    else
        printf("null");
    printf(", \"quantization\": ");
    quant_json(t);
    printf(", \"qdq_role\": ");
    str_or_null(t->qdq_role);
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

void inspect_json_tensor(const inspect_report *r, size_t i, const inspect_detail *d)
{
    const inspect_tensor *t = &r->tensors[i];
    printf("{");
    tensor_fields(t, i);
    if (t->encoding)
        printf(", \"planes\": %u, \"transform\": %u, \"encoding_block_bytes\": %u, "
               "\"offset\": %llu",
               t->planes, t->transform, t->block_size, (unsigned long long)t->offset);
    if (d->have_stats || d->have_codes)
        printf(", \"zero_count\": %llu, \"sparsity\": %.6f", (unsigned long long)d->zero_count,
               t->count ? (double)d->zero_count / (double)t->count : 0.0);
    if (d->have_stats)
        stats_json("stats", &d->stats);
    if (d->have_codes)
        stats_json("code_stats", &d->codes);
    printf("}\n");
}

/* ---- summary -------------------------------------------------------------------------------- */

static void group_json(const inspect_group *g)
{
    printf("{\"tensor_count\": %llu, \"parameter_count\": %llu, \"raw_bytes\": %llu, "
           "\"stored_bytes\": %llu}", (unsigned long long)g->tensor_count,
           (unsigned long long)g->parameter_count, (unsigned long long)g->raw_bytes,
           (unsigned long long)g->stored_bytes);
}

static void groups_json(const char *key, const inspect_group *g, int n,
                        const char *(*name)(int), int all)
{
    printf(",\n \"%s\": {", key);
    for (int k = 0, first = 1; k < n; k++) {
        if (!all && !g[k].tensor_count)
            continue;
        printf("%s\"%s\": ", first ? "" : ", ", name(k));
        group_json(&g[k]);
        first = 0;
    }
    printf("}");
}

static const char *location_name(int l)
{
    return inspect_location_names[l];
}

static const char *dtype_name(int d)
{
    return mcz_dtype_name(d);
}

static const char *encoding_name(int e)
{
    return mcz_encoding_name((mcz_encoding)e);
}

static void partitions_json(const inspect_report *r)
{
    printf(",\n \"partition_count\": %zu, \"partitions\": [", r->partition_count);
    for (size_t p = 0; p < r->partition_count; p++) {
        const inspect_partition *d = &r->partitions[p];
        printf("%s\n  {\"index\": %zu, \"node_count\": %zu, \"tensor_count\": %zu, "
               "\"weight_bytes\": %llu, \"skeleton_bytes\": %llu, \"inputs\": ", p ? "," : "",
               p, d->node_count, d->tensor_count, (unsigned long long)d->weight_bytes,
               (unsigned long long)d->skeleton_bytes);
        names_json(d->inputs, d->input_count);
        printf(", \"outputs\": ");
        names_json(d->outputs, d->output_count);
        printf("}");
    }
    printf("%s]", r->partition_count ? "\n " : "");
}

/* "verify": {"ok", "bad_tensor", "error"} (without a leading comma). */
static void verify_json(const inspect_report *r)
{
    printf("\"verify\": {\"ok\": %s, \"bad_tensor\": ", r->verify_ok ? "true" : "false");
    str_or_null(r->bad_tensor >= 0 ? r->tensors[r->bad_tensor].name : NULL);
    printf(", \"error\": ");
    str_or_null(r->verify_ok ? NULL : r->verify_error.msg);
    printf("}");
}

/* "file", "format" and, for an .mcz, "format_version" (without the braces). */
static void identity_json(const inspect_report *r)
{
    printf("\"file\": ");
    tool_json_str(stdout, r->path);
    printf(", \"format\": \"%s\"", r->is_mcz ? "mcz" : "onnx");
    if (r->is_mcz)
        printf(", \"format_version\": %u", r->format_version);
    else
        printf(", \"format_version\": null");
    printf(", \"file_bytes\": %llu", (unsigned long long)r->file_bytes);
}

static void model_json(const inspect_report *r)
{
    const mcz_model_info *info = &r->info;
    printf(", \"ir_version\": %lld, \"producer\": ", (long long)info->ir_version);
    tool_json_str(stdout, info->producer_name);
    printf(", \"producer_version\": ");
    tool_json_str(stdout, info->producer_version);
    printf(",\n \"opsets\": {");
    for (size_t i = 0; i < info->opset_count; i++) {
        printf("%s", i ? ", " : "");
        tool_json_str(stdout, r->opsets[i].domain);
        printf(": %lld", (long long)r->opsets[i].version);
    }
    printf("},\n \"node_count\": %zu, \"main_graph_node_count\": %zu, \"subgraph_count\": %zu, "
           "\"input_count\": %zu, \"output_count\": %zu,\n \"ops\": {", info->node_count,
           info->main_node_count, info->subgraph_count, info->input_count, info->output_count);
    for (size_t i = 0; i < r->op_count; i++) {
        printf("%s", i ? ", " : "");
        tool_json_str(stdout, r->ops[i].name);
        printf(": %zu", r->ops[i].count);
    }
    printf("}");
}

void inspect_json_summary(const inspect_report *r, int tensors)
{
    /* the file and the model */
    printf("{");
    identity_json(r);
    model_json(r);
    /* the tensors in numbers, then by type, location, encoding */
    printf(",\n \"tensor_count\": %zu, \"parameter_count\": %llu, \"raw_bytes\": %llu, "
           "\"stored_bytes\": %llu, \"ratio\": %.4f, \"file_ratio\": %.4f,\n"
           " \"quantized_count\": %zu, \"shared_payload_count\": %zu, \"skeleton_count\": %zu",
           r->tensor_count, (unsigned long long)r->parameter_count,
           (unsigned long long)r->raw_bytes, (unsigned long long)r->stored_bytes,
           inspect_ratio(r->raw_bytes, r->stored_bytes),
           inspect_ratio(r->raw_bytes, r->file_bytes), r->quantized_count, r->shared_count,
           r->skeleton_count);
    groups_json("by_type", r->by_type, INSPECT_NTYPES, dtype_name, 0);
    groups_json("by_location", r->by_location, INSPECT_NLOC, location_name, 1);
    if (r->is_mcz)
        groups_json("by_encoding", r->by_encoding, INSPECT_NENC, encoding_name, 1);
    else
        printf(",\n \"by_encoding\": null");
    /* partitions, verification, the tensor list */
    partitions_json(r);
    if (r->verified) {
        printf(",\n ");
        verify_json(r);
    }
    if (tensors) {
        printf(",\n \"tensors\": [");
        for (size_t i = 0; i < r->tensor_count; i++) {
            printf("%s\n  {", i ? "," : "");
            tensor_fields(&r->tensors[i], i);
            printf("}");
        }
        printf("%s]", r->tensor_count ? "\n " : "");
    }
    printf("}\n");
}

void inspect_json_verify(const inspect_report *r)
{
    printf("{");
    identity_json(r);
    printf(", \"tensor_count\": %zu, ", r->tensor_count);
    verify_json(r);
    printf("}\n");
}
