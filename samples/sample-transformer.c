/* sample-transformer.c - the transformer family: a pre-LayerNorm decoder stack.
 *
 *   x [N, S, d_model] ->
 *   per layer:  h = LayerNormalization(x)
 *               q, k, v = MatMul(h, W) + b, reshaped to [N, S, heads, head_dim] and transposed
 *               p = Softmax(MatMul(q, k^T) / sqrt(head_dim) + causal mask)
 *               x = x + (MatMul(MatMul(p, v) -> [N, S, d_model], W_out) + b_out)
 *               h = LayerNormalization(x)
 *               x = x + MatMul(gelu_tanh(MatMul(h, W_fc1) + b_fc1), W_fc2) + b_fc2
 *   y = LayerNormalization(x)  [N, S, d_model]
 *
 * The causal mask is built once from the input's shape (Shape -> ConstantOfShape -> Trilu),
 * so S is free at run time. Layer count grows with the size (about 64 d_model per layer, as
 * GPT-2 has); the MLP width (about 4 d_model) fine-tunes the size.
 */
#include <math.h>
#include <stdio.h>

#include "sample.h"

typedef struct tf_cfg {
    int64_t d, heads, head_dim, ffn;
    int layers;
} tf_cfg;

_Static_assert(sizeof(tf_cfg) <= SAMPLE_CFG_BYTES, "tf_cfg too large");

static uint64_t tf_params(const tf_cfg *c)
{
    uint64_t d = (uint64_t)c->d, f = (uint64_t)c->ffn;
    return (uint64_t)c->layers * (4 * d * d + 2 * d * f + 9 * d + f) + 2 * d;
}

/* The best ffn width for d / layers, or 0 if even the narrowest is too big. */
static int64_t tf_ffn(const tf_cfg *c, double params)
{
    double d = (double)c->d, l = c->layers;
    double f = (params - l * (4 * d * d + 9 * d) - 2 * d) / (l * (2 * d + 1));
    return f < 1 ? 0 : sample_nice(f);
}

static uint64_t tf_plan(uint64_t target, unsigned es, void *cfgp)
{
    static const int layer_choices[] = {1, 2, 3, 4, 6, 8, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96};
    tf_cfg *best = cfgp;
    double params = (double)target / es;
    uint64_t best_bytes = 0;
    double best_err = 0;
    /* The layer count closest to "d_model = 64 x layers"; its neighbours if the size is off. */
    int n_choices = (int)(sizeof layer_choices / sizeof layer_choices[0]), pick = 0;
    double pick_dist = 1e30;
    for (int i = 0; i < n_choices; i++) {
        double d = sqrt(params / (12.0 * layer_choices[i]));
        double dist = fabs(log(d / layer_choices[i] / 64.0));
        if (dist < pick_dist) {
            pick_dist = dist;
            pick = i;
        }
    }
    const int order[3] = {pick, pick - 1, pick + 1};
    for (int oi = 0; oi < 3; oi++) {
        int i = order[oi];
        if (i < 0 || i >= n_choices)
            continue;
        if (best_bytes && best_err <= 0.03 * (double)target)
            break;
        tf_cfg c = {.layers = layer_choices[i]};
        double d_est = sqrt(params / (12.0 * c.layers));
        c.head_dim = d_est >= 512 ? 64 : d_est >= 128 ? 32 : d_est >= 32 ? 16 : 8;
        c.heads = (int64_t)llround(d_est / (double)c.head_dim);
        if (c.heads < 1)
            c.heads = 1;
        for (int step = 0; step < 64; step++) {
            c.d = c.heads * c.head_dim;
            c.ffn = tf_ffn(&c, params);
            if (c.ffn < 2 * c.d && c.heads > 1)
                c.heads--;
            else if (c.ffn > 6 * c.d)
                c.heads++;
            else
                break;
        }
        c.d = c.heads * c.head_dim;
        c.ffn = tf_ffn(&c, params);
        if (c.ffn < 1)
            c.ffn = 1;
        uint64_t bytes = tf_params(&c) * es;
        double err = fabs((double)bytes - (double)target);
        if (!best_bytes || err < best_err) {
            *best = c;
            best_bytes = bytes;
            best_err = err;
        }
    }
    return best_bytes;
}

static void tf_input(sample_model *m, const void *cfgp)
{
    const tf_cfg *c = cfgp;
    const char *dims[3] = {"N", "S", sample_strf(m, "%lld", (long long)c->d)};
    sample_value_info(m, &m->main.inputs, "x", m->compute_type, 3, dims);
}

static void tf_output(sample_model *m, const void *cfgp, sample_graph *g, const char *name)
{
    const tf_cfg *c = cfgp;
    const char *dims[3] = {"N", "S", sample_strf(m, "%lld", (long long)c->d)};
    sample_value_info(m, &g->outputs, name, m->compute_type, 3, dims);
}

static const char *layer_norm(sample_model *m, const char *prefix, const char *x, int64_t d)
{
    int64_t dim[1] = {d};
    const char *in[3] = {
        x,
        sample_weight_add(m, sample_strf(m, "%s.weight", prefix), SAMPLE_W_GAMMA, 0, 1, dim),
        sample_weight_add(m, sample_strf(m, "%s.bias", prefix), SAMPLE_W_BETA, 0, 1, dim),
    };
    Onnx__AttributeProto *attrs[2] = {sample_attr_int(m, "axis", -1),
                                      sample_attr_float(m, "epsilon", 1e-5f)};
    return sample_node(m, "LayerNormalization", NULL, 3, in, 2, attrs);
}

/* MatMul(x, W [fin, fout]) + b */
static const char *linear(sample_model *m, const char *prefix, const char *x, int64_t fin,
                          int64_t fout, float fan_in)
{
    int64_t wdim[2] = {fin, fout}, bdim[1] = {fout};
    const char *w = sample_weight_add(m, sample_strf(m, "%s.weight", prefix), SAMPLE_W_COLS,
                                      fan_in, 2, wdim);
    const char *b = sample_weight_add(m, sample_strf(m, "%s.bias", prefix), SAMPLE_W_BIAS, 0, 1,
                                      bdim);
    return sample_op2(m, "Add", sample_op2(m, "MatMul", x, w), b);
}

static const char *transpose(sample_model *m, const char *x, int64_t a, int64_t b, int64_t c,
                             int64_t d)
{
    int64_t perm[4] = {a, b, c, d};
    Onnx__AttributeProto *p = sample_attr_ints(m, "perm", 4, perm);
    return sample_node(m, "Transpose", NULL, 1, &x, 1, &p);
}

typedef struct tf_consts {
    const char *shape_heads, *shape_model, *sqrt_hd, *mask;
    const char *c_half, *c_one, *c_cube, *c_sqrt2pi;
} tf_consts;

static const char *tf_mask(sample_model *m, const char *x)
{
    Onnx__AttributeProto *range[2] = {sample_attr_int(m, "start", 1), sample_attr_int(m, "end", 2)};
    const char *s = sample_node(m, "Shape", NULL, 1, &x, 2, range);
    Onnx__AttributeProto *axis = sample_attr_int(m, "axis", 0);
    const char *ss_in[2] = {s, s};
    const char *ss = sample_node(m, "Concat", NULL, 2, ss_in, 1, &axis);
    Onnx__AttributeProto *value = sample_attr_tensor(m, "value", sample_tensor_value(m, -1e4f));
    const char *full = sample_node(m, "ConstantOfShape", NULL, 1, &ss, 1, &value);
    int64_t one = 1;
    const char *tri_in[2] = {full, sample_const_i64(m, "mask_diagonal", 1, &one, true)};
    Onnx__AttributeProto *upper = sample_attr_int(m, "upper", 1);
    return sample_node(m, "Trilu", "causal_mask", 2, tri_in, 1, &upper);
}

static const char *gelu_tanh(sample_model *m, const tf_consts *k, const char *u)
{
    const char *u3 = sample_op2(m, "Mul", sample_op2(m, "Mul", u, u), u);
    const char *inner = sample_op2(m, "Add", u, sample_op2(m, "Mul", u3, k->c_cube));
    const char *t = sample_op1(m, "Tanh", sample_op2(m, "Mul", inner, k->c_sqrt2pi));
    const char *g = sample_op2(m, "Mul", u, sample_op2(m, "Add", t, k->c_one));
    return sample_op2(m, "Mul", g, k->c_half);
}

static const char *tf_body(sample_model *m, const void *cfgp, const char *x)
{
    const tf_cfg *c = cfgp;
    tf_consts k;
    m->scope = "";
    int64_t sh[4] = {0, 0, c->heads, c->head_dim}, sm[3] = {0, 0, c->d};
    k.shape_heads = sample_const_i64(m, "shape_heads", 4, sh, false);
    k.shape_model = sample_const_i64(m, "shape_model", 3, sm, false);
    k.sqrt_hd = sample_const_scalar(m, "sqrt_head_dim", sqrtf((float)c->head_dim));
    k.c_half = sample_const_scalar(m, "half", 0.5f);
    k.c_one = sample_const_scalar(m, "one", 1.0f);
    k.c_cube = sample_const_scalar(m, "gelu_cube", 0.044715f);
    k.c_sqrt2pi = sample_const_scalar(m, "sqrt_2_over_pi", 0.7978845608f);
    k.mask = tf_mask(m, x);

    const char *a = x;
    for (int l = 0; l < c->layers; l++) {
        m->scope = sample_strf(m, "layers.%d.", l);
        const char *h = layer_norm(m, "ln1", a, c->d);
        const char *q = linear(m, "attn.q", h, c->d, c->d, (float)c->d);
        const char *kk = linear(m, "attn.k", h, c->d, c->d, (float)c->d);
        const char *v = linear(m, "attn.v", h, c->d, c->d, (float)c->d);
        q = transpose(m, sample_op2(m, "Reshape", q, k.shape_heads), 0, 2, 1, 3);
        kk = transpose(m, sample_op2(m, "Reshape", kk, k.shape_heads), 0, 2, 3, 1);
        v = transpose(m, sample_op2(m, "Reshape", v, k.shape_heads), 0, 2, 1, 3);
        const char *s = sample_op2(m, "Div", sample_op2(m, "MatMul", q, kk), k.sqrt_hd);
        s = sample_op2(m, "Add", s, k.mask);
        Onnx__AttributeProto *axis = sample_attr_int(m, "axis", -1);
        const char *p = sample_node(m, "Softmax", NULL, 1, &s, 1, &axis);
        const char *o = transpose(m, sample_op2(m, "MatMul", p, v), 0, 2, 1, 3);
        o = sample_op2(m, "Reshape", o, k.shape_model);
        o = linear(m, "attn.out", o, c->d, c->d, (float)c->d);
        a = sample_op2(m, "Add", a, o);

        h = layer_norm(m, "ln2", a, c->d);
        const char *u = linear(m, "mlp.fc1", h, c->d, c->ffn, (float)c->d);
        u = linear(m, "mlp.fc2", gelu_tanh(m, &k, u), c->ffn, c->d, (float)c->ffn);
        a = sample_op2(m, "Add", a, u);
    }
    m->scope = "";
    a = layer_norm(m, "ln_f", a, c->d);
    return a;
}

static const char *tf_alt(sample_model *m, const void *cfgp, const char *x)
{
    const tf_cfg *c = cfgp;
    int64_t dim[1] = {c->d};
    return sample_op2(m, "Mul", x, sample_weight_add(m, "scale", SAMPLE_W_GAMMA, 0, 1, dim));
}

static void tf_describe(const void *cfgp, char *buf, size_t len)
{
    const tf_cfg *c = cfgp;
    snprintf(buf, len, "d_model=%lld layers=%d heads=%lld head_dim=%lld ffn=%lld",
             (long long)c->d, c->layers, (long long)c->heads, (long long)c->head_dim,
             (long long)c->ffn);
}

const sample_family sample_family_transformer = {
    .name = "transformer",
    .plan = tf_plan,
    .input = tf_input,
    .body = tf_body,
    .alt = tf_alt,
    .output = tf_output,
    .describe = tf_describe,
};
