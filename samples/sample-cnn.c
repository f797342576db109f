/* sample-cnn.c - the cnn family: x [N, 3, 32, 32] -> 3 stages of 2 x (Conv 3x3 / BatchNormalization
 * / Relu), MaxPool 2x2 after stages 1 and 2 -> GlobalAveragePool -> Flatten -> Gemm -> y [N, 10].
 *
 * Stage widths are c, 2c and k with k in [3c, 5c] (fine-tunes the size). Convs have no bias
 * (BatchNormalization follows, as in unfolded PyTorch exports).
 */
#include <math.h>
#include <stdio.h>

#include "sample.h"

#define CNN_STAGES 3
#define CNN_CONVS 2
#define CNN_CLASSES 10
#define CNN_SIDE 32

typedef struct cnn_cfg {
    int64_t ch[CNN_STAGES];
} cnn_cfg;

_Static_assert(sizeof(cnn_cfg) <= SAMPLE_CFG_BYTES, "cnn_cfg too large");

static uint64_t cnn_params(const cnn_cfg *c)
{
    uint64_t p = 0;
    int64_t cin = 3;
    for (int s = 0; s < CNN_STAGES; s++)
        for (int j = 0; j < CNN_CONVS; j++) {
            p += (uint64_t)(c->ch[s] * cin * 9 + 4 * c->ch[s]);
            cin = c->ch[s];
        }
    return p + (uint64_t)(CNN_CLASSES * cin + CNN_CLASSES);
}

static uint64_t cnn_plan(uint64_t target, unsigned es, void *cfgp)
{
    cnn_cfg *best = cfgp, c;
    uint64_t best_bytes = 0;
    double best_score = 0;
    int64_t prev = 0;
    for (double v = 1; v < (1 << 16); v *= 1.001) {
        int64_t c1 = sample_nice(v);
        if (c1 == prev)
            continue;
        prev = c1;
        c.ch[0] = c1;
        c.ch[1] = 2 * c1;
        int64_t kprev = 0;
        uint64_t smallest = 0;
        for (double k = 3.0 * (double)c1; k <= 5.0 * (double)c1 + 0.5; k = k * 1.002 + 0.5) {
            int64_t kn = sample_nice(k);
            if (kn == kprev)
                continue;
            kprev = kn;
            c.ch[2] = kn;
            uint64_t bytes = cnn_params(&c) * es;
            if (!smallest)
                smallest = bytes;
            double err = fabs((double)bytes - (double)target) / (double)target;
            double score = err + 0.02 * fabs((double)kn / (4.0 * (double)c1) - 1.0);
            if (!best_bytes || score < best_score) {
                *best = c;
                best_bytes = bytes;
                best_score = score;
            }
            if (bytes > target)
                break;
        }
        if (smallest > target)
            break;
    }
    return best_bytes;
}

static void cnn_input(sample_model *m, const void *cfgp)
{
    (void)cfgp;
    const char *dims[4] = {"N", "3", sample_strf(m, "%d", CNN_SIDE), sample_strf(m, "%d", CNN_SIDE)};
    sample_value_info(m, &m->main.inputs, "x", m->compute_type, 4, dims);
}

static void cnn_output(sample_model *m, const void *cfgp, sample_graph *g, const char *name)
{
    (void)cfgp;
    const char *dims[2] = {"N", sample_strf(m, "%d", CNN_CLASSES)};
    sample_value_info(m, &g->outputs, name, m->compute_type, 2, dims);
}

static const char *cnn_body(sample_model *m, const void *cfgp, const char *x)
{
    const cnn_cfg *c = cfgp;
    const char *a = x;
    int64_t cin = 3;
    for (int s = 0; s < CNN_STAGES; s++) {
        for (int j = 0; j < CNN_CONVS; j++) {
            int64_t co = c->ch[s];
            m->scope = sample_strf(m, "stage%d.%d.", s, j);
            int64_t wdim[4] = {co, cin, 3, 3}, cdim[1] = {co};
            int64_t k[2] = {3, 3}, pads[4] = {1, 1, 1, 1};
            const char *conv_in[2] = {
                a, sample_weight_add(m, "conv.weight", SAMPLE_W_ROWS, (float)(cin * 9) / 2, 4, wdim)};
            Onnx__AttributeProto *cattr[2] = {sample_attr_ints(m, "kernel_shape", 2, k),
                                              sample_attr_ints(m, "pads", 4, pads)};
            a = sample_node(m, "Conv", NULL, 2, conv_in, 2, cattr);
            const char *bn_in[5] = {
                a,
                sample_weight_add(m, "bn.weight", SAMPLE_W_GAMMA, 0, 1, cdim),
                sample_weight_add(m, "bn.bias", SAMPLE_W_BETA, 0, 1, cdim),
                sample_weight_add(m, "bn.running_mean", SAMPLE_W_MEAN, 0, 1, cdim),
                sample_weight_add(m, "bn.running_var", SAMPLE_W_VAR, 0, 1, cdim),
            };
            Onnx__AttributeProto *eps = sample_attr_float(m, "epsilon", 1e-5f);
            a = sample_node(m, "BatchNormalization", NULL, 5, bn_in, 1, &eps);
            a = sample_op1(m, "Relu", a);
            cin = co;
        }
        if (s < CNN_STAGES - 1) {
            int64_t k[2] = {2, 2};
            Onnx__AttributeProto *pattr[2] = {sample_attr_ints(m, "kernel_shape", 2, k),
                                              sample_attr_ints(m, "strides", 2, k)};
            a = sample_node(m, "MaxPool", NULL, 1, &a, 2, pattr);
        }
    }
    m->scope = "head.";
    a = sample_op1(m, "GlobalAveragePool", a);
    Onnx__AttributeProto *axis = sample_attr_int(m, "axis", 1);
    a = sample_node(m, "Flatten", NULL, 1, &a, 1, &axis);
    int64_t wdim[2] = {CNN_CLASSES, cin}, bdim[1] = {CNN_CLASSES};
    const char *in[3] = {a, sample_weight_add(m, "fc.weight", SAMPLE_W_ROWS, (float)cin, 2, wdim),
                         sample_weight_add(m, "fc.bias", SAMPLE_W_BIAS, 0, 1, bdim)};
    Onnx__AttributeProto *tb = sample_attr_int(m, "transB", 1);
    a = sample_node(m, "Gemm", NULL, 3, in, 1, &tb);
    m->scope = "";
    return a;
}

static const char *cnn_alt(sample_model *m, const void *cfgp, const char *x)
{
    (void)cfgp;
    int64_t axes[3] = {1, 2, 3}, dim[1] = {CNN_CLASSES};
    Onnx__AttributeProto *attrs[2] = {sample_attr_ints(m, "axes", 3, axes),
                                      sample_attr_int(m, "keepdims", 1)};
    const char *a = sample_node(m, "ReduceMean", NULL, 1, &x, 2, attrs);
    Onnx__AttributeProto *axis = sample_attr_int(m, "axis", 1);
    a = sample_node(m, "Flatten", NULL, 1, &a, 1, &axis);
    return sample_op2(m, "Mul", a, sample_weight_add(m, "scale", SAMPLE_W_GAMMA, 0, 1, dim));
}

static void cnn_describe(const void *cfgp, char *buf, size_t len)
{
    const cnn_cfg *c = cfgp;
    snprintf(buf, len, "input=3x%dx%d channels=%lld,%lld,%lld convs=%d classes=%d", CNN_SIDE,
             CNN_SIDE, (long long)c->ch[0], (long long)c->ch[1], (long long)c->ch[2],
             CNN_STAGES * CNN_CONVS, CNN_CLASSES);
}

const sample_family sample_family_cnn = {
    .name = "cnn",
    .plan = cnn_plan,
    .input = cnn_input,
    .body = cnn_body,
    .alt = cnn_alt,
    .output = cnn_output,
    .describe = cnn_describe,
};
