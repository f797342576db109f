/* test_quantize.c - the model-level pass (mcz_quantize_model): which weights it takes, what
 * --exclude / --min-elements / --target-sqnr do, the report, determinism across thread
 * counts, quantizing twice, and the errors. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "mcz/opset.h"
#include "mcz/qdq.h"
#include "mcz/quantize.h"
#include "qtest.h"
#include "testfs.h"

static void teardown(void)
{
    td_cleanup();
    tm_reset();
}

/* X [2,64] -> MatMul(enc.w [64,96]) -> Gemm(dec.w [48,96], transB) -> Conv-free tail.
 * Also a small weight (tiny.w [64,4], 256 elements) and a bias (dec.b). */
static Onnx__ModelProto *model(void)
{
    Onnx__GraphProto *g = tm_graph("main");
    qt_input(g, "X", MCZ_DT_FLOAT, 2, (const int64_t[]){2, 64});
    qt_output(g, "Y", MCZ_DT_FLOAT, 2, (const int64_t[]){2, 48});
    qt_output(g, "T", MCZ_DT_FLOAT, 2, (const int64_t[]){2, 4});
    tm_add_initializer(g, qt_weight("enc.w", 2, (const int64_t[]){64, 96}, 1));
    tm_add_initializer(g, qt_weight("dec.w", 2, (const int64_t[]){48, 96}, 2));
    tm_add_initializer(g, qt_weight("dec.b", 1, (const int64_t[]){48}, 3));
    tm_add_initializer(g, qt_weight("tiny.w", 2, (const int64_t[]){64, 4}, 4));
    Onnx__NodeProto *a = tm_node(g, "MatMul", "encoder_matmul", "H");
    qt_inputs(a, 2, "X", "enc.w");
    Onnx__NodeProto *b = tm_node(g, "Gemm", "decoder_gemm", "Y");
    qt_inputs(b, 3, "H", "dec.w", "dec.b");
    qt_attr_int(b, "transB", 1);
    Onnx__NodeProto *c = tm_node(g, "MatMul", "tiny_matmul", "T");
    qt_inputs(c, 2, "X", "tiny.w");
    Onnx__ModelProto *mp = tm_model(g);
    qt_opset(mp, 13);
    return mp;
}

static mcz_quantize_report *run(mcz_model *m, const mcz_quantize_params *p)
{
    mcz_quantize_report *r = NULL;
    mcz_error err = {0};
    expect_ok(mcz_quantize_model(m, p, &r, &err), &err);
    ck_assert_ptr_nonnull(r);
    return r;
}

static const mcz_quantize_result *row(const mcz_quantize_report *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->w[i].name, name) == 0)
            return &r->w[i];
    ck_abort_msg("no report row for '%s'", name);
    return NULL;
}

static int32_t dtype_of(const mcz_model *m, const char *name)
{
    long i = mcz_model_find_weight(m, name);
    ck_assert_msg(i >= 0, "no weight '%s'", name);
    return mcz_model_weight(m, (size_t)i)->dtype;
}

START_TEST(weight_inputs_are_quantized_along_their_output_channel)
{
    mcz_model *m = qt_import(model());
    mcz_quantize_params p = mcz_quantize_default_params();
    mcz_quantize_report *r = run(m, &p);
    const mcz_quantize_result *enc = row(r, "enc.w"), *dec = row(r, "dec.w");
    ck_assert_ptr_null(enc->skipped);
    ck_assert_int_eq(enc->bits, 8);
    ck_assert_int_eq(enc->axis, 1); /* MatMul: the last axis */
    ck_assert_int_eq(dec->axis, 0); /* Gemm with transB: axis 0 */
    ck_assert_str_eq(enc->op_type, "MatMul");
    ck_assert_str_eq(dec->op_type, "Gemm");
    ck_assert(enc->sqnr_db > 35 && isfinite(enc->sqnr_db));
    ck_assert_uint_eq(enc->bytes_before, 64 * 96 * 4);
    ck_assert_uint_eq(enc->bytes_after, 64 * 96 + 96 * 4);
    ck_assert_int_eq(dtype_of(m, "enc.w_quantized"), MCZ_DT_INT8);
    ck_assert_int_eq(dtype_of(m, "dec.w_quantized"), MCZ_DT_INT8);
    /* the bias is no weight input: not in the report, still float */
    for (size_t i = 0; i < r->n; i++)
        ck_assert_str_ne(r->w[i].name, "dec.b");
    ck_assert_int_eq(dtype_of(m, "dec.b"), MCZ_DT_FLOAT);
    ck_assert_uint_eq(r->quantized, 2);
    ck_assert_uint_eq(r->at_bits[8], 2);
    ck_assert_uint_eq(r->bytes_before, enc->bytes_before + dec->bytes_before);
    ck_assert_uint_eq(r->bytes_after, enc->bytes_after + dec->bytes_after);
    ck_assert_int_eq(r->opset_before, 13);
    mcz_quantize_report_free(r);
    mcz_model_free(m);
}
END_TEST

START_TEST(weights_smaller_than_min_elements_stay_float)
{
    mcz_model *m = qt_import(model());
    mcz_quantize_params p = mcz_quantize_default_params();
    mcz_quantize_report *r = run(m, &p);
    ck_assert_str_eq(row(r, "tiny.w")->skipped, "fewer elements than --min-elements");
    ck_assert_int_eq(dtype_of(m, "tiny.w"), MCZ_DT_FLOAT);
    mcz_quantize_report_free(r);
    mcz_model_free(m);
    m = qt_import(model());
    p.min_elements = 256;
    r = run(m, &p);
    ck_assert_ptr_null(row(r, "tiny.w")->skipped);
    ck_assert_int_eq(dtype_of(m, "tiny.w_quantized"), MCZ_DT_INT8);
    mcz_quantize_report_free(r);
    mcz_model_free(m);
}
END_TEST

START_TEST(exclude_globs_match_weight_and_node_names)
{
    const char *pats[2] = {"enc*", "decoder_*"};
    mcz_model *m = qt_import(model());
    mcz_quantize_params p = mcz_quantize_default_params();
    p.exclude = pats;
    p.nexclude = 2;
    mcz_quantize_report *r = run(m, &p);
    ck_assert_str_eq(row(r, "enc.w")->skipped, "excluded by --exclude");
    ck_assert_str_eq(row(r, "dec.w")->skipped, "excluded by --exclude"); /* by its node */
    ck_assert_uint_eq(r->quantized, 0);
    ck_assert_int_eq(dtype_of(m, "enc.w"), MCZ_DT_FLOAT);
    ck_assert_int_eq(mcz_model_opset_version(m, ""), 13);
    mcz_quantize_report_free(r);
    mcz_model_free(m);
}
END_TEST

START_TEST(an_exclude_matching_nothing_is_an_error_suggesting_names)
{
    const char *pats[1] = {"enc.x"};
    mcz_model *m = qt_import(model());
    mcz_quantize_params p = mcz_quantize_default_params();
    p.exclude = pats;
    p.nexclude = 1;
    mcz_quantize_report *r = NULL;
    mcz_error err = {0};
    expect_status(mcz_quantize_model(m, &p, &r, &err), MCZ_ERR_NOT_FOUND, &err);
    expect_msg_has(&err, "--exclude 'enc.x' matches no weight or node name");
    expect_msg_has(&err, "did you mean 'enc.w'");
    ck_assert_ptr_null(r);
    ck_assert_int_eq(dtype_of(m, "enc.w"), MCZ_DT_FLOAT); /* nothing happened */
    mcz_model_free(m);
}
END_TEST

START_TEST(mixed_precision_takes_the_next_precision_below_the_target)
{
    /* int4 blocks give ~20 dB, int8 ~40 dB on these weights */
    mcz_model *m = qt_import(model());
    mcz_quantize_params p = mcz_quantize_default_params();
    p.bits = 4;
    p.granularity = MCZ_QGRAN_BLOCK;
    p.mixed = true;
    p.target_sqnr_db = 30;
    mcz_quantize_report *r = run(m, &p);
    const mcz_quantize_result *enc = row(r, "enc.w");
    ck_assert_int_eq(enc->bits, 8);
    ck_assert_int_eq(enc->granularity, MCZ_QGRAN_CHANNEL);
    ck_assert(enc->sqnr_db >= 30);
    ck_assert(enc->sqnr_lower_db < 30); /* what int4 would have given */
    ck_assert_uint_eq(r->at_bits[8], 2);
    ck_assert_uint_eq(r->at_bits[4], 0);
    ck_assert_int_eq(dtype_of(m, "enc.w_quantized"), MCZ_DT_INT8);
    ck_assert_int_eq(mcz_model_opset_version(m, ""), 13); /* no int4 written: 13 is enough */
    mcz_quantize_report_free(r);
    mcz_model_free(m);
    /* a target int4 meets: int4 */
    m = qt_import(model());
    p.target_sqnr_db = 10;
    r = run(m, &p);
    ck_assert_int_eq(row(r, "enc.w")->bits, 4);
    ck_assert(isnan(row(r, "enc.w")->sqnr_lower_db));
    mcz_quantize_report_free(r);
    mcz_model_free(m);
    /* a target nothing meets: float, with the reason and what 8 bits gave */
    m = qt_import(model());
    p.target_sqnr_db = 90;
    r = run(m, &p);
    enc = row(r, "enc.w");
    ck_assert_str_eq(enc->skipped, "below --target-sqnr even at 8 bits");
    ck_assert_int_eq(enc->bits, 0);
    ck_assert(enc->sqnr_lower_db > 30 && enc->sqnr_lower_db < 90);
    ck_assert_int_eq(dtype_of(m, "enc.w"), MCZ_DT_FLOAT);
    mcz_quantize_report_free(r);
    mcz_model_free(m);
}
END_TEST

START_TEST(the_output_is_the_same_for_any_thread_count)
{
    static const int threads[3] = {1, 2, 5};
    const uint8_t *first = NULL;
    size_t first_len = 0;
    for (int k = 0; k < 3; k++) {
        mcz_model *m = qt_import(model());
        mcz_quantize_params p = mcz_quantize_default_params();
        p.bits = 4;
        p.granularity = MCZ_QGRAN_BLOCK;
        p.min_elements = 1;
        p.threads = threads[k];
        mcz_quantize_report *r = run(m, &p);
        size_t len;
        const uint8_t *b = qt_bytes(m, &len);
        if (!first) {
            first = b;
            first_len = len;
        } else {
            ck_assert_msg(len == first_len && memcmp(b, first, len) == 0,
                          "%d threads give other bytes than 1", threads[k]);
        }
        mcz_quantize_report_free(r);
        mcz_model_free(m);
    }
}
END_TEST

START_TEST(quantizing_twice_leaves_quantized_weights_alone)
{
    mcz_model *m = qt_import(model());
    mcz_quantize_params p = mcz_quantize_default_params();
    mcz_quantize_report *r = run(m, &p);
    mcz_quantize_report_free(r);
    m = qt_reload(m);
    size_t len1, len2;
    const uint8_t *before = qt_bytes(m, &len1);
    p.bits = 4;
    p.granularity = MCZ_QGRAN_BLOCK;
    r = run(m, &p);
    ck_assert_uint_eq(r->quantized, 0);
    ck_assert_uint_eq(r->already, 2);
    const mcz_quantize_result *enc = row(r, "enc.w");
    ck_assert(enc->already);
    ck_assert_int_eq(enc->bits, 8);
    ck_assert_int_eq(enc->granularity, MCZ_QGRAN_CHANNEL);
    ck_assert_int_eq(enc->axis, 1);
    ck_assert_ptr_null(enc->skipped);
    const uint8_t *after = qt_bytes(m, &len2);
    ck_assert(len1 == len2 && memcmp(before, after, len1) == 0);
    mcz_quantize_report_free(r);
    mcz_model_free(m);
}
END_TEST

START_TEST(a_nan_in_a_weight_keeps_it_float_and_the_report_says_why)
{
    Onnx__ModelProto *mp = model();
    float *v = (float *)mp->graph->initializer[1]->raw_data.data; /* dec.w */
    v[123] = NAN;
    mcz_model *m = qt_import(mp);
    mcz_quantize_params p = mcz_quantize_default_params();
    mcz_quantize_report *r = NULL;
    mcz_error err = {0};
    expect_ok(mcz_quantize_model(m, &p, &r, &err), &err);
    const mcz_quantize_result *dec = NULL;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->w[i].name, "dec.w") == 0)
            dec = &r->w[i];
    ck_assert_ptr_nonnull(dec);
    ck_assert_str_eq(dec->skipped, "holds NaN or infinite values");
    ck_assert_uint_eq(dec->bytes_after, dec->bytes_before);
    ck_assert_uint_ge(r->quantized, 1); /* the others still are */
    mcz_quantize_report_free(r);
    mcz_model_free(m);
}
END_TEST

START_TEST(a_weight_whose_consumers_disagree_stays_float_and_says_why)
{
    Onnx__ModelProto *mp = model();
    /* enc.w [64,96] is also read by a Gemm without transB... on axis 1 that agrees; make one
       with transB=1 (axis 0) */
    Onnx__NodeProto *g2 = tm_node(mp->graph, "Gemm", "other_gemm", "Z");
    qt_inputs(g2, 2, "Hb", "enc.w");
    qt_attr_int(g2, "transB", 1);
    mcz_model *m = qt_import(mp);
    mcz_quantize_params p = mcz_quantize_default_params();
    mcz_quantize_report *r = run(m, &p);
    ck_assert_str_eq(row(r, "enc.w")->skipped, "shared by consumers that disagree on the axis");
    ck_assert_int_eq(dtype_of(m, "enc.w"), MCZ_DT_FLOAT);
    mcz_quantize_report_free(r);
    mcz_model_free(m);
}
END_TEST

START_TEST(bad_parameters_are_refused_before_anything_changes)
{
    mcz_model *m = qt_import(model());
    mcz_quantize_params p = mcz_quantize_default_params();
    mcz_quantize_report *r = NULL;
    mcz_error err = {0};
    p.bits = 5;
    expect_status(mcz_quantize_model(m, &p, &r, &err), MCZ_ERR_ARG, &err);
    p = mcz_quantize_default_params();
    p.granularity = MCZ_QGRAN_BLOCK;
    p.block_size = 8;
    expect_status(mcz_quantize_model(m, &p, &r, &err), MCZ_ERR_ARG, &err);
    expect_msg_has(&err, "--block-size 8");
    p = mcz_quantize_default_params();
    p.mixed = true;
    p.target_sqnr_db = NAN;
    expect_status(mcz_quantize_model(m, &p, &r, &err), MCZ_ERR_ARG, &err);
    ck_assert_int_eq(dtype_of(m, "enc.w"), MCZ_DT_FLOAT);
    mcz_model_free(m);
}
END_TEST

START_TEST(an_opset_that_cannot_be_raised_fails_before_any_work)
{
    Onnx__ModelProto *mp = model();
    mp->opset_import[0]->version = 9;
    Onnx__NodeProto *s = tm_node(mp->graph, "Scan", "old_scan", "S");
    (void)s;
    mp->opset_import[0]->version = 8;
    mcz_model *m = qt_import(mp);
    mcz_quantize_params p = mcz_quantize_default_params();
    mcz_quantize_report *r = NULL;
    mcz_error err = {0};
    expect_status(mcz_quantize_model(m, &p, &r, &err), MCZ_ERR_UNSUPPORTED, &err);
    expect_msg_has(&err, "old_scan");
    ck_assert_int_eq(dtype_of(m, "enc.w"), MCZ_DT_FLOAT);
    mcz_model_free(m);
}
END_TEST

START_TEST(mse_is_never_worse_than_minmax_on_any_weight)
{
    mcz_quantize_report *r[2];
    for (int k = 0; k < 2; k++) {
        mcz_model *m = qt_import(model());
        mcz_quantize_params p = mcz_quantize_default_params();
        p.bits = 4;
        p.granularity = MCZ_QGRAN_BLOCK;
        p.min_elements = 1;
        p.method = k ? MCZ_QMETHOD_MINMAX : MCZ_QMETHOD_MSE;
        r[k] = run(m, &p);
        mcz_model_free(m);
    }
    ck_assert_uint_eq(r[0]->n, r[1]->n);
    for (size_t i = 0; i < r[0]->n; i++)
        if (!r[0]->w[i].skipped)
            ck_assert_msg(r[0]->w[i].sqnr_db >= r[1]->w[i].sqnr_db, "%s: mse %.3f dB < %.3f",
                          r[0]->w[i].name, r[0]->w[i].sqnr_db, r[1]->w[i].sqnr_db);
    mcz_quantize_report_free(r[0]);
    mcz_quantize_report_free(r[1]);
}
END_TEST

START_TEST(short_reduction_axes_block_along_the_kernel_or_fall_back_to_channels)
{
    /* Conv weights: [8, 1, 40] (depthwise, a long kernel) -> blocks along the kernel axis;
       [16, 1, 3, 3] (depthwise 3x3) -> per output channel; [8, 64, 3] -> along C */
    Onnx__GraphProto *g = tm_graph("main");
    qt_input(g, "X", MCZ_DT_FLOAT, 3, (const int64_t[]){1, 8, 100});
    tm_add_initializer(g, qt_weight("long_kernel", 3, (const int64_t[]){8, 1, 40}, 5));
    tm_add_initializer(g, qt_weight("dw3x3", 4, (const int64_t[]){16, 1, 3, 3}, 6));
    tm_add_initializer(g, qt_weight("wide", 3, (const int64_t[]){8, 64, 3}, 7));
    const char *w[3] = {"long_kernel", "dw3x3", "wide"};
    for (int k = 0; k < 3; k++) {
        Onnx__NodeProto *c = tm_node(g, "Conv", tm_printf("conv%d", k), tm_printf("Y%d", k));
        qt_inputs(c, 2, "X", w[k]);
    }
    Onnx__ModelProto *mp = tm_model(g);
    qt_opset(mp, 13);
    mcz_model *m = qt_import(mp);
    mcz_quantize_params p = mcz_quantize_default_params();
    p.bits = 4;
    p.granularity = MCZ_QGRAN_BLOCK;
    p.min_elements = 1;
    mcz_quantize_report *r = run(m, &p);
    ck_assert_int_eq(row(r, "long_kernel")->granularity, MCZ_QGRAN_BLOCK);
    ck_assert_int_eq(row(r, "long_kernel")->axis, 2);
    ck_assert_int_eq(row(r, "dw3x3")->granularity, MCZ_QGRAN_CHANNEL);
    ck_assert_int_eq(row(r, "dw3x3")->axis, 0);
    ck_assert_int_eq(row(r, "wide")->granularity, MCZ_QGRAN_BLOCK);
    ck_assert_int_eq(row(r, "wide")->axis, 1);
    /* block scales are float16-exact (for the container), channel scales need not be */
    const Onnx__TensorProto *sc = NULL;
    for (size_t i = 0; i < m->proto->graph->n_initializer; i++)
        if (strcmp(m->proto->graph->initializer[i]->name, "wide_scale") == 0)
            sc = m->proto->graph->initializer[i];
    ck_assert_ptr_nonnull(sc);
    for (size_t i = 0; i < sc->raw_data.len / 4; i++) {
        uint32_t u;
        memcpy(&u, sc->raw_data.data + 4 * i, 4);
        ck_assert_msg((u & 0x1fff) == 0, "block scale %zu is not float16-exact", i);
    }
    /* no scheme costs more than the float values it replaces */
    for (size_t i = 0; i < r->n; i++)
        ck_assert(r->w[i].bytes_after < r->w[i].bytes_before / 4);
    mcz_quantize_report_free(r);
    mcz_model_free(m);
}
END_TEST

int main(void)
{
    td_root_make();
    Suite *s = suite_create("quantize");
    TCase *t = tcase_create("quantize");
    tcase_add_checked_fixture(t, NULL, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, weight_inputs_are_quantized_along_their_output_channel);
    tcase_add_test(t, weights_smaller_than_min_elements_stay_float);
    tcase_add_test(t, exclude_globs_match_weight_and_node_names);
    tcase_add_test(t, an_exclude_matching_nothing_is_an_error_suggesting_names);
    tcase_add_test(t, mixed_precision_takes_the_next_precision_below_the_target);
    tcase_add_test(t, the_output_is_the_same_for_any_thread_count);
    tcase_add_test(t, quantizing_twice_leaves_quantized_weights_alone);
    tcase_add_test(t, a_nan_in_a_weight_keeps_it_float_and_the_report_says_why);
    tcase_add_test(t, a_weight_whose_consumers_disagree_stays_float_and_says_why);
    tcase_add_test(t, bad_parameters_are_refused_before_anything_changes);
    tcase_add_test(t, an_opset_that_cannot_be_raised_fails_before_any_work);
    tcase_add_test(t, mse_is_never_worse_than_minmax_on_any_weight);
    tcase_add_test(t, short_reduction_axes_block_along_the_kernel_or_fall_back_to_channels);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    td_root_remove();
    return failed ? 1 : 0;
}
