/* inspect-report.c - fill the one mcz-inspect report (inspect-report.h) from an ONNX model or
 * an .mcz container. Nothing here prints a result: inspect-text.c, inspect-json.c and
 * inspect-html.c render it. */
#include "inspect-report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mcz/pack.h"
#include "mcz/quant.h"
#include "mcz/roles.h"
#include "mcz/suggest.h"
#include "tool.h"

const char *const inspect_location_names[INSPECT_NLOC] = {
    "initializer", "constant", "subgraph-initializer", "subgraph-constant", "external"};

/* ---- small shared helpers ------------------------------------------------------------------ */

void inspect_scheme_str(int32_t dtype, int axis, uint32_t block_size, char *buf, size_t cap)
{
    if (axis < 0)
        snprintf(buf, cap, "%s tensor", mcz_dtype_name(dtype));
    else if (block_size)
        snprintf(buf, cap, "%s block %u (axis %d)", mcz_dtype_name(dtype), block_size, axis);
    else
        snprintf(buf, cap, "%s channel (axis %d)", mcz_dtype_name(dtype), axis);
}

double inspect_ratio(uint64_t raw, uint64_t stored)
{
    return stored ? (double)raw / (double)stored : 0.0;
}

static const char *granularity_name(int axis, uint32_t block_size)
{
    return axis < 0 ? "tensor" : block_size ? "block" : "channel";
}

/* ---- operators ------------------------------------------------------------------------------ */

typedef struct op_hist {
    inspect_op *ops;
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
            h->ops[i].count++;
            return;
        }
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 32;
        inspect_op *p = realloc(h->ops, nc * sizeof *p);
        if (!p) {
            h->oom = 1;
            return;
        }
        h->ops = p;
        h->cap = nc;
    }
    snprintf(h->ops[h->n].name, sizeof h->ops[h->n].name, "%s", key);
    h->ops[h->n++].count = 1;
}

static int by_count(const void *a, const void *b)
{
    const inspect_op *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* ---- values: sparsity, dequantization, SQNR ------------------------------------------------- */

static uint64_t count_zeros(const float *v, size_t n)
{
    uint64_t z = 0;
    for (size_t i = 0; i < n; i++)
        z += v[i] == 0.0f;
    return z;
}

/* Sparsity of `count` raw values of `dtype`: every value up to INSPECT_SAMPLE_CAP, else 256
 * evenly spaced runs of cap/256 values (t->sampled). t->sparsity < 0 when the type has no
 * numbers. */
static void raw_sparsity(const void *raw, int32_t dtype, uint64_t count, inspect_tensor *t)
{
    t->sparsity = -1;
    if (!raw || !count || dtype == MCZ_DT_STRING)
        return;
    int packed = dtype == MCZ_DT_INT4 || dtype == MCZ_DT_UINT4;
    size_t esz = mcz_dtype_size(dtype) ? mcz_dtype_size(dtype) : 1; /* int4: bytes */
    uint64_t runs = 1, run = count;
    if (count > INSPECT_SAMPLE_CAP) {
        runs = 256;
        run = INSPECT_SAMPLE_CAP / runs;
        t->sampled = 1;
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
    t->sparsity = (double)zeros / (double)seen;
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

/* Sparsity of the dequantized values of QDQ weight `qw`, and SQNR against the float original
 * when the model still holds it (a weight named like the DequantizeLinear output with as many
 * elements); otherwise SQNR stays unknown. Above the sample cap: the codes' sparsity when
 * symmetric (a zero code is a zero value), else unknown. */
static void quantized_values(mcz_model *m, const mcz_qdq_weight *qw, inspect_tensor *t)
{
    const mcz_weight *c = mcz_model_weight(m, qw->codes);
    mcz_error err = {0};
    if (c->count > INSPECT_SAMPLE_CAP) {
        if (qw->zero_point < 0)
            t->value_sparsity = t->sparsity;
        return;
    }
    float *x = dequantize(m, qw);
    if (!x)
        return;
    t->value_sparsity =
        c->count ? (double)count_zeros(x, (size_t)c->count) / (double)c->count : 0;
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
            t->sqnr = mcz_sqnr_db(sig, noise);
        }
        free(ref);
    }
    free(x);
}

/* ---- filling the report, phase by phase ---------------------------------------------------- */

static int oom(const char *path)
{
    tool_error(path, "out of memory");
    return TOOL_FAIL;
}

/* r->tensors: n tensors, each known by name, type and shape (the rest unknown). */
typedef struct tensor_id {
    const char *name;
    int32_t dtype;
    int rank;
    const int64_t *dims;
    uint64_t count, raw_bytes, stored_bytes;
} tensor_id;

static int new_tensors(inspect_report *r, size_t n)
{
    r->tensors = calloc(n ? n : 1, sizeof *r->tensors);
    if (!r->tensors)
        return oom(r->path);
    r->tensor_count = n;
    return TOOL_OK;
}

static void set_tensor(inspect_tensor *t, const tensor_id *id)
{
    memset(t, 0, sizeof *t);
    t->name = id->name;
    t->dtype = id->dtype;
    t->rank = id->rank;
    t->dims = id->dims;
    t->count = id->count;
    t->raw_bytes = id->raw_bytes;
    t->stored_bytes = id->stored_bytes;
    t->location = -1;
    t->model_index = -1;
    t->part = -1;
    t->sparsity = t->value_sparsity = -1;
    t->sqnr = NAN;
    t->float_dtype = -1;
}

static void set_quant(inspect_tensor *t, int32_t dtype, int axis, uint32_t block_size,
                      const char *scale, const char *zero_point)
{
    t->quantized = 1;
    t->quant = (inspect_quant){dtype, granularity_name(axis, block_size), axis, block_size,
                               scale, zero_point};
    t->bits = dtype == MCZ_DT_INT4 || dtype == MCZ_DT_UINT4 ? 4 : 8;
    inspect_scheme_str(dtype, axis, block_size, t->scheme, sizeof t->scheme);
}

/* Phase: the tensor list of an .mcz from its table (encodings, parts, quantization), shared
 * payloads (deduplicated tensors start before the end of the previous payload). */
static int tensors_from_mcz(inspect_report *r)
{
    const mcz_file *f = r->file;
    size_t n = mcz_tensor_count(f);
    uint64_t end = 0;
    if (new_tensors(r, n) != TOOL_OK)
        return TOOL_FAIL;
    for (size_t i = 0; i < n; i++) {
        const mcz_tensor_info *ti = mcz_tensor(f, i);
        inspect_tensor *t = &r->tensors[i];
        set_tensor(t, &(tensor_id){ti->name, ti->dtype, ti->rank, ti->dims, ti->count,
                                   ti->raw_bytes, ti->stored_bytes});
        t->encoding = mcz_encoding_name(ti->encoding);
        t->planes = ti->planes;
        t->transform = ti->transform;
        t->block_size = ti->block_size;
        t->offset = ti->offset;
        t->in_skeleton = ti->in_skeleton != 0;
        t->part = mcz_part_count(f) ? (long)ti->part : -1;
        if (!ti->in_skeleton) {
            t->shared = ti->stored_bytes && ti->offset < end;
            if (!t->shared)
                end = ti->offset + ti->stored_bytes;
        }
        const mcz_quant_info *q = ti->quant;
        if (q)
            set_quant(t, ti->dtype, q->axis, q->block_size, mcz_tensor(f, q->scale)->name,
                      q->zero_point >= 0 ? mcz_tensor(f, (size_t)q->zero_point)->name : NULL);
    }
    return TOOL_OK;
}

static int location_of(const mcz_weight *w)
{
    return (w->kind == MCZ_WEIGHT_CONSTANT) + 2 * (w->depth > 0);
}

/* Phase: what the model says of each tensor (ONNX: the tensor list itself). */
static int tensors_from_model(inspect_report *r)
{
    mcz_model *m = r->model;
    size_t nw = mcz_model_weight_count(m);
    if (!r->is_mcz && new_tensors(r, nw) != TOOL_OK)
        return TOOL_FAIL;
    for (size_t i = 0; i < nw; i++) {
        const mcz_weight *w = mcz_model_weight(m, i);
        long k = r->is_mcz ? mcz_find(r->file, w->name) : (long)i;
        if (k < 0)
            continue;
        inspect_tensor *t = &r->tensors[k];
        if (!r->is_mcz)
            set_tensor(t, &(tensor_id){w->name, w->dtype, w->rank, w->dims, w->count, w->nbytes,
                                       w->nbytes});
        if (t->model_index >= 0)
            continue; /* a name in two scopes: the first */
        t->model_index = (long)i;
        t->location = location_of(w);
        t->external = w->external;
        t->graph = w->graph;
        t->field = w->field;
    }
    return TOOL_OK;
}

/* Report index of model weight i (-1 when the table does not hold it). */
static long tensor_of_weight(const inspect_report *r, size_t i)
{
    if (!r->is_mcz)
        return (long)i;
    return mcz_find(r->file, mcz_model_weight(r->model, i)->name);
}

/* Phase: QDQ weights (DequantizeLinear of codes): the codes' scheme and float bytes, which
 * tensors are scales and zero points; with INSPECT_VALUES their dequantized sparsity and SQNR. */
static int qdq_weights(inspect_report *r, unsigned what)
{
    mcz_model *m = r->model;
    mcz_qdq_weight *qw = NULL;
    size_t nq = 0;
    mcz_error err = {0};
    if (mcz_model_qdq_weights(m, &qw, &nq, &err) != MCZ_OK)
        return oom(r->path);
    r->qdq_count = nq;
    for (size_t k = 0; k < nq; k++) {
        const mcz_qdq_weight *q = &qw[k];
        long c = tensor_of_weight(r, q->codes), s = tensor_of_weight(r, q->scale);
        long z = q->zero_point >= 0 ? tensor_of_weight(r, (size_t)q->zero_point) : -1;
        if (s >= 0)
            r->tensors[s].qdq_role = "scale";
        if (z >= 0)
            r->tensors[z].qdq_role = "zero point";
        if (c < 0)
            continue;
        inspect_tensor *t = &r->tensors[c];
        if (!t->quantized) /* an .mcz's own QPARAMS say the same */
            set_quant(t, q->dtype, q->axis, q->block_size, mcz_model_weight(m, q->scale)->name,
                      q->zero_point >= 0 ? mcz_model_weight(m, (size_t)q->zero_point)->name
                                         : NULL);
        t->float_dtype = q->scale_dtype;
        t->float_bytes = t->count * (q->scale_dtype == MCZ_DT_FLOAT ? 4 : 2);
        if (what & INSPECT_VALUES) {
            raw_sparsity(mcz_model_weight_data(m, q->codes, &err), t->dtype, t->count, t);
            quantized_values(m, q, t);
        }
    }
    free(qw);
    return TOOL_OK;
}

/* Phase: model facts: opsets, operators by count, then the tensors' locations, roles, QDQ
 * quantization and values. */
static int model_facts(inspect_report *r, unsigned what)
{
    mcz_error err = {0};
    mcz_model *m = r->model;
    mcz_model_get_info(m, &r->info);
    r->have_model = 1;
    r->opsets = calloc(r->info.opset_count ? r->info.opset_count : 1, sizeof *r->opsets);
    if (!r->opsets)
        return oom(r->path);
    for (size_t i = 0; i < r->info.opset_count; i++) {
        const char *d;
        mcz_model_opset(m, i, &d, &r->opsets[i].version);
        r->opsets[i].domain = *d ? d : "ai.onnx";
    }
    op_hist h = {0};
    mcz_model_for_each_node(m, count_op, &h);
    r->ops = h.ops;
    r->op_count = h.n;
    if (h.oom)
        return oom(r->path);
    qsort(r->ops, r->op_count, sizeof *r->ops, by_count);
    if (tensors_from_model(r) != TOOL_OK)
        return TOOL_FAIL;
    if (what & INSPECT_ROLES) {
        size_t nw = mcz_model_weight_count(m);
        mcz_weight_role *roles = calloc(nw ? nw : 1, sizeof *roles);
        if (!roles || mcz_model_weight_roles(m, roles, &err) != MCZ_OK) {
            free(roles);
            return roles ? tool_fail(&err) : oom(r->path);
        }
        for (size_t i = 0; i < nw; i++) {
            long k = tensor_of_weight(r, i);
            if (k >= 0 && roles[i].op != MCZ_ROLE_NONE) {
                r->tensors[k].role_op = mcz_role_name(roles[i].op);
                r->tensors[k].role_axis = roles[i].channel_axis;
            }
        }
        free(roles);
    }
    if (qdq_weights(r, what) != TOOL_OK)
        return TOOL_FAIL;
    if (what & INSPECT_VALUES) /* every other tensor: its stored values */
        for (size_t i = 0; i < r->tensor_count; i++) {
            inspect_tensor *t = &r->tensors[i];
            if (t->float_dtype < 0 && t->model_index >= 0)
                raw_sparsity(mcz_model_weight_data(m, (size_t)t->model_index, &err), t->dtype,
                             t->count, t);
        }
    return TOOL_OK;
}

/* Phase: totals and the groups by type, encoding and location. */
static void totals(inspect_report *r)
{
    for (size_t i = 0; i < r->tensor_count; i++) {
        const inspect_tensor *t = &r->tensors[i];
        uint64_t stored = t->shared ? 0 : t->stored_bytes;
        int d = t->dtype >= 0 && t->dtype < INSPECT_NTYPES ? t->dtype : 0;
        inspect_group *g[4] = {&r->by_type[d], NULL, NULL, NULL};
        if (r->is_mcz) {
            int e = 0;
            for (int k = 0; k < INSPECT_NENC; k++)
                if (strcmp(mcz_encoding_name(k), t->encoding) == 0)
                    e = k;
            g[1] = &r->by_encoding[e];
        }
        if (t->location >= 0)
            g[2] = &r->by_location[t->location];
        if (t->external)
            g[3] = &r->by_location[INSPECT_LOC_EXTERNAL];
        for (int k = 0; k < 4; k++)
            if (g[k]) {
                g[k]->tensor_count++;
                g[k]->parameter_count += t->count;
                g[k]->raw_bytes += t->raw_bytes;
                g[k]->stored_bytes += stored;
            }
        r->parameter_count += t->count;
        r->raw_bytes += t->raw_bytes;
        r->stored_bytes += stored;
        r->quantized_count += t->quantized;
        r->shared_count += t->shared;
        r->skeleton_count += t->in_skeleton;
    }
}

/* Phase: the partitions of an .mcz split by mcz-partition (docs/format.md 7a). */
static int partitions(inspect_report *r)
{
    size_t np = mcz_part_count(r->file);
    r->partitions = calloc(np ? np : 1, sizeof *r->partitions);
    if (!r->partitions)
        return oom(r->path);
    r->partition_count = np;
    for (size_t p = 0; p < np; p++) {
        const mcz_part_desc *d = mcz_part(r->file, p);
        r->partitions[p] = (inspect_partition){d->node_count, d->tensor_count, d->input_count,
                                               d->output_count, d->weight_bytes,
                                               d->skeleton_bytes, d->inputs, d->outputs};
    }
    return TOOL_OK;
}

int inspect_report_open(inspect_report *r, const char *path, unsigned what)
{
    mcz_error err = {0};
    memset(r, 0, sizeof *r);
    r->path = path;
    r->bad_tensor = -1;
    struct stat st;
    r->file_bytes = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
    /* the container: table, partitions, verification */
    r->is_mcz = tool_is_mcz_file(path);
    if (r->is_mcz) {
        if (!(r->file = mcz_open(path, &err)))
            return tool_fail(&err);
        r->format_version = mcz_format_version(r->file);
        if (tensors_from_mcz(r) != TOOL_OK || partitions(r) != TOOL_OK)
            return TOOL_FAIL;
        if (what & INSPECT_VERIFY) {
            r->verified = 1;
            r->verify_ok = mcz_verify(r->file, 0, &r->bad_tensor, &r->verify_error) == MCZ_OK;
        }
        if (r->verified && !r->verify_ok) { /* damaged: the model would not load */
            totals(r);
            return TOOL_OK;
        }
    }
    /* the model: ONNX always, an .mcz's when asked */
    if (!r->is_mcz || (what & (INSPECT_MODEL | INSPECT_ROLES | INSPECT_VALUES))) {
        if (!(r->model = tool_read_model(path, &err)))
            return tool_fail(&err);
        if (model_facts(r, what) != TOOL_OK)
            return TOOL_FAIL;
    }
    totals(r);
    return TOOL_OK;
}

void inspect_report_free(inspect_report *r)
{
    free(r->tensors);
    free(r->opsets);
    free(r->ops);
    free(r->partitions);
    mcz_model_free(r->model);
    mcz_close(r->file);
    memset(r, 0, sizeof *r);
}

long inspect_report_find(const inspect_report *r, const char *name)
{
    long i = r->is_mcz ? mcz_find(r->file, name) : mcz_model_find_weight(r->model, name);
    if (i >= 0)
        return i;
    size_t n = r->tensor_count, idx[3], k;
    const char **names = malloc((n ? n : 1) * sizeof *names);
    char list[512] = "";
    if (names) {
        for (size_t j = 0; j < n; j++)
            names[j] = r->tensors[j].name;
        k = mcz_suggest(name, names, n, idx, 3);
        mcz_suggest_list(names, idx, k, list, sizeof list);
        free(names);
    }
    if (*list)
        tool_error(r->path, "no tensor '%s'; did you mean %s?", name, list);
    else
        tool_error(r->path, "no tensor '%s'", name);
    return -1;
}

/* ---- one tensor's values (--tensor) ------------------------------------------------------- */

int inspect_report_detail(const inspect_report *r, size_t i, inspect_detail *d)
{
    const inspect_tensor *t = &r->tensors[i];
    mcz_error err = {0};
    memset(d, 0, sizeof *d);
    if (t->in_skeleton || (!r->is_mcz && t->model_index < 0))
        return TOOL_OK;
    void *raw = NULL;
    const void *src;
    if (r->is_mcz) {
        src = raw = mcz_read_alloc(r->file, i, &err);
    } else {
        src = mcz_model_weight_data(r->model, (size_t)t->model_index, &err);
    }
    float *v = src ? malloc(t->count ? t->count * sizeof *v : 1) : NULL;
    if (!src || !v) {
        free(raw);
        return src ? oom(r->path) : tool_fail(&err);
    }
    /* the stored values (the codes, for quantized ones) */
    if (mcz_values_to_f32(t->dtype, src, t->count, v, &err) == MCZ_OK) {
        mcz_tensor_stats_f32(v, t->count, t->quantized ? &d->codes : &d->stats);
        *(t->quantized ? &d->have_codes : &d->have_stats) = 1;
        d->zero_count = t->quantized ? d->codes.zeros : d->stats.zeros;
    }
    free(raw);
    /* the values ONNX Runtime computes: (code - zero point) x scale */
    if (t->quantized && r->is_mcz) {
        if (mcz_read_f32(r->file, i, v, (size_t)t->count, &err) != MCZ_OK) {
            free(v);
            return tool_fail(&err);
        }
        mcz_tensor_stats_f32(v, t->count, &d->stats);
        d->have_stats = 1;
    }
    free(v);
    return TOOL_OK;
}
