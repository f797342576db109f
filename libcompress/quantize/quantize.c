/* quantize.c - the model-level quantization pass (see mcz/quantize.h).
 *
 * 1. pick the weights (roles, type, --min-elements, --exclude) and check everything that can
 *    be checked before any work: parameters, patterns, whether the opset can be raised;
 * 2. quantize them on a pool of threads, one weight at a time, largest first (each weight's
 *    result depends on nothing but its values and the parameters, so the output does not
 *    depend on the thread count); the pages of a quantized weight's float values are released
 *    as soon as it is done, which keeps the peak memory near the size of the codes;
 * 3. rewrite the quantized weights in QDQ form, in weight-table order. */
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mcz/opset.h"
#include "mcz/qdq.h"
#include "mcz/quantize.h"
#include "mcz/roles.h"
#include "mcz/suggest.h"
#include "onnx/qproto.h"
#include "parallel.h"

mcz_quantize_params mcz_quantize_default_params(void)
{
    mcz_quantize_params p;
    memset(&p, 0, sizeof p);
    p.bits = 8;
    p.granularity = MCZ_QGRAN_CHANNEL;
    p.block_size = 32;
    p.asymmetric = false;
    p.method = MCZ_QMETHOD_DEFAULT; /* minmax at 8 bits (ONNX Runtime's codes), weighted at 4 */
    p.mixed = false;
    p.target_sqnr_db = 0;
    p.min_elements = 1024;
    p.threads = 0;
    return p;
}

const char *mcz_qgranularity_name(mcz_qgranularity g)
{
    switch (g) {
    case MCZ_QGRAN_TENSOR: return "tensor";
    case MCZ_QGRAN_CHANNEL: return "channel";
    case MCZ_QGRAN_BLOCK: return "block";
    default: return "?";
    }
}

const char *mcz_qmethod_name(mcz_qmethod m)
{
    return m == MCZ_QMETHOD_MINMAX     ? "minmax"
           : m == MCZ_QMETHOD_MSE      ? "mse"
           : m == MCZ_QMETHOD_WEIGHTED ? "weighted"
           : m == MCZ_QMETHOD_DEFAULT  ? "default"
                                       : "?";
}

static mcz_status check_params(const mcz_quantize_params *p, mcz_error *err)
{
    if (p->bits != 8 && p->bits != 4)
        return mcz_seterr(err, MCZ_ERR_ARG, "--bits must be 8 or 4, not %d", p->bits);
    if (p->granularity != MCZ_QGRAN_TENSOR && p->granularity != MCZ_QGRAN_CHANNEL &&
        p->granularity != MCZ_QGRAN_BLOCK)
        return mcz_seterr(err, MCZ_ERR_ARG, "unknown granularity %d", (int)p->granularity);
    if (p->granularity == MCZ_QGRAN_BLOCK &&
        (p->block_size < MCZ_QBLOCK_MIN || p->block_size > MCZ_QBLOCK_MAX))
        return mcz_seterr(err, MCZ_ERR_ARG, "--block-size %u is outside %d..%d", p->block_size,
                          MCZ_QBLOCK_MIN, MCZ_QBLOCK_MAX);
    if (p->method != MCZ_QMETHOD_MSE && p->method != MCZ_QMETHOD_MINMAX &&
        p->method != MCZ_QMETHOD_WEIGHTED && p->method != MCZ_QMETHOD_DEFAULT)
        return mcz_seterr(err, MCZ_ERR_ARG, "unknown method %d", (int)p->method);
    if (p->mixed && !isfinite(p->target_sqnr_db))
        return mcz_seterr(err, MCZ_ERR_ARG, "--target-sqnr must be a number of dB");
    for (size_t k = 0; k < p->nexclude; k++)
        if (!p->exclude[k] || !*p->exclude[k])
            return mcz_seterr(err, MCZ_ERR_ARG, "--exclude needs a pattern");
    return MCZ_OK;
}

/* ---- --exclude ------------------------------------------------------------------------------ */

typedef struct namelist {
    const char **v;
    size_t n, cap;
} namelist;

static mcz_status names_of_nodes(namelist *l, const Onnx__GraphProto *g, mcz_error *err)
{
    mcz_status s = MCZ_OK;
    for (size_t i = 0; i < g->n_node && !s; i++) {
        const Onnx__NodeProto *n = g->node[i];
        if (n->name && *n->name) {
            if (!(s = mcz_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v, err)))
                l->v[l->n++] = n->name;
        }
        for (size_t a = 0; a < n->n_attribute && !s; a++) {
            const Onnx__AttributeProto *at = n->attribute[a];
            if (at->g)
                s = names_of_nodes(l, at->g, err);
            for (size_t k = 0; k < at->n_graphs && !s; k++)
                if (at->graphs[k])
                    s = names_of_nodes(l, at->graphs[k], err);
        }
    }
    return s;
}

static bool matches(const char *pattern, const char *name)
{
    return name && *name && fnmatch(pattern, name, 0) == 0;
}

/* Every pattern must match a weight or node name; else MCZ_ERR_NOT_FOUND with suggestions. */
static mcz_status check_patterns(const mcz_model *m, const mcz_quantize_params *p,
                                 mcz_error *err)
{
    if (!p->nexclude)
        return MCZ_OK;
    namelist l = {0};
    mcz_status s = MCZ_OK;
    for (size_t i = 0; i < m->nw && !s; i++)
        if (!(s = mcz_grow((void **)&l.v, &l.cap, l.n + 1, sizeof *l.v, err)))
            l.v[l.n++] = m->w[i].pub.name;
    if (!s && m->proto->graph)
        s = names_of_nodes(&l, m->proto->graph, err);
    for (size_t k = 0; k < p->nexclude && !s; k++) {
        bool hit = false;
        for (size_t i = 0; i < l.n && !hit; i++)
            hit = matches(p->exclude[k], l.v[i]);
        if (hit)
            continue;
        size_t idx[4];
        size_t ns = mcz_suggest(p->exclude[k], l.v, l.n, idx, 4);
        char list[400];
        mcz_suggest_list(l.v, idx, ns, list, sizeof list);
        s = mcz_seterr(err, MCZ_ERR_NOT_FOUND,
                       "%s: --exclude '%s' matches no weight or node name%s%s%s", m->path,
                       p->exclude[k], ns ? " (did you mean " : "", list, ns ? "?)" : "");
    }
    free(l.v);
    return s;
}

static bool excluded(const mcz_quantize_params *p, const mcz_weight *w,
                     const mcz_weight_role *r)
{
    for (size_t k = 0; k < p->nexclude; k++)
        if (matches(p->exclude[k], w->name) || matches(p->exclude[k], w->node) ||
            matches(p->exclude[k], r->node))
            return true;
    return false;
}

/* ---- the work ------------------------------------------------------------------------------- */

typedef struct job {
    size_t weight;
    size_t row;               /* its row in the report */
    const uint8_t *data;
    int32_t dtype;
    int rank;
    const int64_t *dims;
    uint64_t count, nbytes;
    int channel_axis, reduce_axis;
    mcz_role_op op;
    const void *transpose;    /* the role's Transpose to fold: codes stored transposed */
    bool embedding;           /* a Gather reads it */
    size_t order;             /* its consumer's place in graph order */
    const char *sensitive;    /* moved up to 8 bits by keep_sensitive: why */
    /* results */
    int axis;                 /* the scheme's axis in the weight's own layout */
    mcz_qmethod method;       /* the scheme's method */
    mcz_qtensor q;            /* codes == NULL: stays float */
    double sqnr, sqnr_lower;
    const char *kept;         /* why it stays float */
    mcz_status st;
    mcz_error err;
} job;

typedef struct pool {
    const mcz_model *m;
    const mcz_quantize_params *p;
    job *jobs;
    size_t *order;            /* largest first */
    size_t n;
} pool;

/* The axis blocks run along: the reduction axis when it holds a block; for a convolution,
 * whose reduction also runs over the kernel, else its longest kernel axis that holds one
 * (a depthwise STFT basis [258, 1, 256]: along the 256); else -1 (per channel instead: blocks
 * of a few elements, each with its own scale, would cost more than they save). */
static int block_axis(const job *j, uint32_t bs)
{
    if (j->dims[j->reduce_axis] >= (int64_t)bs)
        return j->reduce_axis;
    int best = -1;
    if (j->op == MCZ_ROLE_CONV || j->op == MCZ_ROLE_CONV_TRANSPOSE)
        for (int a = 2; a < j->rank; a++)
            if (j->dims[a] >= (int64_t)bs && (best < 0 || j->dims[a] > j->dims[best]))
                best = a;
    return best;
}

static mcz_qscheme scheme_for(const job *j, int bits, mcz_qgranularity g,
                              const mcz_quantize_params *p)
{
    int baxis = g == MCZ_QGRAN_BLOCK ? block_axis(j, p->block_size) : -1;
    if (g == MCZ_QGRAN_BLOCK && baxis < 0)
        g = MCZ_QGRAN_CHANNEL;
    mcz_qscheme s = {bits, p->asymmetric, g, -1, p->block_size, mcz_qmethod_for_bits(p->method, bits),
                     false};
    s.axis = g == MCZ_QGRAN_CHANNEL ? j->channel_axis : g == MCZ_QGRAN_BLOCK ? baxis : -1;
    /* block scales are a sizeable part of the bytes (32 bits per block of 32): keep them
       float16-exact so a container can halve them losslessly (docs/quantize.md) */
    s.f16_scales = g == MCZ_QGRAN_BLOCK;
    return s;
}

/* The codes of q at element i of its raw layout (int4: nibbles, low first). */
static inline unsigned get4(const uint8_t *b, uint64_t i)
{
    return (b[i >> 1] >> ((i & 1) * 4)) & 15u;
}

static inline void put4(uint8_t *b, uint64_t i, unsigned v)
{
    b[i >> 1] = (uint8_t)(b[i >> 1] | (v & 15u) << ((i & 1) * 4));
}

/* Transpose an [R, C] raw tensor of one-byte or int4 elements into a new buffer. */
static uint8_t *transpose_raw(const uint8_t *in, uint64_t R, uint64_t C, bool four,
                              uint64_t *bytes)
{
    *bytes = four ? (R * C + 1) / 2 : R * C;
    uint8_t *out = calloc(*bytes ? *bytes : 1, 1);
    if (!out)
        return NULL;
    for (uint64_t r = 0; r < R; r++)
        for (uint64_t c = 0; c < C; c++) {
            if (four)
                put4(out, c * R + r, get4(in, r * C + c));
            else
                out[c * R + r] = in[r * C + c];
        }
    return out;
}

static void transpose_floats(float *v, uint64_t R, uint64_t C, float *tmp)
{
    for (uint64_t r = 0; r < R; r++)
        for (uint64_t c = 0; c < C; c++)
            tmp[c * R + r] = v[r * C + c];
    memcpy(v, tmp, (size_t)(R * C) * sizeof *v);
}

/* q of a 2-D weight [R, C] becomes the quantization of its transpose [C, R]: codes, scales
 * and zero points move; the axis swaps. */
static mcz_status transpose_2d(mcz_qtensor *q, mcz_error *err)
{
    bool four = q->dtype == MCZ_DT_INT4 || q->dtype == MCZ_DT_UINT4;
    uint64_t R = (uint64_t)q->dims[0], C = (uint64_t)q->dims[1], nb;
    uint8_t *codes = transpose_raw(q->codes, R, C, four, &nb);
    uint8_t *zp = NULL;
    float *tmp = malloc((q->nscales ? q->nscales : 1) * sizeof *tmp);
    uint64_t SR = q->scale_rank == 2 ? (uint64_t)q->scale_dims[0] : 0;
    uint64_t SC = q->scale_rank == 2 ? (uint64_t)q->scale_dims[1] : 0, zb = 0;
    if (codes && tmp && q->zero_points && q->scale_rank == 2)
        zp = transpose_raw(q->zero_points, SR, SC, four, &zb);
    if (!codes || !tmp || (q->zero_points && q->scale_rank == 2 && !zp)) {
        free(codes);
        free(zp);
        free(tmp);
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    }
    free(q->codes);
    q->codes = codes;
    q->codes_bytes = nb;
    q->dims[0] = (int64_t)C;
    q->dims[1] = (int64_t)R;
    if (q->scale_rank == 2) { /* blocked: the scales are [R, C/B] or [R/B, C] */
        transpose_floats(q->scales, SR, SC, tmp);
        q->scale_dims[0] = (int64_t)SC;
        q->scale_dims[1] = (int64_t)SR;
        if (zp) {
            free(q->zero_points);
            q->zero_points = zp;
            q->zp_bytes = zb;
        }
    }
    free(tmp);
    if (q->axis >= 0)
        q->axis = 1 - q->axis;
    return MCZ_OK;
}

static void finish_job(const pool *pl, job *j, const mcz_qscheme *s);

static void run_job(const pool *pl, job *j)
{
    const mcz_quantize_params *p = pl->p;
    mcz_qscheme s = scheme_for(j, p->bits, p->granularity, p);
    j->sqnr = j->sqnr_lower = NAN;
    if (mcz_find_nonfinite(j->data, j->dtype, j->count) >= 0) {
        j->kept = "holds NaN or infinite values";
        return;
    }
    j->st = mcz_quantize_tensor(j->data, j->dtype, j->rank, j->dims, &s, &j->q, &j->err);
    if (j->st)
        return;
    j->sqnr = mcz_sqnr_db(j->q.signal, j->q.noise);
    if (p->mixed && j->sqnr < p->target_sqnr_db && s.bits == 4) {
        j->sqnr_lower = j->sqnr;
        mcz_qtensor_free(&j->q);
        mcz_qgranularity g = p->granularity == MCZ_QGRAN_BLOCK ? MCZ_QGRAN_CHANNEL : p->granularity;
        s = scheme_for(j, 8, g, p);
        j->st = mcz_quantize_tensor(j->data, j->dtype, j->rank, j->dims, &s, &j->q, &j->err);
        if (j->st)
            return;
        j->sqnr = mcz_sqnr_db(j->q.signal, j->q.noise);
    }
    if (p->mixed && j->sqnr < p->target_sqnr_db) {
        j->sqnr_lower = j->sqnr;
        j->sqnr = NAN;
        mcz_qtensor_free(&j->q);
        j->kept = "below --target-sqnr even at 8 bits";
        return;
    }
    finish_job(pl, j, &s);
}

/* A job quantized under s: what the report and the rewrite need, then the float pages go. */
static void finish_job(const pool *pl, job *j, const mcz_qscheme *s)
{
    j->axis = j->q.axis;
    j->method = s->method;
    if (j->transpose && (j->st = transpose_2d(&j->q, &j->err)))
        return;
    mcz_model_release_pages(pl->m, j->data, j->nbytes);
}

/* keep_sensitive: job j again at 8 bits (per channel, or as the granularity asks). */
static void run_sensitive(const pool *pl, job *j)
{
    const mcz_quantize_params *p = pl->p;
    mcz_qgranularity g = p->granularity == MCZ_QGRAN_BLOCK ? MCZ_QGRAN_CHANNEL : p->granularity;
    mcz_qscheme s = scheme_for(j, 8, g, p);
    j->sqnr_lower = j->sqnr;
    mcz_qtensor_free(&j->q);
    j->st = mcz_quantize_tensor(j->data, j->dtype, j->rank, j->dims, &s, &j->q, &j->err);
    if (j->st)
        return;
    j->sqnr = mcz_sqnr_db(j->q.signal, j->q.noise);
    finish_job(pl, j, &s);
}

static void worker(void *arg, size_t k, unsigned tid)
{
    pool *pl = arg;
    job *j = &pl->jobs[pl->order[k]];
    (void)tid;
    bool again = j->sensitive != NULL; /* the second pass: counted in the first */
    if (again)
        run_sensitive(pl, j);
    else
        run_job(pl, j);
    if (pl->p->progress && !again)
        pl->p->progress(pl->p->progress_ctx, 1, j->nbytes);
}

/* Largest first (ties: weight-table order), so the last weights to finish are small. */
typedef struct order_key {
    uint64_t count;
    size_t weight, job;
} order_key;

static int by_size_desc(const void *a, const void *b)
{
    const order_key *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return x->weight < y->weight ? -1 : x->weight > y->weight;
}

static mcz_status run_pool(pool *pl, int threads, mcz_error *err)
{
    if (!(pl->order = malloc((pl->n ? pl->n : 1) * sizeof *pl->order)))
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    order_key *keys = malloc((pl->n ? pl->n : 1) * sizeof *keys);
    if (!keys)
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < pl->n; i++)
        keys[i] = (order_key){pl->jobs[i].count, pl->jobs[i].weight, i};
    qsort(keys, pl->n, sizeof *keys, by_size_desc);
    for (size_t i = 0; i < pl->n; i++)
        pl->order[i] = keys[i].job;
    free(keys);
    mcz_parallel_for(pl->n, (unsigned)threads, worker, pl); /* this thread works too */
    return MCZ_OK;
}

/* ---- the report ------------------------------------------------------------------------------ */

/* Copy the rows' strings into one buffer owned by the report (the model's change). */
static mcz_status intern_strings(mcz_quantize_report *r, mcz_error *err)
{
    size_t total = 1;
    for (size_t i = 0; i < r->n; i++)
        total += strlen(r->w[i].name) + strlen(r->w[i].op_type) + 2;
    if (!(r->strings = malloc(total)))
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    char *p = r->strings;
    for (size_t i = 0; i < r->n; i++) {
        size_t a = strlen(r->w[i].name) + 1, b = strlen(r->w[i].op_type) + 1;
        memcpy(p, r->w[i].name, a);
        r->w[i].name = p;
        p += a;
        memcpy(p, r->w[i].op_type, b);
        r->w[i].op_type = p;
        p += b;
    }
    return MCZ_OK;
}

static mcz_status add_row(mcz_quantize_report *r, size_t *cap, const mcz_weight *w,
                          const char *op, mcz_error *err)
{
    mcz_status s = mcz_grow((void **)&r->w, cap, r->n + 1, sizeof *r->w, err);
    if (s)
        return s;
    mcz_quantize_result *x = &r->w[r->n++];
    memset(x, 0, sizeof *x);
    x->name = w->name;
    x->op_type = op ? op : "";
    x->rank = w->rank;
    for (int d = 0; d < w->rank; d++)
        x->dims[d] = w->dims[d];
    x->dtype = w->dtype;
    x->axis = -1;
    x->sqnr_db = x->sqnr_lower_db = NAN;
    x->count = w->count;
    x->bytes_before = x->bytes_after = w->nbytes;
    return MCZ_OK;
}

void mcz_quantize_report_free(mcz_quantize_report *r)
{
    if (!r)
        return;
    free(r->w);
    free(r->strings);
    free(r);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The opset the requested scheme needs (for the early check). */
static int64_t opset_for(const mcz_quantize_params *p)
{
    if (p->bits == 4 || p->granularity == MCZ_QGRAN_BLOCK)
        return 21;
    return p->granularity == MCZ_QGRAN_CHANNEL ? 13 : 10;
}

/* 1a. A report row for every weight input and every float tensor of --min-elements or more;
 * a job for each one that is quantized (a float weight input, not excluded, big enough); the
 * others say why not. */
static mcz_status list_candidates(const mcz_model *m, const mcz_quantize_params *p,
                                  const mcz_weight_role *roles, mcz_quantize_report *r,
                                  size_t *rcap, job *jobs, size_t *njobs, mcz_error *err)
{
    mcz_status s;
    for (size_t i = 0; i < m->nw; i++) {
        const mcz_weight *w = &m->w[i].pub;
        const mcz_weight_role *ro = &roles[i];
        if (!mcz_role_reported(ro, w, p->min_elements))
            continue;
        if ((s = add_row(r, rcap, w, ro->op_type, err)))
            return s;
        mcz_quantize_result *x = &r->w[r->n - 1];
        if (ro->op == MCZ_ROLE_NONE)
            x->skipped = ro->why_not;
        else if (!mcz_dtype_is_float(w->dtype))
            x->skipped = "not floating point";
        else if (excluded(p, w, ro))
            x->skipped = "excluded by --exclude";
        else if (w->count < p->min_elements || w->count == 0)
            x->skipped = "fewer elements than --min-elements";
        if (x->skipped)
            continue;
        jobs[(*njobs)++] = (job){.weight = i, .row = r->n - 1, .dtype = w->dtype,
                                 .rank = w->rank, .dims = w->dims, .count = w->count,
                                 .nbytes = w->nbytes, .channel_axis = ro->channel_axis,
                                 .reduce_axis = ro->reduce_axis, .op = ro->op,
                                 .transpose = ro->transpose, .embedding = ro->embedding,
                                 .order = ro->order};
    }
    return MCZ_OK;
}

/* 1b. A row for each weight the model already holds quantized (a DequantizeLinear of codes). */
static mcz_status list_already(const mcz_model *m, const mcz_qdq_weight *qw, size_t nqw,
                               mcz_quantize_report *r, size_t *rcap, mcz_error *err)
{
    mcz_status s;
    for (size_t k = 0; k < nqw; k++) {
        const mcz_qdq_weight *q = &qw[k];
        const mcz_weight *wc = &m->w[q->codes].pub;
        mcz_weight shown = *wc;
        shown.name = q->name;
        shown.dtype = q->scale_dtype;
        if ((s = add_row(r, rcap, &shown, "", err)))
            return s;
        mcz_quantize_result *x = &r->w[r->n - 1];
        x->already = true;
        x->bits = q->bits;
        x->granularity = q->granularity;
        x->axis = q->axis;
        x->block_size = q->block_size;
        x->asymmetric = q->dtype == MCZ_DT_UINT8 || q->dtype == MCZ_DT_UINT4;
        uint64_t zp = q->zero_point >= 0 ? m->w[q->zero_point].pub.nbytes : 0;
        x->bytes_before = x->bytes_after = wc->nbytes + m->w[q->scale].pub.nbytes + zp;
        r->already++;
    }
    return MCZ_OK;
}

/* 2. Every job on the pool of threads; the first failure in weight order is the error. */
static int by_sqnr(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* keep_sensitive: mark the 4-bit jobs a data-free rule keeps at 8 bits (embeddings and tied
 * heads, the first and the last weight layers in graph order, and the weights whose SQNR is
 * more than MCZ_SENSITIVE_DB below the median). Returns how many. */
static size_t mark_sensitive(job *jobs, size_t njobs)
{
    double *sq = malloc((njobs ? njobs : 1) * sizeof *sq);
    size_t n4 = 0, first = SIZE_MAX, last = SIZE_MAX;
    for (size_t k = 0; k < njobs; k++) {
        const job *j = &jobs[k];
        if (!j->q.codes || (j->q.dtype != MCZ_DT_INT4 && j->q.dtype != MCZ_DT_UINT4))
            continue;
        if (sq && isfinite(j->sqnr))
            sq[n4++] = j->sqnr;
        if (first == SIZE_MAX || j->order < jobs[first].order)
            first = k;
        if (last == SIZE_MAX || j->order > jobs[last].order)
            last = k;
    }
    double median = NAN;
    if (sq && n4) {
        qsort(sq, n4, sizeof *sq, by_sqnr);
        median = n4 % 2 ? sq[n4 / 2] : 0.5 * (sq[n4 / 2 - 1] + sq[n4 / 2]);
    }
    free(sq);
    size_t marked = 0;
    for (size_t k = 0; k < njobs; k++) {
        job *j = &jobs[k];
        if (!j->q.codes || (j->q.dtype != MCZ_DT_INT4 && j->q.dtype != MCZ_DT_UINT4))
            continue;
        if (j->embedding)
            j->sensitive = "an embedding";
        else if (k == first)
            j->sensitive = "the first weight layer";
        else if (k == last)
            j->sensitive = "the last weight layer";
        else if (isfinite(median) && j->sqnr < median - MCZ_SENSITIVE_DB)
            j->sensitive = "4-bit SQNR far below the model's median";
        marked += j->sensitive != NULL;
    }
    return marked;
}

static mcz_status quantize_jobs(mcz_model *m, const mcz_quantize_params *p, job *jobs,
                                size_t njobs, mcz_quantize_report *r, mcz_error *err)
{
    for (size_t k = 0; k < njobs; k++) /* the values, read (or converted) before the threads */
        if (!(jobs[k].data = mcz_model_weight_data(m, jobs[k].weight, err)))
            return err ? err->code : MCZ_ERR_NOMEM;
    int threads = (int)mcz_thread_count(p->threads, njobs);
    r->threads = threads;
    pool pl = {m, p, jobs, NULL, njobs};
    mcz_status s = run_pool(&pl, threads, err);
    free(pl.order);
    pl.order = NULL;
    size_t nsens = 0;
    if (!s && p->keep_sensitive && p->bits == 4)
        nsens = mark_sensitive(jobs, njobs);
    if (!s && nsens) { /* the sensitive ones again at 8 bits, on the pool */
        job *sj = malloc(nsens * sizeof *sj);
        if (!sj)
            return NOMEM(err);
        size_t n = 0;
        for (size_t k = 0; k < njobs; k++)
            if (jobs[k].sensitive)
                sj[n++] = jobs[k];
        pool sp = {m, p, sj, NULL, n};
        s = run_pool(&sp, (int)mcz_thread_count(p->threads, n), err);
        free(sp.order);
        for (size_t k = 0, i = 0; k < njobs; k++)
            if (jobs[k].sensitive)
                jobs[k] = sj[i++];
        free(sj);
    }
    for (size_t k = 0; k < njobs && !s; k++)
        if (jobs[k].st)
            s = mcz_seterr(err, jobs[k].st, "%s: weight '%s': %s", m->path,
                           m->w[jobs[k].weight].pub.name, jobs[k].err.msg);
    return s;
}

/* 3. Each job's result into its report row and the totals; the quantized ones become edits
 * for the rewrite (edits: room for njobs). Returns their count. */
static size_t report_jobs(job *jobs, size_t njobs,
                          mcz_quantize_report *r, mcz_qdq_edit *edits)
{
    size_t nedits = 0;
    for (size_t k = 0; k < njobs; k++) {
        job *j = &jobs[k];
        mcz_quantize_result *x = &r->w[j->row];
        x->sqnr_db = j->sqnr;
        x->sqnr_lower_db = j->sqnr_lower;
        x->sensitive = j->sensitive;
        if (!j->q.codes) {
            x->skipped = j->kept;
            continue;
        }
        x->bits = j->q.dtype == MCZ_DT_INT4 || j->q.dtype == MCZ_DT_UINT4 ? 4 : 8;
        x->granularity = j->q.granularity;
        x->axis = j->axis;
        x->block_size = j->q.block_size;
        x->asymmetric = j->q.dtype == MCZ_DT_UINT8 || j->q.dtype == MCZ_DT_UINT4;
        x->method = j->method;
        x->bytes_after = j->q.codes_bytes + j->q.nscales * sizeof(float) + j->q.zp_bytes;
        r->quantized++;
        r->at_bits[x->bits]++;
        r->bytes_before += x->bytes_before;
        r->bytes_after += x->bytes_after;
        r->signal += j->q.signal;
        r->noise += j->q.noise;
        edits[nedits++] = (mcz_qdq_edit){j->weight, &j->q, j->transpose};
    }
    for (size_t i = 0; i < r->n; i++)
        if (r->w[i].skipped)
            r->skipped++;
    return nedits;
}

mcz_status mcz_quantize_model(mcz_model *m, const mcz_quantize_params *p,
                              mcz_quantize_report **report, mcz_error *err)
{
    if (report)
        *report = NULL;
    mcz_status s = check_params(p, err);
    if (s)
        return s;
    if ((s = check_patterns(m, p, err)))
        return s;
    size_t nw = m->nw, rcap = 0, njobs = 0, nqw = 0;
    mcz_weight_role *roles = calloc(nw ? nw : 1, sizeof *roles);
    job *jobs = calloc(nw ? nw : 1, sizeof *jobs);
    mcz_qdq_edit *edits = calloc(nw ? nw : 1, sizeof *edits);
    mcz_quantize_report *r = calloc(1, sizeof *r);
    mcz_qdq_weight *qw = NULL;
    if (!roles || !jobs || !edits || !r) {
        s = NOMEM(err);
        goto out;
    }
    if ((s = mcz_model_weight_roles(m, roles, err)) ||
        (s = mcz_model_qdq_weights(m, &qw, &nqw, err)))
        goto out;
    r->opset_before = r->opset_after = mcz_model_opset_version(m, "");
    r->ir_before = r->ir_after = m->proto->ir_version;
    for (size_t i = 0; i < nw; i++)
        r->model_bytes_before += m->w[i].pub.nbytes;

    /* 1. the candidates and the weights already quantized */
    if ((s = list_candidates(m, p, roles, r, &rcap, jobs, &njobs, err)) ||
        (s = list_already(m, qw, nqw, r, &rcap, err)))
        goto out;
    /* nothing can fail later for want of an opset conversion */
    if (njobs && (s = mcz_qp_opset_check(m, opset_for(p), err)))
        goto out;

    /* 2. quantize */
    double t0 = now();
    if ((s = quantize_jobs(m, p, jobs, njobs, r, err)))
        goto out;

    /* 3. the report rows, then the rewrite */
    size_t nedits = report_jobs(jobs, njobs, r, edits);
    if ((s = intern_strings(r, err)))
        goto out;
    if (nedits && (s = mcz_model_qdq_rewrite(m, edits, nedits, err)))
        goto out;
    r->seconds = now() - t0;
    r->opset_after = mcz_model_opset_version(m, "");
    r->ir_after = m->proto->ir_version;
    for (size_t i = 0; i < m->nw; i++)
        r->model_bytes_after += m->w[i].pub.nbytes;
out:
    for (size_t k = 0; k < njobs; k++)
        mcz_qtensor_free(&jobs[k].q);
    free(edits);
    free(jobs);
    free(roles);
    free(qw);
    if (s || !report)
        mcz_quantize_report_free(r);
    else
        *report = r;
    return s;
}
