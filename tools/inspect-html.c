/* inspect-html.c - mcz-inspect --html: a self-contained HTML report (inline CSS and SVG, no
 * script, no external resource) of an ONNX model or an .mcz container: summary, partitions,
 * operator histogram, one row per weight with bytes before/after, encoding, sparsity and SQNR.
 * Layout and meaning of every column: docs/inspect-html.md. */
#include "inspect-html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mcz/load.h"
#include "mcz/model.h"
#include "mcz/qdq.h"
#include "mcz/quant.h"
#include "mcz/tensorstats.h"
#include "inspect-mcz.h"
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

/* ---- operator histogram ------------------------------------------------------------------- */

typedef struct op_count {
    char name[96];
    size_t n;
} op_count;

typedef struct op_hist {
    op_count *ops;
    size_t n, cap;
    int oom;
} op_hist;

static void count_op(void *ctx, const char *op, const char *domain, int depth)
{
    (void)depth;
    op_hist *h = ctx;
    char key[96];
    int other = *domain && strcmp(domain, "ai.onnx");
    snprintf(key, sizeof key, "%s%s%s", other ? domain : "", other ? "." : "", op);
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->ops[i].name, key) == 0) {
            h->ops[i].n++;
            return;
        }
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 32;
        op_count *p = realloc(h->ops, nc * sizeof *p);
        if (!p) {
            h->oom = 1;
            return;
        }
        h->ops = p;
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

/* ---- per-weight facts --------------------------------------------------------------------- */

typedef struct row {
    uint64_t before, after;  /* bytes: .mcz raw/stored; quantized ONNX float/codes; else same */
    const char *encoding;    /* .mcz encoding name, else NULL */
    char scheme[96];         /* "int8 channel(axis 0)", "scale of X", "" */
    double sparsity;         /* fraction of zero values, < 0 when unknown */
    int sampled;             /* sparsity estimated from samples */
    double sqnr;             /* dB; NAN when unknown */
    long part;               /* partitioned .mcz: the part whose payload area holds it; else -1 */
} row;

static uint64_t count_zeros(const float *v, size_t n)
{
    uint64_t z = 0;
    for (size_t i = 0; i < n; i++)
        z += v[i] == 0.0f;
    return z;
}

/* Sparsity of raw values (`count` of `dtype`): every value up to the sample cap, else 256
 * evenly spaced runs of cap/256 values. Sets r->sparsity (< 0 when the type has no numbers). */
static void raw_sparsity(const void *raw, int32_t dtype, uint64_t count, row *r)
{
    r->sparsity = -1;
    if (!raw || !count || dtype == MCZ_DT_STRING)
        return;
    int packed = dtype == MCZ_DT_INT4 || dtype == MCZ_DT_UINT4;
    size_t esz = mcz_dtype_size(dtype) ? mcz_dtype_size(dtype) : 1; /* int4: bytes */
    uint64_t runs = 1, run = count;
    if (count > INSPECT_HTML_SAMPLE_CAP) {
        runs = 256;
        run = INSPECT_HTML_SAMPLE_CAP / runs;
        r->sampled = 1;
    }
    float *v = malloc((size_t)run * sizeof *v);
    if (!v)
        return;
    uint64_t zeros = 0, seen = 0;
    mcz_error err = {0};
    for (uint64_t k = 0; k < runs; k++) {
        uint64_t start = runs == 1 ? 0 : (count - run) / (runs - 1) * k;
        if (packed)
            start &= ~(uint64_t)1; /* runs start on a byte */
        const uint8_t *p = (const uint8_t *)raw + (packed ? start / 2 : start * esz);
        if (mcz_values_to_f32(dtype, p, run, v, &err) != MCZ_OK) {
            free(v);
            return;
        }
        zeros += count_zeros(v, (size_t)run);
        seen += run;
    }
    free(v);
    r->sparsity = (double)zeros / (double)seen;
}

/* Dequantize the QDQ weight `qw` into a malloc'd array of its count floats (NULL on error). */
static float *dequantize(mcz_model *m, const mcz_qdq_weight *qw)
{
    const mcz_weight *c = mcz_model_weight(m, qw->codes), *s = mcz_model_weight(m, qw->scale);
    mcz_error err = {0};
    mcz_qtensor q = {0};
    q.dtype = qw->dtype;
    q.granularity = qw->granularity;
    q.axis = qw->axis;
    q.block_size = qw->block_size;
    q.rank = c->rank;
    for (int d = 0; d < c->rank && d < MCZ_MAX_RANK; d++)
        q.dims[d] = c->dims[d];
    q.count = c->count;
    q.codes = (uint8_t *)mcz_model_weight_data(m, qw->codes, &err); /* read only */
    q.codes_bytes = c->nbytes;
    q.nscales = s->count;
    if (qw->zero_point >= 0)
        q.zero_points = (uint8_t *)mcz_model_weight_data(m, (size_t)qw->zero_point, &err);
    float *scales = malloc((size_t)s->count * sizeof *scales);
    float *out = malloc((size_t)(c->count ? c->count : 1) * sizeof *out);
    if (!q.codes || !scales || !out || (qw->zero_point >= 0 && !q.zero_points) ||
        mcz_model_weight_to_f32(m, qw->scale, scales, &err) != MCZ_OK) {
        free(scales);
        free(out);
        return NULL;
    }
    q.scales = scales;
    mcz_qtensor_dequantize(&q, out);
    free(scales);
    return out;
}

/* Facts of the quantized codes weight `qw`: sparsity of the dequantized values, and SQNR
 * against the float original when the model still holds it (a weight named like the
 * DequantizeLinear output with as many elements); otherwise SQNR stays unknown. */
static void quantized_facts(mcz_model *m, const mcz_qdq_weight *qw, row *r)
{
    const mcz_weight *c = mcz_model_weight(m, qw->codes);
    mcz_error err = {0};
    if (c->count > INSPECT_HTML_SAMPLE_CAP) {
        if (qw->zero_point < 0) /* symmetric: a zero code is a zero value */
            raw_sparsity(mcz_model_weight_data(m, qw->codes, &err), c->dtype, c->count, r);
        return;
    }
    float *x = dequantize(m, qw);
    if (!x)
        return;
    r->sparsity = c->count ? (double)count_zeros(x, (size_t)c->count) / (double)c->count : 0;
    long o = mcz_model_find_weight(m, qw->name);
    if (o >= 0 && (size_t)o != qw->codes && mcz_model_weight(m, (size_t)o)->count == c->count) {
        float *ref = malloc((size_t)c->count * sizeof *ref);
        if (ref && mcz_model_weight_to_f32(m, (size_t)o, ref, &err) == MCZ_OK) {
            double sig = 0, noise = 0;
            for (uint64_t i = 0; i < c->count; i++) {
                double d = (double)ref[i] - (double)x[i];
                sig += (double)ref[i] * ref[i];
                noise += d * d;
            }
            r->sqnr = mcz_sqnr_db(sig, noise);
        }
        free(ref);
    }
    free(x);
}

static const char *location_of(const mcz_weight *w)
{
    if (w->external)
        return "external";
    if (w->kind == MCZ_WEIGHT_CONSTANT)
        return w->depth ? "subgraph constant" : "constant";
    return w->depth ? "subgraph initializer" : "initializer";
}

static void shape_str(const mcz_weight *w, char *buf, size_t cap)
{
    size_t p = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < w->rank && p < cap; d++)
        p += (size_t)snprintf(buf + p, cap - p, "%s%lld", d ? "," : "", (long long)w->dims[d]);
    if (p < cap)
        snprintf(buf + p, cap - p, "]");
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

static void ops_section(FILE *o, const op_hist *h)
{
    fputs("<h2 id=ops>Operators</h2>\n", o);
    if (!h->n) {
        fputs("<p>No nodes.</p>\n", o);
        return;
    }
    size_t max = h->ops[0].n;
    fputs("<table class=ops><tr><th>operator</th><th class=n>nodes</th><th></th></tr>\n", o);
    for (size_t i = 0; i < h->n; i++) {
        unsigned w = (unsigned)(h->ops[i].n * 300 / max);
        fputs("<tr><td class=name>", o);
        esc(o, h->ops[i].name);
        fprintf(o, "</td><td class=n>%zu</td><td><svg width=\"300\" height=\"12\" role=\"img\">"
                   "<rect class=\"op\" x=\"0\" y=\"1\" width=\"%u\" height=\"10\" />"
                   "</svg></td></tr>\n",
                h->ops[i].n, w ? w : 1);
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
 * count, weight bytes as a bar, inputs and outputs. ONNX input (f NULL): nothing to show. */
static void partitions_section(FILE *o, const mcz_file *f)
{
    fputs("<h2 id=partitions>Partitions</h2>\n", o);
    size_t np = f ? mcz_part_count(f) : 0;
    if (!f) {
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
        max = mcz_part(f, p)->weight_bytes > max ? mcz_part(f, p)->weight_bytes : max;
    fprintf(o, "<p id=part-count>%zu parts, listed in the order they run: each takes its inputs "
               "from the model's inputs or from earlier parts' outputs. Each part's payloads are "
               "contiguous in the file, so parts load in parallel.</p>\n", np);
    fputs("<table id=part-table><tr><th class=n>part</th><th class=n>nodes</th>"
          "<th class=n>tensors</th><th class=n>weight bytes</th><th></th><th>inputs</th>"
          "<th>outputs</th></tr>\n", o);
    for (size_t p = 0; p < np; p++) {
        const mcz_part_desc *d = mcz_part(f, p);
        unsigned w = max ? (unsigned)((double)d->weight_bytes * BAR_W / (double)max) : 0;
        fprintf(o, "<tr><td class=n>%zu</td><td class=n>%u</td><td class=n>%zu</td>", p,
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

static void write_page(FILE *o, const char *path, mcz_model *m, const mcz_file *f,
                       uint64_t file_size, const op_hist *h, const row *rows,
                       size_t nquant)
{
    mcz_model_info info;
    mcz_model_get_info(m, &info);
    size_t nw = mcz_model_weight_count(m);
    uint64_t tb = 0, ta = 0, max = 0, params = 0;
    int any_sampled = 0;
    for (size_t i = 0; i < nw; i++) {
        tb += rows[i].before;
        ta += rows[i].after;
        params += mcz_model_weight(m, i)->count;
        max = rows[i].before > max ? rows[i].before : max;
        max = rows[i].after > max ? rows[i].after : max;
        any_sampled |= rows[i].sampled;
    }
    char b1[32], b2[32];
    fputs("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n"
          "<meta name=viewport content=\"width=device-width\">\n<title>mcz-inspect: ", o);
    esc(o, path);
    fprintf(o, "</title>\n<style>%s</style></head><body>\n<h1>mcz-inspect report</h1>\n"
               "<p class=sub>", css);
    esc(o, path);
    fputs("</p>\n<h2 id=summary>Summary</h2>\n<dl class=sum>\n<dt>format</dt><dd>", o);
    if (f)
        fprintf(o, ".mcz container, format version %u (%zu tensors)", mcz_format_version(f),
                mcz_tensor_count(f));
    else
        fprintf(o, "ONNX, IR version %lld", (long long)info.ir_version);
    fputs("</dd>\n<dt>producer</dt><dd>", o);
    esc(o, *info.producer_name ? info.producer_name : "(none)");
    fputs(" ", o);
    esc(o, info.producer_version);
    fputs("</dd>\n<dt>opsets</dt><dd>", o);
    for (size_t i = 0; i < info.opset_count; i++) {
        const char *d;
        int64_t v;
        mcz_model_opset(m, i, &d, &v);
        fputs(i ? ", " : "", o);
        esc(o, *d ? d : "ai.onnx");
        fprintf(o, " %lld", (long long)v);
    }
    fprintf(o, "</dd>\n<dt>nodes</dt><dd>%zu (%zu in the main graph, %zu subgraphs), "
               "%zu operator types</dd>\n",
            info.node_count, info.main_node_count, info.subgraph_count, h->n);
    fprintf(o, "<dt>weights</dt><dd id=weight-count>%zu tensors, %llu parameters, %s</dd>\n", nw,
            (unsigned long long)params, tool_bytes(f ? tb : ta, b1, sizeof b1));
    if (f) {
        fprintf(o, "<dt>stored</dt><dd>%s of payload for %s raw", tool_bytes(ta, b1, sizeof b1),
                tool_bytes(tb, b2, sizeof b2));
        fprintf(o, ", ratio <b id=ratio>%.2f&times;</b>; file %s</dd>\n",
                ta ? (double)tb / (double)ta : 0.0, tool_bytes(file_size, b1, sizeof b1));
    } else {
        fprintf(o, "<dt>file</dt><dd>%s</dd>\n", tool_bytes(file_size, b1, sizeof b1));
    }
    fprintf(o, "<dt>quantized</dt><dd>%zu weights in QDQ form</dd>\n", nquant);
    if (f)
        fprintf(o, "<dt>partitions</dt><dd>%zu</dd>\n", mcz_part_count(f));
    fputs("</dl>\n", o);
    partitions_section(o, f);
    ops_section(o, h);

    fputs("<h2 id=weights>Weights</h2>\n<p class=legend>bytes:<span class=before></span>", o);
    fputs(f ? "raw (decoded)" : "before (float, for quantized weights)", o);
    fputs("<span class=after></span>", o);
    fputs(f ? "stored in the file" : "in the file", o);
    fputs(" &mdash; bars to one linear scale, the largest weight full width.</p>\n", o);
    fputs("<table id=weight-table><tr><th class=n>#</th><th>name</th><th>type</th>"
          "<th>shape</th><th>location</th><th>", o);
    fputs(f ? "encoding" : "quantization", o);
    fputs("</th><th class=n>before</th><th class=n>after</th><th>bytes</th>"
          "<th class=n>sparsity</th><th class=n>SQNR</th>", o);
    int parts = f && mcz_part_count(f);
    fputs(parts ? "<th class=n>part</th></tr>\n" : "</tr>\n", o);
    for (size_t i = 0; i < nw; i++) {
        const mcz_weight *w = mcz_model_weight(m, i);
        const row *r = &rows[i];
        char shp[256];
        shape_str(w, shp, sizeof shp);
        fprintf(o, "<tr><td class=n>%zu</td><td class=name>", i);
        esc(o, w->name);
        fprintf(o, "</td><td>%s</td><td>", mcz_dtype_name(w->dtype));
        esc(o, shp);
        fprintf(o, "</td><td>%s</td><td>", location_of(w));
        if (r->encoding)
            esc(o, r->encoding);
        if (r->encoding && *r->scheme)
            fputs("; ", o);
        esc(o, r->scheme);
        fputs("</td>", o);
        bytes_cell(o, r->before);
        bytes_cell(o, r->after);
        bar(o, r->before, r->after, max);
        if (r->sparsity < 0)
            fputs("<td class=n>&mdash;</td>", o);
        else
            fprintf(o, "<td class=n>%.1f%%%s</td>", 100.0 * r->sparsity, r->sampled ? "*" : "");
        if (isnan(r->sqnr))
            fputs("<td class=n>&mdash;</td>", o);
        else if (isinf(r->sqnr))
            fputs("<td class=n>exact</td>", o);
        else
            fprintf(o, "<td class=n>%.1f dB</td>", r->sqnr);
        if (parts && r->part >= 0)
            fprintf(o, "<td class=n>%ld</td>", r->part);
        else if (parts)
            fputs("<td class=n>&mdash;</td>", o);
        fputs("</tr>\n", o);
    }
    fputs("</table>\n<p class=note>Sparsity: the fraction of values equal to zero (quantized "
          "weights: of the dequantized values).", o);
    if (any_sampled)
        fprintf(o, " * estimated from %u evenly spaced values (256 runs): the tensor has more "
                   "than that many elements.", INSPECT_HTML_SAMPLE_CAP);
    fputs(" SQNR: signal-to-quantization-noise ratio of a quantized weight against its float "
          "original; &mdash; when the file does not hold the original (the usual case: "
          "quantizing replaces it).</p>\n", o);
    fprintf(o, "<p class=note>Written by mcz-inspect %s.</p>\n</body></html>\n",
            mcz_version());
}

int inspect_html(const char *path, const char *out, int force)
{
    mcz_error err = {0};
    mcz_file *f = NULL;
    if (tool_is_mcz_file(path) && !(f = mcz_open(path, &err)))
        return tool_fail(&err);
    mcz_model *m = tool_read_model(path, &err);
    if (!m) {
        mcz_close(f);
        return tool_fail(&err);
    }
    size_t nw = mcz_model_weight_count(m), nq = 0;
    mcz_qdq_weight *qw = NULL;
    row *rows = calloc(nw ? nw : 1, sizeof *rows);
    op_hist h = {0};
    int rc = TOOL_FAIL;
    if (!rows || mcz_model_qdq_weights(m, &qw, &nq, &err) != MCZ_OK) {
        tool_error(path, "out of memory");
        goto done;
    }
    mcz_model_for_each_node(m, count_op, &h);
    if (h.oom) {
        tool_error(path, "out of memory");
        goto done;
    }
    qsort(h.ops, h.n, sizeof *h.ops, by_count);
    for (size_t i = 0; i < nw; i++) {
        const mcz_weight *w = mcz_model_weight(m, i);
        row *r = &rows[i];
        r->before = r->after = w->nbytes;
        r->sparsity = -1;
        r->sqnr = NAN;
        r->part = -1;
        if (f) {
            long t = mcz_find(f, w->name);
            if (t >= 0) {
                const mcz_tensor_info *ti = mcz_tensor(f, (size_t)t);
                r->before = ti->raw_bytes;
                r->after = ti->in_skeleton ? 0 : ti->stored_bytes;
                r->encoding = ti->in_skeleton ? "in skeleton" : mcz_encoding_name(ti->encoding);
                r->part = mcz_part_count(f) && !ti->in_skeleton ? (long)ti->part : -1;
                if (ti->quant) /* QDQ detection below refines it; this covers any skeleton */
                    inspect_quant_scheme(ti, r->scheme, sizeof r->scheme);
            }
        }
    }
    for (size_t k = 0; k < nq; k++) {
        const mcz_qdq_weight *q = &qw[k];
        row *r = &rows[q->codes];
        const mcz_weight *c = mcz_model_weight(m, q->codes);
        uint64_t fb = c->count * (q->scale_dtype == MCZ_DT_FLOAT ? 4 : 2);
        char b[32];
        if (q->block_size)
            snprintf(r->scheme, sizeof r->scheme, "%s block %u (axis %d)", mcz_dtype_name(q->dtype),
                     q->block_size, q->axis);
        else if (q->axis >= 0)
            snprintf(r->scheme, sizeof r->scheme, "%s channel (axis %d)", mcz_dtype_name(q->dtype),
                     q->axis);
        else
            snprintf(r->scheme, sizeof r->scheme, "%s tensor", mcz_dtype_name(q->dtype));
        if (f) {
            size_t l = strlen(r->scheme);
            snprintf(r->scheme + l, sizeof r->scheme - l, ", %s as %s", tool_bytes(fb, b, sizeof b),
                     mcz_dtype_name(q->scale_dtype));
        } else {
            r->before = fb;
        }
        quantized_facts(m, q, r);
        snprintf(rows[q->scale].scheme, sizeof rows[q->scale].scheme, "scale");
        if (q->zero_point >= 0)
            snprintf(rows[q->zero_point].scheme, sizeof rows[q->zero_point].scheme, "zero point");
    }
    for (size_t i = 0; i < nw; i++) {
        int quant = 0;
        for (size_t k = 0; k < nq && !quant; k++)
            quant = qw[k].codes == i;
        if (!quant) {
            const mcz_weight *w = mcz_model_weight(m, i);
            raw_sparsity(mcz_model_weight_data(m, i, &err), w->dtype, w->count, &rows[i]);
        }
    }
    struct stat st;
    uint64_t file_size = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
    tool_text t;
    if (tool_text_open(&t, path) == TOOL_OK) {
        write_page(t.f, path, m, f, file_size, &h, rows, nq);
        rc = tool_text_write(&t, out, force);
    }
done:
    free(h.ops);
    free(qw);
    free(rows);
    mcz_model_free(m);
    mcz_close(f);
    return rc;
}
