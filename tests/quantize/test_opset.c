/* test_opset.c - raising the default-domain opset (mcz_model_raise_opset): each conversion
 * rewrites its node as the newer definition needs, what cannot be converted is refused
 * before anything changes, and the IR version follows. (That the converted models compute
 * the same thing is checked with ONNX Runtime: opset-models.c and the corpus tests.) */
#include <check.h>
#include <string.h>

#include "expect.h"
#include "mcz/opset.h"
#include "qtest.h"
#include "testfs.h"

static void teardown(void)
{
    td_cleanup();
    tm_reset();
}

/* One node `op` reading X (float [2,3,4]) and writing Y, at `opset`. */
static Onnx__ModelProto *one_node(const char *op, int64_t opset, Onnx__NodeProto **node)
{
    Onnx__GraphProto *g = tm_graph("main");
    qt_input(g, "X", MCZ_DT_FLOAT, 3, (const int64_t[]){2, 3, 4});
    qt_output(g, "Y", MCZ_DT_FLOAT, -1, NULL);
    *node = tm_node(g, op, "n", "Y");
    qt_inputs(*node, 1, "X");
    Onnx__ModelProto *mp = tm_model(g);
    mp->ir_version = 3;
    qt_opset(mp, opset);
    return mp;
}

static mcz_model *raise_to(Onnx__ModelProto *mp, int64_t opset)
{
    mcz_model *m = qt_import(mp);
    mcz_error err = {0};
    expect_ok(mcz_model_raise_opset(m, opset, &err), &err);
    ck_assert_int_eq(mcz_model_opset_version(m, ""), opset);
    return m;
}

/* The int64 values of initializer `name`. */
static const int64_t *i64_of(const mcz_model *m, const char *name, size_t *n)
{
    const Onnx__TensorProto *t = qt_initializer(m->proto->graph, name);
    ck_assert_msg(t != NULL, "no initializer '%s'", name);
    ck_assert_int_eq(t->data_type, MCZ_DT_INT64);
    *n = t->raw_data.len / 8;
    return (const int64_t *)t->raw_data.data;
}

static float f32_of(const mcz_model *m, const char *name)
{
    const Onnx__TensorProto *t = qt_initializer(m->proto->graph, name);
    ck_assert_msg(t != NULL, "no initializer '%s'", name);
    ck_assert_int_eq(t->data_type, MCZ_DT_FLOAT);
    float f;
    memcpy(&f, t->raw_data.data, 4);
    return f;
}

START_TEST(clip_min_and_max_become_inputs_at_11)
{
    Onnx__NodeProto *n;
    Onnx__ModelProto *mp = one_node("Clip", 9, &n);
    qt_attr_float(n, "min", 0);
    qt_attr_float(n, "max", 6);
    mcz_model *m = raise_to(mp, 13);
    const Onnx__NodeProto *c = m->proto->graph->node[0];
    ck_assert_uint_eq(c->n_attribute, 0);
    ck_assert_uint_eq(c->n_input, 3);
    ck_assert(f32_of(m, c->input[1]) == 0.0f);
    ck_assert(f32_of(m, c->input[2]) == 6.0f);
    ck_assert_int_ge(m->proto->ir_version, 7);
    mcz_model_free(m);
}
END_TEST

START_TEST(clip_with_only_a_max_leaves_the_min_input_empty)
{
    Onnx__NodeProto *n;
    Onnx__ModelProto *mp = one_node("Clip", 7, &n);
    qt_attr_float(n, "max", 1.5f);
    mcz_model *m = raise_to(mp, 11);
    const Onnx__NodeProto *c = m->proto->graph->node[0];
    ck_assert_uint_eq(c->n_input, 3);
    ck_assert_str_eq(c->input[1], "");
    ck_assert(f32_of(m, c->input[2]) == 1.5f);
    mcz_model_free(m);
}
END_TEST

START_TEST(slice_starts_ends_and_axes_become_inputs_at_10)
{
    Onnx__NodeProto *n;
    Onnx__ModelProto *mp = one_node("Slice", 9, &n);
    qt_attr_ints(n, "starts", 2, 0, 1);
    qt_attr_ints(n, "ends", 2, 1, 3);
    qt_attr_ints(n, "axes", 2, 0, 2);
    mcz_model *m = raise_to(mp, 13);
    const Onnx__NodeProto *s = m->proto->graph->node[0];
    ck_assert_uint_eq(s->n_attribute, 0);
    ck_assert_uint_eq(s->n_input, 4);
    size_t k;
    const int64_t *v = i64_of(m, s->input[1], &k);
    ck_assert(k == 2 && v[0] == 0 && v[1] == 1);
    v = i64_of(m, s->input[2], &k);
    ck_assert(k == 2 && v[0] == 1 && v[1] == 3);
    v = i64_of(m, s->input[3], &k);
    ck_assert(k == 2 && v[0] == 0 && v[1] == 2);
    mcz_model_free(m);
}
END_TEST

START_TEST(squeeze_unsqueeze_and_reduce_sum_axes_become_inputs_at_13)
{
    const char *ops[3] = {"Squeeze", "Unsqueeze", "ReduceSum"};
    for (int k = 0; k < 3; k++) {
        Onnx__NodeProto *n;
        Onnx__ModelProto *mp = one_node(ops[k], 11, &n);
        qt_attr_ints(n, "axes", 1, 0);
        if (k == 2)
            qt_attr_int(n, "keepdims", 0);
        mcz_model *m = raise_to(mp, 13);
        const Onnx__NodeProto *s = m->proto->graph->node[0];
        ck_assert_uint_eq(s->n_input, 2);
        ck_assert_ptr_null(qt_attr(s, "axes"));
        size_t c;
        const int64_t *v = i64_of(m, s->input[1], &c);
        ck_assert(c == 1 && v[0] == 0);
        if (k == 2)
            ck_assert_int_eq(qt_attr(s, "keepdims")->i, 0);
        mcz_model_free(m);
    }
}
END_TEST

START_TEST(reduce_mean_axes_stay_an_attribute_at_13_and_become_an_input_at_18)
{
    Onnx__NodeProto *n;
    Onnx__ModelProto *mp = one_node("ReduceMean", 11, &n);
    qt_attr_ints(n, "axes", 2, 1, 2);
    mcz_model *m = raise_to(mp, 13);
    ck_assert_ptr_nonnull(qt_attr(m->proto->graph->node[0], "axes"));
    mcz_model_free(m);
    mp = one_node("ReduceMean", 11, &n);
    qt_attr_ints(n, "axes", 2, 1, 2);
    m = raise_to(mp, 21);
    const Onnx__NodeProto *r = m->proto->graph->node[0];
    ck_assert_ptr_null(qt_attr(r, "axes"));
    size_t c;
    const int64_t *v = i64_of(m, r->input[1], &c);
    ck_assert(c == 2 && v[0] == 1 && v[1] == 2);
    ck_assert_int_eq(m->proto->ir_version, 10);
    mcz_model_free(m);
}
END_TEST

START_TEST(split_becomes_a_split_input_at_13_and_counts_its_outputs_at_18)
{
    Onnx__NodeProto *n;
    Onnx__ModelProto *mp = one_node("Split", 11, &n);
    TM_PUSH(n->output, n->n_output, tm_str("Y2"));
    qt_attr_ints(n, "split", 2, 1, 2);
    qt_attr_int(n, "axis", 1);
    mcz_model *m = raise_to(mp, 13);
    const Onnx__NodeProto *s = m->proto->graph->node[0];
    ck_assert_uint_eq(s->n_input, 2);
    ck_assert_ptr_null(qt_attr(s, "split"));
    mcz_model_free(m);
    /* an even split: no split input; at 18 it says how many outputs */
    mp = one_node("Split", 11, &n);
    TM_PUSH(n->output, n->n_output, tm_str("Y2"));
    m = raise_to(mp, 18);
    s = m->proto->graph->node[0];
    ck_assert_uint_eq(s->n_input, 1);
    ck_assert_int_eq(qt_attr(s, "num_outputs")->i, 2);
    mcz_model_free(m);
}
END_TEST

START_TEST(softmax_on_the_last_axis_is_kept_as_it_is)
{
    Onnx__NodeProto *n;
    Onnx__ModelProto *mp = one_node("Softmax", 11, &n);
    qt_attr_int(n, "axis", 2); /* X has rank 3 */
    mcz_model *m = raise_to(mp, 13);
    ck_assert_uint_eq(m->proto->graph->n_node, 1);
    ck_assert_int_eq(qt_attr(m->proto->graph->node[0], "axis")->i, 2);
    mcz_model_free(m);
}
END_TEST

START_TEST(softmax_on_an_inner_axis_becomes_flatten_softmax_reshape)
{
    const char *ops[3] = {"Softmax", "LogSoftmax", "Hardmax"};
    for (int k = 0; k < 3; k++) {
        Onnx__NodeProto *n;
        Onnx__ModelProto *mp = one_node(ops[k], 9, &n); /* default axis 1 on rank 3 */
        mcz_model *m = raise_to(mp, 13);
        const Onnx__GraphProto *g = m->proto->graph;
        ck_assert_uint_eq(g->n_node, 4);
        ck_assert_str_eq(g->node[0]->op_type, "Flatten");
        ck_assert_int_eq(qt_attr(g->node[0], "axis")->i, 1);
        ck_assert_str_eq(g->node[1]->op_type, ops[k]);
        ck_assert_int_eq(qt_attr(g->node[1], "axis")->i, -1);
        ck_assert_str_eq(g->node[1]->input[0], g->node[0]->output[0]);
        ck_assert_str_eq(g->node[2]->op_type, "Shape");
        ck_assert_str_eq(g->node[2]->input[0], "X");
        ck_assert_str_eq(g->node[3]->op_type, "Reshape");
        ck_assert_str_eq(g->node[3]->input[0], g->node[1]->output[0]);
        ck_assert_str_eq(g->node[3]->input[1], g->node[2]->output[0]);
        ck_assert_str_eq(g->node[3]->output[0], "Y");
        mcz_model_free(m);
    }
}
END_TEST

START_TEST(upsample_becomes_resize_with_its_old_coordinates)
{
    Onnx__NodeProto *n;
    Onnx__ModelProto *mp = one_node("Upsample", 7, &n);
    Onnx__AttributeProto *a = tm_alloc(sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = tm_str("scales");
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
    TM_PUSH(a->floats, a->n_floats, 1.0f);
    TM_PUSH(a->floats, a->n_floats, 2.0f);
    TM_PUSH(a->floats, a->n_floats, 2.0f);
    TM_PUSH(n->attribute, n->n_attribute, a);
    mcz_model *m = raise_to(mp, 13);
    const Onnx__NodeProto *r = m->proto->graph->node[0];
    ck_assert_str_eq(r->op_type, "Resize");
    ck_assert_uint_eq(r->n_input, 3);
    ck_assert_str_eq(r->input[1], ""); /* roi, optional from 13 */
    const Onnx__TensorProto *sc = qt_initializer(m->proto->graph, r->input[2]);
    ck_assert(sc && sc->data_type == MCZ_DT_FLOAT && sc->raw_data.len == 12);
    const Onnx__AttributeProto *ct = qt_attr(r, "coordinate_transformation_mode");
    ck_assert(ct && ct->s.len == 10 && memcmp(ct->s.data, "asymmetric", 10) == 0);
    const Onnx__AttributeProto *nm = qt_attr(r, "nearest_mode");
    ck_assert(nm && nm->s.len == 5 && memcmp(nm->s.data, "floor", 5) == 0);
    mcz_model_free(m);
}
END_TEST

START_TEST(topk_pad_and_dropout_attributes_become_inputs)
{
    Onnx__NodeProto *n;
    Onnx__ModelProto *mp = one_node("TopK", 9, &n);
    qt_attr_int(n, "k", 2);
    mcz_model *m = raise_to(mp, 13);
    size_t c;
    const int64_t *v = i64_of(m, m->proto->graph->node[0]->input[1], &c);
    ck_assert(c == 1 && v[0] == 2);
    mcz_model_free(m);
    mp = one_node("Pad", 9, &n);
    qt_attr_ints(n, "pads", 6, 0, 1, 1, 0, 1, 1);
    qt_attr_float(n, "value", 0.5f);
    m = raise_to(mp, 13);
    const Onnx__NodeProto *p = m->proto->graph->node[0];
    v = i64_of(m, p->input[1], &c);
    ck_assert(c == 6 && v[1] == 1 && v[3] == 0);
    ck_assert(f32_of(m, p->input[2]) == 0.5f);
    ck_assert_ptr_null(qt_attr(p, "pads"));
    mcz_model_free(m);
    mp = one_node("Dropout", 9, &n);
    qt_attr_float(n, "ratio", 0.25f);
    m = raise_to(mp, 13);
    ck_assert(f32_of(m, m->proto->graph->node[0]->input[1]) == 0.25f);
    mcz_model_free(m);
}
END_TEST

START_TEST(nodes_in_subgraphs_are_converted_too)
{
    Onnx__GraphProto *g = tm_graph("main");
    qt_input(g, "C", MCZ_DT_BOOL, 0, NULL);
    qt_input(g, "X", MCZ_DT_FLOAT, 2, (const int64_t[]){2, 3});
    qt_output(g, "Y", MCZ_DT_FLOAT, -1, NULL);
    Onnx__NodeProto *iff = tm_node(g, "If", "if", "Y");
    qt_inputs(iff, 1, "C");
    for (int b = 0; b < 2; b++) {
        Onnx__GraphProto *s = tm_graph(b ? "else" : "then");
        Onnx__NodeProto *c = tm_node(s, "Clip", tm_printf("clip%d", b), tm_printf("Z%d", b));
        qt_inputs(c, 1, "X");
        qt_attr_float(c, "max", 1.0f);
        qt_output(s, tm_printf("Z%d", b), MCZ_DT_FLOAT, -1, NULL);
        tm_attr_graph(iff, b ? "else_branch" : "then_branch", s);
    }
    Onnx__ModelProto *mp = tm_model(g);
    qt_opset(mp, 9);
    mcz_model *m = raise_to(mp, 13);
    for (int b = 0; b < 2; b++) {
        const Onnx__GraphProto *s = m->proto->graph->node[0]->attribute[b]->g;
        ck_assert_uint_eq(s->node[0]->n_input, 3);
        ck_assert_ptr_nonnull(qt_initializer(s, s->node[0]->input[2]));
    }
    mcz_model_free(m);
}
END_TEST

static void expect_refused(Onnx__ModelProto *mp, int64_t opset, const char *why)
{
    mcz_model *m = qt_import(mp);
    int64_t before = mcz_model_opset_version(m, "");
    size_t nodes = m->proto->graph->n_node;
    mcz_error err = {0};
    expect_status(mcz_model_raise_opset(m, opset, &err), MCZ_ERR_UNSUPPORTED, &err);
    expect_msg_has(&err, why);
    ck_assert_int_eq(mcz_model_opset_version(m, ""), before);
    ck_assert_uint_eq(m->proto->graph->n_node, nodes);
    mcz_model_free(m);
}

START_TEST(what_cannot_be_converted_is_refused_and_nothing_changes)
{
    Onnx__NodeProto *n;
    expect_refused(one_node("Relu", 6, &n), 13, "older than 7");
    expect_refused(one_node("Scan", 8, &n), 13, "'n' (Scan)");
    expect_refused(one_node("GroupNormalization", 18, &n), 21, "GroupNormalization");
    expect_refused(one_node("DFT", 17, &n), 21, "DFT");
    Onnx__ModelProto *mp = one_node("BatchNormalization", 8, &n);
    qt_attr_int(n, "spatial", 0);
    expect_refused(mp, 13, "spatial=0");
    mp = one_node("Relu", 11, &n);
    expect_refused(mp, MCZ_OPSET_MAX + 1, "at most");
    /* a refusal in a subgraph names the node there; the Clip before it is not converted */
    mp = one_node("Clip", 8, &n);
    qt_attr_float(n, "max", 1.0f);
    Onnx__NodeProto *loop = tm_node(mp->graph, "If", "if", "Z");
    Onnx__GraphProto *s = tm_graph("then");
    Onnx__NodeProto *scan = tm_node(s, "Scan", "deep_scan", "W");
    (void)scan;
    tm_attr_graph(loop, "then_branch", s);
    expect_refused(mp, 13, "deep_scan");
}
END_TEST

START_TEST(an_opset_already_high_enough_is_left_as_it_is)
{
    Onnx__NodeProto *n;
    Onnx__ModelProto *mp = one_node("Clip", 13, &n);
    mp->ir_version = 7;
    mcz_model *m = qt_import(mp);
    size_t len1, len2;
    const uint8_t *b1 = qt_bytes(m, &len1);
    mcz_error err = {0};
    expect_ok(mcz_model_raise_opset(m, 13, &err), &err);
    expect_ok(mcz_model_raise_opset(m, 10, &err), &err);
    const uint8_t *b2 = qt_bytes(m, &len2);
    ck_assert(len1 == len2 && memcmp(b1, b2, len1) == 0);
    mcz_model_free(m);
}
END_TEST

START_TEST(ir_versions_follow_the_opset_table)
{
    ck_assert_int_eq(mcz_opset_min_ir(7), 3);
    ck_assert_int_eq(mcz_opset_min_ir(9), 4);
    ck_assert_int_eq(mcz_opset_min_ir(10), 5);
    ck_assert_int_eq(mcz_opset_min_ir(11), 6);
    ck_assert_int_eq(mcz_opset_min_ir(13), 7);
    ck_assert_int_eq(mcz_opset_min_ir(17), 8);
    ck_assert_int_eq(mcz_opset_min_ir(19), 9);
    ck_assert_int_eq(mcz_opset_min_ir(21), 10);
}
END_TEST

int main(void)
{
    td_root_make();
    Suite *s = suite_create("opset");
    TCase *t = tcase_create("opset");
    tcase_add_checked_fixture(t, NULL, teardown);
    tcase_add_test(t, clip_min_and_max_become_inputs_at_11);
    tcase_add_test(t, clip_with_only_a_max_leaves_the_min_input_empty);
    tcase_add_test(t, slice_starts_ends_and_axes_become_inputs_at_10);
    tcase_add_test(t, squeeze_unsqueeze_and_reduce_sum_axes_become_inputs_at_13);
    tcase_add_test(t, reduce_mean_axes_stay_an_attribute_at_13_and_become_an_input_at_18);
    tcase_add_test(t, split_becomes_a_split_input_at_13_and_counts_its_outputs_at_18);
    tcase_add_test(t, softmax_on_the_last_axis_is_kept_as_it_is);
    tcase_add_test(t, softmax_on_an_inner_axis_becomes_flatten_softmax_reshape);
    tcase_add_test(t, upsample_becomes_resize_with_its_old_coordinates);
    tcase_add_test(t, topk_pad_and_dropout_attributes_become_inputs);
    tcase_add_test(t, nodes_in_subgraphs_are_converted_too);
    tcase_add_test(t, what_cannot_be_converted_is_refused_and_nothing_changes);
    tcase_add_test(t, an_opset_already_high_enough_is_left_as_it_is);
    tcase_add_test(t, ir_versions_follow_the_opset_table);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    td_root_remove();
    return failed ? 1 : 0;
}
