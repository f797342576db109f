/* test_export.c - writing models back: serialize, save_onnx (inline / external data), the
 * skeleton with markers, and what saving must never do to existing files or the model. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expect.h"
#include "mcz/model.h"
#include "onnxwire.h"
#include "testfs.h"
#include "testmodel.h"

static void teardown(void)
{
    td_cleanup();
    tm_reset();
}

/* ---- helpers -------------------------------------------------------------------------------- */

static mcz_model *import(const char *path)
{
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx(path, &err);
    ck_assert_msg(m != NULL, "import %s: %s", path, err.msg);
    return m;
}

static void save(mcz_model *m, const char *path, int external_data, uint64_t min_bytes)
{
    mcz_save_opts o = {.external_data = external_data, .external_min_bytes = min_bytes};
    mcz_error err = {0};
    expect_ok(mcz_model_save_onnx(m, path, &o, &err), &err);
}

static uint8_t *serialize(mcz_model *m, size_t *len)
{
    uint8_t *out = NULL;
    mcz_error err = {0};
    expect_ok(mcz_model_serialize(m, &out, len, &err), &err);
    uint8_t *copy = tm_dup(out, *len);
    free(out);
    return copy;
}

static const void *data_at(mcz_model *m, size_t i)
{
    mcz_error err = {0};
    const void *p = mcz_model_weight_data(m, i, &err);
    ck_assert_msg(p != NULL, "%s", err.msg);
    return p;
}

/* Same rows, same values, in the same order. */
static void assert_same_weights(mcz_model *a, mcz_model *b)
{
    ck_assert_uint_eq(mcz_model_weight_count(a), mcz_model_weight_count(b));
    for (size_t i = 0; i < mcz_model_weight_count(a); i++) {
        const mcz_weight *x = mcz_model_weight(a, i), *y = mcz_model_weight(b, i);
        ck_assert_str_eq(x->name, y->name);
        ck_assert_str_eq(x->graph, y->graph);
        ck_assert_int_eq(x->kind, y->kind);
        ck_assert_int_eq(x->depth, y->depth);
        ck_assert_int_eq(x->dtype, y->dtype);
        ck_assert_int_eq(x->rank, y->rank);
        for (int d = 0; d < x->rank; d++)
            ck_assert_int_eq(x->dims[d], y->dims[d]);
        ck_assert_uint_eq(x->nbytes, y->nbytes);
        if (x->dtype != MCZ_DT_STRING)
            ck_assert_msg(memcmp(data_at(a, i), data_at(b, i), x->nbytes) == 0,
                          "values of '%s' differ", x->name);
    }
}

/* Weights of every kind and place: large and small raw_data, typed fields, Constants, a Loop
 * body inside an If, a string tensor; sizes that are not multiples of 64. */
static Onnx__ModelProto *varied_model(void)
{
    Onnx__GraphProto *body = tm_graph("body");
    tm_add_initializer(body, tm_raw("body_w", MCZ_DT_FLOAT, 2, TM_DIMS(25, 15),
                                    tm_pattern(1500, 0x31), 1500));
    tm_constant(body, "body_k", "body_c",
                tm_raw(NULL, MCZ_DT_FLOAT16, 1, TM_DIMS(3), "\0\x3c\0\x40\0\x42", 6));
    Onnx__GraphProto *then_g = tm_graph("then");
    tm_attr_graph(tm_node(then_g, "Loop", "loop", "l"), "body", body);
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("big", MCZ_DT_FLOAT, 2, TM_DIMS(40, 25), tm_pattern(4000, 0x41),
                                 4000));
    tm_add_initializer(g, tm_raw("mid", MCZ_DT_UINT8, 1, TM_DIMS(1028), tm_pattern(1028, 0x52),
                                 1028));
    tm_add_initializer(g, tm_raw("small", MCZ_DT_FLOAT, 1, TM_DIMS(10), tm_pattern(40, 0x63), 40));
    Onnx__TensorProto *typed = tm_tensor("typed", MCZ_DT_INT64, 1, TM_DIMS(300));
    typed->n_int64_data = 300;
    typed->int64_data = tm_alloc(300 * sizeof(int64_t));
    for (int k = 0; k < 300; k++)
        typed->int64_data[k] = 0x7100000000LL + k;
    tm_add_initializer(g, typed);
    Onnx__TensorProto *str = tm_tensor("names", MCZ_DT_STRING, 1, TM_DIMS(1));
    str->n_string_data = 1;
    str->string_data = tm_alloc(sizeof *str->string_data);
    str->string_data[0] = (ProtobufCBinaryData){5, (uint8_t *)tm_str("hello")};
    tm_add_initializer(g, str);
    tm_constant(g, "k", "c", tm_raw(NULL, MCZ_DT_FLOAT, 0, NULL, "\0\0\x80\x3f", 4));
    Onnx__NodeProto *n = tm_node(g, "If", "if1", "y");
    tm_attr_graph(n, "then_branch", then_g);
    tm_attr_graph(n, "else_branch", tm_graph("else"));
    return tm_model(g);
}

typedef void (*tensor_fn)(void *ctx, Onnx__TensorProto *t, const char *name);

/* Every weight location of a parsed model: initializers and Constant values, at any depth. */
static void each_weight_tensor(Onnx__GraphProto *g, tensor_fn fn, void *ctx)
{
    for (size_t i = 0; i < g->n_initializer; i++)
        fn(ctx, g->initializer[i], g->initializer[i]->name);
    for (size_t i = 0; i < g->n_node; i++) {
        Onnx__NodeProto *n = g->node[i];
        for (size_t a = 0; a < n->n_attribute; a++) {
            Onnx__AttributeProto *at = n->attribute[a];
            if (strcmp(n->op_type, "Constant") == 0 && strcmp(at->name, "value") == 0 && at->t)
                fn(ctx, at->t, n->output[0]);
            if (at->g)
                each_weight_tensor(at->g, fn, ctx);
            for (size_t k = 0; k < at->n_graphs; k++)
                each_weight_tensor(at->graphs[k], fn, ctx);
        }
    }
}

static Onnx__ModelProto *parse_file(const char *path)
{
    size_t len;
    uint8_t *b = td_read(path, &len);
    ck_assert_msg(b != NULL, "cannot read %s", path);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, b);
    ck_assert_msg(mp != NULL, "%s does not parse", path);
    return mp;
}

static const char *entry(const Onnx__TensorProto *t, const char *key)
{
    for (size_t i = 0; i < t->n_external_data; i++)
        if (strcmp(t->external_data[i]->key, key) == 0)
            return t->external_data[i]->value;
    return NULL;
}

/* ---- serialize ------------------------------------------------------------------------------ */

START_TEST(serialize_equals_protobuf_c_canonical_reencoding_of_the_file)
{
    /* the file: protobuf-c's packing plus what a foreign writer may produce: a hand-written
     * initializer whose raw_data length is an overlong varint, an unknown field, and a repeated
     * scalar field (the last one wins) */
    Onnx__ModelProto *mp = varied_model();
    Onnx__GraphProto *g = mp->graph;
    mp->graph = NULL;
    size_t head_len, glen = onnx__graph_proto__get_packed_size(g);
    uint8_t *head = tm_pack(mp, &head_len), *graph = tm_alloc(glen);
    onnx__graph_proto__pack(g, graph);
    tm_bytes tensor = {0}, file = {0};
    tm_put_tag(&tensor, 1, 0);
    tm_put_varint(&tensor, 8); /* dims: [8] */
    tm_put_tag(&tensor, 2, 0);
    tm_put_varint(&tensor, MCZ_DT_FLOAT);
    tm_put_field(&tensor, 8, "hand", 4);
    tm_put_tag(&tensor, 9, 2);
    tm_put(&tensor, "\xa0\x80\x80\x00", 4); /* 32, in four bytes */
    tm_put(&tensor, tm_pattern(32, 0x77), 32);
    tm_bytes gb = {0};
    tm_put(&gb, graph, glen);
    tm_put_field(&gb, 5, tensor.p, tensor.len);
    tm_put(&file, head, head_len);
    tm_put_field(&file, 7, gb.p, gb.len);
    tm_put_tag(&file, 1000, 0);
    tm_put_varint(&file, 12345);
    tm_put_tag(&file, 1, 0);
    tm_put_varint(&file, 9);
    char *path = td_path(td_new(), "foreign.onnx");
    td_write(path, file.p, file.len);

    Onnx__ModelProto *canon = onnx__model_proto__unpack(NULL, file.len, file.p);
    ck_assert_ptr_nonnull(canon);
    size_t clen = onnx__model_proto__get_packed_size(canon);
    uint8_t *cbytes = tm_alloc(clen);
    onnx__model_proto__pack(canon, cbytes);
    onnx__model_proto__free_unpacked(canon, NULL);

    mcz_model *m = import(path);
    ck_assert_int_ge(mcz_model_find_weight(m, "hand"), 0);
    size_t len;
    uint8_t *out = serialize(m, &len);
    ck_assert_uint_eq(len, clen);
    ck_assert_mem_eq(out, cbytes, clen);
    mcz_model_free(m);
}
END_TEST

START_TEST(serialize_inlines_external_weights)
{
    char *dir = td_new();
    const float v[4] = {1, 2, 3, 4};
    td_write(td_path(dir, "w.bin"), v, sizeof v);
    Onnx__TensorProto *t = tm_tensor("w", MCZ_DT_FLOAT, 1, TM_DIMS(4));
    tm_set_external(t, "w.bin", "0", "16");
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, t);
    mcz_model *m = import(tm_save(dir, "model.onnx", tm_model(g)));
    size_t len;
    uint8_t *out = serialize(m, &len);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, out);
    ck_assert_ptr_nonnull(mp);
    Onnx__TensorProto *w = mp->graph->initializer[0];
    ck_assert(w->has_raw_data);
    ck_assert_mem_eq(w->raw_data.data, v, sizeof v);
    ck_assert_uint_eq(w->n_external_data, 0);
    ck_assert(!(w->has_data_location && w->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL));
    onnx__model_proto__free_unpacked(mp, NULL);
    ck_assert(mcz_model_weight(m, 0)->external); /* the model itself is unchanged */
    mcz_model_free(m);
}
END_TEST

/* ---- save_onnx ------------------------------------------------------------------------------ */

START_TEST(saved_model_reimports_with_equal_weights_and_is_its_serialization)
{
    char *dir = td_new();
    mcz_model *m = import(tm_save(dir, "in.onnx", varied_model()));
    char *out = td_path(dir, "out.onnx");
    save(m, out, 0, 0);
    ck_assert(!td_exists(td_path(dir, "out.onnx.data")));
    mcz_model *r = import(out);
    assert_same_weights(m, r);
    size_t slen, flen;
    uint8_t *s = serialize(m, &slen), *f = td_read(out, &flen);
    ck_assert_uint_eq(slen, flen);
    ck_assert_mem_eq(s, f, flen);
    ck_assert_int_eq(td_count(dir, ".mcz-tmp"), 0);
    mcz_model_free(r);
    mcz_model_free(m);
}
END_TEST

typedef struct ext_check {
    mcz_model *m;
    const uint8_t *data;
    size_t data_len;
    const char *location;
    int external, inline_;
} ext_check;

static void check_external_tensor(void *vctx, Onnx__TensorProto *t, const char *name)
{
    ext_check *c = vctx;
    long i = mcz_model_find_weight(c->m, name);
    ck_assert_int_ge(i, 0);
    const mcz_weight *w = mcz_model_weight(c->m, (size_t)i);
    if (!(t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)) {
        c->inline_++;
        return;
    }
    c->external++;
    ck_assert_str_eq(entry(t, "location"), c->location);
    uint64_t off = strtoull(entry(t, "offset"), NULL, 10), len = strtoull(entry(t, "length"), NULL, 10);
    ck_assert_msg(off % 64 == 0, "'%s' at offset %llu", name, (unsigned long long)off);
    ck_assert_uint_eq(len, w->nbytes);
    ck_assert_uint_le(off + len, c->data_len);
    ck_assert_msg(memcmp(c->data + off, data_at(c->m, (size_t)i), len) == 0, "'%s' bytes differ",
                  name);
    ck_assert_uint_eq(t->n_float_data + t->n_int64_data + t->n_int32_data, 0);
    ck_assert(!t->has_raw_data);
}

START_TEST(forced_external_data_goes_to_out_data_at_64_byte_aligned_offsets)
{
    char *dir = td_new();
    mcz_model *m = import(tm_save(dir, "in.onnx", varied_model()));
    char *out = td_path(dir, "out.onnx");
    save(m, out, 1, 0);

    ext_check c = {.m = m, .location = "out.onnx.data"};
    c.data = td_read(td_path(dir, "out.onnx.data"), &c.data_len);
    ck_assert_ptr_nonnull(c.data);
    Onnx__ModelProto *mp = parse_file(out);
    each_weight_tensor(mp->graph, check_external_tensor, &c);
    onnx__model_proto__free_unpacked(mp, NULL);
    ck_assert_int_eq(c.external, 4); /* big, mid, typed, body_w: 1024 bytes or more */
    ck_assert_int_eq(c.inline_, 4);  /* small, names, c, body_c */

    mcz_model *r = import(out);
    assert_same_weights(m, r);
    ck_assert(mcz_model_weight(r, (size_t)mcz_model_find_weight(r, "big"))->external);
    ck_assert(!mcz_model_weight(r, (size_t)mcz_model_find_weight(r, "small"))->external);
    ck_assert_int_eq(td_count(dir, ".mcz-tmp"), 0);
    mcz_model_free(r);
    mcz_model_free(m);
}
END_TEST

START_TEST(external_min_bytes_keeps_smaller_weights_inline)
{
    char *dir = td_new();
    mcz_model *m = import(tm_save(dir, "in.onnx", varied_model()));
    char *out = td_path(dir, "out.onnx");
    save(m, out, 1, 2000);
    mcz_model *r = import(out);
    assert_same_weights(m, r);
    ck_assert(mcz_model_weight(r, (size_t)mcz_model_find_weight(r, "big"))->external);
    ck_assert(mcz_model_weight(r, (size_t)mcz_model_find_weight(r, "typed"))->external);
    ck_assert(!mcz_model_weight(r, (size_t)mcz_model_find_weight(r, "mid"))->external);
    ck_assert(!mcz_model_weight(r, (size_t)mcz_model_find_weight(r, "body_w"))->external);
    mcz_model_free(r);
    mcz_model_free(m);
}
END_TEST

/* A model with two external weights (one in a subgraph) and one inline. */
static char *external_model(const char *dir)
{
    uint8_t file[256];
    memcpy(file, tm_pattern(256, 0x19), 256);
    td_write(td_path(dir, "weights.bin"), file, sizeof file);
    Onnx__TensorProto *a = tm_tensor("a", MCZ_DT_FLOAT, 1, TM_DIMS(8));
    tm_set_external(a, "weights.bin", "0", "32");
    Onnx__TensorProto *b = tm_tensor(NULL, MCZ_DT_UINT8, 1, TM_DIMS(100));
    tm_set_external(b, "weights.bin", "100", "100");
    Onnx__GraphProto *then_g = tm_graph("then");
    tm_constant(then_g, "kb", "b", b);
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, a);
    tm_add_initializer(g, tm_raw("inl", MCZ_DT_FLOAT, 1, TM_DIMS(4), tm_pattern(16, 0x2a), 16));
    tm_attr_graph(tm_node(g, "If", "if1", "y"), "then_branch", then_g);
    return tm_save(dir, "model.onnx", tm_model(g));
}

START_TEST(never_external_inlines_every_weight)
{
    char *dir = td_new();
    mcz_model *m = import(external_model(dir));
    char *out = td_path(dir, "out.onnx");
    save(m, out, -1, 0);
    ck_assert(!td_exists(td_path(dir, "out.onnx.data")));
    mcz_model *r = import(out);
    assert_same_weights(m, r);
    for (size_t i = 0; i < mcz_model_weight_count(r); i++)
        ck_assert(!mcz_model_weight(r, i)->external);
    mcz_model_free(r);
    mcz_model_free(m);
}
END_TEST

START_TEST(external_model_resaved_with_defaults_keeps_its_weights_external)
{
    char *dir = td_new();
    mcz_model *m = import(external_model(dir));
    char *out = td_path(dir, "out.onnx");
    save(m, out, 0, 0);
    ck_assert(td_exists(td_path(dir, "out.onnx.data")));
    mcz_model *r = import(out);
    assert_same_weights(m, r);
    for (size_t i = 0; i < mcz_model_weight_count(r); i++)
        ck_assert_msg(mcz_model_weight(r, i)->external == mcz_model_weight(m, i)->external,
                      "'%s' changed placement", mcz_model_weight(r, i)->name);
    mcz_model_free(r);
    mcz_model_free(m);
}
END_TEST

START_TEST(replaced_weight_is_written_with_its_new_values_and_shape)
{
    char *dir = td_new();
    mcz_model *m = import(external_model(dir));
    size_t ia = (size_t)mcz_model_find_weight(m, "a"), ib = (size_t)mcz_model_find_weight(m, "inl");
    const int8_t qa[6] = {1, 2, 3, 4, 5, 6};
    uint8_t *qb = malloc(2048);
    memcpy(qb, tm_pattern(2048, 0x5c), 2048);
    mcz_error err = {0};
    void *pa = malloc(6);
    memcpy(pa, qa, 6);
    expect_ok(mcz_model_weight_replace(m, ia, MCZ_DT_INT8, 2, TM_DIMS(2, 3), pa, 6, &err), &err);
    expect_ok(mcz_model_weight_replace(m, ib, MCZ_DT_FLOAT16, 2, TM_DIMS(32, 32), qb, 2048, &err),
              &err);
    for (int mode = -1; mode <= 1; mode++) {
        char *out = td_path(dir, tm_printf("out%d.onnx", mode + 1));
        save(m, out, mode, 0);
        mcz_model *r = import(out);
        assert_same_weights(m, r);
        const mcz_weight *w = mcz_model_weight(r, ia);
        ck_assert_int_eq(w->dtype, MCZ_DT_INT8);
        ck_assert_int_eq(w->rank, 2);
        ck_assert_int_eq(w->dims[1], 3);
        ck_assert_mem_eq(data_at(r, ia), qa, 6);
        ck_assert_int_eq(mcz_model_weight(r, ib)->dtype, MCZ_DT_FLOAT16);
        ck_assert_mem_eq(data_at(r, ib), tm_pattern(2048, 0x5c), 2048);
        mcz_model_free(r);
    }
    mcz_model_free(m);
}
END_TEST

START_TEST(saving_leaves_the_model_unchanged)
{
    char *dir = td_new();
    mcz_model *m = import(external_model(dir));
    size_t len0, len1;
    uint8_t *before = serialize(m, &len0);
    save(m, td_path(dir, "o1.onnx"), 1, 0);
    save(m, td_path(dir, "o2.onnx"), -1, 0);
    uint8_t *skel = NULL;
    size_t skel_len;
    mcz_error err = {0};
    expect_ok(mcz_model_serialize_skeleton(m, &skel, &skel_len, &err), &err);
    free(skel);
    uint8_t *after = serialize(m, &len1);
    ck_assert_uint_eq(len0, len1);
    ck_assert_mem_eq(before, after, len0);
    ck_assert(mcz_model_weight(m, 0)->external);
    mcz_model_free(m);
}
END_TEST

START_TEST(saving_over_an_existing_file_without_force_fails_and_leaves_it_untouched)
{
    char *dir = td_new();
    mcz_model *m = import(tm_save(dir, "in.onnx", varied_model()));
    char *out = td_path(dir, "out.onnx");
    td_write(out, "precious", 8);
    for (int mode = -1; mode <= 1; mode++) {
        mcz_save_opts o = {.external_data = mode};
        mcz_error err = {0};
        expect_status(mcz_model_save_onnx(m, out, &o, &err), MCZ_ERR_EXISTS, &err);
        expect_msg_has(&err, out);
        size_t len;
        uint8_t *b = td_read(out, &len);
        ck_assert_uint_eq(len, 8);
        ck_assert_mem_eq(b, "precious", 8);
        ck_assert(!td_exists(td_path(dir, "out.onnx.data")));
        ck_assert_int_eq(td_count(dir, ".mcz-tmp"), 0);
    }
    mcz_model_free(m);
}
END_TEST

START_TEST(saving_with_force_replaces_an_existing_file)
{
    char *dir = td_new();
    mcz_model *m = import(tm_save(dir, "in.onnx", varied_model()));
    char *out = td_path(dir, "out.onnx");
    td_write(out, "old", 3);
    td_write(td_path(dir, "out.onnx.data"), "old", 3);
    mcz_save_opts o = {.external_data = 1, .force = 1};
    mcz_error err = {0};
    expect_ok(mcz_model_save_onnx(m, out, &o, &err), &err);
    mcz_model *r = import(out);
    assert_same_weights(m, r);
    mcz_model_free(r);
    mcz_model_free(m);
}
END_TEST

/* Run save_onnx with standard output sent to `file`. */
static mcz_status save_to_stdout(mcz_model *m, int external_data, const char *file,
                                 mcz_error *err)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    mcz_save_opts o = {.external_data = external_data};
    mcz_status s = mcz_model_save_onnx(m, "-", &o, err);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    return s;
}

START_TEST(external_data_to_standard_output_is_refused)
{
    char *dir = td_new();
    char *captured = td_path(dir, "stdout.bin");
    mcz_model *inl = import(tm_save(dir, "in.onnx", varied_model()));
    mcz_model *ext = import(external_model(dir));
    mcz_error err = {0};
    expect_status(save_to_stdout(inl, 1, captured, &err), MCZ_ERR_ARG, &err);
    expect_status(save_to_stdout(ext, 0, captured, &err), MCZ_ERR_ARG, &err);
    expect_msg_has(&err, "standard output");
    size_t len;
    td_read(captured, &len);
    ck_assert_uint_eq(len, 0);
    ck_assert(!td_exists("-.data"));
    mcz_model_free(inl);
    mcz_model_free(ext);
}
END_TEST

START_TEST(inline_model_to_standard_output_is_its_serialization)
{
    char *dir = td_new();
    char *captured = td_path(dir, "stdout.bin");
    mcz_model *m = import(external_model(dir));
    mcz_error err = {0};
    expect_ok(save_to_stdout(m, -1, captured, &err), &err);
    size_t slen, flen;
    uint8_t *s = serialize(m, &slen), *f = td_read(captured, &flen);
    ck_assert_uint_eq(slen, flen);
    ck_assert_mem_eq(s, f, flen);
    mcz_model_free(m);
}
END_TEST

START_TEST(tensors_that_are_not_weights_survive_a_round_trip)
{
    Onnx__GraphProto *g = tm_graph("main");
    Onnx__NodeProto *cos = tm_node(g, "ConstantOfShape", "cos", "z");
    tm_attr_tensor(cos, "value", tm_raw("v", MCZ_DT_FLOAT, 1, TM_DIMS(5), tm_pattern(20, 0x61), 20));
    Onnx__AttributeProto *at = tm_attr_tensors(tm_node(g, "Custom", "cu", "q"), "tables");
    TM_PUSH(at->tensors, at->n_tensors, tm_raw("t0", MCZ_DT_UINT8, 1, TM_DIMS(32), tm_pattern(32, 0x62), 32));
    TM_PUSH(at->tensors, at->n_tensors, tm_raw("t1", MCZ_DT_UINT8, 1, TM_DIMS(3), "abc", 3));
    Onnx__ModelProto *mp = tm_model(g);
    char *dir = td_new();
    mcz_model *m = import(tm_save(dir, "in.onnx", mp));
    ck_assert_uint_eq(mcz_model_weight_count(m), 0);
    size_t plen, slen;
    uint8_t *packed = tm_pack(mp, &plen), *s = serialize(m, &slen);
    ck_assert_uint_eq(plen, slen);
    ck_assert_mem_eq(packed, s, plen);
    char *out = td_path(dir, "out.onnx");
    save(m, out, 1, 0);
    size_t flen;
    uint8_t *f = td_read(out, &flen);
    ck_assert_uint_eq(plen, flen);
    ck_assert_mem_eq(packed, f, flen);
    mcz_model_free(m);
}
END_TEST

/* ---- skeleton ------------------------------------------------------------------------------- */

typedef struct marker_check {
    mcz_model *m;
    int markers, strings, in_place;
} marker_check;

static void check_marker(void *vctx, Onnx__TensorProto *t, const char *name)
{
    marker_check *c = vctx;
    if (t->data_type == MCZ_DT_STRING) {
        c->strings++;
        ck_assert_uint_eq(t->n_string_data, 1);
        return;
    }
    if (!t->has_raw_data && !t->n_external_data) { /* small typed-field weights stay in place */
        c->in_place++;
        return;
    }
    uint64_t idx;
    ck_assert_msg(t->has_raw_data && mcz_marker_parse(t->raw_data.data, t->raw_data.len, &idx),
                  "'%s' has no marker", name);
    ck_assert_uint_lt(idx, mcz_model_weight_count(c->m));
    ck_assert_str_eq(mcz_model_weight(c->m, idx)->name, name);
    ck_assert_uint_eq(t->n_float_data + t->n_int32_data + t->n_int64_data + t->n_double_data +
                          t->n_uint64_data, 0);
    ck_assert_uint_eq(t->n_external_data, 0);
    ck_assert(!(t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL));
    c->markers++;
}

static Onnx__ModelProto *skeleton_of(mcz_model *m, uint8_t **bytes, size_t *len)
{
    uint8_t *out = NULL;
    mcz_error err = {0};
    expect_ok(mcz_model_serialize_skeleton(m, &out, len, &err), &err);
    *bytes = tm_dup(out, *len);
    free(out);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, *len, *bytes);
    ck_assert_ptr_nonnull(mp);
    return mp;
}

START_TEST(skeleton_markers_decode_to_the_weight_indices)
{
    char *dir = td_new();
    mcz_model *m = import(tm_save(dir, "in.onnx", varied_model()));
    uint8_t *bytes;
    size_t len;
    Onnx__ModelProto *mp = skeleton_of(m, &bytes, &len);
    marker_check c = {.m = m};
    each_weight_tensor(mp->graph, check_marker, &c);
    onnx__model_proto__free_unpacked(mp, NULL);
    ck_assert_int_eq(c.markers + c.in_place, 7);
    ck_assert_int_ge(c.in_place, 1);
    ck_assert_int_eq(c.strings, 1);
    mcz_model_free(m);
}
END_TEST

START_TEST(skeleton_of_an_external_model_has_markers_and_no_external_references)
{
    char *dir = td_new();
    mcz_model *m = import(external_model(dir));
    uint8_t *bytes;
    size_t len;
    Onnx__ModelProto *mp = skeleton_of(m, &bytes, &len);
    marker_check c = {.m = m};
    each_weight_tensor(mp->graph, check_marker, &c);
    onnx__model_proto__free_unpacked(mp, NULL);
    ck_assert_int_eq(c.markers, 3);
    ck_assert_ptr_null(memmem(bytes, len, "weights.bin", 11));
    mcz_model_free(m);
}
END_TEST

START_TEST(skeleton_holds_no_payload_bytes)
{
    char *dir = td_new();
    mcz_model *m = import(tm_save(dir, "in.onnx", varied_model()));
    uint8_t *bytes;
    size_t len;
    onnx__model_proto__free_unpacked(skeleton_of(m, &bytes, &len), NULL);
    for (size_t i = 0; i < mcz_model_weight_count(m); i++) {
        const mcz_weight *w = mcz_model_weight(m, i);
        if (w->dtype == MCZ_DT_STRING || w->nbytes < 16 ||
            !(strcmp(w->field, "raw_data") == 0 || w->external))
            continue; /* strings and small typed-field weights stay in the skeleton */
        ck_assert_msg(memmem(bytes, len, data_at(m, i), 16) == NULL,
                      "skeleton holds the values of '%s'", w->name);
    }
    size_t full_len;
    serialize(m, &full_len);
    ck_assert_uint_lt(len, 4096);
    ck_assert_uint_gt(full_len, 8000);
    mcz_model_free(m);
}
END_TEST

START_TEST(skeleton_refuses_a_tensor_posing_as_a_marker)
{
    /* a tensor that is not a weight (ConstantOfShape's value) holding the bytes of a marker must
     * not reach the loader as one (it would get weight 0's values): the skeleton is refused */
    uint8_t mk[MCZ_MARKER_LEN];
    mcz_marker_make(0, mk);
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("w", MCZ_DT_FLOAT, 1, TM_DIMS(4), tm_pattern(16, 0x44), 16));
    tm_attr_tensor(tm_node(g, "ConstantOfShape", "cos", "z"), "value",
                   tm_raw("v", MCZ_DT_UINT8, 1, TM_DIMS(16), mk, sizeof mk));
    mcz_model *m = import(tm_save(td_new(), "in.onnx", tm_model(g)));
    ck_assert_uint_eq(mcz_model_weight_count(m), 1);
    uint8_t *out = NULL;
    size_t out_len = 0;
    mcz_error err = {0};
    expect_status(mcz_model_serialize_skeleton(m, &out, &out_len, &err), MCZ_ERR_FORMAT, &err);
    expect_msg_has(&err, "marker");
    ck_assert_ptr_null(out);
    mcz_model_free(m);
}
END_TEST

static Suite *export_suite(void)
{
    Suite *s = suite_create("export");
    TCase *tc = tcase_create("serialize");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, serialize_equals_protobuf_c_canonical_reencoding_of_the_file);
    tcase_add_test(tc, serialize_inlines_external_weights);
    tcase_add_test(tc, tensors_that_are_not_weights_survive_a_round_trip);
    suite_add_tcase(s, tc);

    tc = tcase_create("save");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, saved_model_reimports_with_equal_weights_and_is_its_serialization);
    tcase_add_test(tc, forced_external_data_goes_to_out_data_at_64_byte_aligned_offsets);
    tcase_add_test(tc, external_min_bytes_keeps_smaller_weights_inline);
    tcase_add_test(tc, never_external_inlines_every_weight);
    tcase_add_test(tc, external_model_resaved_with_defaults_keeps_its_weights_external);
    tcase_add_test(tc, replaced_weight_is_written_with_its_new_values_and_shape);
    tcase_add_test(tc, saving_leaves_the_model_unchanged);
    tcase_add_test(tc, saving_over_an_existing_file_without_force_fails_and_leaves_it_untouched);
    tcase_add_test(tc, saving_with_force_replaces_an_existing_file);
    tcase_add_test(tc, external_data_to_standard_output_is_refused);
    tcase_add_test(tc, inline_model_to_standard_output_is_its_serialization);
    suite_add_tcase(s, tc);

    tc = tcase_create("skeleton");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, skeleton_markers_decode_to_the_weight_indices);
    tcase_add_test(tc, skeleton_of_an_external_model_has_markers_and_no_external_references);
    tcase_add_test(tc, skeleton_holds_no_payload_bytes);
    tcase_add_test(tc, skeleton_refuses_a_tensor_posing_as_a_marker);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(export_suite());
    td_root_make();
    srunner_run_all(sr, CK_NORMAL);
    td_root_remove();
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
