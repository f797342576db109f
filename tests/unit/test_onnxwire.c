/* test_onnxwire.c - the wire-format rewriter: what it visits, what it writes, what it refuses. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "mcz/model.h"
#include "onnxwire.h"
#include "testmodel.h"

static void teardown(void)
{
    tm_reset();
}

/* ---- callbacks ------------------------------------------------------------------------------ */

/* Records every call; replaces raw_data by replacement[ordinal] when given. */
typedef struct recorder {
    size_t calls;
    uint64_t ordinals[64];
    const uint8_t *raws[64];
    size_t lens[64];
    const uint8_t *replacement[64];
    size_t replacement_len[64];
    uint64_t fail_at; /* return MCZ_ERR_NOMEM at this ordinal (UINT64_MAX: never) */
} recorder;

static mcz_status record(void *ctx, uint64_t ordinal, const uint8_t *raw, size_t len,
                         const uint8_t **out, size_t *out_len, mcz_error *err)
{
    recorder *r = ctx;
    ck_assert_ptr_eq(*out, raw);
    ck_assert_uint_eq(*out_len, len);
    if (ordinal == r->fail_at)
        return mcz_seterr(err, MCZ_ERR_NOMEM, "callback refused ordinal %llu",
                          (unsigned long long)ordinal);
    ck_assert_uint_lt(r->calls, 64);
    r->ordinals[r->calls] = ordinal;
    r->raws[r->calls] = raw;
    r->lens[r->calls] = len;
    r->calls++;
    if (ordinal < 64 && r->replacement[ordinal]) {
        *out = r->replacement[ordinal];
        *out_len = r->replacement_len[ordinal];
    }
    return MCZ_OK;
}

static mcz_status keep(void *ctx, uint64_t ordinal, const uint8_t *raw, size_t len,
                       const uint8_t **out, size_t *out_len, mcz_error *err)
{
    (void)ctx, (void)ordinal, (void)raw, (void)len, (void)out, (void)out_len, (void)err;
    return MCZ_OK;
}

static uint8_t *rewrite_ok(const uint8_t *in, size_t len, mcz_raw_fn fn, void *ctx,
                           size_t *out_len)
{
    uint8_t *out = NULL;
    mcz_error err = {0};
    expect_ok(mcz_onnxwire_rewrite(in, len, fn, ctx, &out, out_len, "test.onnx", &err), &err);
    ck_assert_ptr_nonnull(out);
    uint8_t *copy = tm_dup(out, *out_len);
    free(out);
    return copy;
}

/* ---- models --------------------------------------------------------------------------------- */

/* raw_data in every place onnxwire walks (distinct payloads, tags 0x10..), plus tensors in places
 * it must not touch (a sparse initializer, a graph input's type). Sets *n_walked. */
static Onnx__ModelProto *everywhere_model(int *n_walked)
{
    int n = 0;
    Onnx__GraphProto *body = tm_graph("body");
    tm_add_initializer(body, tm_raw("body_w", MCZ_DT_UINT8, 1, TM_DIMS(40),
                                    tm_pattern(40, (uint8_t)(0x10 + n++)), 40));
    tm_constant(body, "kb", "body_c",
                tm_raw(NULL, MCZ_DT_UINT8, 1, TM_DIMS(3), tm_pattern(3, (uint8_t)(0x10 + n++)), 3));
    Onnx__GraphProto *then_g = tm_graph("then");
    tm_attr_graph(tm_node(then_g, "Loop", "loop", "l"), "body", body);
    Onnx__GraphProto *g1 = tm_graph("g1");
    tm_add_initializer(g1, tm_raw("g1_w", MCZ_DT_UINT8, 1, TM_DIMS(20),
                                  tm_pattern(20, (uint8_t)(0x10 + n++)), 20));

    Onnx__GraphProto *g = tm_graph("main");
    tm_add_initializer(g, tm_raw("a", MCZ_DT_UINT8, 1, TM_DIMS(200),
                                 tm_pattern(200, (uint8_t)(0x10 + n++)), 200));
    tm_add_initializer(g, tm_raw("empty", MCZ_DT_UINT8, 1, TM_DIMS(0), "", 0));
    n++;
    Onnx__NodeProto *ifn = tm_node(g, "If", "if1", "y");
    tm_attr_graph(ifn, "then_branch", then_g);
    tm_attr_graph(ifn, "else_branch", tm_graph("else"));
    tm_constant(g, "k", "c", tm_raw(NULL, MCZ_DT_UINT8, 1, TM_DIMS(17),
                                    tm_pattern(17, (uint8_t)(0x10 + n++)), 17));
    Onnx__NodeProto *cu = tm_node(g, "Custom", "cu", "q");
    Onnx__AttributeProto *at = tm_attr_tensors(cu, "tables");
    TM_PUSH(at->tensors, at->n_tensors,
            tm_raw("t0", MCZ_DT_UINT8, 1, TM_DIMS(30), tm_pattern(30, (uint8_t)(0x10 + n++)), 30));
    TM_PUSH(at->tensors, at->n_tensors,
            tm_raw("t1", MCZ_DT_UINT8, 1, TM_DIMS(31), tm_pattern(31, (uint8_t)(0x10 + n++)), 31));
    Onnx__AttributeProto *gs = tm_attr_graphs(cu, "graphs");
    TM_PUSH(gs->graphs, gs->n_graphs, g1);

    /* not on the tensor paths */
    Onnx__SparseTensorProto *sp = tm_alloc(sizeof *sp);
    onnx__sparse_tensor_proto__init(sp);
    sp->values = tm_raw("sparse", MCZ_DT_UINT8, 1, TM_DIMS(24), tm_pattern(24, 0x7e), 24);
    TM_PUSH(g->sparse_initializer, g->n_sparse_initializer, sp);
    *n_walked = n;
    return tm_model(g);
}

/* Only the graph field, so every proper prefix cuts a field. */
static uint8_t *graph_only(size_t *len)
{
    int n;
    Onnx__ModelProto *mp = everywhere_model(&n);
    mp->has_ir_version = 0;
    mp->producer_name = NULL;
    return tm_pack(mp, len);
}

/* ---- identity and replacement --------------------------------------------------------------- */

START_TEST(identity_rewrite_returns_the_input_bytes)
{
    int n;
    size_t len, out_len;
    uint8_t *in = tm_pack(everywhere_model(&n), &len);
    uint8_t *out = rewrite_ok(in, len, keep, NULL, &out_len);
    ck_assert_uint_eq(out_len, len);
    ck_assert_mem_eq(out, in, len);
}
END_TEST

START_TEST(empty_input_rewrites_to_empty_output)
{
    size_t out_len = 99;
    rewrite_ok((const uint8_t *)"", 0, keep, NULL, &out_len);
    ck_assert_uint_eq(out_len, 0);
}
END_TEST

START_TEST(callback_is_called_once_per_raw_data_in_wire_order)
{
    int n;
    size_t len, out_len;
    uint8_t *in = tm_pack(everywhere_model(&n), &len);
    recorder r = {.fail_at = UINT64_MAX};
    rewrite_ok(in, len, record, &r, &out_len);
    ck_assert_uint_eq(r.calls, (size_t)n);
    for (size_t k = 0; k < r.calls; k++) {
        ck_assert_uint_eq(r.ordinals[k], k);
        ck_assert_msg(r.raws[k] >= in && r.raws[k] + r.lens[k] <= in + len,
                      "raw %zu does not point into the input", k);
        if (k > 0)
            ck_assert_msg(r.raws[k] > r.raws[k - 1], "raw %zu comes before raw %zu on the wire",
                          k, k - 1);
        if (r.lens[k] > 0)
            ck_assert_msg(r.raws[k][0] >= 0x10 && r.raws[k][0] < 0x10 + n,
                          "raw %zu is not a walked payload", k);
    }
}
END_TEST

/* Payloads of new sizes: shrink to nothing, cross the 1- and 2-byte length boundaries. */
static const size_t new_sizes[] = {0, 127, 128, 16383, 16384, 5, 300, 1, 20000};

START_TEST(replacement_recomputes_every_enclosing_length)
{
    int n;
    size_t len, out_len;
    uint8_t *in = tm_pack(everywhere_model(&n), &len);
    recorder r = {.fail_at = UINT64_MAX};
    for (int k = 0; k < n; k++) {
        r.replacement_len[k] = new_sizes[k % (sizeof new_sizes / sizeof new_sizes[0])];
        r.replacement[k] = tm_pattern(r.replacement_len[k], (uint8_t)(0xc0 + k));
    }
    uint8_t *out = rewrite_ok(in, len, record, &r, &out_len);

    /* protobuf-c parses the result, and the replaced tensors hold the replacements in the order
     * the rewriter met them; everything else is as before */
    Onnx__ModelProto *got = onnx__model_proto__unpack(NULL, out_len, out);
    ck_assert_msg(got != NULL, "the rewritten model does not parse");
    Onnx__ModelProto *want = onnx__model_proto__unpack(NULL, len, in);
    ck_assert_ptr_nonnull(want);
    Onnx__TensorProto *wt[16], *gt[16];
    size_t nt = 0;
    Onnx__GraphProto *gg = got->graph, *wg = want->graph;
    Onnx__GraphProto *gbody = gg->node[0]->attribute[0]->g->node[0]->attribute[0]->g;
    Onnx__GraphProto *wbody = wg->node[0]->attribute[0]->g->node[0]->attribute[0]->g;
    /* wire order: node (field 1) before initializer (field 5), depth first */
    gt[nt] = gbody->node[0]->attribute[0]->t, wt[nt++] = wbody->node[0]->attribute[0]->t;
    gt[nt] = gbody->initializer[0], wt[nt++] = wbody->initializer[0];
    gt[nt] = gg->node[1]->attribute[0]->t, wt[nt++] = wg->node[1]->attribute[0]->t;
    gt[nt] = gg->node[2]->attribute[0]->tensors[0], wt[nt++] = wg->node[2]->attribute[0]->tensors[0];
    gt[nt] = gg->node[2]->attribute[0]->tensors[1], wt[nt++] = wg->node[2]->attribute[0]->tensors[1];
    gt[nt] = gg->node[2]->attribute[1]->graphs[0]->initializer[0];
    wt[nt++] = wg->node[2]->attribute[1]->graphs[0]->initializer[0];
    gt[nt] = gg->initializer[0], wt[nt++] = wg->initializer[0];
    gt[nt] = gg->initializer[1], wt[nt++] = wg->initializer[1];
    ck_assert_uint_eq(nt, (size_t)n);
    for (size_t k = 0; k < nt; k++) {
        ck_assert_msg(gt[k]->raw_data.len == r.replacement_len[k], "tensor '%s': %zu bytes",
                      wt[k]->name ? wt[k]->name : "", gt[k]->raw_data.len);
        if (r.replacement_len[k]) /* protobuf-c leaves data NULL for empty bytes */
            ck_assert_mem_eq(gt[k]->raw_data.data, r.replacement[k], r.replacement_len[k]);
        ck_assert_uint_eq(gt[k]->n_dims, wt[k]->n_dims);
        ck_assert_int_eq(gt[k]->data_type, wt[k]->data_type);
    }
    ck_assert_str_eq(gg->node[2]->name, "cu");
    ck_assert_uint_eq(gg->n_sparse_initializer, 1);
    ck_assert_mem_eq(gg->sparse_initializer[0]->values->raw_data.data, tm_pattern(24, 0x7e), 24);
    onnx__model_proto__free_unpacked(got, NULL);
    onnx__model_proto__free_unpacked(want, NULL);
}
END_TEST

START_TEST(callback_error_stops_the_rewrite_with_its_status)
{
    int n;
    size_t len;
    uint8_t *in = tm_pack(everywhere_model(&n), &len);
    recorder r = {.fail_at = 2};
    uint8_t *out = (uint8_t *)"sentinel";
    size_t out_len = 7;
    mcz_error err = {0};
    expect_status(mcz_onnxwire_rewrite(in, len, record, &r, &out, &out_len, "test.onnx", &err),
                  MCZ_ERR_NOMEM, &err);
    expect_msg_has(&err, "ordinal 2");
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(out_len, 0);
    ck_assert_uint_eq(r.calls, 2);
}
END_TEST

/* ---- streaming ------------------------------------------------------------------------------ */

typedef struct sink_log {
    tm_bytes got;
    size_t calls;
    size_t fail_after; /* calls that succeed before the sink fails (SIZE_MAX: never) */
} sink_log;

static mcz_status collect(void *ctx, const void *data, size_t len, mcz_error *err)
{
    sink_log *l = ctx;
    if (l->calls++ >= l->fail_after)
        return mcz_seterr(err, MCZ_ERR_IO, "sink full after %zu pieces", l->fail_after);
    ck_assert_uint_gt(len, 0);
    tm_put(&l->got, data, len);
    return MCZ_OK;
}

START_TEST(stream_writes_the_same_bytes_as_rewrite)
{
    int n;
    size_t len, out_len;
    uint8_t *in = tm_pack(everywhere_model(&n), &len);
    recorder r1 = {.fail_at = UINT64_MAX}, r2 = {.fail_at = UINT64_MAX};
    for (int k = 0; k < n; k++) {
        r1.replacement_len[k] = r2.replacement_len[k] = new_sizes[(k + 3) % 9];
        r1.replacement[k] = r2.replacement[k] = tm_pattern(r1.replacement_len[k], (uint8_t)k);
    }
    uint8_t *want = rewrite_ok(in, len, record, &r1, &out_len);
    sink_log l = {.fail_after = SIZE_MAX};
    uint64_t written = 0;
    mcz_error err = {0};
    expect_ok(mcz_onnxwire_stream(in, len, record, &r2, collect, &l, &written, "s.onnx", &err),
              &err);
    ck_assert_uint_eq(written, out_len);
    ck_assert_uint_eq(l.got.len, out_len);
    ck_assert_mem_eq(l.got.p, want, out_len);
    ck_assert_uint_eq(r2.calls, (size_t)n);
}
END_TEST

START_TEST(sink_error_stops_the_stream_with_its_status)
{
    int n;
    size_t len;
    uint8_t *in = tm_pack(everywhere_model(&n), &len);
    sink_log l = {.fail_after = 3};
    mcz_error err = {0};
    expect_status(mcz_onnxwire_stream(in, len, keep, NULL, collect, &l, NULL, "s.onnx", &err),
                  MCZ_ERR_IO, &err);
    expect_msg_has(&err, "sink full");
    ck_assert_uint_eq(l.calls, 4);
}
END_TEST

START_TEST(malformed_input_streams_nothing)
{
    size_t len;
    uint8_t *full = graph_only(&len);
    uint8_t *in = tm_dup(full, len - 1);
    sink_log l = {.fail_after = SIZE_MAX};
    mcz_error err = {0};
    expect_status(mcz_onnxwire_stream(in, len - 1, keep, NULL, collect, &l, NULL, "s.onnx", &err),
                  MCZ_ERR_FORMAT, &err);
    ck_assert_uint_eq(l.calls, 0);
}
END_TEST

/* ---- refused inputs ------------------------------------------------------------------------- */

START_TEST(every_truncation_is_a_format_error)
{
    size_t len;
    uint8_t *full = graph_only(&len);
    for (size_t cut = 1; cut < len; cut++) {
        uint8_t *in = tm_dup(full, cut); /* exact size, so reads past the end are caught */
        uint8_t *out = NULL;
        size_t out_len;
        mcz_error err = {0};
        recorder r = {.fail_at = UINT64_MAX};
        mcz_status s = mcz_onnxwire_rewrite(in, cut, record, &r, &out, &out_len, "cut.onnx", &err);
        free(out);
        ck_assert_msg(s == MCZ_ERR_FORMAT, "cut at %zu of %zu: status %d: %s", cut, len, s, err.msg);
        ck_assert_msg(strstr(err.msg, "cut.onnx") && strstr(err.msg, "byte"), "cut at %zu: %s",
                      cut, err.msg);
    }
}
END_TEST

#define WIRE(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

typedef struct bad_wire {
    const char *name;
    const uint8_t *bytes;
    size_t len;
    mcz_status want;
    const char *says;
} bad_wire;

static const bad_wire bad_wires[] = {
    {"eleven-byte tag varint", WIRE(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
     MCZ_ERR_FORMAT, "bad field tag at byte 0"},
    {"tenth varint byte above 1", WIRE(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02),
     MCZ_ERR_FORMAT, "bad field tag at byte 0"},
    {"tag above 32 bits", WIRE(0xff, 0xff, 0xff, 0xff, 0x1f, 0x00), MCZ_ERR_FORMAT, "bad field tag"},
    {"field number 0", WIRE(0x02, 0x00), MCZ_ERR_FORMAT, "bad field tag"},
    {"start group", WIRE(0x0b, 0x0c), MCZ_ERR_FORMAT, "wire type 3 at byte 0"},
    {"end group", WIRE(0x08, 0x01, 0x0c), MCZ_ERR_FORMAT, "wire type 4 at byte 2"},
    {"wire type 6", WIRE(0x0e), MCZ_ERR_FORMAT, "wire type 6"},
    {"wire type 7", WIRE(0x0f), MCZ_ERR_FORMAT, "wire type 7"},
    {"group inside a graph", WIRE(0x3a, 0x02, 0x0b, 0x0c), MCZ_ERR_FORMAT, "wire type 3 at byte 2"},
    {"group inside a tensor", WIRE(0x3a, 0x04, 0x2a, 0x02, 0x13, 0x14), MCZ_ERR_FORMAT,
     "wire type 3 at byte 4"},
    {"graph as fixed64", WIRE(0x39, 1, 2, 3, 4, 5, 6, 7, 8), MCZ_ERR_FORMAT, "length-delimited"},
    {"raw_data as varint", WIRE(0x3a, 0x04, 0x2a, 0x02, 0x48, 0x01), MCZ_ERR_FORMAT,
     "length-delimited"},
    {"subgraph attribute as varint", WIRE(0x3a, 0x06, 0x0a, 0x04, 0x2a, 0x02, 0x30, 0x01),
     MCZ_ERR_FORMAT, "length-delimited"},
    {"length past the end", WIRE(0x3a, 0x05, 0x00), MCZ_ERR_FORMAT, "claims 5 bytes, 1 remain"},
    {"length past the enclosing message", WIRE(0x3a, 0x03, 0x2a, 0x05, 0x00, 0x08, 0x01, 0x08, 0x01),
     MCZ_ERR_FORMAT, "claims 5 bytes, 1 remain"},
    {"eleven-byte length varint",
     WIRE(0x3a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), MCZ_ERR_FORMAT,
     "byte 0"},
    {"length of 2^64-1", WIRE(0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
     MCZ_ERR_FORMAT, "byte 0"},
    {"truncated varint", WIRE(0x08, 0x80), MCZ_ERR_FORMAT, "runs past the end"},
    {"truncated fixed32", WIRE(0x0d, 0x01, 0x02), MCZ_ERR_FORMAT, "runs past the end"},
    {"truncated fixed64", WIRE(0x09, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07), MCZ_ERR_FORMAT,
     "runs past the end"},
};
#define N_BAD_WIRE (int)(sizeof bad_wires / sizeof bad_wires[0])

START_TEST(malformed_wire_data_is_refused_naming_the_input_and_byte)
{
    const bad_wire *c = &bad_wires[_i];
    uint8_t *in = tm_dup(c->bytes, c->len);
    uint8_t *out = NULL;
    size_t out_len;
    mcz_error err = {0};
    mcz_status s = mcz_onnxwire_rewrite(in, c->len, keep, NULL, &out, &out_len, "bad.onnx", &err);
    free(out);
    ck_assert_msg(s == c->want, "[%s] status %d (%s), expected %d: %s", c->name, s,
                  mcz_strerror(s), c->want, err.msg);
    ck_assert_ptr_null(out);
    ck_assert_msg(strstr(err.msg, "bad.onnx") != NULL, "[%s] %s", c->name, err.msg);
    ck_assert_msg(strstr(err.msg, c->says) != NULL, "[%s] message does not say \"%s\": %s",
                  c->name, c->says, err.msg);
}
END_TEST

START_TEST(non_minimal_varints_are_accepted)
{
    /* ModelProto { graph (tag 0x3a written in two bytes) { name = "g" } }, ir_version padded */
    static const uint8_t in[] = {0x88, 0x00, 0x85, 0x80, 0x00, 0xba, 0x00, 0x83, 0x00,
                                 0x12, 0x01, 'g'};
    size_t out_len;
    uint8_t *out = rewrite_ok(in, sizeof in, keep, NULL, &out_len);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, out_len, out);
    ck_assert_ptr_nonnull(mp);
    ck_assert_int_eq(mp->ir_version, 5);
    ck_assert_str_eq(mp->graph->name, "g");
    onnx__model_proto__free_unpacked(mp, NULL);
}
END_TEST

/* ModelProto -> GraphProto -> (NodeProto -> AttributeProto -> GraphProto) x levels. */
static tm_bytes nested_graphs(int levels)
{
    tm_bytes g = {0};
    tm_put_field(&g, 2, "leaf", 4);
    for (int i = 0; i < levels; i++) {
        tm_bytes attr = {0}, node = {0}, graph = {0};
        tm_put_field(&attr, 1, "then_branch", 11);
        tm_put_field(&attr, 6, g.p, g.len);
        tm_put_field(&node, 4, "If", 2);
        tm_put_field(&node, 5, attr.p, attr.len);
        tm_put_field(&graph, 1, node.p, node.len);
        g = graph;
    }
    tm_bytes model = {0};
    tm_put_field(&model, 7, g.p, g.len);
    return model;
}

START_TEST(nesting_deeper_than_the_cap_is_a_limit_error)
{
    tm_bytes ok = nested_graphs(21), deep = nested_graphs(22);
    size_t out_len;
    rewrite_ok(ok.p, ok.len, keep, NULL, &out_len);
    uint8_t *out = NULL;
    mcz_error err = {0};
    expect_status(mcz_onnxwire_rewrite(deep.p, deep.len, keep, NULL, &out, &out_len, "deep.onnx",
                                       &err), MCZ_ERR_LIMIT, &err);
    expect_msg_has(&err, "deep.onnx");
    expect_msg_has(&err, "nested deeper");
    ck_assert_ptr_null(out);
}
END_TEST

/* ---- markers -------------------------------------------------------------------------------- */

START_TEST(markers_encode_their_index_and_nothing_else_parses_as_one)
{
    const uint64_t indices[] = {0, 1, 255, 256, 1ULL << 40, UINT64_MAX};
    for (size_t k = 0; k < sizeof indices / sizeof indices[0]; k++) {
        uint8_t mk[MCZ_MARKER_LEN];
        uint64_t got = 12345;
        mcz_marker_make(indices[k], mk);
        ck_assert(mcz_marker_parse(mk, MCZ_MARKER_LEN, &got));
        ck_assert_uint_eq(got, indices[k]);
        ck_assert(!mcz_marker_parse(mk, MCZ_MARKER_LEN - 1, &got));
        uint8_t longer[MCZ_MARKER_LEN + 1] = {0};
        memcpy(longer, mk, MCZ_MARKER_LEN);
        ck_assert(!mcz_marker_parse(longer, sizeof longer, &got));
        for (int b = 0; b < 8; b++) {
            uint8_t bad[MCZ_MARKER_LEN];
            memcpy(bad, mk, MCZ_MARKER_LEN);
            bad[b] ^= 0x20;
            ck_assert_msg(!mcz_marker_parse(bad, MCZ_MARKER_LEN, &got), "magic byte %d ignored", b);
        }
    }
}
END_TEST

static Suite *onnxwire_suite(void)
{
    Suite *s = suite_create("onnxwire");
    TCase *tc = tcase_create("rewrite");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, identity_rewrite_returns_the_input_bytes);
    tcase_add_test(tc, empty_input_rewrites_to_empty_output);
    tcase_add_test(tc, callback_is_called_once_per_raw_data_in_wire_order);
    tcase_add_test(tc, replacement_recomputes_every_enclosing_length);
    tcase_add_test(tc, callback_error_stops_the_rewrite_with_its_status);
    tcase_add_test(tc, non_minimal_varints_are_accepted);
    suite_add_tcase(s, tc);

    tc = tcase_create("stream");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, stream_writes_the_same_bytes_as_rewrite);
    tcase_add_test(tc, sink_error_stops_the_stream_with_its_status);
    tcase_add_test(tc, malformed_input_streams_nothing);
    suite_add_tcase(s, tc);

    tc = tcase_create("refused");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, every_truncation_is_a_format_error);
    tcase_add_loop_test(tc, malformed_wire_data_is_refused_naming_the_input_and_byte, 0, N_BAD_WIRE);
    tcase_add_test(tc, nesting_deeper_than_the_cap_is_a_limit_error);
    suite_add_tcase(s, tc);

    tc = tcase_create("markers");
    tcase_add_test(tc, markers_encode_their_index_and_nothing_else_parses_as_one);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(onnxwire_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
