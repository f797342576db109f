/* test_pack.c - the .mcz writer (libcompress/pack.c) and the loader on what it writes: every
 * byte of a packed model flipped is caught (by --verify and by reads: never wrong data
 * returned as good), the output does not depend on the thread count, the encodings chosen,
 * duplicates shared, unpack gives the canonical model back. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcz/load.h"
#include "mcz/model.h"
#include "mcz/pack.h"
#include "mkmcz.h"

#define expect_status(got, want, e)                                                            \
    ck_assert_msg((got) == (want), "status %d (%s), expected %d (%s); message: %s", (int)(got), \
                  mcz_strerror(got), (int)(want), mcz_strerror(want), (e)->msg)

static char tmpdir[] = "/tmp/mcz-test-pack-XXXXXX";

static const char *tmp(const char *name)
{
    static char path[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", tmpdir, name);
    return path[k];
}

static uint64_t rng = 1;
static uint64_t rnd(void) { return mk_rnd(&rng); }

/* The test model: gaussian floats (planes), repetitive int64 (zstd), noise bytes (raw),
 * float16 (planes), a scalar, and a duplicate of the floats. */
enum { NF = 3000, NI = 400, NB = 200, NH = 1500, NT = 6 };
static float vf[NF];
static int64_t vi[NI];
static uint8_t vb[NB];
static uint16_t vh[NH];
static float scalar = 0.25f;

static mk_tensor_spec specs[NT];

static void make_values(void)
{
    rng = 42;
    for (int i = 0; i < NF; i++) {
        double u = ((double)(rnd() % 1000000) + 0.5) / 1e6;
        double v = ((double)(rnd() % 1000000) + 0.5) / 1e6;
        vf[i] = (float)(0.02 * sqrt(-2 * log(u)) * cos(6.283185307179586 * v));
    }
    for (int i = 0; i < NI; i++)
        vi[i] = i % 10 - 3;
    for (int i = 0; i < NB; i++)
        vb[i] = (uint8_t)rnd();
    for (int i = 0; i < NH; i++) {
        uint32_t x;
        memcpy(&x, &vf[i], 4);
        uint32_t sign = (x >> 16) & 0x8000, ex = (x >> 23) & 0xff;
        vh[i] = (uint16_t)(sign | ((ex - 112) << 10) | ((x >> 13) & 0x3ff));
        if (((x >> 23) & 0xff) < 113)
            vh[i] = (uint16_t)((x >> 16) & 0x8000);
    }
    static const int64_t df[2] = {NF / 3, 3}, di[1] = {NI}, db[1] = {NB}, dh[1] = {NH};
    specs[0] = (mk_tensor_spec){"conv.weight", 1, 2, df, vf, sizeof vf, 0};
    specs[1] = (mk_tensor_spec){"shape", 7, 1, di, vi, sizeof vi, 0};
    specs[2] = (mk_tensor_spec){"noise", 2, 1, db, vb, sizeof vb, 0};
    specs[3] = (mk_tensor_spec){"half", 10, 1, dh, vh, sizeof vh, 0};
    specs[4] = (mk_tensor_spec){"scale", 1, 0, NULL, &scalar, 4, 0};
    specs[5] = (mk_tensor_spec){"conv.weight.copy", 1, 2, df, vf, sizeof vf, 0};
}

static mcz_model *test_model(void)
{
    mk_buf b = {0};
    mk_onnx(&b, specs, NT);
    mcz_error e = {0};
    mcz_model *m = mcz_model_load_onnx_buffer(b.p, b.n, "test.onnx", &e);
    ck_assert_msg(m != NULL, "%s", e.msg);
    return m;
}

static uint8_t *packed(int threads, size_t *len, mcz_pack_stats *st)
{
    mcz_model *m = test_model();
    mcz_error e = {0};
    mcz_pack_opts o = {.threads = threads, .force = 1};
    expect_status(mcz_pack(m, tmp("t.mcz"), &o, st, &e), MCZ_OK, &e);
    mcz_model_free(m);
    return mk_slurp(tmp("t.mcz"), len);
}

START_TEST(encodings_chosen_per_tensor)
{
    size_t len;
    mcz_pack_stats st;
    uint8_t *file = packed(2, &len, &st);
    mcz_error e = {0};
    mcz_file *f = mcz_open_buffer(file, len, NULL, &e);
    ck_assert_msg(f != NULL, "%s", e.msg);
    ck_assert_uint_eq(mcz_tensor_count(f), NT);
    ck_assert_int_eq(mcz_tensor(f, 0)->encoding, MCZ_ENC_PLANES);
    ck_assert_int_eq(mcz_tensor(f, 0)->transform, 1);
    ck_assert_int_eq(mcz_tensor(f, 1)->encoding, MCZ_ENC_ZSTD);
    ck_assert_int_eq(mcz_tensor(f, 2)->encoding, MCZ_ENC_RAW);
    ck_assert_int_eq(mcz_tensor(f, 3)->encoding, MCZ_ENC_PLANES);
    ck_assert_int_eq(mcz_tensor(f, 4)->encoding, MCZ_ENC_RAW);
    /* the copy shares the payload */
    ck_assert_uint_eq(st.deduplicated, 1);
    ck_assert_uint_eq(mcz_tensor(f, 5)->offset, mcz_tensor(f, 0)->offset);
    ck_assert_uint_lt(mcz_tensor(f, 0)->stored_bytes, sizeof vf * 90 / 100);
    ck_assert_uint_eq(st.file_bytes, len);
    ck_assert_uint_eq(st.tensors, NT);
    for (int i = 0; i < NT; i++) {
        ck_assert_str_eq(mcz_tensor(f, (size_t)i)->name, specs[i].name);
        ck_assert_int_eq(mcz_find(f, specs[i].name), i);
        void *p = mcz_read_alloc(f, (size_t)i, &e);
        ck_assert_msg(p && memcmp(p, specs[i].data, specs[i].len) == 0, "tensor %d", i);
        free(p);
    }
    expect_status(mcz_verify(f, 3, NULL, &e), MCZ_OK, &e);
    mcz_close(f);
    free(file);
}
END_TEST

START_TEST(output_does_not_depend_on_threads)
{
    size_t l1, l2, l5;
    uint8_t *a = packed(1, &l1, NULL), *b = packed(2, &l2, NULL), *c = packed(5, &l5, NULL);
    ck_assert_uint_eq(l1, l2);
    ck_assert_uint_eq(l1, l5);
    ck_assert(memcmp(a, b, l1) == 0 && memcmp(a, c, l1) == 0);
    free(a);
    free(b);
    free(c);
}
END_TEST

/* Every byte flipped (two ways) is caught by verify; reads give an error or the right data. */
START_TEST(every_byte_flip_is_caught)
{
    size_t len;
    uint8_t *good = packed(1, &len, NULL);
    uint8_t *want_onnx;
    size_t want_len;
    mcz_error e = {0};
    mcz_file *gf = mcz_open_buffer(good, len, NULL, &e);
    ck_assert(gf != NULL);
    expect_status(mcz_build_onnx(gf, 1, &want_onnx, &want_len, &e), MCZ_OK, &e);
    mcz_close(gf);
    uint8_t *f = malloc(len);
    size_t refused = 0, caught_by_verify = 0, read_errors = 0;
    static const uint8_t flips[2] = {0xff, 0x01};
    for (size_t off = 0; off < len; off++) {
        for (int k = 0; k < 2; k++) {
            memcpy(f, good, len);
            f[off] ^= flips[k];
            mcz_file *mf = mcz_open_buffer(f, len, NULL, &e);
            if (!mf) {
                ck_assert_int_ne(e.code, MCZ_OK);
                refused++;
                continue;
            }
            long bad;
            mcz_status v = mcz_verify(mf, 2, &bad, &e);
            ck_assert_msg(v != MCZ_OK, "byte %zu ^ 0x%02x not detected by verify", off, flips[k]);
            caught_by_verify++;
            for (size_t i = 0; i < mcz_tensor_count(mf); i++) {
                void *p = mcz_read_alloc(mf, i, &e);
                if (!p) {
                    read_errors++;
                    continue;
                }
                const mcz_tensor_info *t = mcz_tensor(mf, i);
                ck_assert_msg(t->raw_bytes == specs[i].len &&
                                  memcmp(p, specs[i].data, specs[i].len) == 0,
                              "byte %zu ^ 0x%02x: tensor %zu read as good with wrong data", off,
                              flips[k], i);
                free(p);
            }
            uint8_t *onnx;
            size_t n;
            if (mcz_build_onnx(mf, 2, &onnx, &n, &e) == MCZ_OK) {
                ck_assert_msg(n == want_len && memcmp(onnx, want_onnx, n) == 0,
                              "byte %zu ^ 0x%02x: model built with wrong bytes", off, flips[k]);
                free(onnx);
            }
            mcz_close(mf);
        }
    }
    fprintf(stderr, "every_byte_flip_is_caught: %zu bytes x 2 flips: %zu refused at open, %zu "
            "caught by verify (%zu tensor reads refused)\n", len, refused, caught_by_verify,
            read_errors);
    free(f);
    free(want_onnx);
    free(good);
}
END_TEST

START_TEST(unpack_gives_the_canonical_model)
{
    mcz_model *m = test_model();
    mcz_error e = {0};
    mcz_save_opts so = {.force = 1};
    expect_status(mcz_model_save_onnx(m, tmp("canon.onnx"), &so, &e), MCZ_OK, &e);
    expect_status(mcz_pack(m, tmp("u.mcz"), &(mcz_pack_opts){.force = 1}, NULL, &e), MCZ_OK, &e);
    mcz_model_free(m);
    expect_status(mcz_unpack(tmp("u.mcz"), tmp("u.onnx"), &(mcz_unpack_opts){.force = 1}, &e),
                  MCZ_OK, &e);
    size_t a, b;
    uint8_t *x = mk_slurp(tmp("canon.onnx"), &a), *y = mk_slurp(tmp("u.onnx"), &b);
    ck_assert_uint_eq(a, b);
    ck_assert(memcmp(x, y, a) == 0);
    free(x);
    free(y);
    /* content, not name: an .mcz called .onnx and an ONNX called .mcz */
    ck_assert_int_eq(rename(tmp("u.mcz"), tmp("really-mcz.onnx")), 0);
    ck_assert_int_eq(rename(tmp("u.onnx"), tmp("really-onnx.mcz")), 0);
    ck_assert_int_eq(mcz_is_container(tmp("really-mcz.onnx")), 1);
    ck_assert_int_eq(mcz_is_container(tmp("really-onnx.mcz")), 0);
    mcz_model *p = mcz_model_load_any(tmp("really-mcz.onnx"), 1, &e);
    mcz_model *q = mcz_model_load_any(tmp("really-onnx.mcz"), 1, &e);
    ck_assert(p && q);
    ck_assert_uint_eq(mcz_model_weight_count(p), NT);
    ck_assert_uint_eq(mcz_model_weight_count(q), NT);
    mcz_model_free(p);
    mcz_model_free(q);
}
END_TEST

/* Many copies of a few tensors: every copy shares its payload, the table grows past its
 * first allocations (run under ASan), every copy reads back. */
START_TEST(many_duplicates_share_payloads)
{
    enum { N = 700 };
    static mk_tensor_spec many[N];
    static char names[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "w%d", i);
        many[i] = specs[i % 3 == 0 ? 0 : i % 3 == 1 ? 3 : 1];
        many[i].name = names[i];
    }
    mk_buf b = {0};
    mk_onnx(&b, many, N);
    mcz_error e = {0};
    mcz_model *m = mcz_model_load_onnx_buffer(b.p, b.n, "many.onnx", &e);
    ck_assert_msg(m != NULL, "%s", e.msg);
    mcz_pack_stats st;
    expect_status(mcz_pack(m, tmp("many.mcz"), &(mcz_pack_opts){.force = 1, .threads = 2}, &st,
                           &e), MCZ_OK, &e);
    mcz_model_free(m);
    ck_assert_uint_eq(st.deduplicated, N - 3);
    mcz_file *f = mcz_open(tmp("many.mcz"), &e);
    ck_assert_msg(f != NULL, "%s", e.msg);
    expect_status(mcz_verify(f, 2, NULL, &e), MCZ_OK, &e);
    for (int i = 0; i < N; i++) {
        void *p = mcz_read_alloc(f, (size_t)i, &e);
        ck_assert_msg(p && memcmp(p, many[i].data, many[i].len) == 0, "tensor %d", i);
        free(p);
    }
    mcz_close(f);
}
END_TEST

START_TEST(existing_output_is_kept_without_force)
{
    FILE *f = fopen(tmp("keep.mcz"), "wb");
    ck_assert(f && fputs("precious", f) >= 0 && fclose(f) == 0);
    mcz_model *m = test_model();
    mcz_error e = {0};
    expect_status(mcz_pack(m, tmp("keep.mcz"), NULL, NULL, &e), MCZ_ERR_EXISTS, &e);
    mcz_model_free(m);
    size_t n;
    uint8_t *p = mk_slurp(tmp("keep.mcz"), &n);
    ck_assert(n == 8 && memcmp(p, "precious", 8) == 0);
    free(p);
    expect_status(mcz_unpack(tmp("keep.mcz"), tmp("x.onnx"), NULL, &e), MCZ_ERR_FORMAT, &e);
}
END_TEST

START_TEST(empty_model_round_trips)
{
    mk_buf b = {0};
    mk_onnx(&b, NULL, 0);
    mcz_error e = {0};
    mcz_model *m = mcz_model_load_onnx_buffer(b.p, b.n, "empty.onnx", &e);
    ck_assert_msg(m != NULL, "%s", e.msg);
    mcz_pack_stats st;
    expect_status(mcz_pack(m, tmp("e.mcz"), &(mcz_pack_opts){.force = 1}, &st, &e), MCZ_OK, &e);
    mcz_model_free(m);
    ck_assert_uint_eq(st.tensors, 0);
    mcz_file *f = mcz_open(tmp("e.mcz"), &e);
    ck_assert_msg(f != NULL, "%s", e.msg);
    expect_status(mcz_verify(f, 1, NULL, &e), MCZ_OK, &e);
    mcz_close(f);
    expect_status(mcz_unpack(tmp("e.mcz"), tmp("e.onnx"), &(mcz_unpack_opts){.force = 1}, &e),
                  MCZ_OK, &e);
}
END_TEST

int main(void)
{
    if (!mkdtemp(tmpdir))
        return 1;
    make_values();
    Suite *s = suite_create("container-pack");
    TCase *t = tcase_create("pack");
    tcase_add_test(t, encodings_chosen_per_tensor);
    tcase_add_test(t, output_does_not_depend_on_threads);
    tcase_add_test(t, unpack_gives_the_canonical_model);
    tcase_add_test(t, many_duplicates_share_payloads);
    tcase_add_test(t, existing_output_is_kept_without_force);
    tcase_add_test(t, empty_model_round_trips);
    tcase_add_test(t, every_byte_flip_is_caught);
    tcase_set_timeout(t, 300);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return failed ? 1 : 0;
}
