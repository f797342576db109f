/* test_malformed.c - hostile and broken inputs: each gives an error status and a message that
 * names the file (and the tensor, where one is at fault); none crashes or blocks. */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "expect.h"
#include "mcz/model.h"
#include "testfs.h"
#include "testmodel.h"

static void teardown(void)
{
    td_cleanup();
    tm_reset();
}

/* ---- inputs --------------------------------------------------------------------------------- */

static const char *write_bytes(const char *dir, const void *p, size_t n)
{
    char *path = td_path(dir, "model.onnx");
    td_write(path, p, n);
    return path;
}

static const char *write_wire(const char *dir, const tm_bytes *b)
{
    return write_bytes(dir, b->p, b->len);
}

/* A model whose main graph holds one initializer `t`. */
static const char *with_initializer(const char *dir, Onnx__TensorProto *t)
{
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, t);
    return tm_save(dir, "model.onnx", tm_model(g));
}

static Onnx__TensorProto *float_tensor(int rank, const int64_t *dims, size_t nbytes)
{
    return tm_raw("w", MCZ_DT_FLOAT, rank, dims, tm_pattern(nbytes, 1), nbytes);
}

/* An external float[4] tensor 'w' with the given keys, and a 64-byte data file "w.data". */
static const char *external(const char *dir, const char *location, const char *offset,
                            const char *length)
{
    td_write(td_path(dir, "w.data"), tm_pattern(64, 2), 64);
    Onnx__TensorProto *t = tm_tensor("w", MCZ_DT_FLOAT, 1, TM_DIMS(4));
    tm_set_external(t, location, offset, length);
    return with_initializer(dir, t);
}

/* The model goes into <dir>/inner; <dir>/x.data exists outside it. */
static char *inner_folder(const char *dir)
{
    char *inner = td_path(dir, "inner");
    ck_assert_int_eq(mkdir(inner, 0755), 0);
    td_write(td_path(dir, "x.data"), tm_pattern(16, 3), 16);
    return inner;
}

static const char *escaping(const char *dir, const char *location)
{
    char *inner = inner_folder(dir);
    Onnx__TensorProto *t = tm_tensor("w", MCZ_DT_UINT8, 1, TM_DIMS(16));
    tm_set_external(t, location, "0", "16");
    return with_initializer(inner, t);
}

static const char *empty_file(const char *dir) { return write_bytes(dir, "", 0); }

static const char *text_file(const char *dir)
{
    static const char text[] = "This is not an ONNX model, it is a text file.\n";
    return write_bytes(dir, text, sizeof text - 1);
}

static const char *random_bytes(const char *dir)
{
    uint8_t b[4096];
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < sizeof b; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b[i] = (uint8_t)(x >> 32);
    }
    return write_bytes(dir, b, sizeof b);
}

static const char *missing_model(const char *dir) { return td_path(dir, "absent.onnx"); }

static const char *model_is_a_folder(const char *dir)
{
    char *p = td_path(dir, "model.onnx");
    ck_assert_int_eq(mkdir(p, 0755), 0);
    return p;
}

static const char *graph_as_varint(const char *dir)
{
    tm_bytes b = {0};
    tm_put_tag(&b, 7, 0); /* ModelProto.graph, but a varint */
    tm_put_varint(&b, 1);
    return write_wire(dir, &b);
}

static const char *initializer_as_fixed32(const char *dir)
{
    tm_bytes g = {0}, b = {0};
    tm_put_tag(&g, 5, 5); /* GraphProto.initializer, but 4 fixed bytes */
    tm_put(&g, "\1\2\3\4", 4);
    tm_put_field(&b, 7, g.p, g.len);
    return write_wire(dir, &b);
}

static const char *group_wire_type(const char *dir)
{
    tm_bytes b = {0};
    tm_put_tag(&b, 1, 0);
    tm_put_varint(&b, 8);
    tm_put_tag(&b, 3, 3); /* start group */
    tm_put_tag(&b, 3, 4); /* end group */
    return write_wire(dir, &b);
}

static const char *length_past_the_end(const char *dir)
{
    tm_bytes b = {0};
    tm_put_tag(&b, 7, 2);
    tm_put_varint(&b, 1000);
    tm_put(&b, "abc", 3);
    return write_wire(dir, &b);
}

static const char *eleven_byte_varint(const char *dir)
{
    static const uint8_t b[12] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0};
    return write_bytes(dir, b, sizeof b);
}

static const char *no_graph(const char *dir)
{
    return tm_save(dir, "model.onnx", tm_model(NULL));
}

static const char *graph_name_as_varint(const char *dir)
{
    tm_bytes g = {0}, b = {0};
    tm_put_tag(&g, 2, 0); /* GraphProto.name is a string: protobuf-c refuses a varint */
    tm_put_varint(&g, 5);
    tm_put_field(&b, 7, g.p, g.len);
    return write_wire(dir, &b);
}

static const char *raw_data_size_mismatch(const char *dir)
{
    return with_initializer(dir, float_tensor(2, TM_DIMS(2, 3), 20));
}

static const char *typed_count_mismatch(const char *dir)
{
    Onnx__TensorProto *t = tm_tensor("w", MCZ_DT_FLOAT, 1, TM_DIMS(4));
    t->n_float_data = 3;
    t->float_data = tm_ramp(3, 0, 1);
    return with_initializer(dir, t);
}

static const char *negative_dim(const char *dir)
{
    return with_initializer(dir, float_tensor(2, TM_DIMS(2, -3), 24));
}

static const char *count_overflow(const char *dir)
{
    return with_initializer(dir, float_tensor(3, TM_DIMS(1LL << 40, 1LL << 40, 1LL << 40), 4));
}

static const char *rank_over_cap(const char *dir)
{
    int64_t dims[MCZ_MAX_RANK + 1];
    for (int i = 0; i <= MCZ_MAX_RANK; i++)
        dims[i] = 1;
    return with_initializer(dir, float_tensor(MCZ_MAX_RANK + 1, dims, 4));
}

static const char *undefined_dtype(const char *dir)
{
    return with_initializer(dir, tm_raw("w", MCZ_DT_UNDEFINED, 1, TM_DIMS(4), "abcd", 4));
}

static const char *unknown_dtype(const char *dir)
{
    return with_initializer(dir, tm_raw("w", 999, 1, TM_DIMS(4), "abcd", 4));
}

static const char *string_with_raw_data(const char *dir)
{
    return with_initializer(dir, tm_raw("w", MCZ_DT_STRING, 1, TM_DIMS(4), "abcd", 4));
}

static const char *segmented(const char *dir)
{
    Onnx__TensorProto *t = float_tensor(1, TM_DIMS(1), 4);
    t->segment = tm_alloc(sizeof *t->segment);
    onnx__tensor_proto__segment__init(t->segment);
    return with_initializer(dir, t);
}

static const char *constant_without_output(const char *dir)
{
    Onnx__GraphProto *g = tm_graph("main");
    tm_constant(g, "k", NULL, float_tensor(1, TM_DIMS(1), 4));
    return tm_save(dir, "model.onnx", tm_model(g));
}

static const char *bad_tensor_in_a_subgraph(const char *dir)
{
    Onnx__GraphProto *body = tm_graph("body");
    Onnx__TensorProto *t = float_tensor(1, TM_DIMS(3), 8);
    t->name = tm_str("deep");
    tm_add_initializer(body, t);
    Onnx__GraphProto *then_g = tm_graph("then");
    tm_attr_graph(tm_node(then_g, "Loop", "loop", "l"), "body", body);
    Onnx__GraphProto *g = tm_graph("main");
    tm_attr_graph(tm_node(g, "If", "if", "y"), "then_branch", then_g);
    return tm_save(dir, "model.onnx", tm_model(g));
}

static const char *missing_external_file(const char *dir)
{
    return external(dir, "missing.data", "0", "16");
}

static const char *external_past_the_end(const char *dir)
{
    return external(dir, "w.data", "56", "16");
}

static const char *external_offset_near_u64_max(const char *dir)
{
    return external(dir, "w.data", "18446744073709551608", "16"); /* 2^64 - 8: off + len wraps */
}

static const char *external_offset_not_a_number(const char *dir)
{
    return external(dir, "w.data", "12abc", "16");
}

static const char *external_offset_negative(const char *dir)
{
    return external(dir, "w.data", "-1", "16");
}

static const char *external_offset_over_u64(const char *dir)
{
    return external(dir, "w.data", "99999999999999999999", "16");
}

static const char *external_length_mismatch(const char *dir)
{
    return external(dir, "w.data", "0", "20");
}

static const char *external_without_location(const char *dir)
{
    return external(dir, NULL, "0", "16");
}

static const char *external_empty_location(const char *dir)
{
    return external(dir, "", "0", "16");
}

static const char *external_is_a_folder(const char *dir)
{
    ck_assert_int_eq(mkdir(td_path(dir, "sub"), 0755), 0);
    return external(dir, "sub", "0", "16");
}

static const char *location_parent(const char *dir) { return escaping(dir, "../x.data"); }

static const char *location_parent_inside(const char *dir)
{
    return escaping(dir, "sub/../../x.data");
}

static const char *location_absolute(const char *dir) { return escaping(dir, "/etc/passwd"); }

static const char *location_backslash(const char *dir) { return escaping(dir, "..\\x.data"); }

static const char *symlink_to_outside(const char *dir)
{
    const char *path = escaping(dir, "link.data");
    ck_assert_int_eq(symlink(td_path(dir, "x.data"), td_path(dir, "inner/link.data")), 0);
    return path;
}

static const char *symlinked_folder_to_outside(const char *dir)
{
    const char *path = escaping(dir, "up/x.data");
    ck_assert_int_eq(symlink("..", td_path(dir, "inner/up")), 0);
    return path;
}

/* If nodes nested `levels` deep, with a Constant 'w' in the innermost then_branch. */
static Onnx__ModelProto *nested_ifs(int levels)
{
    Onnx__GraphProto *g = tm_graph("innermost");
    tm_constant(g, "k", "w", float_tensor(1, TM_DIMS(1), 4));
    for (int i = 0; i < levels; i++) {
        Onnx__GraphProto *outer = tm_graph("level");
        tm_attr_graph(tm_node(outer, "If", tm_printf("if%d", i), "y"), "then_branch", g);
        g = outer;
    }
    return tm_model(g);
}

static const char *nesting_over_the_cap(const char *dir)
{
    return tm_save(dir, "model.onnx", nested_ifs(30));
}

/* TypeProto.sequence_type.elem_type... nested `levels` deep in a graph input: a recursion that
 * lies outside the tensor paths onnxwire walks. */
static const char *deep_type_nesting(const char *dir)
{
    enum { LEVELS = 20000 };
    size_t *tlen = tm_alloc((LEVELS + 1) * sizeof *tlen), *slen = tm_alloc((LEVELS + 1) * sizeof *slen);
    tm_bytes vs = {0};
    for (int k = 1; k <= LEVELS; k++) {
        vs.len = 0;
        tm_put_varint(&vs, tlen[k - 1]);
        slen[k] = 1 + vs.len + tlen[k - 1]; /* Sequence { elem_type = TypeProto[k-1] } */
        vs.len = 0;
        tm_put_varint(&vs, slen[k]);
        tlen[k] = 1 + vs.len + slen[k]; /* TypeProto { sequence_type = Sequence[k] } */
    }
    tm_bytes type = {0}, vi = {0}, g = {0}, b = {0};
    for (int k = LEVELS; k >= 1; k--) {
        tm_put_tag(&type, 4, 2);
        tm_put_varint(&type, slen[k]);
        tm_put_tag(&type, 1, 2);
        tm_put_varint(&type, tlen[k - 1]);
    }
    ck_assert_uint_eq(type.len, tlen[LEVELS]);
    tm_put_field(&vi, 1, "x", 1);
    tm_put_field(&vi, 2, type.p, type.len);
    tm_put_field(&g, 11, vi.p, vi.len);
    tm_put_field(&b, 7, g.p, g.len);
    return write_wire(dir, &b);
}

/* ---- the table ------------------------------------------------------------------------------ */

typedef struct bad_case {
    const char *name;
    const char *(*make)(const char *dir); /* writes the input into `dir`, returns the model path */
    mcz_status want;
    const char *says;   /* the message contains this */
    const char *tensor; /* ... and names this tensor (NULL: no tensor at fault) */
} bad_case;

static const bad_case bad_cases[] = {
    {"empty file", empty_file, MCZ_ERR_FORMAT, "empty", NULL},
    {"text file", text_file, MCZ_ERR_FORMAT, "protobuf", NULL},
    {"random bytes", random_bytes, MCZ_ERR_FORMAT, "protobuf", NULL},
    {"missing model file", missing_model, MCZ_ERR_IO, "cannot open", NULL},
    {"model path is a folder", model_is_a_folder, MCZ_ERR_IO, "not a regular file", NULL},
    {"graph field with varint wire type", graph_as_varint, MCZ_ERR_FORMAT, "wire type 0", NULL},
    {"initializer with fixed32 wire type", initializer_as_fixed32, MCZ_ERR_FORMAT, "wire type 5", NULL},
    {"group wire type", group_wire_type, MCZ_ERR_FORMAT, "wire type 3", NULL},
    {"length past the end", length_past_the_end, MCZ_ERR_FORMAT, "1000", NULL},
    {"eleven-byte varint", eleven_byte_varint, MCZ_ERR_FORMAT, "byte 0", NULL},
    {"no graph", no_graph, MCZ_ERR_FORMAT, "no graph", NULL},
    {"string field as varint", graph_name_as_varint, MCZ_ERR_FORMAT, "protobuf", NULL},
    {"raw_data size differs from the shape", raw_data_size_mismatch, MCZ_ERR_FORMAT, "raw_data holds 20 bytes", "w"},
    {"typed field count differs from the shape", typed_count_mismatch, MCZ_ERR_FORMAT, "float_data holds 3 values", "w"},
    {"negative dimension", negative_dim, MCZ_ERR_FORMAT, "negative dimension -3", "w"},
    {"element count overflows", count_overflow, MCZ_ERR_FORMAT, "overflow", "w"},
    {"rank over the cap", rank_over_cap, MCZ_ERR_LIMIT, "rank 33", "w"},
    {"undefined element type", undefined_dtype, MCZ_ERR_UNSUPPORTED, "type 0", "w"},
    {"unknown element type", unknown_dtype, MCZ_ERR_UNSUPPORTED, "type 999", "w"},
    {"string tensor with raw_data", string_with_raw_data, MCZ_ERR_FORMAT, "raw_data", "w"},
    {"segmented tensor", segmented, MCZ_ERR_UNSUPPORTED, "segment", "w"},
    {"Constant without an output", constant_without_output, MCZ_ERR_FORMAT, "'k'", NULL},
    {"bad tensor two subgraphs down", bad_tensor_in_a_subgraph, MCZ_ERR_FORMAT, "raw_data holds 8 bytes", "deep"},
    {"missing external file", missing_external_file, MCZ_ERR_IO, "missing.data", "w"},
    {"external data past the end of its file", external_past_the_end, MCZ_ERR_FORMAT, "outside", "w"},
    {"external offset near 2^64", external_offset_near_u64_max, MCZ_ERR_FORMAT, "outside", "w"},
    {"external offset not a number", external_offset_not_a_number, MCZ_ERR_FORMAT, "12abc", "w"},
    {"external offset negative", external_offset_negative, MCZ_ERR_FORMAT, "offset", "w"},
    {"external offset beyond 2^64", external_offset_over_u64, MCZ_ERR_FORMAT, "offset", "w"},
    {"external length differs from the shape", external_length_mismatch, MCZ_ERR_FORMAT, "length 20", "w"},
    {"external data without a location", external_without_location, MCZ_ERR_FORMAT, "location", "w"},
    {"external data with an empty location", external_empty_location, MCZ_ERR_FORMAT, "location", "w"},
    {"external data location is a folder", external_is_a_folder, MCZ_ERR_IO, "not a regular file", "w"},
    {"location ../x.data", location_parent, MCZ_ERR_FORMAT, "escapes", "w"},
    {"location sub/../../x.data", location_parent_inside, MCZ_ERR_FORMAT, "escapes", "w"},
    {"absolute location /etc/passwd", location_absolute, MCZ_ERR_FORMAT, "escapes", "w"},
    {"location with a backslash", location_backslash, MCZ_ERR_FORMAT, "escapes", "w"},
    {"symlink in the model folder to a file outside", symlink_to_outside, MCZ_ERR_FORMAT, "escapes", "w"},
    {"symlinked folder leading outside", symlinked_folder_to_outside, MCZ_ERR_FORMAT, "escapes", "w"},
    {"subgraphs nested deeper than the cap", nesting_over_the_cap, MCZ_ERR_LIMIT, "nested", NULL},
    {"types nested 20000 deep in a graph input", deep_type_nesting, MCZ_ERR_LIMIT, "nested", NULL},
};
#define N_BAD (int)(sizeof bad_cases / sizeof bad_cases[0])

START_TEST(malformed_input_is_refused_with_a_message_naming_it)
{
    const bad_case *c = &bad_cases[_i];
    const char *path = c->make(td_new());
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx(path, &err);
    if (m)
        mcz_model_free(m);
    ck_assert_msg(m == NULL, "[%s] imported without an error", c->name);
    ck_assert_msg(err.code == c->want, "[%s] status %d (%s), expected %d (%s): %s", c->name,
                  err.code, mcz_strerror(err.code), c->want, mcz_strerror(c->want), err.msg);
    ck_assert_msg(strstr(err.msg, path) != NULL, "[%s] message does not name %s: %s", c->name,
                  path, err.msg);
    ck_assert_msg(strstr(err.msg, c->says) != NULL, "[%s] message does not say \"%s\": %s",
                  c->name, c->says, err.msg);
    if (c->tensor)
        ck_assert_msg(strstr(err.msg, tm_printf("'%s'", c->tensor)) != NULL,
                      "[%s] message does not name tensor '%s': %s", c->name, c->tensor, err.msg);
}
END_TEST

/* ---- outside the table ---------------------------------------------------------------------- */

START_TEST(subgraphs_nested_just_inside_the_cap_import)
{
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx(tm_save(td_new(), "model.onnx", nested_ifs(20)), &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    ck_assert_int_eq(mcz_model_weight(m, 0)->depth, 20);
    mcz_model_free(m);
}
END_TEST

/* A model with weights in subgraphs whose graph is its last field, so a file cut anywhere is
 * either inside a field or a model without a graph. */
static uint8_t *graph_last_model(size_t *len)
{
    Onnx__GraphProto *body = tm_graph("body");
    tm_add_initializer(body, tm_raw("b", MCZ_DT_FLOAT, 1, TM_DIMS(8), tm_ramp(8, 0, 1), 32));
    tm_constant(body, "kb", "cb", tm_raw(NULL, MCZ_DT_INT8, 0, NULL, "\x05", 1));
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("a", MCZ_DT_FLOAT, 2, TM_DIMS(2, 4), tm_ramp(8, 1, 1), 32));
    Onnx__TensorProto *typed = tm_tensor("t", MCZ_DT_INT64, 1, TM_DIMS(3));
    typed->n_int64_data = 3;
    typed->int64_data = tm_dup((int64_t[]){1, 2, 3}, 24);
    tm_add_initializer(g, typed);
    tm_constant(g, "k", "c", tm_raw(NULL, MCZ_DT_FLOAT, 1, TM_DIMS(5), tm_ramp(5, 2, 1), 20));
    tm_attr_graph(tm_node(g, "Loop", "loop", "l"), "body", body);
    return tm_pack(tm_model(g), len);
}

START_TEST(every_truncation_of_a_model_file_is_refused)
{
    size_t len;
    const uint8_t *full = graph_last_model(&len);
    char *path = td_path(td_new(), "cut.onnx");
    for (size_t cut = 0; cut < len; cut++) {
        td_write(path, full, cut);
        mcz_error err = {0};
        mcz_model *m = mcz_model_load_onnx(path, &err);
        if (m)
            mcz_model_free(m);
        ck_assert_msg(m == NULL, "cut at %zu of %zu imported", cut, len);
        ck_assert_msg(err.code == MCZ_ERR_FORMAT, "cut at %zu: status %d: %s", cut, err.code,
                      err.msg);
        ck_assert_msg(strstr(err.msg, path) != NULL, "cut at %zu: %s", cut, err.msg);
    }
}
END_TEST

START_TEST(every_truncation_of_the_graph_inside_a_well_formed_model_is_handled)
{
    size_t len;
    const uint8_t *full = graph_last_model(&len);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, full);
    ck_assert_ptr_nonnull(mp);
    size_t glen = onnx__graph_proto__get_packed_size(mp->graph);
    uint8_t *graph = tm_alloc(glen);
    onnx__graph_proto__pack(mp->graph, graph);
    onnx__model_proto__free_unpacked(mp, NULL);
    char *path = td_path(td_new(), "cut.onnx");
    for (size_t cut = 0; cut <= glen; cut++) {
        tm_bytes b = {0};
        tm_put_field(&b, 7, graph, cut);
        td_write(path, b.p, b.len);
        mcz_error err = {0};
        mcz_model *m = mcz_model_load_onnx(path, &err);
        if (m) {
            for (size_t i = 0; i < mcz_model_weight_count(m); i++)
                ck_assert_ptr_nonnull(mcz_model_weight_data(m, i, &err));
            mcz_model_free(m);
            continue;
        }
        ck_assert_msg(err.code == MCZ_ERR_FORMAT || err.code == MCZ_ERR_UNSUPPORTED,
                      "graph cut at %zu: status %d: %s", cut, err.code, err.msg);
        ck_assert_msg(strstr(err.msg, path) != NULL, "graph cut at %zu: %s", cut, err.msg);
    }
}
END_TEST

START_TEST(external_data_naming_a_fifo_fails_instead_of_blocking)
{
    char *dir = td_new();
    ck_assert_int_eq(mkfifo(td_path(dir, "w.fifo"), 0644), 0);
    Onnx__TensorProto *t = tm_tensor("w", MCZ_DT_FLOAT, 1, TM_DIMS(4));
    tm_set_external(t, "w.fifo", "0", "16");
    const char *path = with_initializer(dir, t);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        mcz_error err = {0};
        mcz_model *m = mcz_model_load_onnx(path, &err);
        _exit(m == NULL && err.code == MCZ_ERR_IO ? 0 : 1);
    }
    int status = 0;
    for (int waited = 0; waited < 300; waited++) { /* 3 s */
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
        if (waited == 299) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            ck_abort_msg("import blocked for 3 s opening the FIFO named by external data");
        }
    }
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "import of a FIFO as external data did not fail with MCZ_ERR_IO");
}
END_TEST

START_TEST(buffer_with_external_data_is_refused)
{
    Onnx__TensorProto *t = tm_tensor("w", MCZ_DT_FLOAT, 1, TM_DIMS(4));
    tm_set_external(t, "w.data", "0", "16");
    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, t);
    size_t len;
    uint8_t *bytes = tm_pack(tm_model(g), &len);
    void *buf = malloc(len);
    memcpy(buf, bytes, len);
    mcz_error err = {0};
    ck_assert_ptr_null(mcz_model_load_onnx_buffer(buf, len, "in-memory.onnx", &err));
    ck_assert_int_eq(err.code, MCZ_ERR_UNSUPPORTED);
    expect_msg_has(&err, "in-memory.onnx");
    expect_msg_has(&err, "'w'");
}
END_TEST

START_TEST(empty_and_garbage_buffers_are_refused)
{
    mcz_error err = {0};
    ck_assert_ptr_null(mcz_model_load_onnx_buffer(malloc(1), 0, "empty.onnx", &err));
    expect_status(err.code, MCZ_ERR_FORMAT, &err);
    expect_msg_has(&err, "empty.onnx");
    char *junk = malloc(8);
    memcpy(junk, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
    ck_assert_ptr_null(mcz_model_load_onnx_buffer(junk, 8, "junk.onnx", &err));
    expect_status(err.code, MCZ_ERR_FORMAT, &err);
    expect_msg_has(&err, "junk.onnx");
}
END_TEST

static Suite *malformed_suite(void)
{
    Suite *s = suite_create("malformed");
    TCase *tc = tcase_create("table");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_loop_test(tc, malformed_input_is_refused_with_a_message_naming_it, 0, N_BAD);
    suite_add_tcase(s, tc);

    tc = tcase_create("more");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, subgraphs_nested_just_inside_the_cap_import);
    tcase_add_test(tc, every_truncation_of_a_model_file_is_refused);
    tcase_add_test(tc, every_truncation_of_the_graph_inside_a_well_formed_model_is_handled);
    tcase_add_test(tc, external_data_naming_a_fifo_fails_instead_of_blocking);
    tcase_add_test(tc, buffer_with_external_data_is_refused);
    tcase_add_test(tc, empty_and_garbage_buffers_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(malformed_suite());
    td_root_make();
    srunner_run_all(sr, CK_NORMAL);
    td_root_remove();
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
