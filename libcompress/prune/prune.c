/* prune.c - magnitude pruning: the API and the model pass (see mcz/prune.h, docs/prune.md;
 * prune_impl.h says what the other files of this folder hold).
 *
 * 1. check the parameters, and that every --exclude pattern matches a weight or a node;
 * 2. pick the candidates (role, type, --exclude, --min-elements, the pattern's axis); every
 *    other weight that feeds a supported op goes into the report with the reason;
 * 3. read the candidates' values in this thread, then prune them: the tensor scope one job a
 *    weight on a pool of threads (below), the global scope with one threshold (global.c);
 * 4. add up the report. */
#include <fnmatch.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mcz/roles.h"
#include "mcz/suggest.h"
#include "parallel.h"
#include "prune/prune_impl.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- parameters ----------------------------------------------------------------------- */

mcz_prune_params mcz_prune_default_params(void)
{
    mcz_prune_params p;
    memset(&p, 0, sizeof p);
    p.pattern = MCZ_PRUNE_UNSTRUCTURED;
    p.scope = MCZ_PRUNE_SCOPE_TENSOR;
    return p;
}

mcz_status mcz_prune_parse_pattern(const char *s, mcz_prune_params *p, mcz_error *err)
{
    if (strcmp(s, "unstructured") == 0) {
        p->pattern = MCZ_PRUNE_UNSTRUCTURED;
        return MCZ_OK;
    }
    if (strcmp(s, "channel") == 0) {
        p->pattern = MCZ_PRUNE_CHANNEL;
        return MCZ_OK;
    }
    unsigned n = 0, m = 0;
    int used = 0;
    if (sscanf(s, "%u:%u%n", &n, &m, &used) == 2 && s[used] == '\0' && s[0] >= '0' &&
        s[0] <= '9') {
        if (n < 1 || n >= m || m > MCZ_PRUNE_MAX_M)
            FAIL(MCZ_ERR_ARG, "pattern '%s': N:M needs 1 <= N < M <= %d", s, MCZ_PRUNE_MAX_M);
        p->pattern = MCZ_PRUNE_NM;
        p->nm_n = n;
        p->nm_m = m;
        return MCZ_OK;
    }
    FAIL(MCZ_ERR_ARG, "unknown pattern '%s' (unstructured, N:M such as 2:4, or channel)", s);
}

const char *mcz_prune_pattern_str(const mcz_prune_params *p, char *buf, size_t cap)
{
    switch (p->pattern) {
    case MCZ_PRUNE_NM: snprintf(buf, cap, "%u:%u", p->nm_n, p->nm_m); break;
    case MCZ_PRUNE_CHANNEL: snprintf(buf, cap, "channel"); break;
    default: snprintf(buf, cap, "unstructured"); break;
    }
    return buf;
}

static mcz_status check_params(const mcz_prune_params *p, mcz_error *err)
{
    if (!(p->sparsity >= 0 && p->sparsity < 1))
        FAIL(MCZ_ERR_ARG, "sparsity %g is outside [0, 1)", p->sparsity);
    if (p->pattern == MCZ_PRUNE_NM &&
        (p->nm_n < 1 || p->nm_n >= p->nm_m || p->nm_m > MCZ_PRUNE_MAX_M))
        FAIL(MCZ_ERR_ARG, "N:M needs 1 <= N < M <= %d", MCZ_PRUNE_MAX_M);
    if (p->pattern != MCZ_PRUNE_UNSTRUCTURED && p->pattern != MCZ_PRUNE_NM &&
        p->pattern != MCZ_PRUNE_CHANNEL)
        FAIL(MCZ_ERR_ARG, "unknown pattern %d", (int)p->pattern);
    if (p->scope == MCZ_PRUNE_SCOPE_GLOBAL && p->pattern != MCZ_PRUNE_UNSTRUCTURED)
        FAIL(MCZ_ERR_ARG, "the global scope applies to unstructured pruning only");
    if (p->scope != MCZ_PRUNE_SCOPE_TENSOR && p->scope != MCZ_PRUNE_SCOPE_GLOBAL)
        FAIL(MCZ_ERR_ARG, "unknown scope %d", (int)p->scope);
    if (p->normalize && p->scope != MCZ_PRUNE_SCOPE_GLOBAL)
        FAIL(MCZ_ERR_ARG, "normalised magnitudes apply to the global scope only");
    return MCZ_OK;
}

/* ---- exclusion -------------------------------------------------------------------------- */

/* An --exclude pattern matches the weight's name or its consuming node's (when named). */
static bool exclude_matches(const char *pattern, const char *name, const char *node)
{
    return fnmatch(pattern, name, 0) == 0 || (node && *node && fnmatch(pattern, node, 0) == 0);
}

static bool excluded(const mcz_prune_params *p, const char *name, const char *node)
{
    for (size_t e = 0; e < p->nexclude; e++)
        if (exclude_matches(p->exclude[e], name, node))
            return true;
    return false;
}

/* The size from which a float tensor that is no weight input is listed (with its reason):
 * --min-elements, or 1024 (mcz-quantize's default) when that is lower. */
static uint64_t report_floor(const mcz_prune_params *p)
{
    return p->min_elements > 1024 ? p->min_elements : 1024;
}

/* Every --exclude pattern must match a weight or consuming node name; the error for one that
 * does not names the nearest names. */
static mcz_status check_excludes(mcz_model *m, const mcz_prune_params *p,
                                 const mcz_weight_role *roles, mcz_error *err)
{
    size_t nw = mcz_model_weight_count(m);
    for (size_t e = 0; e < p->nexclude; e++) {
        bool hit = false;
        for (size_t i = 0; i < nw && !hit; i++)
            hit = exclude_matches(p->exclude[e], mcz_model_weight(m, i)->name, roles[i].node);
        if (hit)
            continue;
        /* suggest among the names of weights that feed a supported op, then their nodes */
        const char **names = calloc(2 * nw + 1, sizeof *names);
        if (!names)
            return NOMEM(err);
        size_t nn = 0;
        for (size_t i = 0; i < nw; i++)
            if (mcz_role_reported(&roles[i], mcz_model_weight(m, i), report_floor(p)))
                names[nn++] = mcz_model_weight(m, i)->name;
        for (size_t i = 0; i < nw; i++)
            if (roles[i].op != MCZ_ROLE_NONE)
                names[nn++] = roles[i].node;
        size_t idx[3], k = mcz_suggest(p->exclude[e], names, nn, idx, 3);
        char list[400];
        mcz_suggest_list(names, idx, k, list, sizeof list);
        const char *pre = k ? " (did you mean " : "", *post = k ? "?)" : "";
        if (!k && nn) { /* nothing close: show what the names look like */
            idx[0] = 0;
            mcz_suggest_list(names, idx, 1, list, sizeof list);
            pre = " (prunable weights are named like ";
            post = ")";
        }
        mcz_status s = mcz_seterr(err, MCZ_ERR_NOT_FOUND,
                                  "%s: --exclude '%s' matches no weight or node%s%s%s",
                                  mcz_model_path(m), p->exclude[e], pre, list, post);
        free(names);
        return s;
    }
    return MCZ_OK;
}

/* ---- the tensor scope: one job a weight ------------------------------------------------- */

void mcz_prune_cand_fail(cand *c, mcz_status s, const char *what)
{
    c->st = s;
    size_t l = strnlen(what, sizeof c->msg - 1);
    memcpy(c->msg, what, l);
    c->msg[l] = '\0';
}

/* Apply `f` (float32 values after pruning) to a copy of the raw values of another dtype:
 * elements zero in f but not in the original become zero. */
static void *write_back(const uint8_t *raw, int32_t dtype, uint64_t count, uint64_t nbytes,
                        const float *f)
{
    uint8_t *out = malloc(nbytes ? nbytes : 1);
    if (!out)
        return NULL;
    memcpy(out, raw, nbytes);
    for (uint64_t s = 0; s < count; s += BUF_ELEMS) {
        size_t n = count - s < BUF_ELEMS ? (size_t)(count - s) : BUF_ELEMS;
        mcz_prune_store_zeros(out, raw, dtype, s, n, f + s);
    }
    return out;
}

void mcz_prune_replace(prune_ctx *x, cand *c, void *out)
{
    const mcz_weight *w = mcz_model_weight(x->m, c->w);
    mcz_error e = {0};
    pthread_mutex_lock(&x->lock);
    mcz_status s = mcz_model_weight_replace(x->m, c->w, w->dtype, w->rank, w->dims, out,
                                            w->nbytes, &e);
    pthread_mutex_unlock(&x->lock);
    if (s)
        mcz_prune_cand_fail(c, s, e.msg);
    mcz_model_release_pages(x->m, c->data, w->nbytes); /* the input's pages: done with */
}

/* The candidate's values as float32 (NULL: out of memory). For float32 the input's pages go
 * as their values are copied, so the weight is not held twice (the largest weight of a CNN
 * can be half the model). */
static float *tensor_values(prune_ctx *x, const cand *c, const mcz_weight *w)
{
    uint64_t n = w->count;
    float *f = malloc((n ? n : 1) * sizeof *f);
    if (!f)
        return NULL;
    for (uint64_t at = 0, step = (uint64_t)1 << 18; at < n; at += step) { /* 1 MiB */
        uint64_t len = n - at < step ? n - at : step;
        mcz_prune_load_f32(c->data, w->dtype, at, len, f + at);
        if (w->dtype == MCZ_DT_FLOAT)
            mcz_model_release_pages(x->m, c->data + at * 4, len * 4);
    }
    return f;
}

/* Run the pattern on f, the values of weight w; sets the target (and the channel count) of
 * r whether or not it succeeds. */
static mcz_status tensor_prune(const mcz_prune_params *p, const mcz_weight *w, int axis,
                               float *f, mcz_prune_result *r, mcz_prune_stats *st)
{
    uint64_t n = w->count;
    switch (p->pattern) {
    case MCZ_PRUNE_NM:
        r->target = mcz_prune_nm_target(w->rank, w->dims, axis, p->nm_n, p->nm_m);
        return mcz_prune_nm_f32(f, w->rank, w->dims, axis, p->nm_n, p->nm_m, st);
    case MCZ_PRUNE_CHANNEL: {
        uint64_t nch = (uint64_t)w->dims[axis];
        uint64_t k = mcz_prune_target(p->sparsity, nch);
        r->channels = nch;
        r->target = nch ? k * (n / nch) : 0;
        return mcz_prune_channel_f32(f, w->rank, w->dims, axis, k, st);
    }
    default:
        r->target = mcz_prune_target(p->sparsity, n);
        return mcz_prune_unstructured_f32(f, n, r->target, NULL, st);
    }
}

/* Prune candidate j; a weight in which something became zero is replaced. */
static void job_tensor_body(void *ctx, size_t j, unsigned tid)
{
    (void)tid;
    prune_ctx *x = ctx;
    cand *c = &x->c[j];
    const mcz_weight *w = mcz_model_weight(x->m, c->w);
    mcz_prune_result *r = c->r;
    float *f = tensor_values(x, c, w);
    if (!f) {
        mcz_prune_cand_fail(c, MCZ_ERR_NOMEM, "out of memory");
        return;
    }
    mcz_prune_stats st;
    mcz_status s = tensor_prune(x->p, w, c->axis, f, r, &st);
    if (s) {
        free(f);
        mcz_prune_cand_fail(c, s, s == MCZ_ERR_NOMEM ? "out of memory" : "bad axis");
        return;
    }
    r->zeros_before = st.zeros_before;
    r->zeros_after = st.zeros_after;
    r->channels_zeroed = st.channels_zeroed;
    r->threshold = st.threshold;
    r->rel_l2 = st.rel_l2;
    c->sumsq = st.sumsq;
    r->changed = st.zeros_after > st.zeros_before;
    if (!r->changed) {
        free(f);
        return;
    }
    void *out;
    if (w->dtype == MCZ_DT_FLOAT) {
        out = f;
    } else {
        out = write_back(c->data, w->dtype, w->count, w->nbytes, f);
        free(f);
        if (!out) {
            mcz_prune_cand_fail(c, MCZ_ERR_NOMEM, "out of memory");
            return;
        }
    }
    mcz_prune_replace(x, c, out);
}

static void job_tensor(void *ctx, size_t j, unsigned tid)
{
    prune_ctx *x = ctx;
    job_tensor_body(ctx, j, tid);
    if (x->p->progress)
        x->p->progress(x->p->progress_ctx, 1, mcz_model_weight(x->m, x->c[j].w)->nbytes);
}

/* ---- the model pass ------------------------------------------------------------------- */

/* Why weight w (role ro) stays as it is, or NULL when it is a candidate. */
static const char *skip_reason(const mcz_prune_params *p, const mcz_weight *w,
                               const mcz_weight_role *ro)
{
    if (ro->op == MCZ_ROLE_NONE)
        return ro->why_not;
    if (!mcz_dtype_is_float(w->dtype))
        return "not a floating-point weight";
    if (excluded(p, w->name, ro->node))
        return "excluded (--exclude)";
    if (w->count == 0)
        return "empty";
    if (w->count < p->min_elements)
        return "fewer elements than --min-elements";
    if (ro->embedding && !p->embeddings)
        return "an embedding (--embeddings prunes it)";
    if (p->pattern == MCZ_PRUNE_NM && ro->reduce_axis < 0)
        return "no reduction axis for N:M";
    if (p->pattern == MCZ_PRUNE_CHANNEL && ro->channel_axis < 0)
        return "no output-channel axis";
    return NULL;
}

/* A report entry for every weight that feeds a supported op, and a candidate (x->c) for
 * those that are not skipped. */
static void collect_candidates(prune_ctx *x, const mcz_weight_role *roles,
                               mcz_prune_report *rep)
{
    const mcz_prune_params *p = x->p;
    size_t nw = mcz_model_weight_count(x->m);
    for (size_t i = 0; i < nw; i++) {
        const mcz_weight_role *ro = &roles[i];
        const mcz_weight *w = mcz_model_weight(x->m, i);
        if (!mcz_role_reported(ro, w, report_floor(p)))
            continue;
        mcz_prune_result *r = &rep->w[rep->n++];
        r->weight = i;
        r->name = w->name;
        r->op_type = ro->op_type ? ro->op_type : "";
        r->count = w->count;
        r->axis = p->pattern == MCZ_PRUNE_NM ? ro->reduce_axis
                  : p->pattern == MCZ_PRUNE_CHANNEL ? ro->channel_axis : -1;
        r->skipped = skip_reason(p, w, ro);
        if (r->skipped)
            continue;
        cand *c = &x->c[x->nc++];
        c->w = i;
        c->r = r;
        c->axis = r->axis;
    }
}

/* The candidates' values, read in this thread (a typed-field weight is converted once,
 * here). */
static mcz_status read_values(prune_ctx *x, mcz_error *err)
{
    for (size_t j = 0; j < x->nc; j++)
        if (!(x->c[j].data = mcz_model_weight_data(x->m, x->c[j].w, err)))
            return err ? err->code : MCZ_ERR_NOMEM;
    return MCZ_OK;
}

/* Nothing to zero (sparsity 0, not N:M): only the zeros to count. */
static void count_zeros_only(prune_ctx *x)
{
    for (size_t j = 0; j < x->nc; j++) {
        cand *c = &x->c[j];
        const mcz_weight *w = mcz_model_weight(x->m, c->w);
        float buf[BUF_ELEMS];
        uint64_t zeros = 0;
        for (uint64_t s = 0; s < w->count; s += BUF_ELEMS) {
            size_t n = w->count - s < BUF_ELEMS ? (size_t)(w->count - s) : BUF_ELEMS;
            mcz_prune_load_f32(c->data, w->dtype, s, n, buf);
            zeros += mcz_prune_count_zeros(buf, n);
        }
        c->r->zeros_before = c->r->zeros_after = zeros;
        if (x->p->pattern == MCZ_PRUNE_CHANNEL)
            c->r->channels = (uint64_t)w->dims[c->axis];
    }
}

/* Prune the candidates as the scope says, timed into rep->seconds; then the first failure a
 * job recorded, if any. */
static mcz_status prune_candidates(prune_ctx *x, mcz_prune_report *rep, mcz_error *err)
{
    const mcz_prune_params *p = x->p;
    unsigned threads = mcz_thread_count(p->threads, MCZ_THREADS_MAX);
    double t0 = now_seconds();
    if (p->sparsity > 0 || p->pattern == MCZ_PRUNE_NM) {
        if (p->scope == MCZ_PRUNE_SCOPE_GLOBAL) {
            mcz_status s = mcz_prune_global(x, threads, rep, err);
            if (s)
                return s;
        } else {
            mcz_parallel_for(x->nc, threads, job_tensor, x);
        }
    } else {
        count_zeros_only(x);
    }
    rep->seconds = now_seconds() - t0;
    for (size_t j = 0; j < x->nc; j++)
        if (x->c[j].st)
            FAIL(x->c[j].st, "%s: weight '%s': %s", mcz_model_path(x->m), x->c[j].r->name,
                 x->c[j].msg);
    return MCZ_OK;
}

/* The report's totals over the pruned weights. */
static void report_totals(const prune_ctx *x, mcz_prune_report *rep)
{
    double removed = 0, total_sq = 0;
    for (size_t j = 0; j < x->nc; j++) {
        const mcz_prune_result *r = x->c[j].r;
        rep->pruned++;
        rep->count += r->count;
        rep->zeros_before += r->zeros_before;
        rep->zeros_after += r->zeros_after;
        if (x->p->scope != MCZ_PRUNE_SCOPE_GLOBAL) {
            rep->target += r->target;
            if (r->threshold > rep->threshold)
                rep->threshold = r->threshold;
        }
        rep->bytes += mcz_model_weight(x->m, r->weight)->nbytes;
        /* ||dW||^2 = rel^2 * ||W||^2, summed over weights */
        total_sq += x->c[j].sumsq;
        removed += r->rel_l2 * r->rel_l2 * x->c[j].sumsq;
    }
    rep->rel_l2 = total_sq > 0 ? sqrt(removed / total_sq) : 0;
}

void mcz_prune_report_free(mcz_prune_report *r)
{
    if (!r)
        return;
    free(r->w);
    free(r);
}

mcz_status mcz_prune_model(mcz_model *m, const mcz_prune_params *p, mcz_prune_report **report,
                           mcz_error *err)
{
    if (report)
        *report = NULL;
    mcz_status s = check_params(p, err);
    if (s)
        return s;
    size_t nw = mcz_model_weight_count(m);
    mcz_weight_role *roles = calloc(nw ? nw : 1, sizeof *roles);
    mcz_prune_report *rep = calloc(1, sizeof *rep);
    prune_ctx x;
    memset(&x, 0, sizeof x);
    x.m = m;
    x.p = p;
    pthread_mutex_init(&x.lock, NULL);
    if (!roles || !rep || !(rep->w = calloc(nw ? nw : 1, sizeof *rep->w)) ||
        !(x.c = calloc(nw ? nw : 1, sizeof *x.c))) {
        s = NOMEM(err);
        goto out;
    }
    if ((s = mcz_model_weight_roles(m, roles, err)) || (s = check_excludes(m, p, roles, err)))
        goto out;
    collect_candidates(&x, roles, rep);
    if ((s = read_values(&x, err)) || (s = prune_candidates(&x, rep, err)))
        goto out;
    report_totals(&x, rep);
    if (report) {
        *report = rep;
        rep = NULL;
    }
out:
    for (size_t j = 0; j < x.nc; j++)
        free(x.c[j].out);
    free(x.c);
    free(x.ch);
    free(x.hist);
    free(roles);
    mcz_prune_report_free(rep);
    pthread_mutex_destroy(&x.lock);
    return s;
}
