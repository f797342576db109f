/* test_weights.c - the weight table: where weights are found, what each row says, and the
 * values mcz_model_weight_data / mcz_model_weight_to_f32 give for every value field. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "expect.h"
#include "mcz/model.h"
#include "onnxwire.h"
#include "testfs.h"
#include "testmodel.h"

/* ---- helpers -------------------------------------------------------------------------------- */

static mcz_model *import(const char *path)
{
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx(path, &err);
    ck_assert_msg(m != NULL, "import %s: %s", path, err.msg);
    return m;
}

static mcz_model *import_model(const Onnx__ModelProto *mp)
{
    return import(tm_save(td_new(), "model.onnx", mp));
}

static size_t index_of(const mcz_model *m, const char *name)
{
    long i = mcz_model_find_weight(m, name);
    ck_assert_msg(i >= 0, "no weight named '%s'", name);
    return (size_t)i;
}

static const mcz_weight *weight_named(const mcz_model *m, const char *name)
{
    return mcz_model_weight(m, index_of(m, name));
}

static const uint8_t *data_of(mcz_model *m, const char *name)
{
    mcz_error err = {0};
    const uint8_t *p = mcz_model_weight_data(m, index_of(m, name), &err);
    ck_assert_msg(p != NULL, "weight_data '%s': %s", name, err.msg);
    return p;
}

static float *f32_of(mcz_model *m, const char *name)
{
    size_t i = index_of(m, name);
    float *out = tm_alloc((size_t)mcz_model_weight(m, i)->count * sizeof *out + 1);
    mcz_error err = {0};
    expect_ok(mcz_model_weight_to_f32(m, i, out, &err), &err);
    return out;
}

static void *malloc_copy(const void *p, size_t n)
{
    void *d = malloc(n ? n : 1);
    ck_assert(d != NULL);
    if (n)
        memcpy(d, p, n);
    return d;
}

static void teardown(void)
{
    td_cleanup();
    tm_reset();
}

/* ---- where weights are found ---------------------------------------------------------------- */

START_TEST(initializer_in_the_main_graph_is_a_weight)
{
    const float v[6] = {1, 2, 3, 4, 5, 6};
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("w", MCZ_DT_FLOAT, 2, TM_DIMS(2, 3), v, sizeof v));
    mcz_model *m = import_model(tm_model(g));

    ck_assert_uint_eq(mcz_model_weight_count(m), 1);
    const mcz_weight *w = mcz_model_weight(m, 0);
    ck_assert_str_eq(w->name, "w");
    ck_assert_int_eq(w->kind, MCZ_WEIGHT_INITIALIZER);
    ck_assert_int_eq(w->depth, 0);
    ck_assert_str_eq(w->graph, "");
    ck_assert_ptr_null(w->node);
    ck_assert_int_eq(w->dtype, MCZ_DT_FLOAT);
    ck_assert_int_eq(w->rank, 2);
    ck_assert_int_eq(w->dims[0], 2);
    ck_assert_int_eq(w->dims[1], 3);
    ck_assert_uint_eq(w->count, 6);
    ck_assert_uint_eq(w->nbytes, 24);
    ck_assert(!w->external);
    ck_assert_str_eq(w->field, "raw_data");
    ck_assert_mem_eq(data_of(m, "w"), v, sizeof v);
    mcz_model_free(m);
}
END_TEST

START_TEST(constant_node_value_is_a_weight_named_after_its_output)
{
    const float v[3] = {0.5f, -1, 2};
    Onnx__GraphProto *g = tm_graph("main");
    tm_constant(g, "const_node", "const_out",
                tm_raw(NULL, MCZ_DT_FLOAT, 1, TM_DIMS(3), v, sizeof v));
    mcz_model *m = import_model(tm_model(g));

    ck_assert_uint_eq(mcz_model_weight_count(m), 1);
    const mcz_weight *w = mcz_model_weight(m, 0);
    ck_assert_str_eq(w->name, "const_out");
    ck_assert_int_eq(w->kind, MCZ_WEIGHT_CONSTANT);
    ck_assert_ptr_nonnull(w->node);
    ck_assert_str_eq(w->node, "const_node");
    ck_assert_int_eq(w->depth, 0);
    ck_assert_str_eq(w->graph, "");
    ck_assert_mem_eq(data_of(m, "const_out"), v, sizeof v);
    mcz_model_free(m);
}
END_TEST

START_TEST(constant_node_of_another_domain_is_not_a_weight)
{
    const float v[1] = {1};
    Onnx__GraphProto *g = tm_graph("main");
    Onnx__NodeProto *n =
        tm_constant(g, "custom", "out", tm_raw(NULL, MCZ_DT_FLOAT, 1, TM_DIMS(1), v, sizeof v));
    n->domain = tm_str("com.example");
    mcz_model *m = import_model(tm_model(g));
    ck_assert_uint_eq(mcz_model_weight_count(m), 0);
    mcz_model_free(m);
}
END_TEST

START_TEST(if_branches_hold_weights_at_depth_one)
{
    const float a[4] = {1, 2, 3, 4}, b[2] = {7, 8};
    Onnx__GraphProto *then_g = tm_graph("then"), *else_g = tm_graph("else");
    tm_add_initializer(then_g, tm_raw("then_w", MCZ_DT_FLOAT, 1, TM_DIMS(4), a, sizeof a));
    tm_constant(else_g, "else_const", "else_c", tm_raw(NULL, MCZ_DT_FLOAT, 1, TM_DIMS(2), b, sizeof b));
    Onnx__GraphProto *g = tm_graph("main");
    Onnx__NodeProto *n = tm_node(g, "If", "if1", "y");
    tm_attr_graph(n, "then_branch", then_g);
    tm_attr_graph(n, "else_branch", else_g);
    mcz_model *m = import_model(tm_model(g));

    ck_assert_uint_eq(mcz_model_weight_count(m), 2);
    const mcz_weight *t = weight_named(m, "then_w");
    ck_assert_int_eq(t->kind, MCZ_WEIGHT_INITIALIZER);
    ck_assert_int_eq(t->depth, 1);
    ck_assert_str_eq(t->graph, "if1/then_branch");
    ck_assert_mem_eq(data_of(m, "then_w"), a, sizeof a);
    const mcz_weight *e = weight_named(m, "else_c");
    ck_assert_int_eq(e->kind, MCZ_WEIGHT_CONSTANT);
    ck_assert_int_eq(e->depth, 1);
    ck_assert_str_eq(e->graph, "if1/else_branch");
    ck_assert_str_eq(e->node, "else_const");
    ck_assert_mem_eq(data_of(m, "else_c"), b, sizeof b);
    mcz_model_free(m);
}
END_TEST

START_TEST(loop_body_inside_an_if_is_depth_two_with_its_graph_path)
{
    const float a[5] = {1, 2, 3, 4, 5}, c[1] = {9};
    Onnx__GraphProto *body = tm_graph("body");
    tm_add_initializer(body, tm_raw("body_w", MCZ_DT_FLOAT, 1, TM_DIMS(5), a, sizeof a));
    tm_constant(body, "body_const", "body_c", tm_raw(NULL, MCZ_DT_FLOAT, 0, NULL, c, sizeof c));
    Onnx__GraphProto *then_g = tm_graph("then");
    tm_attr_graph(tm_node(then_g, "Loop", "loop1", "l"), "body", body);
    Onnx__GraphProto *g = tm_graph("main");
    Onnx__NodeProto *n = tm_node(g, "If", "if1", "y");
    tm_attr_graph(n, "then_branch", then_g);
    tm_attr_graph(n, "else_branch", tm_graph("else"));
    mcz_model *m = import_model(tm_model(g));

    ck_assert_uint_eq(mcz_model_weight_count(m), 2);
    const mcz_weight *w = weight_named(m, "body_w");
    ck_assert_int_eq(w->depth, 2);
    ck_assert_str_eq(w->graph, "if1/then_branch/loop1/body");
    ck_assert_mem_eq(data_of(m, "body_w"), a, sizeof a);
    const mcz_weight *k = weight_named(m, "body_c");
    ck_assert_int_eq(k->depth, 2);
    ck_assert_int_eq(k->kind, MCZ_WEIGHT_CONSTANT);
    ck_assert_str_eq(k->graph, "if1/then_branch/loop1/body");
    mcz_model_free(m);
}
END_TEST

START_TEST(scan_body_and_graph_list_attributes_hold_weights)
{
    const float a[2] = {1, 2}, b[2] = {3, 4}, c[2] = {5, 6};
    Onnx__GraphProto *body = tm_graph("body");
    tm_add_initializer(body, tm_raw("scan_w", MCZ_DT_FLOAT, 1, TM_DIMS(2), a, sizeof a));
    Onnx__GraphProto *g = tm_graph("main");
    tm_attr_graph(tm_node(g, "Scan", "scan1", "s"), "body", body);
    Onnx__GraphProto *g1 = tm_graph("g1"), *g2 = tm_graph("g2");
    tm_add_initializer(g1, tm_raw("list_w1", MCZ_DT_FLOAT, 1, TM_DIMS(2), b, sizeof b));
    tm_add_initializer(g2, tm_raw("list_w2", MCZ_DT_FLOAT, 1, TM_DIMS(2), c, sizeof c));
    Onnx__AttributeProto *at = tm_attr_graphs(tm_node(g, "Custom", "multi", "o"), "branches");
    TM_PUSH(at->graphs, at->n_graphs, g1);
    TM_PUSH(at->graphs, at->n_graphs, g2);
    mcz_model *m = import_model(tm_model(g));

    ck_assert_uint_eq(mcz_model_weight_count(m), 3);
    ck_assert_str_eq(weight_named(m, "scan_w")->graph, "scan1/body");
    ck_assert_str_eq(weight_named(m, "list_w1")->graph, "multi/branches");
    ck_assert_str_eq(weight_named(m, "list_w2")->graph, "multi/branches");
    ck_assert_int_eq(weight_named(m, "list_w2")->depth, 1);
    ck_assert_mem_eq(data_of(m, "list_w2"), c, sizeof c);
    mcz_model_free(m);
}
END_TEST

START_TEST(graph_path_names_every_level_however_long_the_node_names)
{
    char name[3][401];
    for (int k = 0; k < 3; k++) {
        memset(name[k], 'a' + k, 400);
        name[k][400] = 0;
    }
    Onnx__GraphProto *inner = tm_graph("inner");
    tm_add_initializer(inner, tm_raw("w", MCZ_DT_FLOAT, 0, NULL, "\0\0\0\0", 4));
    for (int k = 2; k >= 0; k--) {
        Onnx__GraphProto *outer = tm_graph("outer");
        tm_attr_graph(tm_node(outer, "If", name[k], "y"), "then_branch", inner);
        inner = outer;
    }
    mcz_model *m = import_model(tm_model(inner));
    const char *want = tm_printf("%s/then_branch/%s/then_branch/%s/then_branch", name[0],
                                 name[1], name[2]);
    ck_assert_int_eq(weight_named(m, "w")->depth, 3);
    ck_assert_msg(strcmp(weight_named(m, "w")->graph, want) == 0,
                  "graph path is %zu characters, expected %zu",
                  strlen(weight_named(m, "w")->graph), strlen(want));
    mcz_model_free(m);
}
END_TEST

START_TEST(find_weight_returns_the_first_of_duplicate_names_and_minus_one_for_none)
{
    const float a[1] = {1}, b[1] = {2};
    Onnx__GraphProto *then_g = tm_graph("then");
    tm_add_initializer(then_g, tm_raw("w", MCZ_DT_FLOAT, 1, TM_DIMS(1), b, sizeof b));
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("w", MCZ_DT_FLOAT, 1, TM_DIMS(1), a, sizeof a));
    tm_attr_graph(tm_node(g, "If", "if1", "y"), "then_branch", then_g);
    mcz_model *m = import_model(tm_model(g));

    long i = mcz_model_find_weight(m, "w");
    ck_assert_int_ge(i, 0);
    for (long j = 0; j < i; j++)
        ck_assert_str_ne(mcz_model_weight(m, (size_t)j)->name, "w");
    ck_assert_int_eq(mcz_model_find_weight(m, "absent"), -1);
    mcz_model_free(m);
}
END_TEST

/* ---- external data -------------------------------------------------------------------------- */

START_TEST(external_data_weight_reads_its_bytes_from_the_file_beside_the_model)
{
    char *dir = td_new();
    const float v[6] = {1.25f, -2, 3, 4, 5, 6.5f};
    uint8_t file[64 + sizeof v + 8];
    memset(file, 0xEE, sizeof file);
    memcpy(file + 64, v, sizeof v);
    td_write(td_path(dir, "weights.bin"), file, sizeof file);
    Onnx__TensorProto *t = tm_tensor("w", MCZ_DT_FLOAT, 2, TM_DIMS(3, 2));
    tm_set_external(t, "weights.bin", "64", "24");
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, t);
    mcz_model *m = import(tm_save(dir, "model.onnx", tm_model(g)));

    const mcz_weight *w = weight_named(m, "w");
    ck_assert(w->external);
    ck_assert_str_eq(w->field, "external");
    ck_assert_uint_eq(w->nbytes, sizeof v);
    ck_assert_mem_eq(data_of(m, "w"), v, sizeof v);
    ck_assert_mem_eq(f32_of(m, "w"), v, sizeof v);
    mcz_model_free(m);
}
END_TEST

START_TEST(external_data_without_offset_or_length_starts_at_zero_and_takes_the_shape)
{
    char *dir = td_new();
    const int64_t v[2] = {-7, 1LL << 40};
    uint8_t file[sizeof v + 100];
    memcpy(file, v, sizeof v);
    memset(file + sizeof v, 0x11, 100);
    td_write(td_path(dir, "w.data"), file, sizeof file);
    Onnx__TensorProto *t = tm_tensor("w", MCZ_DT_INT64, 1, TM_DIMS(2));
    tm_set_external(t, "w.data", NULL, NULL);
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, t);
    mcz_model *m = import(tm_save(dir, "model.onnx", tm_model(g)));

    ck_assert(weight_named(m, "w")->external);
    ck_assert_mem_eq(data_of(m, "w"), v, sizeof v);
    mcz_model_free(m);
}
END_TEST

START_TEST(external_weights_share_files_and_may_live_in_a_subfolder)
{
    char *dir = td_new();
    const float a[3] = {1, 2, 3}, b[2] = {4, 5}, c[4] = {6, 7, 8, 9};
    uint8_t file[128] = {0};
    memcpy(file, a, sizeof a);
    memcpy(file + 64, b, sizeof b);
    td_write(td_path(dir, "shared.bin"), file, sizeof file);
    ck_assert_int_eq(mkdir(td_path(dir, "sub"), 0755), 0);
    td_write(td_path(dir, "sub/c.bin"), c, sizeof c);
    Onnx__GraphProto *then_g = tm_graph("then");
    Onnx__TensorProto *tc = tm_tensor(NULL, MCZ_DT_FLOAT, 1, TM_DIMS(4));
    tm_set_external(tc, "sub/c.bin", "0", "16");
    tm_constant(then_g, "k", "c", tc);
    Onnx__TensorProto *ta = tm_tensor("a", MCZ_DT_FLOAT, 1, TM_DIMS(3));
    tm_set_external(ta, "shared.bin", "0", "12");
    Onnx__TensorProto *tb = tm_tensor("b", MCZ_DT_FLOAT, 1, TM_DIMS(2));
    tm_set_external(tb, "shared.bin", "64", "8");
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, ta);
    tm_add_initializer(g, tb);
    tm_attr_graph(tm_node(g, "If", "if1", "y"), "then_branch", then_g);
    mcz_model *m = import(tm_save(dir, "model.onnx", tm_model(g)));

    ck_assert_mem_eq(data_of(m, "a"), a, sizeof a);
    ck_assert_mem_eq(data_of(m, "b"), b, sizeof b);
    ck_assert_mem_eq(data_of(m, "c"), c, sizeof c);
    ck_assert(weight_named(m, "c")->external);
    ck_assert_int_eq(weight_named(m, "c")->kind, MCZ_WEIGHT_CONSTANT);
    mcz_model_free(m);
}
END_TEST

START_TEST(model_named_without_a_folder_finds_external_data_in_the_current_folder)
{
    char *dir = td_new();
    const float v[2] = {3, 4};
    td_write(td_path(dir, "w.bin"), v, sizeof v);
    Onnx__TensorProto *t = tm_tensor("w", MCZ_DT_FLOAT, 1, TM_DIMS(2));
    tm_set_external(t, "w.bin", "0", "8");
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, t);
    tm_save(dir, "model.onnx", tm_model(g));
    ck_assert_int_eq(chdir(dir), 0); /* each test runs in its own process */
    mcz_model *m = import("model.onnx");
    ck_assert_mem_eq(data_of(m, "w"), v, sizeof v);
    mcz_model_free(m);
}
END_TEST

START_TEST(zero_element_external_weight_in_an_empty_file_has_no_bytes)
{
    char *dir = td_new();
    td_write(td_path(dir, "empty.bin"), "", 0);
    Onnx__TensorProto *t = tm_tensor("w", MCZ_DT_FLOAT, 2, TM_DIMS(0, 4));
    tm_set_external(t, "empty.bin", "0", "0");
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, t);
    mcz_model *m = import(tm_save(dir, "model.onnx", tm_model(g)));

    const mcz_weight *w = weight_named(m, "w");
    ck_assert_uint_eq(w->count, 0);
    ck_assert_uint_eq(w->nbytes, 0);
    ck_assert(w->external);
    data_of(m, "w");
    f32_of(m, "w");
    mcz_model_free(m);
}
END_TEST

/* ---- typed fields --------------------------------------------------------------------------- */

/* One typed-field tensor: its values, the raw layout they stand for, and those as float. */
typedef struct typed_case {
    const char *what;
    int32_t dtype;
    const char *field;
    int64_t elems;
    size_t nvals; /* values in the typed field */
    int32_t i32[4];
    int64_t i64[4];
    uint64_t u64[4];
    float f32[4];
    double f64[4];
    size_t nraw;
    uint8_t raw[32];
    int convertible; /* mcz_model_weight_to_f32 supports the type */
    float as_f32[4];
} typed_case;

static const typed_case typed_cases[] = {
    {"float", MCZ_DT_FLOAT, "float_data", 2, 2, .f32 = {1.0f, -2.0f},
     .nraw = 8, .raw = {0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}, 1, {1, -2}},
    {"double", MCZ_DT_DOUBLE, "double_data", 2, 2, .f64 = {1.0, -0.5},
     .nraw = 16, .raw = {0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0xe0, 0xbf}, 1, {1, -0.5f}},
    {"int64", MCZ_DT_INT64, "int64_data", 2, 2, .i64 = {-1, 258},
     .nraw = 16, .raw = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 1}, 1, {-1, 258}},
    {"uint64", MCZ_DT_UINT64, "uint64_data", 2, 2, .u64 = {1ULL << 40, 3},
     .nraw = 16, .raw = {0, 0, 0, 0, 0, 1, 0, 0, 3}, 1, {1099511627776.0f, 3}},
    {"uint32", MCZ_DT_UINT32, "uint64_data", 2, 2, .u64 = {4000000000u, 7},
     .nraw = 8, .raw = {0x00, 0x28, 0x6b, 0xee, 7, 0, 0, 0}, 1, {4000000000.0f, 7}},
    {"int32", MCZ_DT_INT32, "int32_data", 2, 2, .i32 = {-5, 65536},
     .nraw = 8, .raw = {0xfb, 0xff, 0xff, 0xff, 0, 0, 1, 0}, 1, {-5, 65536}},
    {"int16", MCZ_DT_INT16, "int32_data", 2, 2, .i32 = {-2, 300},
     .nraw = 4, .raw = {0xfe, 0xff, 0x2c, 0x01}, 1, {-2, 300}},
    {"uint16", MCZ_DT_UINT16, "int32_data", 2, 2, .i32 = {65535, 1},
     .nraw = 4, .raw = {0xff, 0xff, 1, 0}, 1, {65535, 1}},
    {"int8", MCZ_DT_INT8, "int32_data", 3, 3, .i32 = {-1, 127, -128},
     .nraw = 3, .raw = {0xff, 0x7f, 0x80}, 1, {-1, 127, -128}},
    {"uint8", MCZ_DT_UINT8, "int32_data", 3, 3, .i32 = {0, 200, 255},
     .nraw = 3, .raw = {0, 200, 255}, 1, {0, 200, 255}},
    {"bool", MCZ_DT_BOOL, "int32_data", 3, 3, .i32 = {1, 0, 1},
     .nraw = 3, .raw = {1, 0, 1}, 1, {1, 0, 1}},
    {"float16", MCZ_DT_FLOAT16, "int32_data", 2, 2, .i32 = {0x3c00, 0xc000},
     .nraw = 4, .raw = {0x00, 0x3c, 0x00, 0xc0}, 1, {1, -2}},
    {"bfloat16", MCZ_DT_BFLOAT16, "int32_data", 2, 2, .i32 = {0x3f80, 0xc040},
     .nraw = 4, .raw = {0x80, 0x3f, 0x40, 0xc0}, 1, {1, -3}},
    {"int4 (two per byte)", MCZ_DT_INT4, "int32_data", 3, 2, .i32 = {0x21, 0x0f},
     .nraw = 2, .raw = {0x21, 0x0f}, 0, {0}},
    {"complex64", MCZ_DT_COMPLEX64, "float_data", 1, 2, .f32 = {1.0f, -2.0f},
     .nraw = 8, .raw = {0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}, 0, {0}},
};
#define N_TYPED (int)(sizeof typed_cases / sizeof typed_cases[0])

static Onnx__TensorProto *typed_tensor(const char *name, const typed_case *c)
{
    Onnx__TensorProto *t = tm_tensor(name, c->dtype, 1, TM_DIMS(c->elems));
    size_t n = c->nvals;
    if (strcmp(c->field, "float_data") == 0) {
        t->n_float_data = n;
        t->float_data = tm_dup(c->f32, n * sizeof *c->f32);
    } else if (strcmp(c->field, "double_data") == 0) {
        t->n_double_data = n;
        t->double_data = tm_dup(c->f64, n * sizeof *c->f64);
    } else if (strcmp(c->field, "int64_data") == 0) {
        t->n_int64_data = n;
        t->int64_data = tm_dup(c->i64, n * sizeof *c->i64);
    } else if (strcmp(c->field, "uint64_data") == 0) {
        t->n_uint64_data = n;
        t->uint64_data = tm_dup(c->u64, n * sizeof *c->u64);
    } else {
        t->n_int32_data = n;
        t->int32_data = tm_dup(c->i32, n * sizeof *c->i32);
    }
    return t;
}

START_TEST(typed_field_converts_to_the_raw_layout)
{
    const typed_case *c = &typed_cases[_i];
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, typed_tensor("w", c));
    mcz_model *m = import_model(tm_model(g));

    const mcz_weight *w = weight_named(m, "w");
    ck_assert_msg(strcmp(w->field, c->field) == 0, "%s: field %s", c->what, w->field);
    ck_assert_msg(w->count == (uint64_t)c->elems, "%s: count %llu", c->what,
                  (unsigned long long)w->count);
    ck_assert_msg(w->nbytes == c->nraw, "%s: nbytes %llu, expected %zu", c->what,
                  (unsigned long long)w->nbytes, c->nraw);
    ck_assert_msg(memcmp(data_of(m, "w"), c->raw, c->nraw) == 0, "%s: raw bytes differ", c->what);
    mcz_model_free(m);
}
END_TEST

START_TEST(raw_data_and_typed_field_give_the_same_f32_values)
{
    const typed_case *c = &typed_cases[_i];
    if (!c->convertible)
        return;
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, typed_tensor("typed", c));
    tm_add_initializer(g, tm_raw("raw", c->dtype, 1, TM_DIMS(c->elems), c->raw, c->nraw));
    mcz_model *m = import_model(tm_model(g));

    const float *typed = f32_of(m, "typed"), *raw = f32_of(m, "raw");
    for (int64_t k = 0; k < c->elems; k++) {
        ck_assert_msg(typed[k] == c->as_f32[k], "%s: typed[%lld] = %g, expected %g", c->what,
                      (long long)k, (double)typed[k], (double)c->as_f32[k]);
        ck_assert_msg(raw[k] == c->as_f32[k], "%s: raw[%lld] = %g, expected %g", c->what,
                      (long long)k, (double)raw[k], (double)c->as_f32[k]);
    }
    mcz_model_free(m);
}
END_TEST

START_TEST(typed_weight_data_is_converted_once_and_kept)
{
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, typed_tensor("w", &typed_cases[0]));
    mcz_model *m = import_model(tm_model(g));
    const void *p1 = data_of(m, "w"), *p2 = data_of(m, "w");
    ck_assert_ptr_eq(p1, p2);
    mcz_model_free(m);
}
END_TEST

/* ---- conversion to f32 ---------------------------------------------------------------------- */

static mcz_model *halves(int32_t dtype, const uint16_t *h, size_t n)
{
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("h", dtype, 1, TM_DIMS((int64_t)n), h, n * 2));
    return import_model(tm_model(g));
}

START_TEST(float16_converts_zeros_normals_subnormals_inf_and_nan)
{
    static const uint16_t h[] = {0x0000, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff,
                                 0x0400, 0x8001, 0x7c00, 0xfc00, 0x7e00, 0xfe01, 0x3555};
    static const float want[] = {0.0f, -0.0f, 1.0f, -2.0f, 65504.0f, 0x1p-24f, 0x1.ff8p-15f,
                                 0x1p-14f, -0x1p-24f, INFINITY, -INFINITY, NAN, NAN,
                                 0x1.554p-2f};
    size_t n = sizeof h / sizeof h[0];
    mcz_model *m = halves(MCZ_DT_FLOAT16, h, n);
    const float *f = f32_of(m, "h");
    for (size_t k = 0; k < n; k++) {
        if (isnan(want[k])) {
            ck_assert_msg(isnan(f[k]), "half 0x%04x -> %g, expected nan", h[k], (double)f[k]);
        } else {
            ck_assert_msg(f[k] == want[k] && !signbit(f[k]) == !signbit(want[k]),
                          "half 0x%04x -> %a, expected %a", h[k], (double)f[k], (double)want[k]);
        }
    }
    mcz_model_free(m);
}
END_TEST

START_TEST(bfloat16_converts_zeros_normals_subnormals_inf_and_nan)
{
    static const uint16_t h[] = {0x0000, 0x8000, 0x3f80, 0xc040, 0x4049, 0x0001,
                                 0x0080, 0x7f80, 0xff80, 0x7fc0, 0x7f7f};
    static const float want[] = {0.0f, -0.0f, 1.0f, -3.0f, 3.140625f, 0x1p-133f,
                                 0x1p-126f, INFINITY, -INFINITY, NAN, 0x1.fep127f};
    size_t n = sizeof h / sizeof h[0];
    mcz_model *m = halves(MCZ_DT_BFLOAT16, h, n);
    const float *f = f32_of(m, "h");
    for (size_t k = 0; k < n; k++) {
        if (isnan(want[k])) {
            ck_assert_msg(isnan(f[k]), "bf16 0x%04x -> %g, expected nan", h[k], (double)f[k]);
        } else {
            ck_assert_msg(f[k] == want[k] && !signbit(f[k]) == !signbit(want[k]),
                          "bf16 0x%04x -> %a, expected %a", h[k], (double)f[k], (double)want[k]);
        }
    }
    mcz_model_free(m);
}
END_TEST

START_TEST(wide_types_round_to_the_nearest_float)
{
    const double d[3] = {0.1, -1e-50, 3.0000001};
    const int64_t i[2] = {INT64_MIN, 16777217};
    const uint64_t u[1] = {UINT64_MAX};
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("d", MCZ_DT_DOUBLE, 1, TM_DIMS(3), d, sizeof d));
    tm_add_initializer(g, tm_raw("i", MCZ_DT_INT64, 1, TM_DIMS(2), i, sizeof i));
    tm_add_initializer(g, tm_raw("u", MCZ_DT_UINT64, 1, TM_DIMS(1), u, sizeof u));
    mcz_model *m = import_model(tm_model(g));

    const float *fd = f32_of(m, "d"), *fi = f32_of(m, "i"), *fu = f32_of(m, "u");
    ck_assert(fd[0] == 0.1f);
    ck_assert(fd[1] == 0.0f && signbit(fd[1]));
    ck_assert(fd[2] == 3.0f);
    ck_assert(fi[0] == -0x1p63f);
    ck_assert(fi[1] == 16777216.0f);
    ck_assert(fu[0] == 0x1p64f);
    mcz_model_free(m);
}
END_TEST

START_TEST(types_without_a_float_conversion_are_refused)
{
    const uint8_t b[8] = {0};
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("c", MCZ_DT_COMPLEX64, 1, TM_DIMS(1), b, 8));
    mcz_model *m = import_model(tm_model(g));
    float out[2];
    mcz_error err = {0};
    expect_status(mcz_model_weight_to_f32(m, 0, out, &err), MCZ_ERR_UNSUPPORTED, &err);
    expect_msg_has(&err, "'c'");
    mcz_model_free(m);
}
END_TEST

/* ---- shapes --------------------------------------------------------------------------------- */

START_TEST(scalar_has_rank_zero_and_one_element)
{
    const float v = 42.0f;
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("s", MCZ_DT_FLOAT, 0, NULL, &v, sizeof v));
    mcz_model *m = import_model(tm_model(g));
    const mcz_weight *w = weight_named(m, "s");
    ck_assert_int_eq(w->rank, 0);
    ck_assert_uint_eq(w->count, 1);
    ck_assert_uint_eq(w->nbytes, 4);
    ck_assert(f32_of(m, "s")[0] == 42.0f);
    mcz_model_free(m);
}
END_TEST

START_TEST(zero_element_tensor_has_no_bytes_whether_raw_or_typed)
{
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("raw", MCZ_DT_FLOAT, 2, TM_DIMS(0, 3), "", 0));
    tm_add_initializer(g, tm_tensor("none", MCZ_DT_INT64, 3, TM_DIMS(4, 0, 2)));
    mcz_model *m = import_model(tm_model(g));
    for (size_t i = 0; i < 2; i++) {
        const mcz_weight *w = mcz_model_weight(m, i);
        ck_assert_uint_eq(w->count, 0);
        ck_assert_uint_eq(w->nbytes, 0);
        mcz_error err = {0};
        ck_assert_ptr_nonnull(mcz_model_weight_data(m, i, &err));
        float sentinel = 123.0f;
        expect_ok(mcz_model_weight_to_f32(m, i, &sentinel, &err), &err);
        ck_assert(sentinel == 123.0f);
    }
    mcz_model_free(m);
}
END_TEST

START_TEST(int4_weights_pack_two_elements_per_byte)
{
    const uint8_t v[3] = {0x21, 0x43, 0x05};
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("q", MCZ_DT_INT4, 1, TM_DIMS(5), v, sizeof v));
    mcz_model *m = import_model(tm_model(g));
    ck_assert_uint_eq(weight_named(m, "q")->count, 5);
    ck_assert_uint_eq(weight_named(m, "q")->nbytes, 3);
    ck_assert_mem_eq(data_of(m, "q"), v, sizeof v);
    mcz_model_free(m);
}
END_TEST

START_TEST(string_tensor_is_a_weight_without_raw_layout)
{
    Onnx__TensorProto *t = tm_tensor("s", MCZ_DT_STRING, 1, TM_DIMS(2));
    ProtobufCBinaryData *sd = tm_alloc(2 * sizeof *sd);
    sd[0] = (ProtobufCBinaryData){2, (uint8_t *)tm_str("hi")};
    sd[1] = (ProtobufCBinaryData){3, (uint8_t *)tm_str("you")};
    t->n_string_data = 2;
    t->string_data = sd;
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, t);
    mcz_model *m = import_model(tm_model(g));
    const mcz_weight *w = weight_named(m, "s");
    ck_assert_uint_eq(w->count, 2);
    ck_assert_uint_eq(w->nbytes, 0);
    mcz_error err = {0};
    ck_assert_ptr_null(mcz_model_weight_data(m, 0, &err));
    ck_assert_int_eq(err.code, MCZ_ERR_UNSUPPORTED);
    expect_msg_has(&err, "'s'");
    mcz_model_free(m);
}
END_TEST

/* ---- the table as a whole ------------------------------------------------------------------- */

START_TEST(counts_and_byte_totals_add_up)
{
    const float a[10] = {0};
    const uint8_t b[7] = {0};
    const double c[3] = {0};
    Onnx__GraphProto *body = tm_graph("body");
    tm_add_initializer(body, tm_raw("c", MCZ_DT_DOUBLE, 1, TM_DIMS(3), c, sizeof c));
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("a", MCZ_DT_FLOAT, 2, TM_DIMS(2, 5), a, sizeof a));
    tm_constant(g, "k", "b", tm_raw(NULL, MCZ_DT_UINT8, 1, TM_DIMS(7), b, sizeof b));
    tm_attr_graph(tm_node(g, "Loop", "loop", "l"), "body", body);
    mcz_model *m = import_model(tm_model(g));

    ck_assert_uint_eq(mcz_model_weight_count(m), 3);
    uint64_t elems = 0, bytes = 0;
    for (size_t i = 0; i < mcz_model_weight_count(m); i++) {
        elems += mcz_model_weight(m, i)->count;
        bytes += mcz_model_weight(m, i)->nbytes;
    }
    ck_assert_uint_eq(elems, 10 + 7 + 3);
    ck_assert_uint_eq(bytes, 40 + 7 + 24);
    ck_assert_ptr_null(mcz_model_weight(m, 3));
    mcz_model_free(m);
}
END_TEST

START_TEST(raw_data_just_below_at_and_above_the_marker_size_imports_intact)
{
    Onnx__GraphProto *g = tm_graph("main");
    const size_t sizes[] = {0, 1, 15, 16, 17, 4096};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        tm_add_initializer(g, tm_raw(tm_printf("w%zu", sizes[k]), MCZ_DT_UINT8, 1,
                                     TM_DIMS((int64_t)sizes[k]), tm_pattern(sizes[k], (uint8_t)k),
                                     sizes[k]));
    mcz_model *m = import_model(tm_model(g));
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        const char *name = tm_printf("w%zu", sizes[k]);
        ck_assert_uint_eq(weight_named(m, name)->nbytes, sizes[k]);
        ck_assert_msg(memcmp(data_of(m, name), tm_pattern(sizes[k], (uint8_t)k), sizes[k]) == 0,
                      "%s differs", name);
    }
    mcz_model_free(m);
}
END_TEST

START_TEST(thousands_of_weights_all_get_their_own_values)
{
    enum { N = 2500 };
    Onnx__GraphProto *g = tm_graph("main");
    for (int k = 0; k < N; k++)
        tm_add_initializer(g, tm_raw(tm_printf("w%d", k), MCZ_DT_FLOAT, 1, TM_DIMS(5),
                                     tm_ramp(5, (float)k, 0.25f), 20));
    mcz_model *m = import_model(tm_model(g));
    ck_assert_uint_eq(mcz_model_weight_count(m), N);
    for (int k = 0; k < N; k++) {
        float v[5]; /* raw_data sits at any offset in the file: copy, never cast */
        memcpy(v, data_of(m, tm_printf("w%d", k)), sizeof v);
        ck_assert_msg(v[0] == (float)k && v[4] == (float)k + 1.0f, "w%d holds %g..%g", k,
                      (double)v[0], (double)v[4]);
    }
    mcz_model_free(m);
}
END_TEST

START_TEST(raw_data_that_looks_like_a_marker_is_kept_as_data)
{
    uint8_t mk0[MCZ_MARKER_LEN], mk1[MCZ_MARKER_LEN];
    mcz_marker_make(0, mk0);
    mcz_marker_make(1, mk1);
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("a", MCZ_DT_UINT8, 1, TM_DIMS(16), mk1, sizeof mk1));
    tm_add_initializer(g, tm_raw("b", MCZ_DT_UINT8, 1, TM_DIMS(16), mk0, sizeof mk0));
    mcz_model *m = import_model(tm_model(g));
    ck_assert_mem_eq(data_of(m, "a"), mk1, sizeof mk1);
    ck_assert_mem_eq(data_of(m, "b"), mk0, sizeof mk0);
    mcz_model_free(m);
}
END_TEST

START_TEST(buffer_import_finds_the_same_weights_as_file_import)
{
    const float a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[2] = {9, 10};
    Onnx__GraphProto *then_g = tm_graph("then");
    tm_constant(then_g, "k", "b", tm_raw(NULL, MCZ_DT_FLOAT, 1, TM_DIMS(2), b, sizeof b));
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("a", MCZ_DT_FLOAT, 1, TM_DIMS(8), a, sizeof a));
    tm_attr_graph(tm_node(g, "If", "if1", "y"), "then_branch", then_g);
    Onnx__ModelProto *mp = tm_model(g);
    size_t len;
    uint8_t *bytes = tm_pack(mp, &len);
    mcz_error err = {0};
    mcz_model *mb = mcz_model_load_onnx_buffer(malloc_copy(bytes, len), len, "mem.onnx", &err);
    ck_assert_msg(mb != NULL, "%s", err.msg);
    mcz_model *mf = import_model(mp);

    ck_assert_str_eq(mcz_model_path(mb), "mem.onnx");
    ck_assert_uint_eq(mcz_model_weight_count(mb), mcz_model_weight_count(mf));
    for (size_t i = 0; i < mcz_model_weight_count(mf); i++) {
        const mcz_weight *x = mcz_model_weight(mb, i), *y = mcz_model_weight(mf, i);
        ck_assert_str_eq(x->name, y->name);
        ck_assert_str_eq(x->graph, y->graph);
        ck_assert_uint_eq(x->nbytes, y->nbytes);
        ck_assert_mem_eq(mcz_model_weight_data(mb, i, &err), mcz_model_weight_data(mf, i, &err),
                         x->nbytes);
    }
    mcz_model_free(mb);
    mcz_model_free(mf);
}
END_TEST

START_TEST(weight_index_out_of_range_is_an_argument_error)
{
    Onnx__GraphProto *g = tm_graph("main");
    mcz_model *m = import_model(tm_model(g));
    mcz_error err = {0};
    ck_assert_ptr_null(mcz_model_weight_data(m, 0, &err));
    ck_assert_int_eq(err.code, MCZ_ERR_ARG);
    float f;
    ck_assert_int_eq(mcz_model_weight_to_f32(m, 5, &f, &err), MCZ_ERR_ARG);
    ck_assert_ptr_null(mcz_model_weight(m, 0));
    mcz_model_free(m);
}
END_TEST

/* ---- replacing values ----------------------------------------------------------------------- */

static mcz_model *one_float_weight(void)
{
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("w", MCZ_DT_FLOAT, 2, TM_DIMS(2, 3), tm_ramp(6, 1, 1), 24));
    return import_model(tm_model(g));
}

START_TEST(replace_updates_the_row_and_the_values)
{
    mcz_model *m = one_float_weight();
    const int8_t q[4] = {1, -2, 3, -4};
    mcz_error err = {0};
    expect_ok(mcz_model_weight_replace(m, 0, MCZ_DT_INT8, 1, TM_DIMS(4), malloc_copy(q, 4), 4,
                                       &err), &err);
    const mcz_weight *w = mcz_model_weight(m, 0);
    ck_assert_int_eq(w->dtype, MCZ_DT_INT8);
    ck_assert_int_eq(w->rank, 1);
    ck_assert_int_eq(w->dims[0], 4);
    ck_assert_uint_eq(w->count, 4);
    ck_assert_uint_eq(w->nbytes, 4);
    ck_assert_str_eq(w->field, "raw_data");
    ck_assert_mem_eq(data_of(m, "w"), q, 4);
    const float *f = f32_of(m, "w");
    ck_assert(f[0] == 1 && f[1] == -2 && f[2] == 3 && f[3] == -4);
    mcz_model_free(m);
}
END_TEST

START_TEST(replace_with_a_size_that_does_not_fit_the_shape_is_refused_and_changes_nothing)
{
    mcz_model *m = one_float_weight();
    mcz_error err = {0};
    expect_status(mcz_model_weight_replace(m, 0, MCZ_DT_INT8, 1, TM_DIMS(4), malloc(5), 5, &err),
                  MCZ_ERR_ARG, &err);
    expect_msg_has(&err, "'w'");
    expect_status(mcz_model_weight_replace(m, 0, MCZ_DT_FLOAT, 1, TM_DIMS(-1), malloc(4), 4, &err),
                  MCZ_ERR_ARG, &err);
    expect_status(mcz_model_weight_replace(m, 0, MCZ_DT_STRING, 1, TM_DIMS(1), malloc(4), 4, &err),
                  MCZ_ERR_ARG, &err);
    expect_status(mcz_model_weight_replace(m, 0, MCZ_DT_FLOAT, -1, NULL, malloc(4), 4, &err),
                  MCZ_ERR_ARG, &err);
    expect_status(mcz_model_weight_replace(m, 1, MCZ_DT_FLOAT, 0, NULL, malloc(4), 4, &err),
                  MCZ_ERR_ARG, &err);
    const mcz_weight *w = mcz_model_weight(m, 0);
    ck_assert_int_eq(w->dtype, MCZ_DT_FLOAT);
    ck_assert_uint_eq(w->count, 6);
    ck_assert_mem_eq(data_of(m, "w"), tm_ramp(6, 1, 1), 24);
    mcz_model_free(m);
}
END_TEST

START_TEST(replace_may_pass_the_weights_own_dims)
{
    mcz_model *m = one_float_weight();
    const mcz_weight *w = mcz_model_weight(m, 0);
    float *v = malloc_copy(tm_ramp(6, -3, 0.5f), 24);
    mcz_error err = {0};
    expect_ok(mcz_model_weight_replace(m, 0, w->dtype, w->rank, w->dims, v, 24, &err), &err);
    w = mcz_model_weight(m, 0);
    ck_assert_int_eq(w->rank, 2);
    ck_assert_int_eq(w->dims[0], 2);
    ck_assert_int_eq(w->dims[1], 3);
    ck_assert_mem_eq(data_of(m, "w"), tm_ramp(6, -3, 0.5f), 24);
    mcz_model_free(m);
}
END_TEST

START_TEST(replace_twice_keeps_the_latest_values)
{
    mcz_model *m = one_float_weight();
    mcz_error err = {0};
    expect_ok(mcz_model_weight_replace(m, 0, MCZ_DT_FLOAT, 0, NULL,
                                       malloc_copy(tm_ramp(1, 5, 0), 4), 4, &err), &err);
    expect_ok(mcz_model_weight_replace(m, 0, MCZ_DT_FLOAT, 1, TM_DIMS(2),
                                       malloc_copy(tm_ramp(2, 7, 1), 8), 8, &err), &err);
    ck_assert_int_eq(mcz_model_weight(m, 0)->rank, 1);
    ck_assert_mem_eq(data_of(m, "w"), tm_ramp(2, 7, 1), 8);
    mcz_model_free(m);
}
END_TEST

START_TEST(replace_keeps_an_external_weight_external_and_makes_a_typed_one_raw_data)
{
    char *dir = td_new();
    const float v[4] = {1, 2, 3, 4};
    td_write(td_path(dir, "w.bin"), v, sizeof v);
    Onnx__TensorProto *te = tm_tensor("ext", MCZ_DT_FLOAT, 1, TM_DIMS(4));
    tm_set_external(te, "w.bin", "0", "16");
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, te);
    tm_add_initializer(g, typed_tensor("typed", &typed_cases[0]));
    mcz_model *m = import(tm_save(dir, "model.onnx", tm_model(g)));
    data_of(m, "typed"); /* converted buffer exists before the replacement */
    mcz_error err = {0};
    for (size_t i = 0; i < 2; i++) {
        expect_ok(mcz_model_weight_replace(m, i, MCZ_DT_UINT8, 1, TM_DIMS(3),
                                           malloc_copy("xyz", 3), 3, &err), &err);
        const mcz_weight *w = mcz_model_weight(m, i);
        ck_assert(w->external == (i == 0));
        ck_assert_str_eq(w->field, i == 0 ? "external" : "raw_data");
        ck_assert_mem_eq(mcz_model_weight_data(m, i, &err), "xyz", 3);
    }
    mcz_model_free(m);
}
END_TEST

static Suite *weights_suite(void)
{
    Suite *s = suite_create("weights");
    TCase *tc = tcase_create("where");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, initializer_in_the_main_graph_is_a_weight);
    tcase_add_test(tc, constant_node_value_is_a_weight_named_after_its_output);
    tcase_add_test(tc, constant_node_of_another_domain_is_not_a_weight);
    tcase_add_test(tc, if_branches_hold_weights_at_depth_one);
    tcase_add_test(tc, loop_body_inside_an_if_is_depth_two_with_its_graph_path);
    tcase_add_test(tc, scan_body_and_graph_list_attributes_hold_weights);
    tcase_add_test(tc, graph_path_names_every_level_however_long_the_node_names);
    tcase_add_test(tc, find_weight_returns_the_first_of_duplicate_names_and_minus_one_for_none);
    suite_add_tcase(s, tc);

    tc = tcase_create("external");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, external_data_weight_reads_its_bytes_from_the_file_beside_the_model);
    tcase_add_test(tc, external_data_without_offset_or_length_starts_at_zero_and_takes_the_shape);
    tcase_add_test(tc, external_weights_share_files_and_may_live_in_a_subfolder);
    tcase_add_test(tc, model_named_without_a_folder_finds_external_data_in_the_current_folder);
    tcase_add_test(tc, zero_element_external_weight_in_an_empty_file_has_no_bytes);
    suite_add_tcase(s, tc);

    tc = tcase_create("values");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_loop_test(tc, typed_field_converts_to_the_raw_layout, 0, N_TYPED);
    tcase_add_loop_test(tc, raw_data_and_typed_field_give_the_same_f32_values, 0, N_TYPED);
    tcase_add_test(tc, typed_weight_data_is_converted_once_and_kept);
    tcase_add_test(tc, float16_converts_zeros_normals_subnormals_inf_and_nan);
    tcase_add_test(tc, bfloat16_converts_zeros_normals_subnormals_inf_and_nan);
    tcase_add_test(tc, wide_types_round_to_the_nearest_float);
    tcase_add_test(tc, types_without_a_float_conversion_are_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("shapes");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, scalar_has_rank_zero_and_one_element);
    tcase_add_test(tc, zero_element_tensor_has_no_bytes_whether_raw_or_typed);
    tcase_add_test(tc, int4_weights_pack_two_elements_per_byte);
    tcase_add_test(tc, string_tensor_is_a_weight_without_raw_layout);
    suite_add_tcase(s, tc);

    tc = tcase_create("table");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, counts_and_byte_totals_add_up);
    tcase_add_test(tc, raw_data_just_below_at_and_above_the_marker_size_imports_intact);
    tcase_add_test(tc, thousands_of_weights_all_get_their_own_values);
    tcase_add_test(tc, raw_data_that_looks_like_a_marker_is_kept_as_data);
    tcase_add_test(tc, buffer_import_finds_the_same_weights_as_file_import);
    tcase_add_test(tc, weight_index_out_of_range_is_an_argument_error);
    suite_add_tcase(s, tc);

    tc = tcase_create("replace");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, replace_updates_the_row_and_the_values);
    tcase_add_test(tc, replace_with_a_size_that_does_not_fit_the_shape_is_refused_and_changes_nothing);
    tcase_add_test(tc, replace_may_pass_the_weights_own_dims);
    tcase_add_test(tc, replace_twice_keeps_the_latest_values);
    tcase_add_test(tc, replace_keeps_an_external_weight_external_and_makes_a_typed_one_raw_data);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(weights_suite());
    td_root_make();
    srunner_run_all(sr, CK_NORMAL);
    td_root_remove();
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
