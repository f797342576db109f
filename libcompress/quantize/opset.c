/* opset.c - raise a model's ai.onnx opset, converting the nodes whose meaning changed (see
 * mcz/opset.h for the list and docs/quantize.md for why). */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "halffloat.h"
#include "mcz/opset.h"
#include "onnx/qproto.h"

int64_t mcz_opset_min_ir(int64_t opset)
{
    if (opset <= 8)
        return 3;
    if (opset <= 11)
        return opset - 5; /* 9 -> 4, 10 -> 5, 11 -> 6 */
    if (opset <= 14)
        return 7;
    if (opset <= 18)
        return 8;
    if (opset <= 20)
        return 9;
    if (opset <= 22)
        return 10;
    return 11;
}

int64_t mcz_model_opset_version(const mcz_model *m, const char *domain)
{
    bool dflt = mcz_qp_is_default_domain(domain);
    for (size_t i = 0; i < m->proto->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->proto->opset_import[i];
        const char *d = o->domain ? o->domain : "";
        if (dflt ? mcz_qp_is_default_domain(d) : strcmp(d, domain) == 0)
            return o->version;
    }
    return 0;
}

/* ---- what a name is, seen from a graph ---------------------------------------------------- */

typedef struct gchain {
    const Onnx__GraphProto *g;
    const struct gchain *outer;
} gchain;

static const Onnx__TypeProto *type_of(const gchain *c, const char *name)
{
    for (; c; c = c->outer) {
        const Onnx__GraphProto *g = c->g;
        Onnx__ValueInfoProto *const *lists[3] = {g->input, g->output, g->value_info};
        size_t counts[3] = {g->n_input, g->n_output, g->n_value_info};
        for (int l = 0; l < 3; l++)
            for (size_t i = 0; i < counts[l]; i++)
                if (lists[l][i]->name && strcmp(lists[l][i]->name, name) == 0 &&
                    lists[l][i]->type &&
                    lists[l][i]->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
                    return lists[l][i]->type;
    }
    return NULL;
}

static const Onnx__TensorProto *constant_of(const gchain *c, const char *name)
{
    for (; c; c = c->outer) {
        const Onnx__GraphProto *g = c->g;
        for (size_t i = 0; i < g->n_initializer; i++)
            if (g->initializer[i]->name && strcmp(g->initializer[i]->name, name) == 0)
                return g->initializer[i];
        for (size_t i = 0; i < g->n_node; i++) {
            const Onnx__NodeProto *n = g->node[i];
            if (mcz_qp_is_op(n, "Constant") && n->n_output && n->output[0] &&
                strcmp(n->output[0], name) == 0) {
                const Onnx__AttributeProto *a = mcz_qp_attr(n, "value");
                return a ? a->t : NULL;
            }
        }
    }
    return NULL;
}

/* Element type of `name` (0 when unknown). */
static int32_t elem_type_of(const gchain *c, const char *name)
{
    const Onnx__TypeProto *t = type_of(c, name);
    if (t && t->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && t->tensor_type &&
        t->tensor_type->has_elem_type)
        return t->tensor_type->elem_type;
    const Onnx__TensorProto *k = constant_of(c, name);
    return k ? k->data_type : 0;
}

/* Rank of `name` (-1 when unknown). */
static int rank_of(const gchain *c, const char *name)
{
    const Onnx__TypeProto *t = type_of(c, name);
    if (t && t->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && t->tensor_type &&
        t->tensor_type->shape)
        return (int)t->tensor_type->shape->n_dim;
    const Onnx__TensorProto *k = constant_of(c, name);
    return k ? (int)k->n_dims : -1;
}

/* ---- the conversion ----------------------------------------------------------------------- */

typedef struct up {
    mcz_model *m;
    mcz_qp_names *ns;
    int64_t from, to;
    mcz_error *err;
} up;

static bool crosses(const up *u, int64_t v)
{
    return u->from < v && u->to >= v;
}

static const char *node_label(const Onnx__NodeProto *n)
{
    if (n->name && *n->name)
        return n->name;
    if (n->n_output && n->output[0] && *n->output[0])
        return n->output[0];
    return "(unnamed)";
}

static mcz_status refuse(const up *u, const Onnx__NodeProto *n, const char *why)
{
    return mcz_seterr(u->err, MCZ_ERR_UNSUPPORTED,
                      "%s: cannot raise the opset from %lld to %lld: node '%s' (%s) %s",
                      u->m->path, (long long)u->from, (long long)u->to, node_label(n),
                      n->op_type ? n->op_type : "?", why);
}

static size_t real_outputs(const Onnx__NodeProto *n)
{
    size_t k = 0;
    for (size_t i = 0; i < n->n_output; i++)
        k += n->output[i] && *n->output[i];
    return k;
}

/* Everything that cannot be converted, before anything changes. */
static mcz_status check_graph(const up *u, const Onnx__GraphProto *g)
{
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        if (mcz_qp_is_default_domain(n->domain) && n->op_type) {
            const Onnx__AttributeProto *a;
            if (mcz_qp_is_op(n, "Scan") && crosses(u, 9))
                return refuse(u, n, "changed meaning at opset 9 (batch axis removed)");
            if (mcz_qp_is_op(n, "BatchNormalization") && crosses(u, 9) &&
                (a = mcz_qp_attr(n, "spatial")) && a->i != 1)
                return refuse(u, n, "uses spatial=0, which opset 9 removed");
            if (mcz_qp_is_op(n, "BatchNormalization") && crosses(u, 14) && real_outputs(n) > 1)
                return refuse(u, n, "has training outputs, which changed at opset 14");
            if (mcz_qp_is_op(n, "DFT") && crosses(u, 20))
                return refuse(u, n, "changed inputs at opset 20");
            if (mcz_qp_is_op(n, "GroupNormalization") && crosses(u, 21))
                return refuse(u, n, "changed the shape of scale and bias at opset 21");
            if (mcz_qp_is_op(n, "Upsample") && crosses(u, 10) && (a = mcz_qp_attr(n, "mode")) &&
                a->has_s && !(a->s.len == 7 && memcmp(a->s.data, "nearest", 7) == 0) &&
                !(a->s.len == 6 && memcmp(a->s.data, "linear", 6) == 0))
                return refuse(u, n, "uses a mode Resize does not have");
        }
        for (size_t a = 0; a < n->n_attribute; a++) {
            const Onnx__AttributeProto *at = n->attribute[a];
            mcz_status s;
            if (at->g && (s = check_graph(u, at->g)))
                return s;
            for (size_t k = 0; k < at->n_graphs; k++)
                if (at->graphs[k] && (s = check_graph(u, at->graphs[k])))
                    return s;
        }
    }
    return MCZ_OK;
}

static const char *const_base(const Onnx__NodeProto *n)
{
    if (n->n_output && n->output[0] && *n->output[0])
        return n->output[0];
    if (n->name && *n->name)
        return n->name;
    return n->op_type ? n->op_type : "node";
}

/* Make input `pos` of n the initializer t (named here from the node and `suffix`; t is owned,
 * freed on failure). */
static mcz_status const_input(up *u, Onnx__GraphProto *g, Onnx__NodeProto *n, size_t pos,
                              const char *suffix, Onnx__TensorProto *t)
{
    if (!t)
        return mcz_seterr(u->err, MCZ_ERR_NOMEM, "out of memory");
    char *nm = mcz_qp_names_unique(u->ns, const_base(n), suffix);
    if (!nm) {
        onnx__tensor_proto__free_unpacked(t, NULL);
        return mcz_seterr(u->err, MCZ_ERR_NOMEM, "out of memory");
    }
    free(t->name);
    t->name = nm;
    mcz_status s = mcz_qp_add_initializer(g, t, u->err);
    while (!s && n->n_input < pos)
        s = mcz_qp_add_input(n, "", u->err);
    if (!s)
        s = n->n_input == pos ? mcz_qp_add_input(n, nm, u->err)
                              : mcz_qp_set_input(n, pos, nm, u->err);
    return s;
}

/* A float-valued constant of `dtype` (float, float16, double, bfloat16): rank 0 or 1. */
static Onnx__TensorProto *float_tensor(int32_t dtype, const float *v, size_t n, int rank)
{
    size_t es = dtype == MCZ_DT_DOUBLE                                   ? 8
                : dtype == MCZ_DT_FLOAT16 || dtype == MCZ_DT_BFLOAT16 ? 2
                                                                       : 4;
    if (es == 4)
        dtype = MCZ_DT_FLOAT;
    uint8_t *raw = malloc(n ? n * es : 1);
    if (!raw)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (es == 8) {
            double d = v[i];
            memcpy(raw + 8 * i, &d, 8);
        } else if (dtype == MCZ_DT_FLOAT16) {
            uint16_t h = mcz_f16_round(v[i]);
            memcpy(raw + 2 * i, &h, 2);
        } else if (dtype == MCZ_DT_BFLOAT16) {
            uint32_t x;
            memcpy(&x, &v[i], 4);
            uint16_t h = (uint16_t)((x + 0x7fff + ((x >> 16) & 1)) >> 16);
            memcpy(raw + 2 * i, &h, 2);
        } else {
            memcpy(raw + 4 * i, &v[i], 4);
        }
    }
    int64_t dim = (int64_t)n;
    return mcz_qp_tensor("", dtype, rank, &dim, raw, n * es);
}

/* Attribute `attr` (ints) of n becomes input `pos` (1-D int64); the attribute is removed. */
static mcz_status ints_to_input(up *u, Onnx__GraphProto *g, Onnx__NodeProto *n,
                                const char *attr, size_t pos)
{
    Onnx__AttributeProto *a = mcz_qp_attr(n, attr);
    if (!a)
        return MCZ_OK;
    char suffix[40];
    snprintf(suffix, sizeof suffix, "_%s", attr);
    mcz_status s = const_input(u, g, n, pos, suffix, mcz_qp_tensor_i64("", a->ints, a->n_ints));
    if (!s)
        mcz_qp_remove_attr(n, attr);
    return s;
}

static bool attr_is(const Onnx__AttributeProto *a, const char *v)
{
    size_t k = strlen(v);
    return a && a->has_s && a->s.len == k && memcmp(a->s.data, v, k) == 0;
}

static mcz_status set_op(up *u, Onnx__NodeProto *n, const char *op)
{
    char *c = mcz_strdup(op);
    if (!c)
        return mcz_seterr(u->err, MCZ_ERR_NOMEM, "out of memory");
    free(n->op_type);
    n->op_type = c;
    return MCZ_OK;
}

/* Resize-10 (X, scales) -> Resize-11+ (X, roi, scales) with Resize-10's coordinates. */
static mcz_status resize_10_11(up *u, Onnx__GraphProto *g, Onnx__NodeProto *n)
{
    mcz_status s = MCZ_OK;
    if (n->n_input >= 2) {
        char *scales = n->input[1];
        n->input[1] = NULL;
        s = mcz_qp_add_input(n, scales, u->err);
        n->input[1] = scales; /* keep the array sane on failure */
        if (s)
            return s;
        if (u->to >= 13) {
            s = mcz_qp_set_input(n, 1, "", u->err);
        } else { /* roi is not optional before 13: an empty tensor */
            s = const_input(u, g, n, 1, "_roi", float_tensor(MCZ_DT_FLOAT, NULL, 0, 1));
        }
    }
    const Onnx__AttributeProto *mode = mcz_qp_attr(n, "mode");
    if (!s)
        s = mcz_qp_set_string(n, "coordinate_transformation_mode", "asymmetric", u->err);
    if (!s && (!mode || attr_is(mode, "nearest")))
        s = mcz_qp_set_string(n, "nearest_mode", "floor", u->err);
    return s;
}

/* Softmax/LogSoftmax/Hardmax before 13 work on the input flattened to 2-D at `axis`. */
static mcz_status softmax_13(up *u, const gchain *c, mcz_qp_splice *sp, size_t i)
{
    Onnx__NodeProto *n = sp->g->node[i];
    const Onnx__AttributeProto *a = mcz_qp_attr(n, "axis");
    int64_t axis = a ? a->i : 1;
    if (n->n_input < 1 || n->n_output < 1 || !n->output[0] || !*n->output[0])
        return MCZ_OK;
    if (axis == -1)
        return MCZ_OK;
    int rank = rank_of(c, n->input[0]);
    if (rank > 0 && (axis == rank - 1 || axis == -1))
        return MCZ_OK; /* the last axis: both definitions agree */
    /* n becomes Flatten(X, axis) -> F; then op(F, axis=-1) -> S, Shape(X) -> SH,
       Reshape(S, SH) -> Y */
    const char *y = n->output[0];
    char *f = mcz_qp_names_unique(u->ns, y, "_flat"), *sv = mcz_qp_names_unique(u->ns, y, "_2d"),
         *sh = mcz_qp_names_unique(u->ns, y, "_shape"),
         *fname = mcz_qp_names_unique(u->ns, node_label(n), "_flatten"),
         *shname = mcz_qp_names_unique(u->ns, node_label(n), "_shape"),
         *rname = mcz_qp_names_unique(u->ns, node_label(n), "_reshape");
    mcz_status s = MCZ_OK;
    Onnx__NodeProto *op = NULL, *shape = NULL, *reshape = NULL;
    if (!f || !sv || !sh || !fname || !shname || !rname) {
        s = mcz_seterr(u->err, MCZ_ERR_NOMEM, "out of memory");
        goto out;
    }
    const char *op_in[1] = {f}, *op_out[1] = {sv};
    const char *sh_in[1] = {n->input[0]}, *sh_out[1] = {sh};
    const char *r_in[2] = {sv, sh}, *r_out[1] = {y};
    op = mcz_qp_node(n->op_type, n->name, op_in, 1, op_out, 1);
    shape = mcz_qp_node("Shape", shname, sh_in, 1, sh_out, 1);
    reshape = mcz_qp_node("Reshape", rname, r_in, 2, r_out, 1);
    if (!op || !shape || !reshape || (s = mcz_qp_set_int(op, "axis", -1, u->err))) {
        s = mcz_seterr(u->err, MCZ_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((s = set_op(u, n, "Flatten")) || (s = mcz_qp_set_int(n, "axis", axis, u->err)))
        goto out;
    free(n->name);
    n->name = fname;
    fname = NULL;
    free(n->output[0]);
    n->output[0] = f;
    f = NULL;
    s = mcz_qp_splice_after(sp, i, op, u->err);
    op = NULL;
    if (!s)
        s = mcz_qp_splice_after(sp, i, shape, u->err);
    shape = NULL;
    if (!s)
        s = mcz_qp_splice_after(sp, i, reshape, u->err);
    reshape = NULL;
out:
    mcz_qp_node_free(op);
    mcz_qp_node_free(shape);
    mcz_qp_node_free(reshape);
    free(f);
    free(sv);
    free(sh);
    free(fname);
    free(shname);
    free(rname);
    return s;
}

static bool is_reduce_18(const Onnx__NodeProto *n)
{
    static const char *const ops[] = {"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
                                      "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd",
                                      "ReduceSumSquare"};
    for (size_t k = 0; k < sizeof ops / sizeof *ops; k++)
        if (mcz_qp_is_op(n, ops[k]))
            return true;
    return false;
}

static mcz_status convert_node(up *u, const gchain *c, mcz_qp_splice *sp, size_t i)
{
    Onnx__GraphProto *g = sp->g;
    Onnx__NodeProto *n = g->node[i];
    Onnx__AttributeProto *a;
    mcz_status s = MCZ_OK;
    if (!mcz_qp_is_default_domain(n->domain) || !n->op_type)
        return MCZ_OK;
    /* 9 */
    if (mcz_qp_is_op(n, "BatchNormalization") && crosses(u, 9))
        mcz_qp_remove_attr(n, "spatial");
    /* 10 */
    if (mcz_qp_is_op(n, "Slice") && crosses(u, 10)) {
        if ((s = ints_to_input(u, g, n, "starts", 1)) || (s = ints_to_input(u, g, n, "ends", 2)) ||
            (s = ints_to_input(u, g, n, "axes", 3)))
            return s;
    }
    if (mcz_qp_is_op(n, "TopK") && crosses(u, 10) && (a = mcz_qp_attr(n, "k"))) {
        int64_t k = a->i;
        if ((s = const_input(u, g, n, 1, "_k", mcz_qp_tensor_i64("", &k, 1))))
            return s;
        mcz_qp_remove_attr(n, "k");
    }
    bool from_upsample = false;
    if (mcz_qp_is_op(n, "Upsample") && crosses(u, 10)) {
        if ((a = mcz_qp_attr(n, "scales"))) { /* Upsample-7: scales as an attribute */
            if ((s = const_input(u, g, n, 1, "_scales",
                                 float_tensor(MCZ_DT_FLOAT, a->floats, a->n_floats, 1))))
                return s;
            mcz_qp_remove_attr(n, "scales");
        }
        if ((s = set_op(u, n, "Resize")))
            return s;
        from_upsample = true;
    }
    /* 11 */
    if (mcz_qp_is_op(n, "Resize") && (from_upsample || u->from == 10) && u->to >= 11) {
        if ((s = resize_10_11(u, g, n)))
            return s;
    }
    if (mcz_qp_is_op(n, "Clip") && crosses(u, 11)) {
        int32_t dt = n->n_input ? elem_type_of(c, n->input[0]) : 0;
        Onnx__AttributeProto *mn = mcz_qp_attr(n, "min"), *mx = mcz_qp_attr(n, "max");
        if (mn && (s = const_input(u, g, n, 1, "_min", float_tensor(dt, &mn->f, 1, 0))))
            return s;
        if (mx && (s = const_input(u, g, n, 2, "_max", float_tensor(dt, &mx->f, 1, 0))))
            return s;
        mcz_qp_remove_attr(n, "min");
        mcz_qp_remove_attr(n, "max");
    }
    if (mcz_qp_is_op(n, "Pad") && crosses(u, 11)) {
        int32_t dt = n->n_input ? elem_type_of(c, n->input[0]) : 0;
        if ((s = ints_to_input(u, g, n, "pads", 1)))
            return s;
        Onnx__AttributeProto *v = mcz_qp_attr(n, "value"), *mode = mcz_qp_attr(n, "mode");
        if (v && v->f != 0 && (!mode || attr_is(mode, "constant"))) {
            if (dt && dt != MCZ_DT_FLOAT && dt != MCZ_DT_FLOAT16 && dt != MCZ_DT_DOUBLE &&
                dt != MCZ_DT_BFLOAT16)
                return refuse(u, n, "pads a non-float tensor with a value");
            if ((s = const_input(u, g, n, 2, "_value", float_tensor(dt, &v->f, 1, 0))))
                return s;
        }
        mcz_qp_remove_attr(n, "value");
    }
    if (mcz_qp_is_op(n, "Scatter") && crosses(u, 11) && (s = set_op(u, n, "ScatterElements")))
        return s;
    /* 12 */
    if (mcz_qp_is_op(n, "Dropout") && crosses(u, 12) && (a = mcz_qp_attr(n, "ratio"))) {
        if ((s = const_input(u, g, n, 1, "_ratio", float_tensor(MCZ_DT_FLOAT, &a->f, 1, 0))))
            return s;
        mcz_qp_remove_attr(n, "ratio");
    }
    /* 13 */
    if (crosses(u, 13)) {
        if (mcz_qp_is_op(n, "Squeeze") || mcz_qp_is_op(n, "Unsqueeze") ||
            mcz_qp_is_op(n, "ReduceSum")) {
            if ((s = ints_to_input(u, g, n, "axes", 1)))
                return s;
        } else if (mcz_qp_is_op(n, "Split")) {
            if ((s = ints_to_input(u, g, n, "split", 1)))
                return s;
        } else if (mcz_qp_is_op(n, "Softmax") || mcz_qp_is_op(n, "LogSoftmax") ||
                   mcz_qp_is_op(n, "Hardmax")) {
            if ((s = softmax_13(u, c, sp, i)))
                return s;
            n = g->node[i];
        }
    }
    /* 16 */
    if (mcz_qp_is_op(n, "RoiAlign") && crosses(u, 16) &&
        !mcz_qp_attr(n, "coordinate_transformation_mode") &&
        (s = mcz_qp_set_string(n, "coordinate_transformation_mode", "output_half_pixel", u->err)))
        return s;
    /* 18 */
    if (crosses(u, 18)) {
        if (is_reduce_18(n) && (s = ints_to_input(u, g, n, "axes", 1)))
            return s;
        if (mcz_qp_is_op(n, "Split") && (n->n_input < 2 || !n->input[1] || !*n->input[1]) &&
            !mcz_qp_attr(n, "num_outputs") &&
            (s = mcz_qp_set_int(n, "num_outputs", (int64_t)n->n_output, u->err)))
            return s;
    }
    /* 20 */
    if (mcz_qp_is_op(n, "GridSample") && crosses(u, 20) && (a = mcz_qp_attr(n, "mode"))) {
        if (attr_is(a, "bilinear"))
            s = mcz_qp_set_string(n, "mode", "linear", u->err);
        else if (attr_is(a, "bicubic"))
            s = mcz_qp_set_string(n, "mode", "cubic", u->err);
    }
    return s;
}

static mcz_status convert_graph(up *u, Onnx__GraphProto *g, const gchain *outer)
{
    gchain c = {g, outer};
    mcz_qp_splice sp = {g, {0}, NULL, 0};
    mcz_status s = MCZ_OK;
    size_t nn = g->n_node; /* nodes spliced in are new and already converted */
    for (size_t i = 0; i < nn && !s; i++) {
        Onnx__NodeProto *n = g->node[i];
        for (size_t a = 0; a < n->n_attribute && !s; a++) {
            Onnx__AttributeProto *at = n->attribute[a];
            if (at->g)
                s = convert_graph(u, at->g, &c);
            for (size_t k = 0; k < at->n_graphs && !s; k++)
                if (at->graphs[k])
                    s = convert_graph(u, at->graphs[k], &c);
        }
        if (!s)
            s = convert_node(u, &c, &sp, i);
    }
    if (s) {
        mcz_qp_splice_free(&sp);
        return s;
    }
    return mcz_qp_splice_apply(&sp, u->err);
}

static bool has_default_import(const Onnx__ModelProto *p)
{
    for (size_t i = 0; i < p->n_opset_import; i++)
        if (mcz_qp_is_default_domain(p->opset_import[i]->domain))
            return true;
    return false;
}

mcz_status mcz_qp_opset_check(const mcz_model *m, int64_t opset, mcz_error *err)
{
    const Onnx__ModelProto *p = m->proto;
    int64_t from = mcz_model_opset_version(m, "");
    bool has_default = has_default_import(p);
    if (has_default && from >= opset)
        return MCZ_OK;
    if (opset > MCZ_OPSET_MAX)
        return mcz_seterr(err, MCZ_ERR_UNSUPPORTED,
                          "%s: cannot raise the opset to %lld (at most %d)", m->path,
                          (long long)opset, MCZ_OPSET_MAX);
    if (!has_default)
        return MCZ_OK;
    if (from < 7)
        return mcz_seterr(err, MCZ_ERR_UNSUPPORTED,
                          "%s: opset %lld is older than 7: cannot raise it to %lld", m->path,
                          (long long)from, (long long)opset);
    if (p->n_functions > 0)
        return mcz_seterr(err, MCZ_ERR_UNSUPPORTED,
                          "%s: cannot raise the opset of a model with local functions", m->path);
    up u = {(mcz_model *)m, NULL, from, opset, err};
    return p->graph ? check_graph(&u, p->graph) : MCZ_OK;
}

/* Raise without rebuilding the weight table (for callers that rebuild once at the end). */
mcz_status mcz_qp_raise_opset(mcz_model *m, int64_t opset, mcz_qp_names *ns, mcz_error *err)
{
    Onnx__ModelProto *p = m->proto;
    int64_t from = mcz_model_opset_version(m, "");
    bool has_default = has_default_import(p);
    int64_t min_ir = mcz_opset_min_ir(opset);
    if (has_default && from >= opset)
        return MCZ_OK;
    mcz_status s = mcz_qp_opset_check(m, opset, err);
    if (s)
        return s;
    up u = {m, ns, from, opset, err};
    if (has_default && p->graph && (s = convert_graph(&u, p->graph, NULL)))
        return s;
    if (has_default) {
        for (size_t i = 0; i < p->n_opset_import; i++)
            if (mcz_qp_is_default_domain(p->opset_import[i]->domain)) {
                p->opset_import[i]->version = opset;
                p->opset_import[i]->has_version = 1;
            }
    } else {
        Onnx__OperatorSetIdProto *o = malloc(sizeof *o);
        Onnx__OperatorSetIdProto **arr =
            realloc(p->opset_import, (p->n_opset_import + 1) * sizeof *arr);
        if (arr)
            p->opset_import = arr;
        if (!o || !arr) {
            free(o);
            return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        }
        onnx__operator_set_id_proto__init(o);
        o->domain = mcz_strdup("");
        o->has_version = 1;
        o->version = opset;
        if (!o->domain) {
            free(o);
            return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        }
        arr[p->n_opset_import++] = o;
    }
    if (!p->has_ir_version || p->ir_version < min_ir) {
        p->has_ir_version = 1;
        p->ir_version = min_ir;
    }
    return MCZ_OK;
}

mcz_status mcz_model_raise_opset(mcz_model *m, int64_t opset, mcz_error *err)
{
    mcz_qp_names ns = {0};
    mcz_status s = mcz_qp_names_collect(&ns, m->proto, err);
    if (!s)
        s = mcz_qp_raise_opset(m, opset, &ns, err);
    mcz_qp_names_free(&ns);
    if (!s)
        s = mcz_qp_rebuild_table(m, err);
    return s;
}
