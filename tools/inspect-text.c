/* inspect-text.c - mcz-inspect's text output over the report (inspect-report.h): summary,
 * --tensors table, --tensor NAME, --verify. */
#include "inspect-text.h"

#include <stdio.h>
#include <string.h>

#include "tool.h"

/* ---- summary -------------------------------------------------------------------------------- */

static void opsets_text(const inspect_report *r)
{
    for (size_t i = 0; i < r->info.opset_count; i++)
        printf(" %s %lld%s", r->opsets[i].domain, (long long)r->opsets[i].version,
               i + 1 < r->info.opset_count ? "," : "");
}

static void summary_onnx(const inspect_report *r)
{
    char b[32];
    printf("file:        %s\nformat:      ONNX (IR version %lld)\n", r->path,
           (long long)r->info.ir_version);
    printf("producer:    %s%s%s\n", *r->info.producer_name ? r->info.producer_name : "(none)",
           *r->info.producer_version ? " " : "", r->info.producer_version);
    printf("opsets:     ");
    opsets_text(r);
    printf("\nnodes:       %zu (%zu in the main graph, %zu subgraphs)\n", r->info.node_count,
           r->info.main_node_count, r->info.subgraph_count);
    printf("inputs:      %zu, outputs: %zu\n", r->info.input_count, r->info.output_count);
    printf("ops:        ");
    for (size_t i = 0; i < r->op_count && i < 12; i++)
        printf(" %s x%zu%s", r->ops[i].name, r->ops[i].count,
               i + 1 < r->op_count && i < 11 ? "," : "");
    if (r->op_count > 12)
        printf(" (+%zu more)", r->op_count - 12);
    printf("\nweights:     %zu tensors, %llu parameters, %s\n", r->tensor_count,
           (unsigned long long)r->parameter_count, tool_bytes(r->raw_bytes, b, sizeof b));
    for (int d = 0; d < INSPECT_NTYPES; d++) {
        const inspect_group *g = &r->by_type[d];
        if (g->tensor_count)
            printf("  %-10s %6llu tensors %14llu parameters %14s\n", mcz_dtype_name(d),
                   (unsigned long long)g->tensor_count, (unsigned long long)g->parameter_count,
                   tool_bytes(g->raw_bytes, b, sizeof b));
    }
    printf("where:\n");
    for (int l = 0; l < INSPECT_NLOC; l++)
        if (r->by_location[l].tensor_count)
            printf("  %-21s %6llu tensors %14s\n", inspect_location_names[l],
                   (unsigned long long)r->by_location[l].tensor_count,
                   tool_bytes(r->by_location[l].raw_bytes, b, sizeof b));
}

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

static void partitions_text(const inspect_report *r)
{
    char b[32];
    if (!r->partition_count) {
        printf("partitions:  none (one unsplit model)\n");
        return;
    }
    printf("partitions:  %zu, to run in this order (each part's payloads contiguous in the file)\n",
           r->partition_count);
    printf("  %4s %6s %8s %12s  %s\n", "PART", "NODES", "TENSORS", "WEIGHTS",
           "INPUTS -> OUTPUTS");
    for (size_t p = 0; p < r->partition_count; p++) {
        const inspect_partition *d = &r->partitions[p];
        printf("  %4zu %6zu %8zu %12s  ", p, d->node_count, d->tensor_count,
               tool_bytes(d->weight_bytes, b, sizeof b));
        print_names(d->inputs, d->input_count, 8);
        printf(" -> ");
        print_names(d->outputs, d->output_count, 8);
        printf("\n");
    }
}

/* "quantized: N tensors of integer codes: int8 channel (axis 0) x12, uint4 block 32 (axis 1) x3" */
static void schemes_text(const inspect_report *r)
{
    enum { MAXS = 8 };
    const char *seen[MAXS];
    size_t cnt[MAXS] = {0}, ns = 0, other = 0;
    printf("quantized:   %zu tensors of integer codes", r->quantized_count);
    for (size_t i = 0; i < r->tensor_count; i++) {
        const inspect_tensor *t = &r->tensors[i];
        size_t k = 0;
        if (!t->quantized)
            continue;
        while (k < ns && strcmp(seen[k], t->scheme) != 0)
            k++;
        if (k == ns && ns == MAXS) {
            other++;
            continue;
        }
        if (k == ns)
            seen[ns++] = t->scheme;
        cnt[k]++;
    }
    for (size_t k = 0; k < ns; k++)
        printf("%s %s x%zu", k ? "," : ":", seen[k], cnt[k]);
    if (other)
        printf(", other schemes x%zu", other);
    printf("\n");
}

static void groups_text(const char *title, const inspect_group *g, int n, int types)
{
    char b1[32], b2[32];
    printf("%s:\n", title);
    for (int k = 0; k < n; k++)
        if (g[k].tensor_count)
            printf("  %-10s %6llu tensors %12s -> %12s (%.3fx)\n",
                   types ? mcz_dtype_name(k) : mcz_encoding_name(k),
                   (unsigned long long)g[k].tensor_count, tool_bytes(g[k].raw_bytes, b1, sizeof b1),
                   tool_bytes(g[k].stored_bytes, b2, sizeof b2),
                   inspect_ratio(g[k].raw_bytes, g[k].stored_bytes));
}

static void summary_mcz(const inspect_report *r)
{
    char b1[32], b2[32];
    const mcz_model_info *info = &r->info;
    printf("file:        %s (%s)\nformat:      .mcz container, format version %u\n", r->path,
           tool_bytes(r->file_bytes, b1, sizeof b1), r->format_version);
    printf("model:       ONNX IR version %lld, producer %s%s%s\nopsets:     ",
           (long long)info->ir_version, *info->producer_name ? info->producer_name : "(none)",
           *info->producer_version ? " " : "", info->producer_version);
    opsets_text(r);
    printf("\nnodes:       %zu (%zu in the main graph, %zu subgraphs), %zu inputs, %zu outputs\n",
           info->node_count, info->main_node_count, info->subgraph_count, info->input_count,
           info->output_count);
    printf("tensors:     %zu (%zu sharing an identical tensor's payload, %zu kept in the "
           "skeleton)\n", r->tensor_count, r->shared_count, r->skeleton_count);
    printf("weights:     %s raw, %s stored (%.3fx); whole file %.3fx\n",
           tool_bytes(r->raw_bytes, b1, sizeof b1), tool_bytes(r->stored_bytes, b2, sizeof b2),
           inspect_ratio(r->raw_bytes, r->stored_bytes),
           inspect_ratio(r->raw_bytes, r->file_bytes));
    schemes_text(r);
    groups_text("by encoding", r->by_encoding, INSPECT_NENC, 0);
    groups_text("by type", r->by_type, INSPECT_NTYPES, 1);
    partitions_text(r);
}

void inspect_text_summary(const inspect_report *r)
{
    if (r->is_mcz)
        summary_mcz(r);
    else
        summary_onnx(r);
}

/* ---- --tensors ------------------------------------------------------------------------------ */

/* What an ONNX weight is a weight of: its consuming op, or the scheme of quantized codes. */
static void role_str(const inspect_tensor *t, char *role, size_t cap)
{
    snprintf(role, cap, "-");
    if (t->role_op)
        snprintf(role, cap, "%s(axis %d)", t->role_op, t->role_axis);
    if (!t->quantized)
        return;
    if (t->quant.block_size)
        snprintf(role, cap, "q%d block%u(axis %d)", t->bits, t->quant.block_size, t->quant.axis);
    else if (t->quant.axis >= 0)
        snprintf(role, cap, "q%d channel(axis %d)", t->bits, t->quant.axis);
    else
        snprintf(role, cap, "q%d tensor", t->bits);
}

void inspect_text_tensors(const inspect_report *r)
{
    char shp[256], role[48];
    if (!r->is_mcz) {
        printf("%-48s %-9s %-22s %-21s %-16s %12s\n", "NAME", "TYPE", "SHAPE", "LOCATION",
               "WEIGHT OF", "BYTES");
        for (size_t i = 0; i < r->tensor_count; i++) {
            const inspect_tensor *t = &r->tensors[i];
            tool_shape_str(t->rank, t->dims, shp, sizeof shp);
            role_str(t, role, sizeof role);
            printf("%-48s %-9s %-22s %-21s %-16s %12llu%s\n", t->name, mcz_dtype_name(t->dtype),
                   shp, inspect_location_names[t->location], role,
                   (unsigned long long)t->raw_bytes, t->external ? " ext" : "");
        }
        return;
    }
    int np = r->partition_count != 0;
    printf("%-48s %-9s %-22s %-8s %-24s %12s %12s %7s%s\n", "NAME", "TYPE", "SHAPE", "ENCODING",
           "QUANTIZATION", "RAW", "STORED", "RATIO", np ? "  PART" : "");
    for (size_t i = 0; i < r->tensor_count; i++) {
        const inspect_tensor *t = &r->tensors[i];
        tool_shape_str(t->rank, t->dims, shp, sizeof shp);
        printf("%-48s %-9s %-22s %-8s %-24s %12llu %12llu %7.3f", t->name,
               mcz_dtype_name(t->dtype), shp, t->in_skeleton ? "skeleton" : t->encoding,
               t->quantized ? t->scheme : "-", (unsigned long long)t->raw_bytes,
               (unsigned long long)t->stored_bytes, inspect_ratio(t->raw_bytes, t->stored_bytes));
        if (np)
            printf("  %4ld", t->part);
        printf("\n");
    }
}

/* ---- --tensor NAME -------------------------------------------------------------------------- */

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

static void tensor_onnx(const inspect_tensor *t, const char *shp)
{
    printf("name:      %s\ntype:      %s\nshape:     %s\nelements:  %llu\n"
           "location:  %s%s\ngraph:     %s\nfield:     %s\nbytes:     %llu\n",
           t->name, mcz_dtype_name(t->dtype), shp, (unsigned long long)t->count,
           inspect_location_names[t->location], t->external ? " (external data)" : "",
           *t->graph ? t->graph : "(main)", t->field, (unsigned long long)t->raw_bytes);
}

static void quant_text(const inspect_report *r, const inspect_tensor *t)
{
    if (!t->quantized) {
        printf("quantization: none\n");
        return;
    }
    printf("quantization: %s: value = (code - zero point) x scale\n", t->scheme);
    const inspect_tensor *s = &r->tensors[mcz_find(r->file, t->quant.scale)];
    printf("  scales:      '%s' (%s, %llu values)\n", s->name, mcz_dtype_name(s->dtype),
           (unsigned long long)s->count);
    if (t->quant.zero_point) {
        const inspect_tensor *z = &r->tensors[mcz_find(r->file, t->quant.zero_point)];
        printf("  zero points: '%s' (%s, %llu values)\n", z->name, mcz_dtype_name(z->dtype),
               (unsigned long long)z->count);
    } else {
        printf("  zero points: none (0)\n");
    }
}

void inspect_text_tensor(const inspect_report *r, size_t i, const inspect_detail *d)
{
    const inspect_tensor *t = &r->tensors[i];
    char shp[512], b1[32], b2[32];
    tool_shape_str(t->rank, t->dims, shp, sizeof shp);
    if (!r->is_mcz) {
        tensor_onnx(t, shp);
        return;
    }
    /* identity, part, encoding and bytes */
    printf("name:      %s\ntensor:    %zu of %zu\ntype:      %s\nshape:     %s\n"
           "elements:  %llu\n", t->name, i, r->tensor_count, mcz_dtype_name(t->dtype), shp,
           (unsigned long long)t->count);
    if (r->partition_count)
        printf("part:      %ld (its payload lies in that part's area)\n", t->part);
    if (t->in_skeleton) {
        printf("stored:    in the skeleton (values kept as the model had them)\n");
        return;
    }
    printf("encoding:  %s", t->encoding);
    if (strcmp(t->encoding, "planes") == 0)
        printf(" (%u byte planes%s)", t->planes, t->transform ? ", sign rotated" : "");
    else if (strcmp(t->encoding, "sparse") == 0)
        printf(" (bitmap of the non-zero elements + %u byte plane%s%s)", t->planes - 1,
               t->planes > 2 ? "s" : "", t->transform ? ", sign rotated" : "");
    printf(", blocks of %u bytes\nbytes:     %s raw, %s stored (%.3fx) at byte %llu\n",
           t->block_size, tool_bytes(t->raw_bytes, b1, sizeof b1),
           tool_bytes(t->stored_bytes, b2, sizeof b2),
           inspect_ratio(t->raw_bytes, t->stored_bytes), (unsigned long long)t->offset);
    /* sparsity, quantization, then the values' statistics */
    printf("sparsity:  %.2f%% (%llu of %llu elements are zero%s)\n",
           t->count ? 100.0 * (double)d->zero_count / (double)t->count : 0.0,
           (unsigned long long)d->zero_count, (unsigned long long)t->count,
           t->quantized ? " codes" : "");
    quant_text(r, t);
    if (d->have_stats) {
        if (t->quantized)
            printf("values (dequantized, as ONNX DequantizeLinear computes them):\n");
        stats_text(&d->stats);
    }
    if (d->have_codes) {
        printf("codes (%s):\n", mcz_dtype_name(t->dtype));
        stats_text(&d->codes);
    }
}

/* ---- --verify ------------------------------------------------------------------------------- */

void inspect_text_verify(const inspect_report *r)
{
    if (r->verify_ok)
        printf("verify: ok: %zu tensors, every payload decodes and every checksum matches\n",
               r->tensor_count);
}
