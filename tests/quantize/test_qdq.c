/* test_qdq.c - writing quantized weights in QDQ form (mcz_model_qdq_rewrite) and recognising
 * them (mcz_model_qdq_weights): where the pieces go, their names, types and attributes, the
 * opset and IR version, and what recognition accepts and refuses. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "mcz/opset.h"
#include "mcz/qdq.h"
#include "mcz/quant.h"
#include "qtest.h"
#include "testfs.h"

static void teardown(void)
{
    td_cleanup();
    tm_reset();
}

static size_t index_of(const mcz_model *m, const char *name)
{
    long i = mcz_model_find_weight(m, name);
    ck_assert_msg(i >= 0, "no weight '%s'", name);
    return (size_t)i;
}

/* Quantize weight `name` with s and rewrite it in QDQ form. */
static void rewrite(mcz_model *m, const char *name, mcz_qscheme s)
{
    size_t i = index_of(m, name);
    const mcz_weight *w = mcz_model_weight(m, i);
    mcz_error err = {0};
    const void *d = mcz_model_weight_data(m, i, &err);
    ck_assert_msg(d != NULL, "%s", err.msg);
    mcz_qtensor q;
    expect_ok(mcz_quantize_tensor(d, w->dtype, w->rank, w->dims, &s, &q, &err), &err);
    mcz_qdq_edit e = {i, &q, NULL};
    expect_ok(mcz_model_qdq_rewrite(m, &e, 1, &err), &err);
    ck_assert(q.codes == NULL && q.scales == NULL); /* taken over by the model */
    mcz_qtensor_free(&q);
}

static const mcz_qscheme INT8_CH1 = {8, false, MCZ_QGRAN_CHANNEL, 1, 0, MCZ_QMETHOD_MSE, false};

/* X [2, K] -> MatMul(X, W [K, N]) -> Y, with W an initializer of the main graph. */
static Onnx__ModelProto *matmul_model(int64_t opset, int64_t k, int64_t n)
{
    Onnx__GraphProto *g = tm_graph("main");
    qt_input(g, "X", MCZ_DT_FLOAT, 2, (const int64_t[]){2, k});
    qt_output(g, "Y", MCZ_DT_FLOAT, 2, (const int64_t[]){2, n});
    tm_add_initializer(g, qt_weight("W", 2, (const int64_t[]){k, n}, 1));
    Onnx__NodeProto *mm = tm_node(g, "MatMul", "mm", "Y");
    qt_inputs(mm, 2, "X", "W");
    Onnx__ModelProto *mp = tm_model(g);
    qt_opset(mp, opset);
    return mp;
}

START_TEST(an_initializer_becomes_codes_and_scales_with_a_dequantize_first_in_its_graph)
{
    mcz_model *m = qt_import(matmul_model(11, 16, 8));
    rewrite(m, "W", INT8_CH1);
    const Onnx__GraphProto *g = m->proto->graph;
    const Onnx__TensorProto *codes = qt_initializer(g, "W_quantized");
    const Onnx__TensorProto *scale = qt_initializer(g, "W_scale");
    ck_assert(codes && scale);
    ck_assert_ptr_null(qt_initializer(g, "W"));
    ck_assert_int_eq(codes->data_type, MCZ_DT_INT8);
    ck_assert_uint_eq(codes->n_dims, 2);
    ck_assert_uint_eq(codes->raw_data.len, 16 * 8);
    ck_assert_int_eq(scale->data_type, MCZ_DT_FLOAT);
    ck_assert_uint_eq(scale->n_dims, 1);
    ck_assert_int_eq(scale->dims[0], 8);
    /* the DequantizeLinear comes first and produces W; the MatMul still reads W */
    const Onnx__NodeProto *dq = g->node[0];
    ck_assert_str_eq(dq->op_type, "DequantizeLinear");
    ck_assert_uint_eq(dq->n_input, 2);
    ck_assert_str_eq(dq->input[0], "W_quantized");
    ck_assert_str_eq(dq->input[1], "W_scale");
    ck_assert_str_eq(dq->output[0], "W");
    ck_assert_int_eq(qt_attr(dq, "axis")->i, 1);
    ck_assert_ptr_null(qt_attr(dq, "block_size"));
    ck_assert_str_eq(g->node[1]->op_type, "MatMul");
    ck_assert_str_eq(g->node[1]->input[1], "W");
    /* per-axis needs opset 13 (and IR 7) */
    ck_assert_int_eq(qt_opset_of(m), 13);
    ck_assert_int_ge(m->proto->ir_version, 7);
    /* the weight table knows the new tensors */
    ck_assert_int_eq(mcz_model_weight(m, index_of(m, "W_quantized"))->dtype, MCZ_DT_INT8);
    ck_assert_int_eq(mcz_model_weight(m, index_of(m, "W_scale"))->dtype, MCZ_DT_FLOAT);
    mcz_model_free(m);
}
END_TEST

START_TEST(a_constant_keeps_its_place_and_the_new_nodes_follow_it)
{
    Onnx__GraphProto *g = tm_graph("main");
    qt_input(g, "X", MCZ_DT_FLOAT, 2, (const int64_t[]){2, 16});
    qt_output(g, "Y", MCZ_DT_FLOAT, 2, (const int64_t[]){2, 8});
    Onnx__NodeProto *r = tm_node(g, "Relu", "relu", "R");
    qt_inputs(r, 1, "X");
    tm_constant(g, "w_const", "W", qt_weight("", 2, (const int64_t[]){16, 8}, 2));
    Onnx__NodeProto *mm = tm_node(g, "MatMul", "mm", "Y");
    qt_inputs(mm, 2, "R", "W");
    Onnx__ModelProto *mp = tm_model(g);
    qt_opset(mp, 13);
    mcz_model *m = qt_import(mp);
    rewrite(m, "W", (mcz_qscheme){8, true, MCZ_QGRAN_CHANNEL, 1, 0, MCZ_QMETHOD_MSE, false});
    const Onnx__GraphProto *h = m->proto->graph;
    ck_assert_uint_eq(h->n_initializer, 0);
    ck_assert_uint_eq(h->n_node, 6);
    static const char *const ops[6] = {"Relu", "Constant", "Constant", "Constant",
                                       "DequantizeLinear", "MatMul"};
    static const char *const outs[6] = {"R", "W_quantized", "W_scale", "W_zero_point", "W", "Y"};
    for (int i = 0; i < 6; i++) {
        ck_assert_str_eq(h->node[i]->op_type, ops[i]);
        ck_assert_str_eq(h->node[i]->output[0], outs[i]);
    }
    ck_assert_str_eq(h->node[1]->name, "w_const"); /* the original Constant, renamed output */
    const Onnx__NodeProto *dq = h->node[4];
    ck_assert_uint_eq(dq->n_input, 3);
    ck_assert_str_eq(dq->input[2], "W_zero_point");
    const Onnx__TensorProto *zp = qt_attr(h->node[3], "value")->t;
    ck_assert_int_eq(zp->data_type, MCZ_DT_UINT8);
    ck_assert_int_eq(qt_attr(h->node[1], "value")->t->data_type, MCZ_DT_UINT8);
    ck_assert_int_eq(qt_opset_of(m), 13); /* already enough: unchanged */
    mcz_model_free(m);
}
END_TEST

START_TEST(a_subgraph_weight_is_rewritten_inside_its_branch)
{
    Onnx__GraphProto *g = tm_graph("main");
    qt_input(g, "X", MCZ_DT_FLOAT, 2, (const int64_t[]){2, 16});
    qt_input(g, "C", MCZ_DT_BOOL, 0, NULL);
    qt_output(g, "Y", MCZ_DT_FLOAT, 2, (const int64_t[]){2, 8});
    Onnx__NodeProto *iff = tm_node(g, "If", "if", "Y");
    qt_inputs(iff, 1, "C");
    const char *branch[2] = {"then_branch", "else_branch"};
    for (int b = 0; b < 2; b++) {
        Onnx__GraphProto *s = tm_graph(branch[b]);
        tm_add_initializer(s, qt_weight(b ? "We" : "Wt", 2, (const int64_t[]){16, 8}, 3 + b));
        Onnx__NodeProto *mm = tm_node(s, "MatMul", tm_printf("mm%d", b), tm_printf("Z%d", b));
        qt_inputs(mm, 2, "X", b ? "We" : "Wt");
        qt_output(s, tm_printf("Z%d", b), MCZ_DT_FLOAT, 2, (const int64_t[]){2, 8});
        tm_attr_graph(iff, branch[b], s);
    }
    Onnx__ModelProto *mp = tm_model(g);
    qt_opset(mp, 13);
    mcz_model *m = qt_import(mp);
    rewrite(m, "Wt", INT8_CH1);
    ck_assert_uint_eq(m->proto->graph->n_node, 1); /* nothing in the main graph */
    const Onnx__GraphProto *then = m->proto->graph->node[0]->attribute[0]->g;
    const Onnx__GraphProto *els = m->proto->graph->node[0]->attribute[1]->g;
    ck_assert_str_eq(then->node[0]->op_type, "DequantizeLinear");
    ck_assert_str_eq(then->node[0]->output[0], "Wt");
    ck_assert_ptr_nonnull(qt_initializer(then, "Wt_quantized"));
    ck_assert_ptr_nonnull(qt_initializer(then, "Wt_scale"));
    ck_assert_uint_eq(els->n_node, 1); /* the other branch untouched */
    ck_assert_ptr_nonnull(qt_initializer(els, "We"));
    const mcz_weight *w = mcz_model_weight(m, index_of(m, "Wt_quantized"));
    ck_assert_int_eq(w->depth, 1);
    mcz_model_free(m);
}
END_TEST

START_TEST(names_already_taken_anywhere_get_a_suffix)
{
    Onnx__ModelProto *mp = matmul_model(13, 16, 8);
    /* W_scale is taken by an unrelated tensor, W_quantized by a node output */
    tm_add_initializer(mp->graph, qt_weight("W_scale", 1, (const int64_t[]){3}, 9));
    Onnx__NodeProto *id = tm_node(mp->graph, "Identity", "id", "W_quantized");
    qt_inputs(id, 1, "W_scale");
    mcz_model *m = qt_import(mp);
    rewrite(m, "W", INT8_CH1);
    const Onnx__GraphProto *g = m->proto->graph;
    ck_assert_ptr_nonnull(qt_initializer(g, "W_quantized_1"));
    ck_assert_ptr_nonnull(qt_initializer(g, "W_scale_1"));
    ck_assert_int_eq(qt_initializer(g, "W_scale")->n_dims, 1); /* the old one untouched */
    ck_assert_int_eq(qt_initializer(g, "W_scale")->dims[0], 3);
    ck_assert_str_eq(g->node[0]->input[0], "W_quantized_1");
    ck_assert_str_eq(g->node[0]->input[1], "W_scale_1");
    mcz_model_free(m);
}
END_TEST

START_TEST(int4_blocks_write_packed_int4_a_block_size_and_opset_21)
{
    mcz_model *m = qt_import(matmul_model(13, 70, 8)); /* 70 = 2 * 32 + 6 */
    rewrite(m, "W", (mcz_qscheme){4, false, MCZ_QGRAN_BLOCK, 0, 32, MCZ_QMETHOD_MSE, false});
    const Onnx__GraphProto *g = m->proto->graph;
    const Onnx__TensorProto *codes = qt_initializer(g, "W_quantized");
    const Onnx__TensorProto *scale = qt_initializer(g, "W_scale");
    ck_assert_int_eq(codes->data_type, 22); /* INT4 */
    ck_assert_uint_eq(codes->raw_data.len, 70 * 8 / 2);
    ck_assert_uint_eq(scale->n_dims, 2);
    ck_assert_int_eq(scale->dims[0], 3);
    ck_assert_int_eq(scale->dims[1], 8);
    const Onnx__NodeProto *dq = g->node[0];
    ck_assert_int_eq(qt_attr(dq, "axis")->i, 0);
    ck_assert_int_eq(qt_attr(dq, "block_size")->i, 32);
    ck_assert_int_eq(qt_opset_of(m), 21);
    ck_assert_int_eq(m->proto->ir_version, 10);
    /* it survives a save and a load, and is recognised */
    m = qt_reload(m);
    mcz_qdq_weight *qw;
    size_t n;
    mcz_error err = {0};
    expect_ok(mcz_model_qdq_weights(m, &qw, &n, &err), &err);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(qw[0].name, "W");
    ck_assert_int_eq(qw[0].granularity, MCZ_QGRAN_BLOCK);
    ck_assert_int_eq(qw[0].axis, 0);
    ck_assert_uint_eq(qw[0].block_size, 32);
    ck_assert_int_eq(qw[0].bits, 4);
    ck_assert_int_eq(qw[0].dtype, MCZ_DT_INT4);
    ck_assert_int_eq(qw[0].zero_point, -1);
    ck_assert_str_eq(mcz_model_weight(m, qw[0].codes)->name, "W_quantized");
    ck_assert_str_eq(mcz_model_weight(m, qw[0].scale)->name, "W_scale");
    free(qw);
    mcz_model_free(m);
}
END_TEST

START_TEST(a_float16_weight_is_cast_back_to_float16)
{
    Onnx__GraphProto *g = tm_graph("main");
    qt_input(g, "X", MCZ_DT_FLOAT16, 2, (const int64_t[]){2, 32});
    qt_output(g, "Y", MCZ_DT_FLOAT16, 2, (const int64_t[]){2, 4});
    uint16_t h[32 * 4];
    for (int i = 0; i < 32 * 4; i++)
        h[i] = (uint16_t)(0x3000 + (i * 37) % 0x800 + (i % 2 ? 0x8000 : 0));
    tm_add_initializer(g, tm_raw("W", MCZ_DT_FLOAT16, 2, (const int64_t[]){32, 4}, h, sizeof h));
    Onnx__NodeProto *mm = tm_node(g, "MatMul", "mm", "Y");
    qt_inputs(mm, 2, "X", "W");
    Onnx__ModelProto *mp = tm_model(g);
    qt_opset(mp, 17);
    mcz_model *m = qt_import(mp);
    rewrite(m, "W", INT8_CH1);
    const Onnx__GraphProto *h2 = m->proto->graph;
    ck_assert_str_eq(h2->node[0]->op_type, "DequantizeLinear");
    ck_assert_str_eq(h2->node[0]->output[0], "W_dequantized");
    ck_assert_str_eq(h2->node[1]->op_type, "Cast");
    ck_assert_str_eq(h2->node[1]->input[0], "W_dequantized");
    ck_assert_str_eq(h2->node[1]->output[0], "W");
    ck_assert_int_eq(qt_attr(h2->node[1], "to")->i, MCZ_DT_FLOAT16);
    ck_assert_int_eq(qt_initializer(h2, "W_scale")->data_type, MCZ_DT_FLOAT);
    ck_assert_int_eq(qt_opset_of(m), 17);
    mcz_model_free(m);
}
END_TEST

START_TEST(an_initializer_that_was_a_graph_input_stops_being_one)
{
    Onnx__ModelProto *mp = matmul_model(13, 16, 8);
    qt_input(mp->graph, "W", MCZ_DT_FLOAT, 2, (const int64_t[]){16, 8});
    mcz_model *m = qt_import(mp);
    ck_assert(qt_has_input(m->proto->graph, "W"));
    rewrite(m, "W", INT8_CH1);
    ck_assert(!qt_has_input(m->proto->graph, "W"));
    ck_assert(qt_has_input(m->proto->graph, "X"));
    mcz_model_free(m);
}
END_TEST

START_TEST(per_tensor_int8_needs_only_opset_10)
{
    mcz_model *m = qt_import(matmul_model(9, 16, 8));
    rewrite(m, "W", (mcz_qscheme){8, false, MCZ_QGRAN_TENSOR, 0, 0, MCZ_QMETHOD_MINMAX, false});
    ck_assert_int_eq(qt_opset_of(m), 10);
    ck_assert_int_ge(m->proto->ir_version, 5);
    const Onnx__NodeProto *dq = m->proto->graph->node[0];
    ck_assert_ptr_null(qt_attr(dq, "axis"));
    ck_assert_uint_eq(qt_initializer(m->proto->graph, "W_scale")->n_dims, 0);
    mcz_model_free(m);
}
END_TEST

START_TEST(bad_edits_are_refused_and_change_nothing)
{
    Onnx__ModelProto *mp = matmul_model(11, 16, 8);
    int64_t iv[3] = {1, 2, 3};
    tm_add_initializer(mp->graph, tm_raw("I", MCZ_DT_INT64, 1, (const int64_t[]){3}, iv, sizeof iv));
    mcz_model *m = qt_import(mp);
    size_t w = index_of(m, "W"), ii = index_of(m, "I");
    mcz_error err = {0};
    const void *d = mcz_model_weight_data(m, w, &err);
    mcz_qtensor q, q2;
    expect_ok(mcz_quantize_tensor(d, MCZ_DT_FLOAT, 2, (const int64_t[]){16, 8}, &INT8_CH1, &q, &err),
              &err);
    expect_ok(mcz_quantize_tensor(d, MCZ_DT_FLOAT, 2, (const int64_t[]){8, 16},
                                  &(mcz_qscheme){8, false, MCZ_QGRAN_CHANNEL, 0, 0,
                                                 MCZ_QMETHOD_MSE, false}, &q2, &err), &err);
    mcz_qdq_edit twice[2] = {{w, &q, NULL}, {w, &q, NULL}};
    expect_status(mcz_model_qdq_rewrite(m, twice, 2, &err), MCZ_ERR_ARG, &err);
    expect_msg_has(&err, "given twice");
    mcz_qdq_edit notfloat = {ii, &q, NULL};
    expect_status(mcz_model_qdq_rewrite(m, &notfloat, 1, &err), MCZ_ERR_ARG, &err);
    expect_msg_has(&err, "not floating point");
    mcz_qdq_edit shape = {w, &q2, NULL};
    expect_status(mcz_model_qdq_rewrite(m, &shape, 1, &err), MCZ_ERR_ARG, &err);
    mcz_qdq_edit range = {99, &q, NULL};
    expect_status(mcz_model_qdq_rewrite(m, &range, 1, &err), MCZ_ERR_ARG, &err);
    ck_assert_int_eq(qt_opset_of(m), 11);
    ck_assert_ptr_nonnull(qt_initializer(m->proto->graph, "W"));
    ck_assert_uint_eq(m->proto->graph->n_node, 1);
    mcz_qtensor_free(&q);
    mcz_qtensor_free(&q2);
    mcz_model_free(m);
}
END_TEST

START_TEST(an_opset_that_cannot_be_raised_is_refused_and_changes_nothing)
{
    mcz_model *m = qt_import(matmul_model(6, 16, 8));
    size_t w = index_of(m, "W");
    mcz_error err = {0};
    const void *d = mcz_model_weight_data(m, w, &err);
    mcz_qtensor q;
    expect_ok(mcz_quantize_tensor(d, MCZ_DT_FLOAT, 2, (const int64_t[]){16, 8}, &INT8_CH1, &q, &err),
              &err);
    mcz_qdq_edit e = {w, &q, NULL};
    expect_status(mcz_model_qdq_rewrite(m, &e, 1, &err), MCZ_ERR_UNSUPPORTED, &err);
    expect_msg_has(&err, "older than 7");
    ck_assert_int_eq(qt_opset_of(m), 6);
    ck_assert_int_eq(mcz_model_weight(m, w)->dtype, MCZ_DT_FLOAT);
    mcz_qtensor_free(&q);
    mcz_model_free(m);
}
END_TEST

/* ---- recognising ------------------------------------------------------------------------------ */

/* DequantizeLinear(Q int8 [4,6], S, [Z]) -> W, W feeding a MatMul. */
static Onnx__ModelProto *qdq_model(int64_t scale_len, int with_zp, int64_t axis)
{
    Onnx__GraphProto *g = tm_graph("main");
    qt_input(g, "X", MCZ_DT_FLOAT, 2, (const int64_t[]){2, 4});
    qt_output(g, "Y", MCZ_DT_FLOAT, 2, (const int64_t[]){2, 6});
    int8_t q[24];
    for (int i = 0; i < 24; i++)
        q[i] = (int8_t)(i * 5 - 60);
    float s[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f};
    uint8_t z[8] = {0};
    tm_add_initializer(g, tm_raw("Q", MCZ_DT_INT8, 2, (const int64_t[]){4, 6}, q, sizeof q));
    tm_add_initializer(g, tm_raw("S", MCZ_DT_FLOAT, 1, (const int64_t[]){scale_len}, s,
                                 (size_t)scale_len * 4));
    if (with_zp)
        tm_add_initializer(g, tm_raw("Z", with_zp == 2 ? MCZ_DT_UINT8 : MCZ_DT_INT8, 1,
                                     (const int64_t[]){scale_len}, z, (size_t)scale_len));
    Onnx__NodeProto *dq = tm_node(g, "DequantizeLinear", "dq", "W");
    qt_inputs(dq, with_zp ? 3 : 2, "Q", "S", "Z");
    qt_attr_int(dq, "axis", axis);
    Onnx__NodeProto *mm = tm_node(g, "MatMul", "mm", "Y");
    qt_inputs(mm, 2, "X", "W");
    Onnx__ModelProto *mp = tm_model(g);
    qt_opset(mp, 13);
    return mp;
}

static size_t count_qdq(mcz_model *m, mcz_qdq_weight **out)
{
    size_t n;
    mcz_error err = {0};
    expect_ok(mcz_model_qdq_weights(m, out, &n, &err), &err);
    return n;
}

START_TEST(a_dequantize_of_constants_is_recognised_with_its_scheme)
{
    mcz_model *m = qt_import(qdq_model(6, 1, -1)); /* axis -1 = 1 */
    mcz_qdq_weight *q;
    ck_assert_uint_eq(count_qdq(m, &q), 1);
    ck_assert_str_eq(q[0].name, "W");
    ck_assert_str_eq(q[0].node, "dq");
    ck_assert_int_eq(q[0].granularity, MCZ_QGRAN_CHANNEL);
    ck_assert_int_eq(q[0].axis, 1);
    ck_assert_int_eq(q[0].bits, 8);
    ck_assert_int_ge(q[0].zero_point, 0);
    ck_assert_int_eq(q[0].scale_dtype, MCZ_DT_FLOAT);
    free(q);
    mcz_model_free(m);
    m = qt_import(qdq_model(1, 0, 1)); /* one scale: per-tensor */
    ck_assert_uint_eq(count_qdq(m, &q), 1);
    ck_assert_int_eq(q[0].granularity, MCZ_QGRAN_TENSOR);
    ck_assert_int_eq(q[0].axis, -1);
    free(q);
    mcz_model_free(m);
}
END_TEST

START_TEST(shapes_or_types_that_do_not_fit_are_not_recognised)
{
    mcz_qdq_weight *q;
    mcz_model *m = qt_import(qdq_model(4, 0, 1)); /* 4 scales for an axis of 6 */
    ck_assert_uint_eq(count_qdq(m, &q), 0);
    free(q);
    mcz_model_free(m);
    m = qt_import(qdq_model(6, 2, 1)); /* uint8 zero point for int8 codes */
    ck_assert_uint_eq(count_qdq(m, &q), 0);
    free(q);
    mcz_model_free(m);
    m = qt_import(qdq_model(6, 0, 0)); /* axis 0 has 4 */
    ck_assert_uint_eq(count_qdq(m, &q), 0);
    free(q);
    mcz_model_free(m);
}
END_TEST

START_TEST(a_dequantize_of_a_graph_input_is_not_a_weight)
{
    Onnx__ModelProto *mp = qdq_model(6, 0, 1);
    /* Q becomes a graph input that shadows nothing: not constant */
    mp->graph->initializer[0]->name = tm_str("Qc");
    qt_input(mp->graph, "Q", MCZ_DT_INT8, 2, (const int64_t[]){4, 6});
    mcz_model *m = qt_import(mp);
    mcz_qdq_weight *q;
    ck_assert_uint_eq(count_qdq(m, &q), 0);
    free(q);
    mcz_model_free(m);
}
END_TEST

START_TEST(constants_of_an_outer_graph_are_seen_from_a_subgraph)
{
    Onnx__GraphProto *g = tm_graph("main");
    qt_input(g, "C", MCZ_DT_BOOL, 0, NULL);
    qt_output(g, "Y", MCZ_DT_FLOAT, 2, (const int64_t[]){4, 6});
    int8_t q[24] = {0};
    float s[6] = {1, 1, 1, 1, 1, 1};
    tm_add_initializer(g, tm_raw("Q", MCZ_DT_INT8, 2, (const int64_t[]){4, 6}, q, sizeof q));
    tm_constant(g, "sc", "S", tm_raw("", MCZ_DT_FLOAT, 1, (const int64_t[]){6}, s, sizeof s));
    Onnx__NodeProto *iff = tm_node(g, "If", "if", "Y");
    qt_inputs(iff, 1, "C");
    for (int b = 0; b < 2; b++) {
        Onnx__GraphProto *sub = tm_graph(b ? "else" : "then");
        Onnx__NodeProto *dq = tm_node(sub, "DequantizeLinear", tm_printf("dq%d", b),
                                      tm_printf("W%d", b));
        qt_inputs(dq, 2, "Q", "S");
        qt_output(sub, tm_printf("W%d", b), MCZ_DT_FLOAT, 2, (const int64_t[]){4, 6});
        tm_attr_graph(iff, b ? "else_branch" : "then_branch", sub);
    }
    Onnx__ModelProto *mp = tm_model(g);
    qt_opset(mp, 13);
    mcz_model *m = qt_import(mp);
    mcz_qdq_weight *qw;
    ck_assert_uint_eq(count_qdq(m, &qw), 2);
    ck_assert_str_eq(qw[0].name, "W0");
    ck_assert_str_eq(qw[1].name, "W1");
    ck_assert_uint_eq(qw[0].codes, qw[1].codes);
    free(qw);
    mcz_model_free(m);
}
END_TEST

START_TEST(what_the_rewriter_writes_the_recogniser_finds)
{
    static const mcz_qscheme schemes[] = {
        {8, false, MCZ_QGRAN_CHANNEL, 1, 0, MCZ_QMETHOD_MSE, false},
        {8, true, MCZ_QGRAN_TENSOR, 0, 0, MCZ_QMETHOD_MSE, false},
        {4, true, MCZ_QGRAN_BLOCK, 0, 16, MCZ_QMETHOD_MSE, false},
        {4, false, MCZ_QGRAN_CHANNEL, 1, 0, MCZ_QMETHOD_MINMAX, false},
    };
    for (size_t k = 0; k < 4; k++) {
        mcz_model *m = qt_import(matmul_model(13, 40, 8));
        rewrite(m, "W", schemes[k]);
        m = qt_reload(m);
        mcz_qdq_weight *q;
        ck_assert_uint_eq(count_qdq(m, &q), 1);
        ck_assert_int_eq(q[0].granularity, schemes[k].granularity);
        ck_assert_int_eq(q[0].bits, schemes[k].bits);
        ck_assert_int_eq(q[0].zero_point >= 0, schemes[k].asymmetric);
        ck_assert_int_eq(q[0].axis, schemes[k].granularity == MCZ_QGRAN_TENSOR ? -1 : schemes[k].axis);
        free(q);
        mcz_model_free(m);
    }
}
END_TEST

int main(void)
{
    td_root_make();
    Suite *s = suite_create("qdq");
    TCase *t = tcase_create("qdq");
    tcase_add_checked_fixture(t, NULL, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, an_initializer_becomes_codes_and_scales_with_a_dequantize_first_in_its_graph);
    tcase_add_test(t, a_constant_keeps_its_place_and_the_new_nodes_follow_it);
    tcase_add_test(t, a_subgraph_weight_is_rewritten_inside_its_branch);
    tcase_add_test(t, names_already_taken_anywhere_get_a_suffix);
    tcase_add_test(t, int4_blocks_write_packed_int4_a_block_size_and_opset_21);
    tcase_add_test(t, a_float16_weight_is_cast_back_to_float16);
    tcase_add_test(t, an_initializer_that_was_a_graph_input_stops_being_one);
    tcase_add_test(t, per_tensor_int8_needs_only_opset_10);
    tcase_add_test(t, bad_edits_are_refused_and_change_nothing);
    tcase_add_test(t, an_opset_that_cannot_be_raised_is_refused_and_changes_nothing);
    tcase_add_test(t, a_dequantize_of_constants_is_recognised_with_its_scheme);
    tcase_add_test(t, shapes_or_types_that_do_not_fit_are_not_recognised);
    tcase_add_test(t, a_dequantize_of_a_graph_input_is_not_a_weight);
    tcase_add_test(t, constants_of_an_outer_graph_are_seen_from_a_subgraph);
    tcase_add_test(t, what_the_rewriter_writes_the_recogniser_finds);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    td_root_remove();
    return failed ? 1 : 0;
}
