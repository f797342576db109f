/* test_pack_big.c - the .mcz writer on tensors larger than its window (libcompress/pack.c
 * streams them: the encoding chosen from a sample of the first blocks, the rest encoded with
 * it alone): every encoding comes out valid and reads back, a sparse tensor whose later
 * blocks have no zeros included, an identical big tensor shares the payload, and the output
 * does not depend on the thread count. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcz/load.h"
#include "mcz/model.h"
#include "mcz/pack.h"
#include "mkmcz.h"

#define expect_status(got, want, e)                                                            \
    ck_assert_msg((got) == (want), "status %d (%s), expected %d (%s); message: %s", (int)(got), \
                  mcz_strerror(got), (int)(want), mcz_strerror(want), (e)->msg)

static char tmpdir[] = "/tmp/mcz-test-pack-big-XXXXXX";

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

static float gauss(void)
{
    double u = ((double)(rnd() % 1000000) + 0.5) / 1e6;
    double v = ((double)(rnd() % 1000000) + 0.5) / 1e6;
    return (float)(0.02 * sqrt(-2 * log(u)) * cos(6.283185307179586 * v));
}

/* Six tensors of 4.5 to 6.5 MB, about 32 MB in all: the writer's window is its least (4 MB),
 * so every tensor is streamed, its sample 4 blocks. Sizes are not multiples of the block. */
enum { NS = 1700000, NB = 5 * 1048576 + 1, NC = 5 * 1048576 + 3, NR = 655360 + 7, NH = 2359296 + 5,
       NT = 6 };
static float *vs;     /* sparse: half zeros in the first 4 MB, none after */
static uint8_t *vb;   /* noise bytes: raw */
static int8_t *vc;    /* small integer codes: literal-only zstd */
static int64_t *vr;   /* few distinct words: plain zstd (redone at the real level) */
static uint16_t *vh;  /* float16: planes */
static mk_tensor_spec specs[NT];

static int make_values(void)
{
    rng = 7;
    vs = malloc(NS * sizeof *vs);
    vb = malloc(NB);
    vc = malloc(NC);
    vr = malloc(NR * sizeof *vr);
    vh = malloc(NH * sizeof *vh);
    if (!vs || !vb || !vc || !vr || !vh)
        return -1;
    for (size_t i = 0; i < NS; i++) {
        float x = gauss();
        vs[i] = i < 1048576 && rnd() % 2 ? 0.0f : x != 0.0f ? x : 1e-3f;
    }
    for (size_t i = 0; i < NB; i++)
        vb[i] = (uint8_t)rnd();
    for (size_t i = 0; i < NC; i++) {
        uint64_t r = rnd() % 16;
        vc[i] = (int8_t)(r < 8 ? 1 : r < 12 ? -1 : r < 14 ? 2 : (int)(rnd() % 7) - 3);
    }
    int64_t words[16]; /* whole words repeat: matches, planes of noise */
    for (int i = 0; i < 16; i++)
        words[i] = (int64_t)(rnd() << 40 ^ rnd());
    for (size_t i = 0; i < NR; i++)
        vr[i] = words[rnd() % 16];
    for (size_t i = 0; i < NH; i++) {
        float f = gauss();
        uint32_t x;
        memcpy(&x, &f, 4);
        uint32_t ex = (x >> 23) & 0xff;
        vh[i] = (uint16_t)(ex < 113 ? (x >> 16) & 0x8000
                                    : ((x >> 16) & 0x8000) | ((ex - 112) << 10) |
                                          ((x >> 13) & 0x3ff));
    }
    static const int64_t ds[1] = {NS}, db[1] = {NB}, dc[1] = {NC}, dr[1] = {NR}, dh[1] = {NH};
    specs[0] = (mk_tensor_spec){"sparse", 1, 1, ds, vs, NS * sizeof *vs, 0};
    specs[1] = (mk_tensor_spec){"noise", 2, 1, db, vb, NB, 0};
    specs[2] = (mk_tensor_spec){"codes", 3, 1, dc, vc, NC, 0};
    specs[3] = (mk_tensor_spec){"pattern", 7, 1, dr, vr, NR * sizeof *vr, 0};
    specs[4] = (mk_tensor_spec){"half", 10, 1, dh, vh, NH * sizeof *vh, 0};
    specs[5] = (mk_tensor_spec){"sparse.copy", 1, 1, ds, vs, NS * sizeof *vs, 0};
    return 0;
}

static uint8_t *packed(int threads, size_t *len, mcz_pack_stats *st)
{
    mk_buf b = {0};
    mk_onnx(&b, specs, NT);
    mcz_error e = {0};
    mcz_model *m = mcz_model_load_onnx_buffer(b.p, b.n, "big.onnx", &e); /* owns b.p */
    ck_assert_msg(m != NULL, "%s", e.msg);
    mcz_pack_opts o = {.threads = threads, .force = 1};
    expect_status(mcz_pack(m, tmp("big.mcz"), &o, st, &e), MCZ_OK, &e);
    mcz_model_free(m);
    return mk_slurp(tmp("big.mcz"), len);
}

START_TEST(big_tensors_stream_every_encoding)
{
    size_t len;
    mcz_pack_stats st;
    uint8_t *file = packed(3, &len, &st);
    mcz_error e = {0};
    mcz_file *f = mcz_open_buffer(file, len, NULL, &e);
    ck_assert_msg(f != NULL, "%s", e.msg);
    ck_assert_uint_eq(mcz_tensor_count(f), NT);
    ck_assert_int_eq(mcz_tensor(f, 0)->encoding, MCZ_ENC_SPARSE);
    ck_assert_int_eq(mcz_tensor(f, 1)->encoding, MCZ_ENC_RAW);
    ck_assert_int_eq(mcz_tensor(f, 2)->encoding, MCZ_ENC_ZSTD);
    ck_assert_int_eq(mcz_tensor(f, 3)->encoding, MCZ_ENC_ZSTD);
    ck_assert_int_eq(mcz_tensor(f, 4)->encoding, MCZ_ENC_PLANES);
    ck_assert_uint_eq(st.deduplicated, 1);
    ck_assert_uint_eq(mcz_tensor(f, 5)->offset, mcz_tensor(f, 0)->offset);
    ck_assert_uint_eq(mcz_tensor(f, 1)->offset % 64, 0);
    ck_assert_uint_eq(st.file_bytes, len);
    for (int i = 0; i < NT; i++) {
        void *p = mcz_read_alloc(f, (size_t)i, &e);
        ck_assert_msg(p && memcmp(p, specs[i].data, specs[i].len) == 0, "tensor %d", i);
        free(p);
    }
    expect_status(mcz_verify(f, 2, NULL, &e), MCZ_OK, &e);
    mcz_close(f);
    free(file);
}
END_TEST

START_TEST(big_tensors_do_not_depend_on_threads)
{
    size_t l1, l2;
    uint8_t *a = packed(1, &l1, NULL), *b = packed(2, &l2, NULL);
    ck_assert_uint_eq(l1, l2);
    ck_assert(memcmp(a, b, l1) == 0);
    free(a);
    free(b);
}
END_TEST

int main(void)
{
    if (make_values() != 0 || !mkdtemp(tmpdir))
        return 1;
    Suite *s = suite_create("container-pack-big");
    TCase *t = tcase_create("pack-big");
    tcase_add_test(t, big_tensors_stream_every_encoding);
    tcase_add_test(t, big_tensors_do_not_depend_on_threads);
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
    free(vs);
    free(vb);
    free(vc);
    free(vr);
    free(vh);
    return failed ? 1 : 0;
}
