/* test_inspect_html.c - mcz-inspect --html on hand-built models: names are escaped, sparsity
 * and SQNR are what the values say, sampling is announced, -f is honoured. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect-html.h"
#include "mcz/model.h"
#include "testfs.h"
#include "testmodel.h"
#include "tool.h"

static void setup(void) {}
static void teardown(void)
{
    td_cleanup();
    tm_reset();
}

/* The report of `model` as a NUL-terminated string (arena). */
static char *report(const char *dir, const char *model)
{
    char *out = td_path(dir, "r.html");
    ck_assert_int_eq(inspect_html(model, out, 1), TOOL_OK);
    size_t len;
    uint8_t *p = td_read(out, &len);
    ck_assert_ptr_nonnull(p);
    char *s = tm_alloc(len + 1);
    memcpy(s, p, len);
    return s;
}

static void add_input(Onnx__NodeProto *n, const char *name)
{
    TM_PUSH(n->input, n->n_input, tm_str(name));
}

#define EVIL "w<b>\"x\"&'y'</script>"
#define EVIL_ESCAPED "w&lt;b&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;"

START_TEST(names_are_html_escaped)
{
    char *dir = td_new();
    float v[4] = {1, 2, 3, 4};
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw(EVIL, MCZ_DT_FLOAT, 1, TM_DIMS(4), v, sizeof v));
    add_input(tm_node(g, "Relu", "n", "y"), EVIL);
    char *page = report(dir, tm_save(dir, "m.onnx", tm_model(g)));
    ck_assert_ptr_nonnull(strstr(page, EVIL_ESCAPED));
    ck_assert_ptr_null(strstr(page, "<b>"));
    ck_assert_ptr_null(strstr(page, "</script>"));
    ck_assert_ptr_null(strstr(page, "<script"));
}
END_TEST

START_TEST(sparsity_is_the_fraction_of_zero_values)
{
    char *dir = td_new();
    float v[8] = {0, 1, 0, 2, 3, -0.0f, 4, 5}; /* 3 of 8 are zero (-0 too) */
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("w", MCZ_DT_FLOAT, 1, TM_DIMS(8), v, sizeof v));
    add_input(tm_node(g, "Relu", "n", "y"), "w");
    char *page = report(dir, tm_save(dir, "m.onnx", tm_model(g)));
    ck_assert_ptr_nonnull(strstr(page, ">37.5%</td>"));
    ck_assert_ptr_null(strstr(page, "evenly spaced")); /* nothing was sampled */
}
END_TEST

START_TEST(huge_tensors_are_sampled_and_say_so)
{
    char *dir = td_new();
    size_t n = INSPECT_HTML_SAMPLE_CAP + 1000;
    float *v = tm_alloc(n * sizeof *v); /* all zero */
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("big", MCZ_DT_FLOAT, 1, TM_DIMS((int64_t)n), v, n * sizeof *v));
    add_input(tm_node(g, "Relu", "n", "y"), "big");
    char *page = report(dir, tm_save(dir, "m.onnx", tm_model(g)));
    ck_assert_ptr_nonnull(strstr(page, ">100.0%*</td>"));
    ck_assert_ptr_nonnull(strstr(page, "evenly spaced"));
}
END_TEST

/* W_q (int8 codes) and W_s (scale 0.5) feed DequantizeLinear -> W. */
static Onnx__GraphProto *qdq_graph(const float *original)
{
    int8_t codes[4] = {0, 1, 2, -3};
    float scale = 0.5f;
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("W_q", MCZ_DT_INT8, 1, TM_DIMS(4), codes, sizeof codes));
    tm_add_initializer(g, tm_raw("W_s", MCZ_DT_FLOAT, 0, NULL, &scale, sizeof scale));
    if (original)
        tm_add_initializer(g, tm_raw("W", MCZ_DT_FLOAT, 1, TM_DIMS(4), original, 16));
    Onnx__NodeProto *dq = tm_node(g, "DequantizeLinear", "dq", "W");
    add_input(dq, "W_q");
    add_input(dq, "W_s");
    add_input(tm_node(g, "Relu", "n", "y"), "W");
    return g;
}

START_TEST(sqnr_is_unknown_without_the_float_original)
{
    char *dir = td_new();
    char *page = report(dir, tm_save(dir, "q.onnx", tm_model(qdq_graph(NULL))));
    ck_assert_ptr_nonnull(strstr(page, "int8 tensor"));
    ck_assert_ptr_nonnull(strstr(page, "1 weights in QDQ form"));
    /* the codes row: float bytes before (16), code bytes after (4), 25% zero, SQNR unknown */
    char *row = strstr(page, ">W_q<");
    ck_assert_ptr_nonnull(row);
    ck_assert_ptr_nonnull(strstr(row, "title=\"16 bytes\""));
    ck_assert_ptr_nonnull(strstr(row, "title=\"4 bytes\""));
    ck_assert_ptr_nonnull(strstr(row, ">25.0%</td><td class=n>&mdash;</td></tr>"));
    ck_assert_ptr_null(strstr(page, " dB<"));
}
END_TEST

START_TEST(sqnr_compares_with_the_float_original_when_present)
{
    char *dir = td_new();
    float orig[4] = {0, 0.5f, 1.0f, -1.4f}; /* dequantized: 0 0.5 1 -1.5; noise 0.01 */
    char *page = report(dir, tm_save(dir, "q.onnx", tm_model(qdq_graph(orig))));
    /* 10 log10(3.21 / 0.01) = 25.07 dB */
    ck_assert_ptr_nonnull(strstr(page, ">25.1 dB</td>"));
}
END_TEST

START_TEST(an_existing_report_needs_force)
{
    char *dir = td_new();
    float v[2] = {1, 2};
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("w", MCZ_DT_FLOAT, 1, TM_DIMS(2), v, sizeof v));
    char *model = tm_save(dir, "m.onnx", tm_model(g));
    char *out = td_path(dir, "r.html");
    td_write(out, "old", 3);
    ck_assert_int_eq(inspect_html(model, out, 0), TOOL_FAIL);
    size_t len;
    td_read(out, &len);
    ck_assert_uint_eq(len, 3); /* untouched */
    ck_assert_int_eq(inspect_html(model, out, 1), TOOL_OK);
    td_read(out, &len);
    ck_assert_uint_gt(len, 1000);
}
END_TEST

START_TEST(a_bad_input_fails_and_writes_nothing)
{
    char *dir = td_new();
    char *bad = td_path(dir, "bad.onnx"), *out = td_path(dir, "r.html");
    td_write(bad, "\xff\xff\xff\xff not a model", 17);
    ck_assert_int_eq(inspect_html(bad, out, 1), TOOL_FAIL);
    ck_assert(!td_exists(out));
}
END_TEST

int main(void)
{
    tool_init("mcz-inspect");
    Suite *s = suite_create("inspect-html");
    TCase *tc = tcase_create("html");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, names_are_html_escaped);
    tcase_add_test(tc, sparsity_is_the_fraction_of_zero_values);
    tcase_add_test(tc, huge_tensors_are_sampled_and_say_so);
    tcase_add_test(tc, sqnr_is_unknown_without_the_float_original);
    tcase_add_test(tc, sqnr_compares_with_the_float_original_when_present);
    tcase_add_test(tc, an_existing_report_needs_force);
    tcase_add_test(tc, a_bad_input_fails_and_writes_nothing);
    suite_add_tcase(s, tc);
    td_root_make();
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    td_root_remove();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
