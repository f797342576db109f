/* inspect-html.c - mcz-inspect --html: a self-contained HTML report (inline CSS and SVG, no
 * script, no external resource) of an ONNX model or an .mcz container: summary, partitions,
 * operator histogram, one row per weight with bytes before/after, encoding, sparsity and SQNR.
 * Layout and meaning of every column: docs/inspect-html.md. */
#include "inspect-html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect-report.h"
#include "tool.h"

#define BAR_W 220 /* width of a weight's bar chart, px */

/* ---- escaping ----------------------------------------------------------------------------- */

/* Write `s` HTML-escaped (text and attribute values alike). */
static void esc(FILE *o, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", o); break;
        case '<': fputs("&lt;", o); break;
        case '>': fputs("&gt;", o); break;
        case '"': fputs("&quot;", o); break;
        case '\'': fputs("&#39;", o); break;
        default: fputc(*s, o);
        }
    }
}

static void bytes_cell(FILE *o, uint64_t n)
{
    char b[32];
    fprintf(o, "<td class=n title=\"%llu bytes\">", (unsigned long long)n);
    esc(o, tool_bytes(n, b, sizeof b));
    fputs("</td>", o);
}

static const char *location_html(const inspect_tensor *t)
{
    static const char *const names[INSPECT_NLOC - 1] = {
        "initializer", "constant", "subgraph initializer", "subgraph constant"};
    if (t->external)
        return "external";
    return t->location >= 0 ? names[t->location] : "";
}

/* ---- the page ----------------------------------------------------------------------------- */

static const char css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2430;background:#fff}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;"
    "border-bottom:1px solid #d5dae1;padding-bottom:4px}"
    ".sub{color:#5a6472}table{border-collapse:collapse}"
    "td,th{padding:3px 8px;border-bottom:1px solid #eceff3;vertical-align:middle}"
    "th{text-align:left;background:#f4f6f9;position:sticky;top:0}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "td.name{font-family:ui-monospace,monospace;font-size:12px;max-width:420px;"
    "overflow-wrap:anywhere}"
    "dl.sum{display:grid;grid-template-columns:max-content auto;gap:2px 16px}"
    "dl.sum dt{color:#5a6472}dl.sum dd{margin:0}"
    ".legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;"
    "vertical-align:-1px}.before{fill:#b8c2cf;background:#b8c2cf}"
    ".after{fill:#2f6fde;background:#2f6fde}.op{fill:#3b9a6b}"
    ".note{color:#5a6472;font-size:12px}.part{fill:#c2791b}";

static void ops_section(FILE *o, const inspect_report *r)
{
    fputs("<h2 id=ops>Operators</h2>\n", o);
    if (!r->op_count) {
        fputs("<p>No nodes.</p>\n", o);
        return;
    }
    size_t max = r->ops[0].count;
    fputs("<table class=ops><tr><th>operator</th><th class=n>nodes</th><th></th></tr>\n", o);
    for (size_t i = 0; i < r->op_count; i++) {
        unsigned w = (unsigned)(r->ops[i].count * 300 / max);
        fputs("<tr><td class=name>", o);
        esc(o, r->ops[i].name);
        fprintf(o, "</td><td class=n>%zu</td><td><svg width=\"300\" height=\"12\" role=\"img\">"
                   "<rect class=\"op\" x=\"0\" y=\"1\" width=\"%u\" height=\"10\" />"
                   "</svg></td></tr>\n",
                r->ops[i].count, w ? w : 1);
    }
    fputs("</table>\n", o);
}

static void bar(FILE *o, uint64_t before, uint64_t after, uint64_t max)
{
    double k = max ? (double)BAR_W / (double)max : 0;
    unsigned wb = (unsigned)(before * k), wa = (unsigned)(after * k);
    fprintf(o, "<td><svg width=\"%d\" height=\"16\" role=\"img\">"
               "<rect class=\"before\" x=\"0\" y=\"1\" width=\"%u\" height=\"6\" />"
               "<rect class=\"after\" x=\"0\" y=\"9\" width=\"%u\" height=\"6\" /></svg></td>",
            BAR_W, wb ? wb : before ? 1 : 0, wa ? wa : after ? 1 : 0);
}

/* Up to PART_NAMES_MAX names, escaped, joined with ", "; "(none)" for none. */
#define PART_NAMES_MAX 16
static void names_cell(FILE *o, const char *const *names, size_t n)
{
    fputs("<td class=name>", o);
    if (!n)
        fputs("(none)", o);
    for (size_t k = 0; k < n && k < PART_NAMES_MAX; k++) {
        fputs(k ? ", " : "", o);
        esc(o, names[k]);
    }
    if (n > PART_NAMES_MAX)
        fprintf(o, " (+%zu more)", n - PART_NAMES_MAX);
    fputs("</td>", o);
}

/* The partitions of an .mcz split by mcz-partition (docs/format.md 7a): per part its tensor
 * count, weight bytes as a bar, inputs and outputs. ONNX input: nothing to show. */
static void partitions_section(FILE *o, const inspect_report *r)
{
    fputs("<h2 id=partitions>Partitions</h2>\n", o);
    size_t np = r->partition_count;
    if (!r->is_mcz) {
        fputs("<p id=part-count>No partitions: an ONNX file holds one model "
              "(<code>mcz-partition MODEL -o OUT.mcz --parts K</code> splits one).</p>\n", o);
        return;
    }
    if (!np) {
        fputs("<p id=part-count>Not partitioned: the container holds one model.</p>\n", o);
        return;
    }
    uint64_t max = 0;
    for (size_t p = 0; p < np; p++)
        max = r->partitions[p].weight_bytes > max ? r->partitions[p].weight_bytes : max;
    fprintf(o, "<p id=part-count>%zu parts, listed in the order they run: each takes its inputs "
               "from the model's inputs or from earlier parts' outputs. Each part's payloads are "
               "contiguous in the file, so parts load in parallel.</p>\n", np);
    fputs("<table id=part-table><tr><th class=n>part</th><th class=n>nodes</th>"
          "<th class=n>tensors</th><th class=n>weight bytes</th><th></th><th>inputs</th>"
          "<th>outputs</th></tr>\n", o);
    for (size_t p = 0; p < np; p++) {
        const inspect_partition *d = &r->partitions[p];
        unsigned w = max ? (unsigned)((double)d->weight_bytes * BAR_W / (double)max) : 0;
        fprintf(o, "<tr><td class=n>%zu</td><td class=n>%zu</td><td class=n>%zu</td>", p,
                d->node_count, d->tensor_count);
        bytes_cell(o, d->weight_bytes);
        fprintf(o, "<td><svg width=\"%d\" height=\"12\" role=\"img\">"
                   "<rect class=\"part\" x=\"0\" y=\"1\" width=\"%u\" height=\"10\" />"
                   "</svg></td>", BAR_W, w ? w : d->weight_bytes ? 1 : 0);
        names_cell(o, d->inputs, d->input_count);
        names_cell(o, d->outputs, d->output_count);
        fputs("</tr>\n", o);
    }
    fputs("</table>\n<p class=note>Weight bytes: the raw bytes of the tensors a part reads; a "
          "weight several parts read is stored once in the file but counted in each.</p>\n", o);
}

/* What one weight's row shows: bytes before and after (an .mcz: raw and stored; quantized
 * ONNX codes: as float and as codes), the encoding and scheme, the sparsity. */
typedef struct row {
    uint64_t before, after;
    double sparsity;
    int sampled;
    char scheme[160];
} row;

static void row_of(const inspect_report *r, const inspect_tensor *t, row *w)
{
    char b[32];
    int codes = t->float_dtype >= 0; /* QDQ codes */
    w->before = !r->is_mcz && codes ? t->float_bytes : t->raw_bytes;
    w->after = t->in_skeleton ? 0 : t->stored_bytes;
    w->sparsity = codes ? t->value_sparsity : t->sparsity;
    w->sampled = t->sampled && w->sparsity >= 0;
    snprintf(w->scheme, sizeof w->scheme, "%s%s%s",
             !r->is_mcz ? "" : t->in_skeleton ? "in skeleton" : t->encoding,
             r->is_mcz && (t->quantized || t->qdq_role) ? "; " : "",
             t->quantized ? t->scheme : t->qdq_role ? t->qdq_role : "");
    if (r->is_mcz && codes) {
        size_t l = strlen(w->scheme);
        snprintf(w->scheme + l, sizeof w->scheme - l, ", %s as %s",
                 tool_bytes(t->float_bytes, b, sizeof b), mcz_dtype_name(t->float_dtype));
    }
}

/* ---- the page, section by section ---------------------------------------------------------- */

static void summary_section(FILE *o, const inspect_report *r, uint64_t before, uint64_t after)
{
    char b1[32], b2[32];
    const mcz_model_info *info = &r->info;
    fputs("<h2 id=summary>Summary</h2>\n<dl class=sum>\n<dt>format</dt><dd>", o);
    if (r->is_mcz)
        fprintf(o, ".mcz container, format version %u (%zu tensors)", r->format_version,
                r->tensor_count);
    else
        fprintf(o, "ONNX, IR version %lld", (long long)info->ir_version);
    fputs("</dd>\n<dt>producer</dt><dd>", o);
    esc(o, *info->producer_name ? info->producer_name : "(none)");
    fputs(" ", o);
    esc(o, info->producer_version);
    fputs("</dd>\n<dt>opsets</dt><dd>", o);
    for (size_t i = 0; i < info->opset_count; i++) {
        fputs(i ? ", " : "", o);
        esc(o, r->opsets[i].domain);
        fprintf(o, " %lld", (long long)r->opsets[i].version);
    }
    fprintf(o, "</dd>\n<dt>nodes</dt><dd>%zu (%zu in the main graph, %zu subgraphs), "
               "%zu operator types</dd>\n",
            info->node_count, info->main_node_count, info->subgraph_count, r->op_count);
    fprintf(o, "<dt>weights</dt><dd id=weight-count>%zu tensors, %llu parameters, %s</dd>\n",
            r->tensor_count, (unsigned long long)r->parameter_count,
            tool_bytes(r->is_mcz ? before : after, b1, sizeof b1));
    if (r->is_mcz) {
        fprintf(o, "<dt>stored</dt><dd>%s of payload for %s raw", tool_bytes(after, b1, sizeof b1),
                tool_bytes(before, b2, sizeof b2));
        fprintf(o, ", ratio <b id=ratio>%.2f&times;</b>; file %s</dd>\n",
                inspect_ratio(before, after), tool_bytes(r->file_bytes, b1, sizeof b1));
    } else {
        fprintf(o, "<dt>file</dt><dd>%s</dd>\n", tool_bytes(r->file_bytes, b1, sizeof b1));
    }
    fprintf(o, "<dt>quantized</dt><dd>%zu weights in QDQ form</dd>\n", r->qdq_count);
    if (r->is_mcz)
        fprintf(o, "<dt>partitions</dt><dd>%zu</dd>\n", r->partition_count);
    fputs("</dl>\n", o);
}

static void weight_row(FILE *o, const inspect_report *r, size_t i, const row *w, uint64_t max)
{
    const inspect_tensor *t = &r->tensors[i];
    char shp[256];
    tool_shape_str(t->rank, t->dims, shp, sizeof shp);
    fprintf(o, "<tr><td class=n>%zu</td><td class=name>", i);
    esc(o, t->name);
    fprintf(o, "</td><td>%s</td><td>", mcz_dtype_name(t->dtype));
    esc(o, shp);
    fprintf(o, "</td><td>%s</td><td>", location_html(t));
    esc(o, w->scheme);
    fputs("</td>", o);
    bytes_cell(o, w->before);
    bytes_cell(o, w->after);
    bar(o, w->before, w->after, max);
    if (w->sparsity < 0)
        fputs("<td class=n>&mdash;</td>", o);
    else
        fprintf(o, "<td class=n>%.1f%%%s</td>", 100.0 * w->sparsity, w->sampled ? "*" : "");
    if (isnan(t->sqnr))
        fputs("<td class=n>&mdash;</td>", o);
    else if (isinf(t->sqnr))
        fputs("<td class=n>exact</td>", o);
    else
        fprintf(o, "<td class=n>%.1f dB</td>", t->sqnr);
    if (r->partition_count && t->part >= 0 && !t->in_skeleton)
        fprintf(o, "<td class=n>%ld</td>", t->part);
    else if (r->partition_count)
        fputs("<td class=n>&mdash;</td>", o);
    fputs("</tr>\n", o);
}

static void weights_section(FILE *o, const inspect_report *r, const row *rows, uint64_t max,
                            int any_sampled)
{
    fputs("<h2 id=weights>Weights</h2>\n<p class=legend>bytes:<span class=before></span>", o);
    fputs(r->is_mcz ? "raw (decoded)" : "before (float, for quantized weights)", o);
    fputs("<span class=after></span>", o);
    fputs(r->is_mcz ? "stored in the file" : "in the file", o);
    fputs(" &mdash; bars to one linear scale, the largest weight full width.</p>\n", o);
    fputs("<table id=weight-table><tr><th class=n>#</th><th>name</th><th>type</th>"
          "<th>shape</th><th>location</th><th>", o);
    fputs(r->is_mcz ? "encoding" : "quantization", o);
    fputs("</th><th class=n>before</th><th class=n>after</th><th>bytes</th>"
          "<th class=n>sparsity</th><th class=n>SQNR</th>", o);
    fputs(r->partition_count ? "<th class=n>part</th></tr>\n" : "</tr>\n", o);
    for (size_t i = 0; i < r->tensor_count; i++)
        weight_row(o, r, i, &rows[i], max);
    fputs("</table>\n<p class=note>Sparsity: the fraction of values equal to zero (quantized "
          "weights: of the dequantized values).", o);
    if (any_sampled)
        fprintf(o, " * estimated from %u evenly spaced values (256 runs): the tensor has more "
                   "than that many elements.", INSPECT_SAMPLE_CAP);
    fputs(" SQNR: signal-to-quantization-noise ratio of a quantized weight against its float "
          "original; &mdash; when the file does not hold the original (the usual case: "
          "quantizing replaces it).</p>\n", o);
}

static void write_page(FILE *o, const inspect_report *r, const row *rows)
{
    uint64_t before = 0, after = 0, max = 0;
    int any_sampled = 0;
    for (size_t i = 0; i < r->tensor_count; i++) {
        before += rows[i].before;
        after += rows[i].after;
        max = rows[i].before > max ? rows[i].before : max;
        max = rows[i].after > max ? rows[i].after : max;
        any_sampled |= rows[i].sampled;
    }
    fputs("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n"
          "<meta name=viewport content=\"width=device-width\">\n<title>mcz-inspect: ", o);
    esc(o, r->path);
    fprintf(o, "</title>\n<style>%s</style></head><body>\n<h1>mcz-inspect report</h1>\n"
               "<p class=sub>", css);
    esc(o, r->path);
    fputs("</p>\n", o);
    summary_section(o, r, before, after);
    partitions_section(o, r);
    ops_section(o, r);
    weights_section(o, r, rows, max, any_sampled);
    fprintf(o, "<p class=note>Written by mcz-inspect %s.</p>\n</body></html>\n",
            mcz_version());
}

int inspect_html(const char *path, const char *out, int force)
{
    inspect_report r;
    int rc = inspect_report_open(&r, path, INSPECT_MODEL | INSPECT_VALUES);
    row *rows = rc == TOOL_OK ? calloc(r.tensor_count ? r.tensor_count : 1, sizeof *rows) : NULL;
    if (rc == TOOL_OK && !rows) {
        tool_error(path, "out of memory");
        rc = TOOL_FAIL;
    }
    for (size_t i = 0; rows && i < r.tensor_count; i++)
        row_of(&r, &r.tensors[i], &rows[i]);
    tool_text t;
    if (rows && (rc = tool_text_open(&t, path)) == TOOL_OK) {
        write_page(t.f, &r, rows);
        rc = tool_text_write(&t, out, force);
    }
    free(rows);
    inspect_report_free(&r);
    return rc;
}
