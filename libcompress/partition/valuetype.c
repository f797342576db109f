/* valuetype.c - what is known of the type of each value of the main graph: declared (graph
 * inputs, outputs, value_info) or the element type inferred from the op that makes it.
 *
 * Parts of a split model declare their inputs and outputs, and ONNX wants an element type on
 * each; exporters rarely write value_info for every intermediate tensor (paddle2onnx writes
 * none), so the element type is inferred, op by op in topological order, with rules for the
 * ops whose output type is plain (same as an input, fixed, or an attribute). An op without a
 * rule gives "unknown", and the partitioner does not cut there. Shapes are never inferred:
 * only declared shapes count, and only fully concrete ones give a byte size. */
#include <stdlib.h>
#include <string.h>

#include "onnx/model_impl.h"
#include "partition/partition_impl.h"

/* Ops whose every output has the element type of their first input. */
static const char *const same_as_input0[] = {
    "Abs", "Acos", "Acosh", "Add", "Asin", "Asinh", "Atan", "Atanh", "AveragePool",
    "BatchNormalization", "BitShift", "BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor",
    "Ceil", "Celu", "CenterCropPad", "Clip", "Col2Im", "Compress", "Concat", "Conv",
    "ConvTranspose", "Cos", "Cosh", "CumSum", "DepthToSpace", "Det", "Div", "Elu", "Erf", "Exp",
    "Expand", "Flatten", "Floor", "GRU", "Gather", "GatherElements", "GatherND", "Gelu", "Gemm",
    "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool", "GridSample", "GroupNormalization",
    "HardSigmoid", "HardSwish", "Hardmax", "Identity", "InstanceNormalization", "LRN", "LSTM",
    "LeakyRelu", "Log", "LogSoftmax", "LpNormalization", "LpPool", "MatMul", "Max",
    "MaxRoiPool", "MaxUnpool", "Mean", "MeanVarianceNormalization", "Min", "Mish", "Mod", "Mul",
    "Neg", "PRelu", "Pad", "Pow", "RNN", "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSum",
    "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum",
    "ReduceSumSquare", "Relu", "Reshape", "Resize", "ReverseSequence", "RoiAlign", "Round",
    "Scatter", "ScatterElements", "ScatterND", "Selu", "Shrink", "Sigmoid", "Sign", "Sin",
    "Sinh", "Slice", "Softmax", "Softplus", "Softsign", "SpaceToDepth", "Split", "Sqrt",
    "Squeeze", "Sub", "Sum", "Tan", "Tanh", "ThresholdedRelu", "Tile", "Transpose", "Trilu",
    "Unsqueeze", "Upsample",
};

/* Ops whose every output is int64 / bool. */
static const char *const all_int64[] = {"ArgMax", "ArgMin", "NonMaxSuppression", "NonZero",
                                        "SequenceLength", "Shape", "Size"};
static const char *const all_bool[] = {"And", "Equal", "Greater", "GreaterOrEqual", "IsInf",
                                       "IsNaN", "Less", "LessOrEqual", "Not", "Or", "Xor"};

static int in_list(const char *op, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(op, list[i]) == 0)
            return 1;
    return 0;
}

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t a = 0; a < n->n_attribute; a++)
        if (n->attribute[a]->name && strcmp(n->attribute[a]->name, name) == 0)
            return n->attribute[a];
    return NULL;
}

static int32_t attr_int(const Onnx__NodeProto *n, const char *name, int32_t dflt)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a && a->has_i ? (int32_t)a->i : dflt;
}

static int32_t decl_elem(const Onnx__ValueInfoProto *vi)
{
    if (!vi || !vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
        !vi->type->tensor_type || !vi->type->tensor_type->has_elem_type)
        return 0;
    return vi->type->tensor_type->elem_type;
}

/* Element type of input k of node n (0 when absent or unknown). */
static int32_t in_elem(const mcz_graph *g, const mcz_vtype *t, const Onnx__NodeProto *n, size_t k)
{
    if (k >= n->n_input || !n->input[k] || !*n->input[k])
        return 0;
    long v = mcz_graph_find_value(g, n->input[k]);
    return v >= 0 ? t[v].elem : 0;
}

/* Element type of output k of a subgraph-holding node, from the body's declared outputs. */
static int32_t body_out_elem(const Onnx__NodeProto *n, const char *attr_name, size_t k)
{
    const Onnx__AttributeProto *a = attr(n, attr_name);
    if (!a || !a->g || k >= a->g->n_output)
        return 0;
    return decl_elem(a->g->output[k]);
}

/* Element type of output k of a Constant node. */
static int32_t constant_elem(const Onnx__NodeProto *n)
{
    for (size_t a = 0; a < n->n_attribute; a++) {
        const Onnx__AttributeProto *at = n->attribute[a];
        const char *nm = at->name ? at->name : "";
        if (strcmp(nm, "value") == 0 && at->t)
            return at->t->data_type;
        if (strcmp(nm, "value_float") == 0 || strcmp(nm, "value_floats") == 0)
            return MCZ_DT_FLOAT;
        if (strcmp(nm, "value_int") == 0 || strcmp(nm, "value_ints") == 0)
            return MCZ_DT_INT64;
        if (strcmp(nm, "value_string") == 0 || strcmp(nm, "value_strings") == 0)
            return MCZ_DT_STRING;
    }
    return 0;
}

/* The element type of output k of node n, or 0 when there is no rule. */
static int32_t infer(const mcz_graph *g, const mcz_vtype *t, const Onnx__NodeProto *n, size_t k)
{
    const char *op = n->op_type ? n->op_type : "";
    if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx") != 0)
        return 0; /* other domains: no rules */
    if (strcmp(op, "Constant") == 0)
        return constant_elem(n);
    if (strcmp(op, "Cast") == 0)
        return attr_int(n, "to", 0);
    if (strcmp(op, "CastLike") == 0 || strcmp(op, "Where") == 0)
        return in_elem(g, t, n, 1);
    if (in_list(op, all_int64, sizeof all_int64 / sizeof *all_int64))
        return MCZ_DT_INT64;
    if (in_list(op, all_bool, sizeof all_bool / sizeof *all_bool))
        return MCZ_DT_BOOL;
    if (strcmp(op, "Dropout") == 0)
        return k == 0 ? in_elem(g, t, n, 0) : MCZ_DT_BOOL;
    if (strcmp(op, "MaxPool") == 0 || strcmp(op, "TopK") == 0)
        return k == 0 ? in_elem(g, t, n, 0) : MCZ_DT_INT64;
    if (strcmp(op, "Unique") == 0)
        return k == 0 ? in_elem(g, t, n, 0) : MCZ_DT_INT64;
    if (strcmp(op, "LayerNormalization") == 0) /* Mean / InvStdDev: stash_type, float */
        return k == 0 ? in_elem(g, t, n, 0) : attr_int(n, "stash_type", MCZ_DT_FLOAT);
    if (strcmp(op, "ConstantOfShape") == 0) {
        const Onnx__AttributeProto *a = attr(n, "value");
        return a && a->t ? a->t->data_type : MCZ_DT_FLOAT;
    }
    if (strcmp(op, "EyeLike") == 0 || strcmp(op, "RandomNormalLike") == 0 ||
        strcmp(op, "RandomUniformLike") == 0)
        return attr_int(n, "dtype", in_elem(g, t, n, 0));
    if (strcmp(op, "RandomNormal") == 0 || strcmp(op, "RandomUniform") == 0)
        return attr_int(n, "dtype", MCZ_DT_FLOAT);
    if (strcmp(op, "Multinomial") == 0)
        return attr_int(n, "dtype", MCZ_DT_INT32);
    if (strcmp(op, "Range") == 0)
        return in_elem(g, t, n, 0);
    if (strcmp(op, "OneHot") == 0)
        return in_elem(g, t, n, 2);
    if (strcmp(op, "DequantizeLinear") == 0)
        return in_elem(g, t, n, 1);
    if (strcmp(op, "QuantizeLinear") == 0) {
        int32_t z = in_elem(g, t, n, 2);
        return attr_int(n, "output_dtype", 0) ? attr_int(n, "output_dtype", 0)
                                               : z ? z : MCZ_DT_UINT8;
    }
    if (strcmp(op, "DynamicQuantizeLinear") == 0)
        return k == 1 ? MCZ_DT_FLOAT : MCZ_DT_UINT8;
    if (strcmp(op, "MatMulInteger") == 0 || strcmp(op, "ConvInteger") == 0)
        return MCZ_DT_INT32;
    if (strcmp(op, "QLinearConv") == 0 || strcmp(op, "QLinearMatMul") == 0)
        return in_elem(g, t, n, 7);
    if (strcmp(op, "If") == 0) {
        int32_t a = body_out_elem(n, "then_branch", k), b = body_out_elem(n, "else_branch", k);
        return a ? a : b;
    }
    if (strcmp(op, "Loop") == 0) /* body outputs: condition, carried..., scan outputs */
        return body_out_elem(n, "body", k + 1);
    if (strcmp(op, "Scan") == 0)
        return body_out_elem(n, "body", k);
    if (in_list(op, same_as_input0, sizeof same_as_input0 / sizeof *same_as_input0))
        return in_elem(g, t, n, 0);
    return 0;
}

/* Concrete bytes of a declared tensor type, or 0 with *known = 0. */
static uint64_t decl_bytes(const Onnx__ValueInfoProto *vi, int32_t elem, int *known)
{
    *known = 0;
    if (!vi || !vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
        !vi->type->tensor_type || !vi->type->tensor_type->shape)
        return 0;
    const Onnx__TensorShapeProto *sh = vi->type->tensor_type->shape;
    uint64_t count = 1;
    for (size_t d = 0; d < sh->n_dim; d++) {
        const Onnx__TensorShapeProto__Dimension *dm = sh->dim[d];
        if (dm->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ||
            dm->dim_value < 0)
            return 0;
        uint64_t v = (uint64_t)dm->dim_value;
        if (v && count > UINT64_MAX / v)
            return 0;
        count *= v;
    }
    uint64_t bytes;
    if (!mcz_dtype_nbytes(elem, count, &bytes))
        return 0;
    *known = 1;
    return bytes;
}

mcz_status mcz_value_types(const mcz_model *m, const mcz_graph *g, const size_t *order,
                           mcz_vtype *t, mcz_error *err)
{
    const Onnx__GraphProto *mg = m->proto->graph;
    size_t nv = mcz_graph_value_count(g);
    memset(t, 0, nv * sizeof *t);
    (void)err;
    /* declarations: value_info first, then inputs and outputs (which win) */
    for (int pass = 0; pass < 3; pass++) {
        Onnx__ValueInfoProto **vis = pass == 0 ? mg->value_info : pass == 1 ? mg->input : mg->output;
        size_t n = pass == 0 ? mg->n_value_info : pass == 1 ? mg->n_input : mg->n_output;
        for (size_t i = 0; i < n; i++) {
            long v = vis[i]->name ? mcz_graph_find_value(g, vis[i]->name) : -1;
            if (v < 0 || !vis[i]->type || vis[i]->type->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET)
                continue;
            if (vis[i]->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && !decl_elem(vis[i]))
                continue; /* a tensor of no declared element type says nothing */
            t[v].decl = vis[i];
            t[v].elem = decl_elem(vis[i]);
            t[v].typed = 1;
        }
    }
    /* weights: their tensor's type */
    for (size_t i = 0; i < mg->n_initializer; i++) {
        const Onnx__TensorProto *w = mg->initializer[i];
        long v = w->name ? mcz_graph_find_value(g, w->name) : -1;
        if (v >= 0 && !t[v].typed) {
            t[v].elem = w->data_type;
            t[v].typed = 1;
        }
    }
    for (size_t i = 0; i < mg->n_sparse_initializer; i++) {
        const Onnx__SparseTensorProto *sp = mg->sparse_initializer[i];
        long v = sp->values && sp->values->name ? mcz_graph_find_value(g, sp->values->name) : -1;
        if (v >= 0 && !t[v].typed) {
            t[v].elem = sp->values->data_type;
            t[v].typed = 1;
        }
    }
    /* node outputs, in topological order so inputs are known first */
    size_t nn = mcz_graph_node_count(g);
    for (size_t i = 0; i < nn; i++) {
        const Onnx__NodeProto *n = mg->node[order[i]];
        for (size_t k = 0; k < n->n_output; k++) {
            if (!n->output[k] || !*n->output[k])
                continue;
            long v = mcz_graph_find_value(g, n->output[k]);
            if (v >= 0 && !t[v].typed) {
                t[v].elem = infer(g, t, n, k);
                t[v].typed = t[v].elem != 0;
            }
        }
    }
    for (size_t v = 0; v < nv; v++) {
        int known;
        t[v].bytes = decl_bytes(t[v].decl, t[v].elem, &known);
        t[v].shape_known = known;
    }
    return MCZ_OK;
}
