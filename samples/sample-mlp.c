/* sample-mlp.c - the mlp family: x [N, in] -> (Gemm | MatMul + Add, Relu) x 6 -> y [N, out].
 *
 * Layers alternate between Gemm (transB = 1, weight [out, in]) and MatMul + Add (weight
 * [in, out]), so both weight layouts occur; the last layer has no Relu. in = hidden, out =
 * hidden / 4 (at least 2).
 */
#include <stdio.h>
#include <string.h>

#include "sample.h"

#define MLP_LAYERS 6

typedef struct mlp_cfg {
    int64_t in, hidden, out;
    int layers;
} mlp_cfg;

_Static_assert(sizeof(mlp_cfg) <= SAMPLE_CFG_BYTES, "mlp_cfg too large");

static int64_t fan(const mlp_cfg *c, int i, bool out)
{
    if (out)
        return i == c->layers - 1 ? c->out : c->hidden;
    return i == 0 ? c->in : c->hidden;
}

static uint64_t mlp_params(const mlp_cfg *c)
{
    uint64_t p = 0;
    for (int i = 0; i < c->layers; i++)
        p += (uint64_t)(fan(c, i, false) * fan(c, i, true) + fan(c, i, true));
    return p;
}

static void mlp_dims(mlp_cfg *c, int64_t h)
{
    c->layers = MLP_LAYERS;
    c->hidden = h;
    c->in = h;
    c->out = h / 4 < 2 ? 2 : sample_nice((double)h / 4);
}

static uint64_t mlp_plan(uint64_t target, unsigned es, void *cfgp)
{
    mlp_cfg *best = cfgp, c;
    uint64_t best_bytes = 0;
    double best_err = 0;
    int64_t prev = 0;
    for (double h = 1; h < (1 << 20); h *= 1.001) {
        int64_t n = sample_nice(h);
        if (n == prev)
            continue;
        prev = n;
        mlp_dims(&c, n);
        uint64_t bytes = mlp_params(&c) * es;
        double err = bytes > target ? (double)(bytes - target) : (double)(target - bytes);
        if (!best_bytes || err < best_err) {
            *best = c;
            best_bytes = bytes;
            best_err = err;
        }
        if (bytes > target)
            break;
    }
    return best_bytes;
}

static void mlp_input(sample_model *m, const void *cfgp)
{
    const mlp_cfg *c = cfgp;
    const char *dims[2] = {"N", sample_strf(m, "%lld", (long long)c->in)};
    sample_value_info(m, &m->main.inputs, "x", m->compute_type, 2, dims);
}

static void mlp_output(sample_model *m, const void *cfgp, sample_graph *g, const char *name)
{
    const mlp_cfg *c = cfgp;
    const char *dims[2] = {"N", sample_strf(m, "%lld", (long long)c->out)};
    sample_value_info(m, &g->outputs, name, m->compute_type, 2, dims);
}

static const char *mlp_body(sample_model *m, const void *cfgp, const char *x)
{
    const mlp_cfg *c = cfgp;
    const char *a = x;
    for (int i = 0; i < c->layers; i++) {
        int64_t fin = fan(c, i, false), fout = fan(c, i, true);
        bool relu = i < c->layers - 1;
        float fan_in = relu ? (float)fin / 2 : (float)fin; /* He scaling before a Relu */
        m->scope = sample_strf(m, "fc%d.", i);
        int64_t bdim[1] = {fout};
        if (i % 2 == 0) {
            int64_t wdim[2] = {fout, fin};
            const char *in[3] = {a, sample_weight_add(m, "weight", SAMPLE_W_ROWS, fan_in, 2, wdim),
                                 sample_weight_add(m, "bias", SAMPLE_W_BIAS, 0, 1, bdim)};
            Onnx__AttributeProto *tb = sample_attr_int(m, "transB", 1);
            a = sample_node(m, "Gemm", NULL, 3, in, 1, &tb);
        } else {
            int64_t wdim[2] = {fin, fout};
            const char *w = sample_weight_add(m, "weight", SAMPLE_W_COLS, fan_in, 2, wdim);
            const char *b = sample_weight_add(m, "bias", SAMPLE_W_BIAS, 0, 1, bdim);
            a = sample_op2(m, "Add", sample_op2(m, "MatMul", a, w), b);
        }
        if (relu)
            a = sample_op1(m, "Relu", a);
    }
    m->scope = "";
    return a;
}

static const char *mlp_alt(sample_model *m, const void *cfgp, const char *x)
{
    const mlp_cfg *c = cfgp;
    int64_t axes[1] = {1}, dim[1] = {c->out};
    Onnx__AttributeProto *attrs[2] = {sample_attr_ints(m, "axes", 1, axes),
                                      sample_attr_int(m, "keepdims", 1)};
    const char *mean = sample_node(m, "ReduceMean", NULL, 1, &x, 2, attrs);
    return sample_op2(m, "Mul", mean,
                      sample_weight_add(m, "scale", SAMPLE_W_GAMMA, 0, 1, dim));
}

static void mlp_describe(const void *cfgp, char *buf, size_t len)
{
    const mlp_cfg *c = cfgp;
    snprintf(buf, len, "in=%lld hidden=%lld out=%lld layers=%d", (long long)c->in,
             (long long)c->hidden, (long long)c->out, c->layers);
}

const sample_family sample_family_mlp = {
    .name = "mlp",
    .plan = mlp_plan,
    .input = mlp_input,
    .body = mlp_body,
    .alt = mlp_alt,
    .output = mlp_output,
    .describe = mlp_describe,
};
