/* opset-models - one small model per conversion mcz_model_raise_opset makes, at the old
 * opset, with its raised copy, for ONNX Runtime to check that both compute the same thing.
 *
 *   opset-models OUTDIR
 * writes OUTDIR/NAME.onnx, OUTDIR/NAME-raised.onnx and OUTDIR/list.tsv (for
 * `compare.js --list`, which feeds both the same seeded inputs). Exit 0, or 1 when a model
 * could not be raised or written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mcz/opset.h"
#include "qtest.h"

typedef struct spec {
    const char *name;
    int64_t opset, raise_to;
    Onnx__ModelProto *(*build)(int64_t opset);
} spec;

/* X float [dims] -> op -> Y */
static Onnx__GraphProto *unary(const char *op, int rank, const int64_t *dims, Onnx__NodeProto **n)
{
    Onnx__GraphProto *g = tm_graph("g");
    qt_input(g, "X", MCZ_DT_FLOAT, rank, dims);
    qt_output(g, "Y", MCZ_DT_FLOAT, -1, NULL);
    *n = tm_node(g, op, "n", "Y");
    qt_inputs(*n, 1, "X");
    return g;
}

static Onnx__ModelProto *finish(Onnx__GraphProto *g, int64_t opset)
{
    Onnx__ModelProto *m = tm_model(g);
    m->ir_version = mcz_opset_min_ir(opset);
    qt_opset(m, opset);
    return m;
}

static const int64_t D234[3] = {2, 3, 4};

static Onnx__ModelProto *clip(int64_t opset)
{
    Onnx__NodeProto *n;
    Onnx__GraphProto *g = unary("Clip", 3, D234, &n);
    qt_attr_float(n, "min", -0.5f);
    qt_attr_float(n, "max", 0.25f);
    return finish(g, opset);
}

static Onnx__ModelProto *clip_max(int64_t opset)
{
    Onnx__NodeProto *n;
    Onnx__GraphProto *g = unary("Clip", 3, D234, &n);
    qt_attr_float(n, "max", 0.25f);
    return finish(g, opset);
}

static Onnx__ModelProto *slice(int64_t opset)
{
    Onnx__NodeProto *n;
    Onnx__GraphProto *g = unary("Slice", 3, (const int64_t[]){4, 5, 6}, &n);
    qt_attr_ints(n, "starts", 2, 1, -4);
    qt_attr_ints(n, "ends", 2, 3, 1000);
    qt_attr_ints(n, "axes", 2, 0, 2);
    return finish(g, opset);
}

static Onnx__ModelProto *squeeze(int64_t opset)
{
    Onnx__NodeProto *n;
    Onnx__GraphProto *g = unary("Squeeze", 3, (const int64_t[]){2, 1, 4}, &n);
    qt_attr_ints(n, "axes", 1, 1);
    return finish(g, opset);
}

static Onnx__ModelProto *unsqueeze(int64_t opset)
{
    Onnx__NodeProto *n;
    Onnx__GraphProto *g = unary("Unsqueeze", 3, D234, &n);
    qt_attr_ints(n, "axes", 2, 0, 3);
    return finish(g, opset);
}

static Onnx__ModelProto *reduce(const char *op, int64_t opset)
{
    Onnx__NodeProto *n;
    Onnx__GraphProto *g = unary(op, 3, D234, &n);
    qt_attr_ints(n, "axes", 2, 0, 2);
    qt_attr_int(n, "keepdims", 0);
    return finish(g, opset);
}

static Onnx__ModelProto *reduce_sum(int64_t o) { return reduce("ReduceSum", o); }
static Onnx__ModelProto *reduce_mean(int64_t o) { return reduce("ReduceMean", o); }
static Onnx__ModelProto *reduce_max(int64_t o) { return reduce("ReduceMax", o); }
static Onnx__ModelProto *reduce_l2(int64_t o) { return reduce("ReduceL2", o); }

static Onnx__ModelProto *split(int64_t opset, int even)
{
    Onnx__NodeProto *n;
    Onnx__GraphProto *g = unary("Split", 3, (const int64_t[]){2, 4, 3}, &n);
    TM_PUSH(n->output, n->n_output, tm_str("Y2"));
    qt_output(g, "Y2", MCZ_DT_FLOAT, -1, NULL);
    qt_attr_int(n, "axis", 1);
    if (!even)
        qt_attr_ints(n, "split", 2, 1, 3);
    return finish(g, opset);
}

static Onnx__ModelProto *split_uneven(int64_t o) { return split(o, 0); }
static Onnx__ModelProto *split_even(int64_t o) { return split(o, 1); }

static Onnx__ModelProto *softmaxish(const char *op, int64_t opset, int64_t axis)
{
    Onnx__NodeProto *n;
    Onnx__GraphProto *g = unary(op, 3, D234, &n);
    if (axis >= 0)
        qt_attr_int(n, "axis", axis);
    return finish(g, opset);
}

static Onnx__ModelProto *softmax_default(int64_t o) { return softmaxish("Softmax", o, -1); }
static Onnx__ModelProto *softmax_0(int64_t o) { return softmaxish("Softmax", o, 0); }
static Onnx__ModelProto *softmax_last(int64_t o) { return softmaxish("Softmax", o, 2); }
static Onnx__ModelProto *logsoftmax(int64_t o) { return softmaxish("LogSoftmax", o, -1); }
static Onnx__ModelProto *hardmax(int64_t o) { return softmaxish("Hardmax", o, 1); }

static Onnx__ModelProto *topk(int64_t opset)
{
    Onnx__NodeProto *n;
    Onnx__GraphProto *g = unary("TopK", 2, (const int64_t[]){3, 5}, &n);
    TM_PUSH(n->output, n->n_output, tm_str("I"));
    qt_output(g, "I", MCZ_DT_INT64, -1, NULL);
    qt_attr_int(n, "k", 2);
    return finish(g, opset);
}

static Onnx__ModelProto *pad(int64_t opset)
{
    Onnx__NodeProto *n;
    Onnx__GraphProto *g = unary("Pad", 3, D234, &n);
    qt_attr_ints(n, "pads", 6, 0, 1, 2, 1, 0, 1);
    qt_attr_float(n, "value", 0.75f);
    return finish(g, opset);
}

static Onnx__ModelProto *pad_reflect(int64_t opset)
{
    Onnx__NodeProto *n;
    Onnx__GraphProto *g = unary("Pad", 3, D234, &n);
    qt_attr_ints(n, "pads", 6, 0, 1, 2, 0, 2, 1);
    qt_attr_string(n, "mode", "reflect");
    return finish(g, opset);
}

static Onnx__ModelProto *dropout(int64_t opset)
{
    Onnx__NodeProto *n;
    Onnx__GraphProto *g = unary("Dropout", 3, D234, &n);
    qt_attr_float(n, "ratio", 0.3f);
    return finish(g, opset);
}

static Onnx__ModelProto *upsample_attr(int64_t opset) /* Upsample-7: scales attribute */
{
    Onnx__NodeProto *n;
    Onnx__GraphProto *g = unary("Upsample", 4, (const int64_t[]){1, 2, 3, 3}, &n);
    Onnx__AttributeProto *a = tm_alloc(sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = tm_str("scales");
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
    const float s[4] = {1, 1, 2, 3};
    for (int i = 0; i < 4; i++)
        TM_PUSH(a->floats, a->n_floats, s[i]);
    TM_PUSH(n->attribute, n->n_attribute, a);
    return finish(g, opset);
}

static Onnx__ModelProto *scaled(const char *op, const char *mode, int64_t opset)
{
    Onnx__NodeProto *n;
    Onnx__GraphProto *g = unary(op, 4, (const int64_t[]){1, 2, 3, 4}, &n);
    const float s[4] = {1, 1, 2, 1.5f};
    tm_add_initializer(g, tm_raw("scales", MCZ_DT_FLOAT, 1, (const int64_t[]){4}, s, sizeof s));
    qt_inputs(n, 1, "scales");
    qt_attr_string(n, "mode", mode);
    return finish(g, opset);
}

static Onnx__ModelProto *upsample_nearest(int64_t o) { return scaled("Upsample", "nearest", o); }
static Onnx__ModelProto *upsample_linear(int64_t o) { return scaled("Upsample", "linear", o); }
static Onnx__ModelProto *resize10_nearest(int64_t o) { return scaled("Resize", "nearest", o); }
static Onnx__ModelProto *resize10_linear(int64_t o) { return scaled("Resize", "linear", o); }

static Onnx__ModelProto *batchnorm(int64_t opset)
{
    Onnx__NodeProto *n;
    Onnx__GraphProto *g = unary("BatchNormalization", 4, (const int64_t[]){2, 3, 2, 2}, &n);
    const float sc[3] = {1, 2, 0.5f}, b[3] = {0, 1, -1}, mean[3] = {0.1f, 0, -0.2f},
                var[3] = {1, 0.5f, 2};
    tm_add_initializer(g, tm_raw("s", MCZ_DT_FLOAT, 1, (const int64_t[]){3}, sc, sizeof sc));
    tm_add_initializer(g, tm_raw("b", MCZ_DT_FLOAT, 1, (const int64_t[]){3}, b, sizeof b));
    tm_add_initializer(g, tm_raw("m", MCZ_DT_FLOAT, 1, (const int64_t[]){3}, mean, sizeof mean));
    tm_add_initializer(g, tm_raw("v", MCZ_DT_FLOAT, 1, (const int64_t[]){3}, var, sizeof var));
    qt_inputs(n, 4, "s", "b", "m", "v");
    qt_attr_int(n, "spatial", 1);
    return finish(g, opset);
}

static Onnx__ModelProto *scatter(int64_t opset)
{
    Onnx__GraphProto *g = tm_graph("g");
    qt_input(g, "X", MCZ_DT_FLOAT, 2, (const int64_t[]){4, 4});
    qt_input(g, "I", MCZ_DT_INT64, 2, (const int64_t[]){1, 4});
    qt_input(g, "U", MCZ_DT_FLOAT, 2, (const int64_t[]){1, 4});
    qt_output(g, "Y", MCZ_DT_FLOAT, -1, NULL);
    Onnx__NodeProto *n = tm_node(g, "Scatter", "n", "Y");
    qt_inputs(n, 3, "X", "I", "U");
    qt_attr_int(n, "axis", 0);
    return finish(g, opset);
}

static Onnx__ModelProto *gridsample(int64_t opset, const char *mode)
{
    Onnx__GraphProto *g = tm_graph("g");
    qt_input(g, "X", MCZ_DT_FLOAT, 4, (const int64_t[]){1, 2, 5, 5});
    qt_input(g, "G", MCZ_DT_FLOAT, 4, (const int64_t[]){1, 3, 4, 2});
    qt_output(g, "Y", MCZ_DT_FLOAT, -1, NULL);
    Onnx__NodeProto *n = tm_node(g, "GridSample", "n", "Y");
    qt_inputs(n, 2, "X", "G");
    if (mode)
        qt_attr_string(n, "mode", mode);
    return finish(g, opset);
}

static Onnx__ModelProto *gridsample_bilinear(int64_t o) { return gridsample(o, "bilinear"); }
static Onnx__ModelProto *gridsample_bicubic(int64_t o) { return gridsample(o, "bicubic"); }
static Onnx__ModelProto *gridsample_default(int64_t o) { return gridsample(o, NULL); }

static Onnx__ModelProto *roialign(int64_t opset)
{
    Onnx__GraphProto *g = tm_graph("g");
    qt_input(g, "X", MCZ_DT_FLOAT, 4, (const int64_t[]){4, 2, 8, 8});
    qt_output(g, "Y", MCZ_DT_FLOAT, -1, NULL);
    const float rois[8] = {0.5f, 1, 4, 6, 2, 0, 7.5f, 3.25f};
    const int64_t bi[2] = {1, 3};
    tm_add_initializer(g, tm_raw("R", MCZ_DT_FLOAT, 2, (const int64_t[]){2, 4}, rois, sizeof rois));
    tm_add_initializer(g, tm_raw("B", MCZ_DT_INT64, 1, (const int64_t[]){2}, bi, sizeof bi));
    Onnx__NodeProto *n = tm_node(g, "RoiAlign", "n", "Y");
    qt_inputs(n, 3, "X", "R", "B");
    qt_attr_int(n, "output_height", 3);
    qt_attr_int(n, "output_width", 2);
    qt_attr_int(n, "sampling_ratio", 2);
    return finish(g, opset);
}

/* Clip inside both branches of an If, reading an outer input. */
static Onnx__ModelProto *subgraph_clip(int64_t opset)
{
    Onnx__GraphProto *g = tm_graph("g");
    qt_input(g, "C", MCZ_DT_BOOL, 1, (const int64_t[]){1});
    qt_input(g, "X", MCZ_DT_FLOAT, 2, (const int64_t[]){3, 4});
    qt_output(g, "Y", MCZ_DT_FLOAT, -1, NULL);
    Onnx__NodeProto *iff = tm_node(g, "If", "if", "Y");
    qt_inputs(iff, 1, "C");
    for (int b = 0; b < 2; b++) {
        Onnx__GraphProto *s = tm_graph(b ? "else" : "then");
        Onnx__NodeProto *c = tm_node(s, "Clip", tm_printf("clip%d", b), tm_printf("Z%d", b));
        qt_inputs(c, 1, "X");
        qt_attr_float(c, "min", b ? -0.1f : 0.0f);
        qt_attr_float(c, "max", b ? 0.1f : 0.5f);
        qt_output(s, tm_printf("Z%d", b), MCZ_DT_FLOAT, -1, NULL);
        tm_attr_graph(iff, b ? "else_branch" : "then_branch", s);
    }
    return finish(g, opset);
}

/* Pack and write (the test helpers' writer reports through Check, which is not running). */
static char *save(const char *dir, const char *name, const Onnx__ModelProto *m)
{
    char *path = tm_printf("%s/%s", dir, name);
    size_t len = onnx__model_proto__get_packed_size(m);
    uint8_t *b = tm_alloc(len + 1);
    onnx__model_proto__pack(m, b);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    return path;
}

static const spec specs[] = {
    {"clip-9", 9, 13, clip},
    {"clip-max-7", 7, 11, clip_max},
    {"clip-if-9", 9, 21, subgraph_clip},
    {"slice-9", 9, 13, slice},
    {"squeeze-11", 11, 13, squeeze},
    {"unsqueeze-9", 9, 21, unsqueeze},
    {"reducesum-11", 11, 13, reduce_sum},
    {"reducemean-13", 13, 18, reduce_mean},
    {"reducemean-9", 9, 21, reduce_mean},
    {"reducemax-11", 11, 21, reduce_max},
    {"reducel2-11", 11, 18, reduce_l2},
    {"split-uneven-11", 11, 13, split_uneven},
    {"split-uneven-11-to-18", 11, 18, split_uneven},
    {"split-even-11-to-18", 11, 18, split_even},
    {"softmax-default-axis-9", 9, 13, softmax_default},
    {"softmax-axis0-11", 11, 21, softmax_0},
    {"softmax-last-axis-11", 11, 13, softmax_last},
    {"logsoftmax-9", 9, 13, logsoftmax},
    {"hardmax-11", 11, 13, hardmax},
    {"topk-9", 9, 13, topk},
    {"pad-constant-9", 9, 13, pad},
    {"pad-reflect-10", 10, 21, pad_reflect},
    {"dropout-9", 9, 13, dropout},
    {"upsample-attr-7", 7, 13, upsample_attr},
    {"upsample-attr-8-to-11", 8, 11, upsample_attr},
    {"upsample-nearest-9", 9, 13, upsample_nearest},
    {"upsample-linear-9", 9, 21, upsample_linear},
    {"resize10-nearest", 10, 13, resize10_nearest},
    {"resize10-linear", 10, 11, resize10_linear},
    {"batchnorm-spatial-7", 7, 13, batchnorm},
    {"scatter-9", 9, 11, scatter},
    {"gridsample-bilinear-16", 16, 20, gridsample_bilinear},
    {"gridsample-bicubic-16", 16, 21, gridsample_bicubic},
    {"gridsample-default-16", 16, 21, gridsample_default},
    {"roialign-10", 10, 16, roialign},
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: opset-models OUTDIR\n");
        return 1;
    }
    const char *dir = argv[1];
    mkdir(dir, 0777);
    char path[4096];
    snprintf(path, sizeof path, "%s/list.tsv", dir);
    FILE *list = fopen(path, "w");
    if (!list) {
        perror(path);
        return 1;
    }
    int rc = 0;
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        const spec *s = &specs[i];
        char *orig = save(dir, tm_printf("%s.onnx", s->name), s->build(s->opset));
        char raised[4096];
        snprintf(raised, sizeof raised, "%s/%s-raised.onnx", dir, s->name);
        mcz_error err = {0};
        mcz_model *m = mcz_model_load_onnx(orig, &err);
        mcz_save_opts o = {.force = 1};
        if (!m || mcz_model_raise_opset(m, s->raise_to, &err) != MCZ_OK ||
            mcz_model_save_onnx(m, raised, &o, &err) != MCZ_OK) {
            fprintf(stderr, "opset-models: %s: %s\n", s->name, err.msg);
            rc = 1;
        } else {
            fprintf(list, "%s\t%s\n", orig, raised);
        }
        mcz_model_free(m);
    }
    fclose(list);
    tm_reset();
    printf("opset-models: %zu models in %s\n", sizeof specs / sizeof *specs, dir);
    return rc;
}
