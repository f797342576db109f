/* qdq.c - quantized weights in ONNX QDQ form: recognise and write them (see mcz/qdq.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/opset.h"
#include "mcz/qdq.h"
#include "onnx/qproto.h"

/* ---- recognising ---------------------------------------------------------------------------- */

typedef struct rec {
    mcz_model *m;
    mcz_qp_tindex ix;
    mcz_qdq_weight *v;
    size_t n, cap;
    mcz_error *err;
} rec;

static int64_t attr_i(const Onnx__NodeProto *n, const char *name, int64_t dflt)
{
    const Onnx__AttributeProto *a = mcz_qp_attr(n, name);
    return a ? a->i : dflt;
}

static bool is_code_type(int32_t t)
{
    return t == MCZ_DT_INT8 || t == MCZ_DT_UINT8 || t == MCZ_DT_INT4 || t == MCZ_DT_UINT4;
}

static bool is_scale_type(int32_t t)
{
    return t == MCZ_DT_FLOAT || t == MCZ_DT_FLOAT16 || t == MCZ_DT_BFLOAT16;
}

static bool same_shape(const mcz_weight *a, const mcz_weight *b)
{
    if (a->rank != b->rank)
        return false;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d])
            return false;
    return true;
}

/* Fill *q when DequantizeLinear node n reads constant codes, scale and zero point. */
static bool recognise(const rec *r, const Onnx__NodeProto *n, const mcz_qp_scope *sc,
                      mcz_qdq_weight *q)
{
    if (n->n_input < 2 || n->n_output < 1 || !n->output[0] || !*n->output[0])
        return false;
    long c = n->input[0] && *n->input[0] ? mcz_qp_scope_get(sc, n->input[0], -1) : -1;
    long s = n->input[1] && *n->input[1] ? mcz_qp_scope_get(sc, n->input[1], -1) : -1;
    bool has_zp = n->n_input >= 3 && n->input[2] && *n->input[2];
    long z = has_zp ? mcz_qp_scope_get(sc, n->input[2], -1) : -1;
    if (c < 0 || s < 0 || (has_zp && z < 0))
        return false;
    const mcz_weight *wc = &r->m->w[c].pub, *ws = &r->m->w[s].pub;
    if (!is_code_type(wc->dtype) || !is_scale_type(ws->dtype))
        return false;
    if (has_zp) {
        const mcz_weight *wz = &r->m->w[z].pub;
        if (wz->dtype != wc->dtype || !same_shape(wz, ws))
            return false;
    }
    int64_t axis = attr_i(n, "axis", 1), bs = attr_i(n, "block_size", 0);
    if (axis < 0)
        axis += wc->rank;
    memset(q, 0, sizeof *q);
    if (bs > 0) {
        if (axis < 0 || axis >= wc->rank || ws->rank != wc->rank || bs > UINT32_MAX)
            return false;
        for (int d = 0; d < wc->rank; d++) {
            int64_t want = d == axis ? wc->dims[d] / bs + (wc->dims[d] % bs != 0) : wc->dims[d];
            if (ws->dims[d] != want)
                return false;
        }
        q->granularity = MCZ_QGRAN_BLOCK;
        q->axis = (int)axis;
        q->block_size = (uint32_t)bs;
    } else if (ws->count == 1) {
        q->granularity = MCZ_QGRAN_TENSOR;
        q->axis = -1;
    } else {
        if (axis < 0 || axis >= wc->rank || ws->rank != 1 || ws->dims[0] != wc->dims[axis])
            return false;
        q->granularity = MCZ_QGRAN_CHANNEL;
        q->axis = (int)axis;
    }
    q->name = n->output[0];
    q->node = n->name ? n->name : "";
    q->graph = wc->graph;
    q->codes = (size_t)c;
    q->scale = (size_t)s;
    q->zero_point = has_zp ? z : -1;
    q->dtype = wc->dtype;
    q->bits = wc->dtype == MCZ_DT_INT4 || wc->dtype == MCZ_DT_UINT4 ? 4 : 8;
    q->scale_dtype = ws->dtype;
    return true;
}

static mcz_status rec_graph(rec *r, const Onnx__GraphProto *g, const mcz_qp_scope *outer)
{
    mcz_qp_scope sc = {outer, NULL, NULL, 0, 0};
    mcz_status s = MCZ_OK;
    for (size_t i = 0; i < g->n_input && !s; i++)
        s = mcz_qp_scope_put(&sc, g->input[i]->name, -1, r->err);
    for (size_t i = 0; i < g->n_initializer && !s; i++)
        s = mcz_qp_scope_put(&sc, g->initializer[i]->name,
                             mcz_qp_tindex_get(&r->ix, g->initializer[i]), r->err);
    for (size_t i = 0; i < g->n_node && !s; i++) {
        const Onnx__NodeProto *n = g->node[i];
        mcz_qdq_weight q;
        if (mcz_qp_is_op(n, "DequantizeLinear") && recognise(r, n, &sc, &q)) {
            s = mcz_grow((void **)&r->v, &r->cap, r->n + 1, sizeof *r->v, r->err);
            if (!s)
                r->v[r->n++] = q;
        }
        long def = -1;
        if (mcz_qp_is_op(n, "Constant")) {
            const Onnx__AttributeProto *a = mcz_qp_attr(n, "value");
            if (a && a->t)
                def = mcz_qp_tindex_get(&r->ix, a->t);
        }
        for (size_t k = 0; k < n->n_output && !s; k++)
            s = mcz_qp_scope_put(&sc, n->output[k], k == 0 ? def : -1, r->err);
        for (size_t a = 0; a < n->n_attribute && !s; a++) {
            const Onnx__AttributeProto *at = n->attribute[a];
            if (at->g)
                s = rec_graph(r, at->g, &sc);
            for (size_t k = 0; k < at->n_graphs && !s; k++)
                if (at->graphs[k])
                    s = rec_graph(r, at->graphs[k], &sc);
        }
    }
    mcz_qp_scope_free(&sc);
    return s;
}

mcz_status mcz_model_qdq_weights(mcz_model *m, mcz_qdq_weight **out, size_t *n, mcz_error *err)
{
    rec r = {m, {0}, NULL, 0, 0, err};
    *out = NULL;
    *n = 0;
    mcz_status s = mcz_qp_tindex_build(&r.ix, m, err);
    if (!s && m->proto->graph)
        s = rec_graph(&r, m->proto->graph, NULL);
    mcz_qp_tindex_free(&r.ix);
    if (s) {
        free(r.v);
        return s;
    }
    *out = r.v;
    *n = r.n;
    return MCZ_OK;
}

int64_t mcz_qdq_min_opset(const mcz_qtensor *q)
{
    if (q->dtype == MCZ_DT_INT4 || q->dtype == MCZ_DT_UINT4 || q->granularity == MCZ_QGRAN_BLOCK)
        return 21;
    if (q->granularity == MCZ_QGRAN_CHANNEL)
        return 13;
    return 10;
}

/* ---- writing -------------------------------------------------------------------------------- */

/* Where a weight lives. */
typedef struct wloc {
    Onnx__GraphProto *g;
    Onnx__NodeProto *node; /* the Constant node, or NULL for an initializer */
    size_t index;          /* the Constant's index in g->node */
    size_t splice;         /* index into the rewriter's splices */
} wloc;

typedef struct rw {
    mcz_model *m;
    mcz_qp_tindex ix;
    wloc *loc;            /* by weight index; g == NULL: not found */
    mcz_qp_splice *sp;        /* one per graph that gets nodes */
    size_t nsp, capsp;
    mcz_qp_names ns;
    mcz_error *err;
} rw;

static mcz_status locate(rw *w, Onnx__GraphProto *g)
{
    mcz_status s = MCZ_OK;
    for (size_t i = 0; i < g->n_initializer; i++) {
        long k = mcz_qp_tindex_get(&w->ix, g->initializer[i]);
        if (k >= 0)
            w->loc[k] = (wloc){g, NULL, 0, 0};
    }
    for (size_t i = 0; i < g->n_node && !s; i++) {
        Onnx__NodeProto *n = g->node[i];
        if (mcz_qp_is_op(n, "Constant")) {
            const Onnx__AttributeProto *a = mcz_qp_attr(n, "value");
            long k = a && a->t ? mcz_qp_tindex_get(&w->ix, a->t) : -1;
            if (k >= 0)
                w->loc[k] = (wloc){g, n, i, 0};
        }
        for (size_t a = 0; a < n->n_attribute && !s; a++) {
            Onnx__AttributeProto *at = n->attribute[a];
            if (at->g)
                s = locate(w, at->g);
            for (size_t k = 0; k < at->n_graphs && !s; k++)
                if (at->graphs[k])
                    s = locate(w, at->graphs[k]);
        }
    }
    return s;
}

static mcz_qp_splice *splice_of(rw *w, Onnx__GraphProto *g)
{
    for (size_t i = 0; i < w->nsp; i++)
        if (w->sp[i].g == g)
            return &w->sp[i];
    if (mcz_grow((void **)&w->sp, &w->capsp, w->nsp + 1, sizeof *w->sp, w->err))
        return NULL;
    memset(&w->sp[w->nsp], 0, sizeof *w->sp);
    w->sp[w->nsp].g = g;
    return &w->sp[w->nsp++];
}

/* A Constant node `out` whose value is t (owned; freed on failure). */
static Onnx__NodeProto *constant_node(rw *w, const char *out, Onnx__TensorProto *t)
{
    if (!t)
        return NULL;
    char *name = mcz_qp_names_unique(&w->ns, out, "_Constant");
    const char *o[1] = {out};
    Onnx__NodeProto *n = name ? mcz_qp_node("Constant", name, NULL, 0, o, 1) : NULL;
    free(name);
    if (!n || mcz_qp_set_tensor(n, "value", t, NULL) != MCZ_OK) { /* set_tensor frees t */
        if (!n)
            onnx__tensor_proto__free_unpacked(t, NULL);
        mcz_qp_node_free(n);
        return NULL;
    }
    return n;
}

/* Remove every entry named `name` from a list of value infos (graph inputs, value_info). */
static void remove_value_info(Onnx__ValueInfoProto **v, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (v[i]->name && strcmp(v[i]->name, name) == 0) {
            onnx__value_info_proto__free_unpacked(v[i], NULL);
            memmove(v + i, v + i + 1, (*n - i - 1) * sizeof *v);
            (*n)--;
            i--;
        }
}

/* Names of the pieces of one rewritten weight. */
typedef struct pieces {
    char *w;      /* the original name (what the consumers read) */
    char *q, *s, *z, *dq_out, *dq_node, *cast_node;
} pieces;

static void pieces_free(pieces *p)
{
    free(p->w);
    free(p->q);
    free(p->s);
    free(p->z);
    free(p->dq_out);
    free(p->dq_node);
    free(p->cast_node);
}

static mcz_status nomem(rw *w)
{
    return mcz_seterr(w->err, MCZ_ERR_NOMEM, "%s: out of memory", w->m->path);
}

/* Make Transpose node n (the only reader of weight `name`, in graph g) an Identity: the
 * weight now has the Transpose's output layout, so what g says of its shape goes. */
static bool fold_transpose(Onnx__GraphProto *g, Onnx__NodeProto *n, const char *name)
{
    char *id = mcz_strdup("Identity");
    if (!id)
        return false;
    free(n->op_type);
    n->op_type = id;
    mcz_qp_remove_attr(n, "perm");
    remove_value_info(g->value_info, &g->n_value_info, name);
    return true;
}

static mcz_status rewrite_one(rw *w, const mcz_qdq_edit *e)
{
    mcz_model *m = w->m;
    wentry *we = &m->w[e->weight];
    mcz_qtensor *q = e->q;
    const wloc *l = &w->loc[e->weight];
    int32_t orig_dtype = we->pub.dtype;
    pieces p = {0};
    mcz_status s = MCZ_OK;
    Onnx__TensorProto *ts = NULL, *tz = NULL;
    Onnx__NodeProto *dq = NULL, *cast = NULL;

    p.w = mcz_strdup(we->pub.name);
    if (!p.w)
        return nomem(w);
    bool need_cast = orig_dtype != MCZ_DT_FLOAT;
    p.q = mcz_qp_names_unique(&w->ns, p.w, "_quantized");
    p.s = mcz_qp_names_unique(&w->ns, p.w, "_scale");
    p.z = q->zero_points ? mcz_qp_names_unique(&w->ns, p.w, "_zero_point") : NULL;
    p.dq_out = need_cast ? mcz_qp_names_unique(&w->ns, p.w, "_dequantized") : mcz_strdup(p.w);
    p.dq_node = mcz_qp_names_unique(&w->ns, p.w, "_DequantizeLinear");
    p.cast_node = need_cast ? mcz_qp_names_unique(&w->ns, p.w, "_Cast") : NULL;
    if (!p.q || !p.s || (q->zero_points && !p.z) || !p.dq_out || !p.dq_node ||
        (need_cast && !p.cast_node)) {
        s = nomem(w);
        goto out;
    }
    /* the scale and zero point tensors (their buffers move over from q) */
    ts = mcz_qp_tensor(p.s, MCZ_DT_FLOAT, q->scale_rank, q->scale_dims, q->scales,
                       (size_t)q->nscales * sizeof(float));
    q->scales = NULL;
    if (q->zero_points) {
        tz = mcz_qp_tensor(p.z, q->dtype, q->scale_rank, q->scale_dims, q->zero_points,
                           (size_t)q->zp_bytes);
        q->zero_points = NULL;
    }
    const char *in[3] = {p.q, p.s, p.z};
    const char *dq_o[1] = {p.dq_out}, *cast_in[1] = {p.dq_out}, *cast_o[1] = {p.w};
    dq = mcz_qp_node("DequantizeLinear", p.dq_node, in, p.z ? 3 : 2, dq_o, 1);
    if (need_cast)
        cast = mcz_qp_node("Cast", p.cast_node, cast_in, 1, cast_o, 1);
    if (!ts || (p.z && !tz) || !dq || (need_cast && !cast)) {
        s = nomem(w);
        goto out;
    }
    if (q->axis >= 0 && (s = mcz_qp_set_int(dq, "axis", q->axis, w->err)))
        goto out;
    if (q->granularity == MCZ_QGRAN_BLOCK &&
        (s = mcz_qp_set_int(dq, "block_size", (int64_t)q->block_size, w->err)))
        goto out;
    if (cast && (s = mcz_qp_set_int(cast, "to", orig_dtype, w->err)))
        goto out;
    /* the codes take the weight's place, under the new name */
    s = mcz_model_weight_replace(m, e->weight, q->dtype, q->rank, q->dims, q->codes,
                                 q->codes_bytes, w->err);
    q->codes = NULL;
    if (s)
        goto out;
    /* the codes are transposed already: the Transpose passes them on */
    if (e->transpose && !fold_transpose(l->g, (Onnx__NodeProto *)e->transpose, p.w)) {
        s = nomem(w);
        goto out;
    }
    Onnx__TensorProto *t = we->t;
    mcz_qp_splice *sp = splice_of(w, l->g);
    if (!sp) {
        s = nomem(w);
        goto out;
    }
    if (!l->node) {
        remove_value_info(l->g->input, &l->g->n_input, p.w);
        free(t->name);
        t->name = p.q;
        p.q = NULL;
        if ((s = mcz_qp_add_initializer(l->g, ts, w->err))) {
            ts = NULL;
            goto out;
        }
        ts = NULL;
        if (tz) {
            s = mcz_qp_add_initializer(l->g, tz, w->err);
            tz = NULL;
            if (s)
                goto out;
        }
        s = mcz_qp_nodelist_push(&sp->before, dq, w->err);
        dq = NULL;
        if (!s && cast)
            s = mcz_qp_nodelist_push(&sp->before, cast, w->err);
        cast = NULL;
    } else {
        Onnx__NodeProto *cn = l->node;
        if (t->name && *t->name) {
            char *c = mcz_strdup(p.q);
            if (!c) {
                s = nomem(w);
                goto out;
            }
            free(t->name);
            t->name = c;
        }
        free(cn->output[0]);
        cn->output[0] = p.q;
        p.q = NULL;
        Onnx__NodeProto *cs = constant_node(w, p.s, ts), *cz = NULL;
        ts = NULL;
        if (!cs) {
            s = nomem(w);
            goto out;
        }
        if ((s = mcz_qp_splice_after(sp, l->index, cs, w->err)))
            goto out;
        if (tz) {
            cz = constant_node(w, p.z, tz);
            tz = NULL;
            if (!cz) {
                s = nomem(w);
                goto out;
            }
            if ((s = mcz_qp_splice_after(sp, l->index, cz, w->err)))
                goto out;
        }
        s = mcz_qp_splice_after(sp, l->index, dq, w->err);
        dq = NULL;
        if (!s && cast)
            s = mcz_qp_splice_after(sp, l->index, cast, w->err);
        cast = NULL;
    }
out:
    if (ts)
        onnx__tensor_proto__free_unpacked(ts, NULL);
    if (tz)
        onnx__tensor_proto__free_unpacked(tz, NULL);
    mcz_qp_node_free(dq);
    mcz_qp_node_free(cast);
    pieces_free(&p);
    return s;
}

static mcz_status check_edits(const mcz_model *m, const mcz_qdq_edit *edits, size_t n,
                              mcz_error *err)
{
    unsigned char *seen = calloc(m->nw ? m->nw : 1, 1);
    if (!seen)
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    mcz_status s = MCZ_OK;
    for (size_t k = 0; k < n && !s; k++) {
        const mcz_qdq_edit *e = &edits[k];
        if (e->weight >= m->nw) {
            s = mcz_seterr(err, MCZ_ERR_ARG, "edit %zu: weight index %zu out of range", k,
                           e->weight);
            break;
        }
        const mcz_weight *w = &m->w[e->weight].pub;
        const mcz_qtensor *q = e->q;
        if (seen[e->weight]++)
            s = mcz_seterr(err, MCZ_ERR_ARG, "%s: weight '%s' given twice", m->path, w->name);
        else if (w->dtype != MCZ_DT_FLOAT && w->dtype != MCZ_DT_FLOAT16 &&
                 w->dtype != MCZ_DT_BFLOAT16 && w->dtype != MCZ_DT_DOUBLE)
            s = mcz_seterr(err, MCZ_ERR_ARG, "%s: weight '%s' is %s, not floating point",
                           m->path, w->name, mcz_dtype_name(w->dtype));
        else if (!q || !q->codes || !q->scales || q->rank != w->rank ||
                 (!e->transpose &&
                  memcmp(q->dims, w->dims, (size_t)w->rank * sizeof *w->dims) != 0) ||
                 (e->transpose &&
                  (w->rank != 2 || q->dims[0] != w->dims[1] || q->dims[1] != w->dims[0])))
            s = mcz_seterr(err, MCZ_ERR_ARG,
                           "%s: weight '%s': the quantized tensor does not match its shape",
                           m->path, w->name);
    }
    free(seen);
    return s;
}

mcz_status mcz_model_qdq_rewrite(mcz_model *m, mcz_qdq_edit *edits, size_t n, mcz_error *err)
{
    mcz_status s = check_edits(m, edits, n, err);
    if (s || n == 0)
        return s;
    rw w = {m, {0}, NULL, NULL, 0, 0, {0}, err};
    int64_t need = 0;
    bool four = false;
    for (size_t k = 0; k < n; k++) {
        int64_t o = mcz_qdq_min_opset(edits[k].q);
        need = o > need ? o : need;
        four |= edits[k].q->dtype == MCZ_DT_INT4 || edits[k].q->dtype == MCZ_DT_UINT4;
    }
    if ((s = mcz_qp_names_collect(&w.ns, m->proto, err)) ||
        (s = mcz_qp_raise_opset(m, need, &w.ns, err)))
        goto out;
    int64_t ir = mcz_opset_min_ir(mcz_model_opset_version(m, ""));
    if (four && ir < 10)
        ir = 10;
    if (m->proto->ir_version < ir) {
        m->proto->has_ir_version = 1;
        m->proto->ir_version = ir;
    }
    /* where each weight lives (after the opset conversion, which may add nodes) */
    if ((s = mcz_qp_tindex_build(&w.ix, m, err)))
        goto out;
    if (!(w.loc = calloc(m->nw ? m->nw : 1, sizeof *w.loc))) {
        s = nomem(&w);
        goto out;
    }
    if ((s = locate(&w, m->proto->graph)))
        goto out;
    for (size_t k = 0; k < n && !s; k++) {
        if (!w.loc[edits[k].weight].g) {
            s = mcz_seterr(err, MCZ_ERR_ARG, "%s: weight '%s' not found in the graph", m->path,
                           m->w[edits[k].weight].pub.name);
            break;
        }
        s = rewrite_one(&w, &edits[k]);
    }
    for (size_t i = 0; i < w.nsp; i++) {
        if (s)
            mcz_qp_splice_free(&w.sp[i]);
        else
            s = mcz_qp_splice_apply(&w.sp[i], err);
    }
    if (!s)
        s = mcz_qp_rebuild_table(m, err);
out:
    free(w.sp);
    free(w.loc);
    mcz_qp_tindex_free(&w.ix);
    mcz_qp_names_free(&w.ns);
    return s;
}
