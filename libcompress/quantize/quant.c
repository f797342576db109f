/* quant.c - the weight quantizers on plain arrays (see mcz/quant.h, docs/quantize.md).
 *
 * A tensor is quantized group by group (a group shares one scale and zero point):
 *   - per-channel: the tensor seen as [P, C, Q] around the channel axis; channel c is every
 *     element (p, c, q). Groups are gathered a tile of channels at a time into a float buffer
 *     (one pass over the source, rows read contiguously whatever the axis).
 *   - block-wise: the tensor seen as [P, K, Q] around the block axis; block (p, b, q) is the
 *     elements (p, k, q) for k in [b*B, min(K, (b+1)*B)). Gathered a tile of q at a time.
 *   - per-tensor: one group, streamed from the source in chunks (never copied whole).
 * For every group the range comes from its min/max; with MCZ_QMETHOD_MSE the range is
 * shrunk by a clip ratio r found by a coarse grid (1.00, 0.95, ..., 0.50) then a finer one
 * around the best, all candidates evaluated in one pass over the group. r = 1 (min/max) is
 * always a candidate and the final choice is checked against it in double precision, so mse
 * is never worse than min/max. MCZ_QMETHOD_WEIGHTED weighs element i by rms(x) + |x_i| and
 * searches a grid of steps around the min/max one (and, asymmetric, the integer zero points
 * next to the rounded one), each with the weighted least-squares scale of its codes; the
 * min/max candidate is kept when it is not worse under that weighted error. A group is read
 * in chunks of CHUNK elements whether it is in memory or streamed, so both give the same
 * sums, hence the same result. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/quant.h"
#include "halffloat.h"
#include "onnx/model_impl.h"

/* Adding and subtracting 1.5 * 2^23 rounds a float of magnitude < 2^22 to the nearest
 * integer, ties to even (the default rounding mode), as QuantizeLinear rounds. Only applied to
 * values already clamped to the code range. */
#define ROUND_MAGIC 12582912.0f

static inline float round_even(float v)
{
    return (v + ROUND_MAGIC) - ROUND_MAGIC;
}

void mcz_qrange(int bits, bool asymmetric, int *qmin, int *qmax)
{
    if (bits == 4) {
        *qmin = asymmetric ? 0 : -8;
        *qmax = asymmetric ? 15 : 7;
    } else {
        *qmin = asymmetric ? 0 : -127;
        *qmax = asymmetric ? 255 : 127;
    }
}

int32_t mcz_qdtype(int bits, bool asymmetric)
{
    if (bits == 8)
        return asymmetric ? MCZ_DT_UINT8 : MCZ_DT_INT8;
    if (bits == 4)
        return asymmetric ? MCZ_DT_UINT4 : MCZ_DT_INT4;
    return MCZ_DT_UNDEFINED;
}

mcz_qmethod mcz_qmethod_for_bits(mcz_qmethod m, int bits)
{
    if (m != MCZ_QMETHOD_DEFAULT)
        return m;
    return bits == 4 ? MCZ_QMETHOD_WEIGHTED : MCZ_QMETHOD_MINMAX;
}

mcz_status mcz_qscheme_check(const mcz_qscheme *s, int rank, const int64_t *dims,
                             mcz_error *err)
{
    if (s->bits != 8 && s->bits != 4)
        return mcz_seterr(err, MCZ_ERR_ARG, "bits must be 8 or 4, not %d", s->bits);
    if (s->method != MCZ_QMETHOD_MSE && s->method != MCZ_QMETHOD_MINMAX &&
        s->method != MCZ_QMETHOD_WEIGHTED && s->method != MCZ_QMETHOD_DEFAULT)
        return mcz_seterr(err, MCZ_ERR_ARG, "unknown method %d", (int)s->method);
    if (rank < 0 || rank > MCZ_MAX_RANK)
        return mcz_seterr(err, MCZ_ERR_ARG, "rank %d out of range", rank);
    switch (s->granularity) {
    case MCZ_QGRAN_TENSOR:
        break;
    case MCZ_QGRAN_BLOCK:
        if (s->block_size < MCZ_QBLOCK_MIN || s->block_size > MCZ_QBLOCK_MAX)
            return mcz_seterr(err, MCZ_ERR_ARG, "block size %u outside %d..%d", s->block_size,
                              MCZ_QBLOCK_MIN, MCZ_QBLOCK_MAX);
        /* fall through */
    case MCZ_QGRAN_CHANNEL:
        if (s->axis < 0 || s->axis >= rank)
            return mcz_seterr(err, MCZ_ERR_ARG, "axis %d outside a tensor of rank %d", s->axis,
                              rank);
        break;
    default:
        return mcz_seterr(err, MCZ_ERR_ARG, "unknown granularity %d", (int)s->granularity);
    }
    for (int d = 0; d < rank; d++)
        if (dims[d] < 0)
            return mcz_seterr(err, MCZ_ERR_ARG, "negative dimension %lld", (long long)dims[d]);
    return MCZ_OK;
}

/* ---- element conversion ----------------------------------------------------------------- */

float mcz_f16_to_f32(uint16_t h)
{
    return mcz_f16_widen(h);
}

float mcz_bf16_to_f32(uint16_t h)
{
    return mcz_bf16_widen(h);
}

/* n consecutive elements starting at element `at` of src, as floats, into out. */
static void load(const uint8_t *src, int32_t dtype, uint64_t at, size_t n, float *out)
{
    switch (dtype) {
    case MCZ_DT_FLOAT:
        memcpy(out, src + at * 4, n * 4);
        break;
    case MCZ_DT_FLOAT16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + (at + i) * 2, 2);
            out[i] = mcz_f16_to_f32(h);
        }
        break;
    case MCZ_DT_BFLOAT16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + (at + i) * 2, 2);
            out[i] = mcz_bf16_to_f32(h);
        }
        break;
    default: /* double */
        for (size_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, src + (at + i) * 8, 8);
            out[i] = (float)d;
        }
        break;
    }
}

int64_t mcz_find_nonfinite(const void *x, int32_t dtype, uint64_t count)
{
    const uint8_t *p = x;
    switch (dtype) {
    case MCZ_DT_FLOAT:
        for (uint64_t i = 0; i < count; i++) {
            uint32_t u;
            memcpy(&u, p + 4 * i, 4);
            if ((u & 0x7f800000u) == 0x7f800000u)
                return (int64_t)i;
        }
        return -1;
    case MCZ_DT_FLOAT16:
        for (uint64_t i = 0; i < count; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            if ((h & 0x7c00u) == 0x7c00u)
                return (int64_t)i;
        }
        return -1;
    case MCZ_DT_BFLOAT16:
        for (uint64_t i = 0; i < count; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            if ((h & 0x7f80u) == 0x7f80u)
                return (int64_t)i;
        }
        return -1;
    case MCZ_DT_DOUBLE:
        for (uint64_t i = 0; i < count; i++) {
            double d;
            memcpy(&d, p + 8 * i, 8);
            /* a finite double beyond float's range becomes infinite as float32 */
            if (!isfinite(d) || !isfinite((float)d))
                return (int64_t)i;
        }
        return -1;
    default:
        return -1;
    }
}

/* ---- one group: candidates and their squared error ------------------------------------- */

/* A candidate: the step codes are rounded with and the code range relative to the zero
 * point. The scale stored is the step (min/max) or the least-squares scale of the codes. */
typedef struct cand {
    float step;
    float lo, hi;  /* qmin - zp, qmax - zp */
    int32_t zp;
} cand;

typedef struct gstats {
    float min, max; /* min(x, 0), max(x, 0) */
    double sumsq;   /* sum of x^2 */
    uint64_t n;     /* elements */
} gstats;

static void stats_add(gstats *g, const float *x, size_t n)
{
    float lo = g->min, hi = g->max;
    double sq[4] = {0, 0, 0, 0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int j = 0; j < 4; j++) {
            float v = x[i + j];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            sq[j] += (double)v * v;
        }
    for (; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
        sq[0] += (double)x[i] * x[i];
    }
    g->min = lo;
    g->max = hi;
    g->sumsq += (sq[0] + sq[1]) + (sq[2] + sq[3]);
    g->n += n;
}

/* The candidate for clip ratio r (r = 1: min/max). */
static cand make_cand(const gstats *g, double r, int bits, bool asym)
{
    int qmin, qmax;
    mcz_qrange(bits, asym, &qmin, &qmax);
    cand c = {1.0f, (float)qmin, (float)qmax, 0};
    if (!asym) {
        double amax = fmax(-(double)g->min, (double)g->max);
        float s = (float)(r * amax / qmax);
        if (amax > 0 && !(s > 0))
            s = (float)amax; /* underflow: a step that still maps the extreme to a code */
        if (s > 0 && isfinite(s))
            c.step = s;
        return c;
    }
    double lo = r * g->min, hi = r * g->max;
    float s = (float)((hi - lo) / (qmax - qmin));
    if (hi - lo > 0 && !(s > 0))
        s = (float)(hi - lo);
    if (!(s > 0) || !isfinite(s))
        s = 1.0f;
    double z = nearbyint(qmin - lo / s);
    if (z < qmin)
        z = qmin;
    if (z > qmax)
        z = qmax;
    c.step = s;
    c.zp = (int32_t)z;
    c.lo = (float)(qmin - c.zp);
    c.hi = (float)(qmax - c.zp);
    return c;
}

/* x's code relative to the zero point, as a float (an integer in [lo, hi]). */
static inline float rel_code(float x, const cand *c)
{
    float v = x / c->step;
    v = v < c->lo ? c->lo : v;
    v = v > c->hi ? c->hi : v;
    return round_even(v);
}

/* The importance of x in a group whose root mean square is rms (MCZ_QMETHOD_WEIGHTED); 1 for
 * the unweighted methods (rms < 0). */
static inline double weight(double rms, float x)
{
    return rms < 0 ? 1.0 : rms + fabs((double)x);
}

/* sum(w * x * q) and sum(w * q * q) over x[0..n), q the codes relative to the zero point, w
 * the weights for rms (1 when rms < 0: then these are the plain sums, bit for bit). */
static void code_sums(const float *x, size_t n, const cand *c, double rms, double *xq,
                      double *qq)
{
    double a[4] = {0, 0, 0, 0}, b[4] = {0, 0, 0, 0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int j = 0; j < 4; j++) {
            float q = rel_code(x[i + j], c);
            double w = weight(rms, x[i + j]);
            a[j] += w * ((double)x[i + j] * q);
            b[j] += w * ((double)q * q);
        }
    for (; i < n; i++) {
        float q = rel_code(x[i], c);
        double w = weight(rms, x[i]);
        a[0] += w * ((double)x[i] * q);
        b[0] += w * ((double)q * q);
    }
    *xq += (a[0] + a[1]) + (a[2] + a[3]);
    *qq += (b[0] + b[1]) + (b[2] + b[3]);
}

/* Squared error of codes under c dequantized with `scale`, in double, exactly as
 * DequantizeLinear computes x' = q * scale in float32. With werr (not NULL), also adds the
 * error weighted for rms to *werr. */
static double err_exact(const float *x, size_t n, const cand *c, float scale, double rms,
                        double *werr)
{
    double t[4] = {0, 0, 0, 0}, u[4] = {0, 0, 0, 0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int j = 0; j < 4; j++) {
            double d = (double)x[i + j] - (double)(rel_code(x[i + j], c) * scale);
            t[j] += d * d;
            if (werr)
                u[j] += weight(rms, x[i + j]) * (d * d);
        }
    for (; i < n; i++) {
        double d = (double)x[i] - (double)(rel_code(x[i], c) * scale);
        t[0] += d * d;
        if (werr)
            u[0] += weight(rms, x[i]) * (d * d);
    }
    if (werr)
        *werr += (u[0] + u[1]) + (u[2] + u[3]);
    return (t[0] + t[1]) + (t[2] + t[3]);
}

/* A group's values, chunk by chunk: in memory (one chunk) or streamed from the source. */
typedef struct gsrc {
    const float *buf;     /* in memory */
    size_t n;
    const uint8_t *raw;   /* streamed: `count` elements of `dtype` from element 0 */
    int32_t dtype;
    uint64_t count;
    float *tmp;           /* chunk buffer, CHUNK floats */
} gsrc;

#define CHUNK 16384

/* Chunk k of the group (NULL when past the end): CHUNK elements (the last may be shorter),
 * in memory as streamed, so every sum over the group is added up in the same order. */
static const float *gsrc_chunk(const gsrc *g, uint64_t k, size_t *n)
{
    uint64_t count = g->raw ? g->count : g->n, at = k * CHUNK;
    if (at >= count)
        return NULL;
    *n = (size_t)(count - at < CHUNK ? count - at : CHUNK);
    if (!g->raw)
        return g->buf + at;
    load(g->raw, g->dtype, at, *n, g->tmp);
    return g->tmp;
}

#define NCOARSE 11 /* r = 1.00, 0.95, ..., 0.50 */
#define NFINE 4    /* best +- 0.025, +- 0.0125 */
#define NWSTEP 21  /* weighted: steps range / (D - 1 + 0.1 k), k = 0..20 */
#define NWZP 3     /* weighted, asymmetric: each step's rounded zero point and its neighbours */
#define MAXCAND (NWSTEP * NWZP)

/* The least-squares scale of each candidate's codes and the squared error it leaves,
 * base - (x.q)^2 / (q.q), for ncand candidates in one pass over the group; weighted for rms
 * (rms < 0: unweighted; base is sum(w x^2)). */
static void eval_cands(const gsrc *g, double rms, double base, const cand *c, int ncand,
                       float *scale, double *err)
{
    double xq[MAXCAND], qq[MAXCAND];
    for (int j = 0; j < ncand; j++)
        xq[j] = qq[j] = 0;
    const float *x;
    size_t n;
    for (uint64_t k = 0; (x = gsrc_chunk(g, k, &n)) != NULL; k++)
        for (int j = 0; j < ncand; j++)
            code_sums(x, n, &c[j], rms, &xq[j], &qq[j]);
    for (int j = 0; j < ncand; j++) {
        scale[j] = qq[j] > 0 && xq[j] > 0 ? (float)(xq[j] / qq[j]) : 0.0f;
        err[j] = base - (qq[j] > 0 ? xq[j] * xq[j] / qq[j] : 0.0);
        if (!(scale[j] > 0) || !isfinite(scale[j])) { /* no usable fit: the step itself */
            scale[j] = c[j].step;
            err[j] = base;
        }
    }
}

/* The exact squared error of c with `scale` over the group; with werr, also its error
 * weighted for rms. */
static double eval_exact(const gsrc *g, const cand *c, float scale, double rms, double *werr)
{
    double t = 0;
    const float *x;
    size_t n;
    if (werr)
        *werr = 0;
    for (uint64_t k = 0; (x = gsrc_chunk(g, k, &n)) != NULL; k++)
        t += err_exact(x, n, c, scale, rms, werr);
    return t;
}

/* sum(w x^2) over the group, w the weights for rms. */
static double weighted_sumsq(const gsrc *g, double rms)
{
    double t = 0;
    const float *x;
    size_t n;
    for (uint64_t k = 0; (x = gsrc_chunk(g, k, &n)) != NULL; k++) {
        double u = 0;
        for (size_t i = 0; i < n; i++)
            u += weight(rms, x[i]) * ((double)x[i] * x[i]);
        t += u;
    }
    return t;
}

/* The float16 value nearest to s (ties to even), as a float, when s is within float16's
 * normal range; else s itself. */
static float f16_exact(float s)
{
    if (!(s >= 6.103515625e-05f && s <= 65504.0f))
        return s; /* outside float16's normal range: left as it is */
    float r = mcz_f16_widen(mcz_f16_round(s));
    return isinf(r) ? s : r;
}

/* mse: clip ratios on a coarse then a fine grid, each with the least-squares scale of its
 * codes. Returns the best candidate, its scale in *sb. */
static cand search_clip(const gsrc *g, const gstats *st, int bits, bool asym, float *sb)
{
    cand c[MAXCAND];
    float sc[MAXCAND];
    double e[MAXCAND], ratio[MAXCAND];
    for (int k = 0; k < NCOARSE; k++) {
        ratio[k] = 1.0 - 0.05 * k;
        c[k] = make_cand(st, ratio[k], bits, asym);
    }
    eval_cands(g, -1, st->sumsq, c, NCOARSE, sc, e);
    int best = 0;
    for (int k = 1; k < NCOARSE; k++)
        if (e[k] < e[best])
            best = k;
    double rb = ratio[best], eb = e[best];
    cand cb = c[best];
    *sb = sc[best];
    static const double step[NFINE] = {-0.025, -0.0125, 0.0125, 0.025};
    int nf = 0;
    for (int k = 0; k < NFINE; k++) {
        double r = rb + step[k];
        if (r > 1.0 || r < 0.4)
            continue;
        ratio[nf] = r;
        c[nf++] = make_cand(st, r, bits, asym);
    }
    eval_cands(g, -1, st->sumsq, c, nf, sc, e);
    for (int k = 0; k < nf; k++)
        if (e[k] < eb) {
            eb = e[k];
            cb = c[k];
            *sb = sc[k];
        }
    return cb;
}

/* weighted: steps range / D for D = Dmm - 1, Dmm - 0.9, ..., Dmm + 1 (Dmm: qmax symmetric,
 * so int4's -8 is reachable, qmax - qmin asymmetric); asymmetric, for each step the zero
 * point min/max rounding gives and the two next to it (an integer in the code range, as
 * DequantizeLinear needs: the range's low end is -zp * scale). Each candidate's codes get
 * their weighted least-squares scale; returns the candidate with the least weighted error,
 * its scale in *sb. */
static cand search_weighted(const gsrc *g, const gstats *st, int bits, bool asym, double rms,
                            double base, float *sb)
{
    int qmin, qmax;
    mcz_qrange(bits, asym, &qmin, &qmax);
    double range = asym ? (double)st->max - st->min : fmax(-(double)st->min, st->max);
    double dmm = asym ? qmax - qmin : qmax;
    cand c[MAXCAND];
    float sc[MAXCAND];
    double e[MAXCAND];
    int nc = 0;
    for (int k = 0; k < NWSTEP; k++) {
        float step = (float)(range / (dmm - 1 + 0.1 * k));
        if (!(step > 0) || !isfinite(step))
            continue;
        double z0 = asym ? nearbyint(qmin - st->min / step) : 0;
        z0 = z0 < qmin ? qmin : z0 > qmax ? qmax : z0;
        for (int d = -asym; d <= asym; d++) {
            double z = z0 + d;
            if (z < qmin || z > qmax)
                continue;
            c[nc++] = (cand){step, (float)(qmin - z), (float)(qmax - z), (int32_t)z};
        }
    }
    if (nc == 0) { /* no representable step: min/max */
        cand mm = make_cand(st, 1.0, bits, asym);
        *sb = mm.step;
        return mm;
    }
    eval_cands(g, rms, base, c, nc, sc, e);
    int best = 0;
    for (int k = 1; k < nc; k++)
        if (e[k] < e[best])
            best = k;
    *sb = sc[best];
    return c[best];
}

/* Choose the candidate and the scale for a group; *err_out is their exact (double) error.
 * minmax (the default at 8 bits): the group's range, scale = step. mse, weighted (the default
 * at 4 bits): the search's best candidate and its
 * fitted scale; then one more round of codes at that scale (a Lloyd step), kept when better;
 * finally min/max itself if it is not worse, under the method's error (weighted: by rms(x) +
 * |x_i|), computed exactly as DequantizeLinear will dequantize, float16-rounded scales
 * included. */
static cand choose(const gsrc *g, int bits, bool asym, mcz_qmethod method, bool f16,
                   float *scale, double *err_out)
{
    gstats st = {0, 0, 0, 0};
    const float *x;
    size_t n;
    for (uint64_t k = 0; (x = gsrc_chunk(g, k, &n)) != NULL; k++)
        stats_add(&st, x, n);
    method = mcz_qmethod_for_bits(method, bits);
    cand minmax = make_cand(&st, 1.0, bits, asym);
    float smm = f16 ? f16_exact(minmax.step) : minmax.step;
    if (method == MCZ_QMETHOD_MINMAX || (st.min == 0 && st.max == 0)) {
        *scale = smm;
        *err_out = eval_exact(g, &minmax, smm, -1, NULL);
        return minmax;
    }
    bool weighted = method == MCZ_QMETHOD_WEIGHTED;
    double rms = weighted ? sqrt(st.sumsq / (double)st.n) : -1;
    double base = weighted ? weighted_sumsq(g, rms) : st.sumsq;
    float sb;
    cand cb = weighted ? search_weighted(g, &st, bits, asym, rms, base, &sb)
                       : search_clip(g, &st, bits, asym, &sb);
    cand again = cb;
    again.step = sb;
    float sa;
    double ea;
    eval_cands(g, rms, base, &again, 1, &sa, &ea);
    if (f16) {
        sb = f16_exact(sb);
        sa = f16_exact(sa);
    }
    /* the criterion: the plain error (mse) or the weighted one */
    double wb, wa, wm;
    double exact = eval_exact(g, &cb, sb, rms, weighted ? &wb : NULL);
    double exact_again = eval_exact(g, &again, sa, rms, weighted ? &wa : NULL);
    double em = eval_exact(g, &minmax, smm, rms, weighted ? &wm : NULL);
    if (!weighted) {
        wb = exact;
        wa = exact_again;
        wm = em;
    }
    if (wa < wb) {
        cb = again;
        sb = sa;
        exact = exact_again;
        wb = wa;
    }
    if (wm <= wb) {
        *scale = smm;
        *err_out = em;
        return minmax;
    }
    *scale = sb;
    *err_out = exact;
    return cb;
}

/* The codes of x[0..n) under c (absolute: relative code + zero point). */
static void codes_of(const float *x, size_t n, const cand *c, int32_t *codes)
{
    for (size_t i = 0; i < n; i++)
        codes[i] = (int32_t)rel_code(x[i], c) + c->zp;
}

double mcz_qgroup_quantize(const float *x, size_t n, int bits, bool asymmetric,
                           mcz_qmethod method, mcz_qparams *p, int32_t *codes)
{
    gsrc g = {x, n, NULL, 0, 0, NULL};
    double e;
    float scale;
    cand c = choose(&g, bits, asymmetric, method, false, &scale, &e);
    p->scale = scale;
    p->zero_point = c.zp;
    if (codes)
        codes_of(x, n, &c, codes);
    return e;
}

double mcz_qgroup_codes(const float *x, size_t n, const mcz_qparams *p, int qmin, int qmax,
                        int32_t *codes)
{
    cand c = {p->scale, (float)(qmin - p->zero_point), (float)(qmax - p->zero_point),
              p->zero_point};
    codes_of(x, n, &c, codes);
    return err_exact(x, n, &c, p->scale, -1, NULL);
}

/* ---- one tensor ------------------------------------------------------------------------- */

/* Store code v of element i into the raw layout (int4: nibbles, buffer zeroed beforehand). */
static inline void put_code(uint8_t *out, bool four, uint64_t i, int32_t v)
{
    if (four)
        out[i >> 1] |= (uint8_t)((v & 0xf) << ((i & 1) * 4));
    else
        out[i] = (uint8_t)v;
}

static inline int32_t get_code(const uint8_t *in, int32_t dtype, uint64_t i)
{
    switch (dtype) {
    case MCZ_DT_INT8: return (int8_t)in[i];
    case MCZ_DT_UINT8: return in[i];
    case MCZ_DT_UINT4: return (in[i >> 1] >> ((i & 1) * 4)) & 0xf;
    default: { /* int4: sign-extend the nibble */
        int32_t v = (in[i >> 1] >> ((i & 1) * 4)) & 0xf;
        return v >= 8 ? v - 16 : v;
    }
    }
}

/* Working state of one mcz_quantize_tensor call. */
typedef struct qjob {
    const uint8_t *src;
    int32_t dtype;
    const mcz_qscheme *s;
    mcz_qtensor *q;
    bool four;
    int qmin, qmax;
    float *xbuf;      /* gathered groups */
    int32_t *cbuf;    /* their codes */
    size_t cap;       /* elements the buffers hold */
} qjob;

/* Record group g's parameters and add its error and signal. */
static void set_group(qjob *j, uint64_t g, float scale, int32_t zp, double err, const float *x,
                      size_t n)
{
    j->q->scales[g] = scale;
    if (j->q->zero_points)
        put_code(j->q->zero_points, j->four, g, zp);
    double sig = 0;
    for (size_t i = 0; i < n; i++)
        sig += (double)x[i] * x[i];
    j->q->signal += sig;
    j->q->noise += err;
}

/* Quantize the gathered group x[0..n): parameters, codes into cb, bookkeeping. */
static void do_group(qjob *j, uint64_t g, const float *x, size_t n, int32_t *cb)
{
    gsrc src = {x, n, NULL, 0, 0, NULL};
    double e;
    float scale;
    cand c = choose(&src, j->s->bits, j->s->asymmetric, j->s->method, j->s->f16_scales, &scale,
                    &e);
    codes_of(x, n, &c, cb);
    set_group(j, g, scale, c.zp, e, x, n);
}

/* Per-channel: [P, C, Q], a tile of T channels at a time. */
static void run_channel(qjob *j, uint64_t P, uint64_t C, uint64_t Q)
{
    uint64_t G = P * Q;
    uint64_t T = G ? j->cap / G : 1;
    if (T < 1)
        T = 1;
    float row[CHUNK];
    for (uint64_t c0 = 0; c0 < C; c0 += T) {
        uint64_t nt = C - c0 < T ? C - c0 : T;
        /* gather: channel t of the tile is xbuf[t*G .. t*G+G), in (p, q) order */
        for (uint64_t p = 0; p < P; p++) {
            uint64_t base = (p * C + c0) * Q; /* rows c0..c0+nt of slice p are contiguous */
            uint64_t len = nt * Q;
            uint64_t t = 0, q = 0;
            for (uint64_t at = 0; at < len; at += CHUNK) {
                size_t n = (size_t)(len - at < CHUNK ? len - at : CHUNK);
                load(j->src, j->dtype, base + at, n, row);
                for (size_t i = 0; i < n; i++) {
                    j->xbuf[t * G + p * Q + q] = row[i];
                    if (++q == Q) {
                        q = 0;
                        t++;
                    }
                }
            }
        }
        for (uint64_t t = 0; t < nt; t++)
            do_group(j, c0 + t, j->xbuf + t * G, (size_t)G, j->cbuf + t * G);
        /* scatter the codes back */
        for (uint64_t p = 0; p < P; p++)
            for (uint64_t t = 0; t < nt; t++)
                for (uint64_t q = 0; q < Q; q++)
                    put_code(j->q->codes, j->four, (p * C + c0 + t) * Q + q,
                             j->cbuf[t * G + p * Q + q]);
    }
}

/* Block-wise: [P, K, Q] with blocks of B along K; for each (p, block) a tile of T columns q. */
static void run_block(qjob *j, uint64_t P, uint64_t K, uint64_t Q, uint64_t B)
{
    uint64_t NB = K / B + (K % B != 0);
    uint64_t T = j->cap / B;
    if (T < 1)
        T = 1;
    if (T > Q)
        T = Q;
    float row[CHUNK];
    for (uint64_t p = 0; p < P; p++)
        for (uint64_t b = 0; b < NB; b++) {
            uint64_t k0 = b * B, L = K - k0 < B ? K - k0 : B;
            for (uint64_t q0 = 0; q0 < Q; q0 += T) {
                uint64_t nt = Q - q0 < T ? Q - q0 : T;
                /* gather: column t of the tile is xbuf[t*L .. t*L+L) */
                for (uint64_t k = 0; k < L; k++) {
                    uint64_t base = (p * K + k0 + k) * Q + q0;
                    for (uint64_t at = 0; at < nt; at += CHUNK) {
                        size_t n = (size_t)(nt - at < CHUNK ? nt - at : CHUNK);
                        load(j->src, j->dtype, base + at, n, row);
                        for (size_t i = 0; i < n; i++)
                            j->xbuf[(at + i) * L + k] = row[i];
                    }
                }
                for (uint64_t t = 0; t < nt; t++)
                    do_group(j, (p * NB + b) * Q + q0 + t, j->xbuf + t * L, (size_t)L,
                             j->cbuf + t * L);
                for (uint64_t k = 0; k < L; k++)
                    for (uint64_t t = 0; t < nt; t++)
                        put_code(j->q->codes, j->four, (p * K + k0 + k) * Q + q0 + t,
                                 j->cbuf[t * L + k]);
            }
        }
}

/* Per-tensor: one group streamed from the source. */
static void run_tensor(qjob *j)
{
    float *tmp = j->xbuf; /* CHUNK floats at least */
    gsrc g = {NULL, 0, j->src, j->dtype, j->q->count, tmp};
    double e;
    float scale;
    cand c = choose(&g, j->s->bits, j->s->asymmetric, j->s->method, j->s->f16_scales, &scale,
                    &e);
    double sig = 0;
    const float *x;
    size_t n;
    for (uint64_t k = 0; (x = gsrc_chunk(&g, k, &n)) != NULL; k++) {
        codes_of(x, n, &c, j->cbuf);
        for (size_t i = 0; i < n; i++) {
            put_code(j->q->codes, j->four, k * CHUNK + i, j->cbuf[i]);
            sig += (double)x[i] * x[i];
        }
    }
    j->q->scales[0] = scale;
    if (j->q->zero_points)
        put_code(j->q->zero_points, j->four, 0, c.zp);
    j->q->signal = sig;
    j->q->noise = e;
}

void mcz_qtensor_free(mcz_qtensor *q)
{
    if (!q)
        return;
    free(q->codes);
    free(q->scales);
    free(q->zero_points);
    memset(q, 0, sizeof *q);
}

/* Work buffer size in elements (each buffer): big enough for a tile of groups. */
#define TILE_ELEMS 65536

mcz_status mcz_quantize_tensor(const void *x, int32_t dtype, int rank, const int64_t *dims,
                               const mcz_qscheme *s, mcz_qtensor *out, mcz_error *err)
{
    memset(out, 0, sizeof *out);
    mcz_status st = mcz_qscheme_check(s, rank, dims, err);
    if (st)
        return st;
    if (!mcz_dtype_is_float(dtype))
        return mcz_seterr(err, MCZ_ERR_UNSUPPORTED, "cannot quantize %s values",
                          mcz_dtype_name(dtype));
    uint64_t count = 1;
    for (int d = 0; d < rank; d++) {
        if (dims[d] && count > (UINT64_MAX >> 4) / (uint64_t)dims[d])
            return mcz_seterr(err, MCZ_ERR_LIMIT, "tensor too large");
        count *= (uint64_t)dims[d];
    }
    int64_t bad = mcz_find_nonfinite(x, dtype, count);
    if (bad >= 0)
        return mcz_seterr(err, MCZ_ERR_ARG, "element %lld is %s: only finite values can be "
                          "quantized", (long long)bad, "NaN or infinite");
    mcz_qtensor *q = out;
    q->dtype = mcz_qdtype(s->bits, s->asymmetric);
    q->granularity = s->granularity;
    q->rank = rank;
    q->count = count;
    for (int d = 0; d < rank; d++)
        q->dims[d] = dims[d];
    /* the group layout and the shape of the scales */
    uint64_t P = 1, A = 1, Q = 1;
    int axis = s->granularity == MCZ_QGRAN_TENSOR ? -1 : s->axis;
    if (axis >= 0) {
        for (int d = 0; d < axis; d++)
            P *= (uint64_t)dims[d];
        A = (uint64_t)dims[axis];
        for (int d = axis + 1; d < rank; d++)
            Q *= (uint64_t)dims[d];
    }
    q->axis = axis;
    if (s->granularity == MCZ_QGRAN_TENSOR) {
        q->scale_rank = 0;
        q->nscales = 1;
    } else if (s->granularity == MCZ_QGRAN_CHANNEL) {
        q->scale_rank = 1;
        q->scale_dims[0] = (int64_t)A;
        q->nscales = A;
    } else {
        q->block_size = s->block_size;
        q->scale_rank = rank;
        q->nscales = 1;
        for (int d = 0; d < rank; d++) {
            q->scale_dims[d] = d == axis ? dims[d] / s->block_size + (dims[d] % s->block_size != 0)
                                         : dims[d];
            q->nscales *= (uint64_t)q->scale_dims[d];
        }
    }
    bool four = s->bits == 4;
    mcz_dtype_nbytes(q->dtype, count, &q->codes_bytes);
    qjob j = {x, dtype, s, q, four, 0, 0, NULL, NULL, 0};
    mcz_qrange(s->bits, s->asymmetric, &j.qmin, &j.qmax);
    /* buffers: a tile, or one whole group when a group is larger */
    uint64_t group = s->granularity == MCZ_QGRAN_CHANNEL ? P * Q
                     : s->granularity == MCZ_QGRAN_BLOCK ? s->block_size
                                                          : CHUNK;
    uint64_t cap = group > TILE_ELEMS ? group : TILE_ELEMS;
    if (cap > SIZE_MAX / 8)
        return mcz_seterr(err, MCZ_ERR_LIMIT, "tensor too large");
    j.cap = (size_t)cap;
    q->codes = calloc(q->codes_bytes ? q->codes_bytes : 1, 1);
    q->scales = malloc(q->nscales * sizeof *q->scales);
    if (s->asymmetric) {
        mcz_dtype_nbytes(q->dtype, q->nscales, &q->zp_bytes);
        q->zero_points = calloc(q->zp_bytes, 1);
    }
    j.xbuf = malloc(j.cap * sizeof *j.xbuf);
    j.cbuf = malloc(j.cap * sizeof *j.cbuf);
    if (!q->codes || !q->scales || (s->asymmetric && !q->zero_points) || !j.xbuf || !j.cbuf) {
        free(j.xbuf);
        free(j.cbuf);
        mcz_qtensor_free(q);
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    }
    if (count > 0) {
        if (s->granularity == MCZ_QGRAN_TENSOR)
            run_tensor(&j);
        else if (s->granularity == MCZ_QGRAN_CHANNEL)
            run_channel(&j, P, A, Q);
        else
            run_block(&j, P, A, Q, s->block_size);
    } else {
        for (uint64_t g = 0; g < q->nscales; g++)
            q->scales[g] = 1.0f;
    }
    free(j.xbuf);
    free(j.cbuf);
    return MCZ_OK;
}

void mcz_qtensor_dequantize(const mcz_qtensor *q, float *out)
{
    uint64_t P = 1, A = 1, Q = 1;
    if (q->axis >= 0) {
        for (int d = 0; d < q->axis; d++)
            P *= (uint64_t)q->dims[d];
        A = (uint64_t)q->dims[q->axis];
        for (int d = q->axis + 1; d < q->rank; d++)
            Q *= (uint64_t)q->dims[d];
    } else {
        A = q->count;
    }
    uint64_t NB = q->block_size ? A / q->block_size + (A % q->block_size != 0) : 0;
    for (uint64_t p = 0; p < P; p++)
        for (uint64_t a = 0; a < A; a++)
            for (uint64_t k = 0; k < Q; k++) {
                uint64_t i = (p * A + a) * Q + k, g;
                if (q->granularity == MCZ_QGRAN_TENSOR)
                    g = 0;
                else if (q->granularity == MCZ_QGRAN_CHANNEL)
                    g = a;
                else
                    g = (p * NB + a / q->block_size) * Q + k;
                int32_t zp = q->zero_points ? get_code(q->zero_points, q->dtype, g) : 0;
                out[i] = (float)(get_code(q->codes, q->dtype, i) - zp) * q->scales[g];
            }
}

double mcz_sqnr_db(double signal, double noise)
{
    if (noise <= 0)
        return INFINITY;
    if (signal <= 0)
        return -INFINITY;
    return 10.0 * log10(signal / noise);
}
