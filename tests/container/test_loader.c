/* test_loader.c - the loader library against hand-built files (mkmcz.c, written from
 * docs/format.md): round trips of every encoding, name lookup, and a table of malformed
 * files each with the error it must give. Links the loader only (zstd + libc). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "mcz/load.h"
#include "loader_impl.h"
#include "mkmcz.h"

#define expect_status(got, want, e)                                                            \
    ck_assert_msg((got) == (want), "status %d (%s), expected %d (%s); message: %s", (int)(got), \
                  mcz_strerror(got), (int)(want), mcz_strerror(want), (e)->msg)

/* Deterministic test values. */
static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return rng_state >> 17;
}
static double gauss(void)
{
    double u = ((double)(rnd() % 1000000) + 0.5) / 1e6, v = ((double)(rnd() % 1000000) + 0.5) / 1e6;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static uint16_t f2h(float f) /* round-to-nearest float16 for normal range test values */
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    int e = (int)((x >> 23) & 0xff) - 127 + 15;
    if (e <= 0)
        return (uint16_t)sign;
    return (uint16_t)(sign | (uint32_t)e << 10 | ((x >> 13) & 0x3ff));
}

static void fill(uint8_t *p, int32_t dtype, uint64_t count, uint64_t raw, int kind)
{
    for (uint64_t j = 0; j < count; j++) {
        float g = (float)(gauss() * 0.05);
        if (kind == 1)
            g = (float)(j % 7);
        if (dtype == 1)
            memcpy(p + 4 * j, &g, 4);
        else if (dtype == 10) {
            uint16_t h = f2h(g);
            memcpy(p + 2 * j, &h, 2);
        } else if (dtype == 16) {
            uint32_t x;
            memcpy(&x, &g, 4);
            uint16_t h = (uint16_t)(x >> 16);
            memcpy(p + 2 * j, &h, 2);
        } else if (dtype == 11) {
            double d = g;
            memcpy(p + 8 * j, &d, 8);
        }
    }
    if (dtype != 1 && dtype != 10 && dtype != 16 && dtype != 11)
        for (uint64_t j = 0; j < raw; j++)
            p[j] = (uint8_t)(kind == 1 ? j % 5 : rnd());
}

static int dsize(int32_t dtype)
{
    switch (dtype) {
    case 1: case 6: return 4;
    case 10: case 16: return 2;
    case 7: case 11: return 8;
    default: return 1;
    }
}

/* ---- round trips: every encoding, dtype, size, block size ------------------------------ */

typedef struct rt_case {
    int32_t dtype;
    uint64_t count;
    int enc;
    uint32_t bs;
    int tf;
    int kind; /* 0 noise/gaussian, 1 repetitive */
} rt_case;

static const rt_case rt_cases[] = {
    {1, 0, MK_RAW, 0, 0, 0},       {1, 1, MK_RAW, 0, 0, 0},       {1, 1000, MK_RAW, 64, 0, 0},
    {1, 1000, MK_ZSTD, 256, 0, 1}, {1, 1000, MK_ZSTD, 0, 0, 0},   {1, 1000, MK_PLANES, 0, 1, 0},
    {1, 1001, MK_PLANES, 400, 1, 0}, {1, 1000, MK_PLANES, 4000, 0, 0},
    {10, 999, MK_PLANES, 64, 1, 0},
    {10, 999, MK_ZSTD, 64, 0, 0},  {16, 5000, MK_PLANES, 1024, 1, 0}, {16, 3, MK_PLANES, 2, 1, 0},
    {11, 300, MK_PLANES, 800, 1, 0}, {11, 300, MK_RAW, 0, 0, 0},  {7, 500, MK_PLANES, 0, 0, 1},
    {7, 500, MK_ZSTD, 0, 0, 1},    {6, 777, MK_PLANES, 100, 0, 0}, {3, 1234, MK_ZSTD, 100, 0, 1},
    {3, 1234, MK_RAW, 100, 0, 0},  {22, 7, MK_RAW, 0, 0, 0},      {22, 1001, MK_ZSTD, 0, 0, 1},
    {9, 10, MK_ZSTD, 0, 0, 0},     {2, 70000, MK_ZSTD, 8192, 0, 1},
};

static char tmpdir[] = "/tmp/mcz-test-loader-XXXXXX";


static char *write_tmp(const uint8_t *p, size_t n, const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    ck_assert(f && fwrite(p, 1, n, f) == n && fclose(f) == 0);
    return path;
}

START_TEST(roundtrip_every_encoding)
{
    const rt_case *c = &rt_cases[_i];
    rng_state = (uint64_t)_i + 1;
    int64_t dims[2] = {(int64_t)c->count, 1};
    uint64_t raw = c->dtype == 22 ? (c->count + 1) / 2 : c->count * (uint64_t)dsize(c->dtype);
    uint8_t *data = malloc(raw + 1);
    fill(data, c->dtype, c->count, raw, c->kind);
    for (int compress = 0; compress < 2; compress++) {
        mk_mcz m;
        mk_begin(&m);
        mk_tensor(&m, "a", 1, 0, NULL, (float[]){1.5f}, 4, MK_RAW, 0, 0);
        mk_tensor(&m, "t", c->dtype, 2, dims, data, raw, c->enc, c->bs, c->tf);
        mk_tensor_spec spec[2] = {{"a", 1, 0, NULL, NULL, 0, 0},
                                  {"t", c->dtype, 2, dims, NULL, 0, 1}};
        mk_onnx(&m.skel, spec, 2);
        size_t len;
        uint8_t *file = mk_end(&m, compress, &len);
        for (int via_path = 0; via_path < 2; via_path++) {
            mcz_error e = {0};
            mcz_file *f = via_path ? mcz_open(write_tmp(file, len, "rt.mcz"), &e)
                                   : mcz_open_buffer(file, len, "rt", &e);
            ck_assert_msg(f != NULL, "case %d: %s", _i, e.msg);
            ck_assert_uint_eq(mcz_tensor_count(f), 2);
            ck_assert_uint_eq(mcz_format_version(f), 1);
            const mcz_tensor_info *t = mcz_tensor(f, 1);
            ck_assert_str_eq(t->name, "t");
            ck_assert_int_eq(t->dtype, c->dtype);
            ck_assert_int_eq(t->rank, 2);
            ck_assert_int_eq(t->dims[0], (int64_t)c->count);
            ck_assert_uint_eq(t->count, c->count);
            ck_assert_uint_eq(t->raw_bytes, raw);
            ck_assert_int_eq(t->encoding, c->enc);
            ck_assert_ptr_null(mcz_tensor(f, 2));
            uint8_t *got = malloc(raw + 1);
            expect_status(mcz_read(f, 1, got, raw, &e), MCZ_OK, &e);
            ck_assert(memcmp(got, data, raw) == 0);
            free(got);
            got = mcz_read_alloc(f, 1, &e);
            ck_assert_msg(got != NULL, "%s", e.msg);
            ck_assert(memcmp(got, data, raw) == 0);
            free(got);
            if (raw) /* a buffer one byte short */
                expect_status(mcz_read(f, 1, data, raw - 1, &e), MCZ_ERR_ARG, &e);
            expect_status(mcz_verify(f, 2, NULL, &e), MCZ_OK, &e);
            for (int th = 0; th <= 3; th++) {
                void *dst[2] = {malloc(4), malloc(raw + 1)};
                expect_status(mcz_load_all(f, th, dst, &e), MCZ_OK, &e);
                ck_assert(memcmp(dst[1], data, raw) == 0);
                ck_assert(memcmp(dst[0], (float[]){1.5f}, 4) == 0);
                free(dst[0]);
                free(dst[1]);
            }
            const void *inplace;
            mcz_status s = mcz_tensor_data(f, 1, &inplace, &e);
            expect_status(s, c->enc == MK_RAW ? MCZ_OK : MCZ_ERR_UNSUPPORTED, &e);
            if (!s) {
                ck_assert(memcmp(inplace, data, raw) == 0);
                const uint8_t *at = via_path ? NULL : file; /* a mapping is page-aligned */
                ck_assert_uint_eq((uintptr_t)((const uint8_t *)inplace - at) % 64, 0);
            }
            float *f32 = malloc(4 * c->count + 4);
            s = mcz_read_f32(f, 1, f32, c->count, &e);
            int floaty = c->dtype == 1 || c->dtype == 10 || c->dtype == 16;
            expect_status(s, floaty ? MCZ_OK : MCZ_ERR_UNSUPPORTED, &e);
            for (uint64_t j = 0; floaty && j < c->count; j++) {
                float want;
                if (c->dtype == 1) {
                    memcpy(&want, data + 4 * j, 4);
                } else if (c->dtype == 16) {
                    uint32_t x = (uint32_t)(data[2 * j] | data[2 * j + 1] << 8) << 16;
                    memcpy(&want, &x, 4);
                } else { /* float16: exact for these values, within 1e-3 relative */
                    uint16_t h = (uint16_t)(data[2 * j] | data[2 * j + 1] << 8);
                    int ex = (h >> 10) & 31;
                    double mant = ex ? 1 + (h & 1023) / 1024.0 : (h & 1023) / 1024.0;
                    want = (float)((h & 0x8000 ? -1 : 1) * mant * pow(2, (ex ? ex : 1) - 15));
                }
                ck_assert_msg(f32[j] == want, "case %d element %llu: %g != %g", _i,
                              (unsigned long long)j, f32[j], want);
            }
            if (c->count)
                expect_status(mcz_read_f32(f, 1, f32, c->count - 1, &e),
                              floaty ? MCZ_ERR_ARG : MCZ_ERR_UNSUPPORTED, &e);
            free(f32);
            /* the model built in memory is the skeleton with the values put back */
            uint8_t *onnx;
            size_t onnx_len;
            expect_status(mcz_build_onnx(f, 2, &onnx, &onnx_len, &e), MCZ_OK, &e);
            mk_buf want = {0};
            mk_tensor_spec full[2] = {{"a", 1, 0, NULL, (float[]){1.5f}, 4, 0},
                                      {"t", c->dtype, 2, dims, data, raw, 0}};
            mk_onnx(&want, full, 2);
            ck_assert_uint_eq(onnx_len, want.n);
            ck_assert(memcmp(onnx, want.p, want.n) == 0);
            free(want.p);
            free(onnx);
            mcz_close(f);
        }
        free(file);
    }
    free(data);
}
END_TEST

START_TEST(xxh64_matches_zstd_frame_checksums)
{
    ck_assert_uint_eq(mcz_xxh64("", 0), 0xEF46DB3751D8E999ull);
    uint8_t buf[4096], z[8192];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 131 + (i >> 5));
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    for (size_t n = 0; n < sizeof buf; n = n * 2 + 1) {
        size_t r = ZSTD_compress2(c, z, sizeof z, buf, n);
        ck_assert(!ZSTD_isError(r));
        ck_assert_uint_eq(mk_get32(z + r - 4), (uint32_t)mcz_xxh64(buf, n));
    }
    ZSTD_freeCCtx(c);
}
END_TEST

START_TEST(empty_container_opens)
{
    mk_mcz m;
    mk_begin(&m);
    mk_onnx(&m.skel, NULL, 0);
    size_t len;
    uint8_t *file = mk_end(&m, 0, &len);
    mcz_error e = {0};
    mcz_file *f = mcz_open_buffer(file, len, NULL, &e);
    ck_assert_msg(f != NULL, "%s", e.msg);
    ck_assert_uint_eq(mcz_tensor_count(f), 0);
    ck_assert_int_eq(mcz_find(f, "x"), -1);
    expect_status(mcz_verify(f, 0, NULL, &e), MCZ_OK, &e);
    expect_status(mcz_load_all(f, 2, (void *[]){NULL}, &e), MCZ_OK, &e);
    uint8_t *onnx;
    size_t n;
    expect_status(mcz_build_onnx(f, 1, &onnx, &n, &e), MCZ_OK, &e);
    free(onnx);
    expect_status(mcz_read(f, 0, NULL, 0, &e), MCZ_ERR_ARG, &e);
    mcz_close(f);
    mcz_close(NULL);
    free(file);
}
END_TEST

START_TEST(string_tensor_stays_in_skeleton)
{
    mk_mcz m;
    mk_begin(&m);
    mk_tensor(&m, "s", 8, 1, (int64_t[]){2}, NULL, 0, MK_RAW, 0, 0);
    mk_set32(m.entries.p + 48, 1); /* in skeleton */
    mk_onnx(&m.skel, NULL, 0);
    size_t len;
    uint8_t *file = mk_end(&m, 0, &len);
    mk_set64(file + mk_entry(file, len, 0) + 16, 0); /* no payload offset */
    mk_fix(file, len);
    mcz_error e = {0};
    mcz_file *f = mcz_open_buffer(file, len, NULL, &e);
    ck_assert_msg(f != NULL, "%s", e.msg);
    ck_assert(mcz_tensor(f, 0)->in_skeleton);
    ck_assert_uint_eq(mcz_tensor(f, 0)->count, 2);
    uint8_t b[4];
    expect_status(mcz_read(f, 0, b, 4, &e), MCZ_ERR_UNSUPPORTED, &e);
    expect_status(mcz_load_all(f, 1, (void *[]){b}, &e), MCZ_OK, &e); /* left alone */
    expect_status(mcz_verify(f, 1, NULL, &e), MCZ_OK, &e);
    mcz_close(f);
    free(file);
}
END_TEST

START_TEST(float16_every_value_to_float32)
{
    uint8_t *h = malloc(2 * 65536);
    for (uint32_t v = 0; v < 65536; v++) {
        h[2 * v] = (uint8_t)v;
        h[2 * v + 1] = (uint8_t)(v >> 8);
    }
    mk_mcz m;
    mk_begin(&m);
    mk_tensor(&m, "h", 10, 1, (int64_t[]){65536}, h, 2 * 65536, MK_PLANES, 4096, 1);
    mk_onnx(&m.skel, NULL, 0);
    size_t len;
    uint8_t *file = mk_end(&m, 1, &len);
    mcz_error e = {0};
    mcz_file *f = mcz_open_buffer(file, len, NULL, &e);
    ck_assert_msg(f != NULL, "%s", e.msg);
    float *out = malloc(4 * 65536);
    expect_status(mcz_read_f32(f, 0, out, 65536, &e), MCZ_OK, &e);
    for (uint32_t v = 0; v < 65536; v++) {
        int ex = (v >> 10) & 31, m10 = v & 1023;
        double sign = v & 0x8000 ? -1 : 1;
        if (ex == 31) {
            ck_assert_msg(m10 ? isnan(out[v]) : out[v] == (float)(sign * INFINITY), "0x%04x", v);
            continue;
        }
        double want = sign * (ex ? 1 + m10 / 1024.0 : m10 / 1024.0) * ldexp(1, (ex ? ex : 1) - 15);
        ck_assert_msg(out[v] == (float)want && !signbit(out[v]) == !signbit(sign),
                      "0x%04x: %g != %g", v, out[v], want);
    }
    free(out);
    mcz_close(f);
    free(file);
    free(h);
}
END_TEST

/* ---- name lookup ------------------------------------------------------------------------ */

START_TEST(find_by_name)
{
    enum { N = 3000 };
    mk_mcz m;
    mk_begin(&m);
    char name[64];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, i % 3 ? "layer.%d.weight" : "t%d", i % 2000);
        mk_tensor(&m, name, 3, 1, (int64_t[]){1}, "x", 1, MK_RAW, 0, 0);
    }
    mk_tensor(&m, "", 3, 1, (int64_t[]){1}, "x", 1, MK_RAW, 0, 0);
    mk_onnx(&m.skel, NULL, 0);
    size_t len;
    uint8_t *file = mk_end(&m, 1, &len);
    mcz_error e = {0};
    mcz_file *f = mcz_open_buffer(file, len, NULL, &e);
    ck_assert_msg(f != NULL, "%s", e.msg);
    for (int i = 0; i < N; i++) {
        long want = i < 2000 ? i : i - 2000; /* names repeat after 2000: the first wins */
        snprintf(name, sizeof name, i % 3 ? "layer.%d.weight" : "t%d", i % 2000);
        long got = mcz_find(f, name);
        if (i >= 2000 && (want % 3 == 0) != (i % 3 == 0))
            want = i; /* the earlier tensor of that index had the other name pattern */
        ck_assert_int_eq(got, want);
        ck_assert_str_eq(mcz_tensor(f, (size_t)got)->name, name);
    }
    ck_assert_int_eq(mcz_find(f, ""), N);
    ck_assert_int_eq(mcz_find(f, "layer.1.weigh"), -1);
    ck_assert_int_eq(mcz_find(f, "layer.1.weightx"), -1);
    ck_assert_int_eq(mcz_find(f, "t1999"), -1); /* 1999 % 3 != 0: only layer.1999.weight */
    mcz_close(f);
    free(file);
}
END_TEST

/* ---- malformed files: a table ----------------------------------------------------------- */

/* The base file: a raw float tensor, a zstd int8 tensor, a planar float tensor of 3 blocks. */
static uint8_t *base_file(size_t *len, uint32_t extra_kind, uint32_t extra_flags)
{
    static float pl[300], rw[4] = {1, 2, 3, 4};
    static int8_t z[500];
    rng_state = 7;
    for (int i = 0; i < 300; i++)
        pl[i] = (float)(gauss() * 0.1);
    for (int i = 0; i < 500; i++)
        z[i] = (int8_t)(i % 9);
    mk_mcz m;
    mk_begin(&m);
    m.extra_kind = extra_kind;
    m.extra_flags = extra_flags;
    mk_tensor(&m, "raw", 1, 2, (int64_t[]){2, 2}, rw, 16, MK_RAW, 0, 0);
    mk_tensor(&m, "zstd", 3, 1, (int64_t[]){500}, z, 500, MK_ZSTD, 0, 0);
    mk_tensor(&m, "planes", 1, 1, (int64_t[]){300}, pl, 1200, MK_PLANES, 400, 1);
    mk_tensor_spec spec[3] = {{"raw", 1, 2, (int64_t[]){2, 2}, NULL, 0, 0},
                              {"zstd", 3, 1, (int64_t[]){500}, NULL, 0, 1},
                              {"planes", 1, 1, (int64_t[]){300}, NULL, 0, 2}};
    mk_onnx(&m.skel, spec, 3);
    return mk_end(&m, 0, len);
}

typedef enum { AT_OPEN, AT_READ, AT_VERIFY } stage;

typedef struct bad_case {
    const char *what;
    void (*mutate)(uint8_t *f, size_t *len);
    int fix;          /* recompute the checksums after mutating */
    stage at;
    mcz_status want;
    const char *msg;  /* a substring of the message, or NULL */
} bad_case;

#define E(i) mk_entry(f, *len, i)
#define SEC(k) mk_section(f, *len, k)
#define IX mk_index_offset(f, *len)
#define FT (*len - 64)

static void m_empty(uint8_t *f, size_t *len) { (void)f; *len = 0; }
static void m_short(uint8_t *f, size_t *len) { (void)f; *len = 127; }
static void m_magic(uint8_t *f, size_t *len) { (void)len; f[3] = 'X'; }
static void m_hdr_byte(uint8_t *f, size_t *len) { (void)len; f[30] ^= 1; }
static void m_version(uint8_t *f, size_t *len) { (void)len; mk_set32(f + 8, 2); }
static void m_hdr_size(uint8_t *f, size_t *len) { (void)len; mk_set32(f + 12, 128); }
static void m_hdr_flags(uint8_t *f, size_t *len) { (void)len; f[16] = 1; }
static void m_hdr_reserved(uint8_t *f, size_t *len) { (void)len; f[40] = 1; }
static void m_end_magic(uint8_t *f, size_t *len) { f[*len - 1] = 0; }
static void m_ft_byte(uint8_t *f, size_t *len) { f[FT + 41] ^= 1; }
static void m_ft_version(uint8_t *f, size_t *len) { mk_set32(f + FT + 28, 7); }
static void m_ft_size(uint8_t *f, size_t *len) { mk_set64(f + FT + 40, *len + 64); }
static void m_appended(uint8_t *f, size_t *len)
{
    memmove(f + *len, f + *len - 64, 64); /* the footer moved 64 bytes on: garbage before it */
    memset(f + *len - 64, 0, 64);
    *len += 64;
    mk_set64(f + FT + 40, *len);
}
static void m_ix_unaligned(uint8_t *f, size_t *len)
{
    mk_set64(f + FT, IX + 8);
    mk_set64(f + FT + 8, mk_get64(f + FT + 8) - 8);
    mk_set64(f + FT + 16, mk_get64(f + FT + 8));
}
static void m_ix_before_header(uint8_t *f, size_t *len) { mk_set64(f + FT, 0); }
static void m_ix_huge(uint8_t *f, size_t *len) { mk_set64(f + FT + 8, 1ull << 40); }
static void m_ix_overflow(uint8_t *f, size_t *len)
{
    mk_set64(f + FT, UINT64_MAX - 63);
}
static void m_ix_raw_mismatch(uint8_t *f, size_t *len) { f[FT + 16]++; }
static void m_ix_codec(uint8_t *f, size_t *len) { mk_set32(f + FT + 24, 9); }
static void m_ix_codec_zstd(uint8_t *f, size_t *len) { mk_set32(f + FT + 24, 1); }
static void m_ix_byte(uint8_t *f, size_t *len) { f[IX + 40] ^= 0x10; }
static void m_ix_magic(uint8_t *f, size_t *len) { f[IX] = 'X'; }
static void m_count_huge(uint8_t *f, size_t *len) { mk_set32(f + IX + 8, 1u << 31); }
static void m_count_plus1(uint8_t *f, size_t *len) { mk_set32(f + IX + 8, 4); }
static void m_nsec_huge(uint8_t *f, size_t *len) { mk_set32(f + IX + 12, 100000); }
static void m_nsec_less(uint8_t *f, size_t *len) { mk_set32(f + IX + 12, 5); }
static void m_nsec_more(uint8_t *f, size_t *len) { mk_set32(f + IX + 12, 7); }
static void m_ix_flags(uint8_t *f, size_t *len) { f[IX + 16] = 2; }
static void m_sec_size_huge(uint8_t *f, size_t *len) { mk_set64(f + SEC(2) + 8, 1ull << 62); }
static void m_sec_size_wrap(uint8_t *f, size_t *len) { mk_set64(f + SEC(2) + 8, UINT64_MAX - 7); }
static void m_sec_flags(uint8_t *f, size_t *len) { mk_set32(f + SEC(3) + 4, 3); }
static void m_sec_dup(uint8_t *f, size_t *len) { mk_set32(f + SEC(3), 2); }
static void m_sec_padding(uint8_t *f, size_t *len)
{
    size_t s = SEC(2); /* NAMES: "raw\0zstd\0planes\0" = 16 bytes... make it 15 and pad */
    mk_set64(f + s + 8, 15);
    f[s + 16 + 15] = 'x';
}
static void m_name_len_huge(uint8_t *f, size_t *len) { mk_set32(f + E(0), 100000); }
static void m_name_nul(uint8_t *f, size_t *len)
{
    mk_set32(f + E(0), 8); /* "raw\0zstd" then 0: a NUL inside the name */
    mk_set32(f + E(1), 0);
}
static void m_names_short(uint8_t *f, size_t *len) { mk_set32(f + E(2), 7); }
static void m_rank_33(uint8_t *f, size_t *len) { mk_set32(f + E(0) + 8, 33); }
static void m_rank_more(uint8_t *f, size_t *len) { mk_set32(f + E(2) + 8, 3); }
static void m_dims_left(uint8_t *f, size_t *len) { mk_set32(f + E(2) + 8, 0); }
static void m_dim_negative(uint8_t *f, size_t *len) { mk_set64(f + SEC(3) + 16, (uint64_t)-2); }
static void m_dim_overflow(uint8_t *f, size_t *len)
{
    mk_set64(f + SEC(3) + 16, 1ull << 40);
    mk_set64(f + SEC(3) + 24, 1ull << 40);
}
static void m_dtype_unknown(uint8_t *f, size_t *len) { mk_set32(f + E(1) + 4, 99); }
static void m_dtype_string(uint8_t *f, size_t *len) { mk_set32(f + E(1) + 4, 8); }
static void m_dtype_size(uint8_t *f, size_t *len) { mk_set32(f + E(1) + 4, 5); } /* int16 */
static void m_encoding_3(uint8_t *f, size_t *len) { mk_set32(f + E(1) + 12, 3); }
static void m_encoding_4(uint8_t *f, size_t *len) { mk_set32(f + E(1) + 12, 4); }
static void m_encoding_16(uint8_t *f, size_t *len) { mk_set32(f + E(1) + 12, 16); }
static void m_raw_size(uint8_t *f, size_t *len) { mk_set64(f + E(0) + 32, 17); }
static void m_planes_3(uint8_t *f, size_t *len) { f[E(2) + 44] = 3; }
static void m_planes_on_zstd(uint8_t *f, size_t *len) { f[E(1) + 44] = 2; }
static void m_transform_2(uint8_t *f, size_t *len) { f[E(2) + 45] = 2; }
static void m_transform_on_raw(uint8_t *f, size_t *len) { f[E(0) + 45] = 1; }
static void m_block_zero(uint8_t *f, size_t *len) { mk_set32(f + E(2) + 40, 0); }
static void m_block_huge(uint8_t *f, size_t *len) { mk_set32(f + E(2) + 40, (1u << 24) + 4); }
static void m_block_odd(uint8_t *f, size_t *len) { mk_set32(f + E(2) + 40, 402); }
static void m_block_fewer(uint8_t *f, size_t *len) { mk_set32(f + E(2) + 40, 1200); }
static void m_block_more(uint8_t *f, size_t *len) { mk_set32(f + E(2) + 40, 200); }
static void m_offset_unaligned(uint8_t *f, size_t *len) { f[E(1) + 16]++; }
static void m_offset_header(uint8_t *f, size_t *len) { mk_set64(f + E(0) + 16, 0); }
static void m_offset_past(uint8_t *f, size_t *len) { mk_set64(f + E(1) + 16, IX); }
static void m_offset_wrap(uint8_t *f, size_t *len) { mk_set64(f + E(1) + 16, UINT64_MAX - 63); }
static void m_stored_huge(uint8_t *f, size_t *len) { mk_set64(f + E(1) + 24, 1ull << 62); }
static void m_stored_sum(uint8_t *f, size_t *len) { f[E(1) + 24]--; }
static void m_seg_over(uint8_t *f, size_t *len) { mk_set32(f + SEC(5) + 16 + 4, 501); }
static void m_raw_seg_short(uint8_t *f, size_t *len)
{
    mk_set32(f + SEC(5) + 16, 15); /* the raw tensor's one segment */
    mk_set64(f + E(0) + 24, 15);
}
static void m_part(uint8_t *f, size_t *len) { mk_set32(f + E(1) + 52, 1); }
static void m_aux(uint8_t *f, size_t *len) { mk_set64(f + E(1) + 64, 8); }
static void m_flags(uint8_t *f, size_t *len) { mk_set32(f + E(1) + 48, 4); }
static void m_quant_no_params(uint8_t *f, size_t *len) { mk_set32(f + E(1) + 48, 2); }
static void m_skel_flag_on_float(uint8_t *f, size_t *len) { mk_set32(f + E(1) + 48, 1); }
static void m_reserved(uint8_t *f, size_t *len) { f[E(1) + 100] = 1; }
static void m_reserved46(uint8_t *f, size_t *len) { f[E(1) + 46] = 1; }
static void m_payload_byte(uint8_t *f, size_t *len) { f[mk_get64(f + E(2) + 16) + 5] ^= 0x40; }
static void m_raw_payload_byte(uint8_t *f, size_t *len) { f[mk_get64(f + E(0) + 16) + 3] ^= 1; }
static void m_raw_checksum(uint8_t *f, size_t *len)
{
    size_t b = SEC(4) + 16 + 16 * 2 + 8; /* the planar tensor's first block, decoded checksum */
    f[b] ^= 1;
}
static void m_zstd_garbage(uint8_t *f, size_t *len)
{
    /* the zstd tensor's frame replaced by garbage of the same size, checksum made to match */
    uint64_t off = mk_get64(f + E(1) + 16), n = mk_get64(f + E(1) + 24);
    for (uint64_t k = 0; k < n; k++)
        f[off + k] = (uint8_t)(k * 37 + 11);
    mk_set64(f + SEC(4) + 16 + 16, mcz_xxh64(f + off, n));
}
static void m_zstd_other_size(uint8_t *f, size_t *len)
{
    /* a valid frame holding 499 bytes where 500 are expected */
    uint64_t off = mk_get64(f + E(1) + 16), n = mk_get64(f + E(1) + 24);
    uint8_t src[499] = {0}, z[600];
    size_t r = ZSTD_compress(z, sizeof z, src, sizeof src, 1);
    ck_assert(r < n);
    memset(f + off, 0, n);
    memcpy(f + off, z, r);
    mk_set64(f + SEC(4) + 16 + 16, mcz_xxh64(f + off, n));
    /* the frame is followed by zero bytes: the segment is n bytes, only r of them a frame */
}
static void m_padding_nonzero(uint8_t *f, size_t *len)
{
    f[mk_get64(f + E(0) + 16) + 16 + 3] = 7; /* after the 16-byte raw tensor: padding */
}
static void m_marker_range(uint8_t *f, size_t *len)
{
    uint8_t mk[8] = {'M', 'C', 'Z', 1, 'W', 'G', 'T', 0};
    uint8_t *s = f + SEC(6) + 16, *end = s + mk_get64(f + SEC(6) + 8);
    for (; s + 16 <= end; s++)
        if (memcmp(s, mk, 8) == 0 && mk_get64(s + 8) == 2) {
            mk_set64(s + 8, 3);
            return;
        }
    ck_abort_msg("no marker 2 in the skeleton");
}
static void m_skel_garbage(uint8_t *f, size_t *len) { f[SEC(6) + 16] = 0xff; }
static void m_zstd_index(uint8_t *f, size_t *len)
{
    /* codec 1 claimed for a zstd frame whose content is one byte short of the claim */
    size_t ix = IX, n = (size_t)mk_get64(f + FT + 8);
    uint8_t *z = malloc(ZSTD_compressBound(n));
    size_t r = ZSTD_compress(z, ZSTD_compressBound(n), f + ix, n - 1, 3);
    memcpy(f + ix, z, r);
    free(z);
    memmove(f + ix + r, f + FT, 64);
    *len = ix + r + 64;
    mk_set64(f + FT + 8, r);
    mk_set32(f + FT + 24, 1);
    mk_set64(f + FT + 40, *len);
}

static const bad_case bad_cases[] = {
    {"empty file", m_empty, 0, AT_OPEN, MCZ_ERR_FORMAT, "not an .mcz"},
    {"127 bytes", m_short, 0, AT_OPEN, MCZ_ERR_FORMAT, "not an .mcz"},
    {"bad magic", m_magic, 1, AT_OPEN, MCZ_ERR_FORMAT, "bad magic"},
    {"header byte flipped", m_hdr_byte, 0, AT_OPEN, MCZ_ERR_CHECKSUM, "header"},
    {"format version 2", m_version, 1, AT_OPEN, MCZ_ERR_VERSION, "version 2"},
    {"header size", m_hdr_size, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"required header flag", m_hdr_flags, 1, AT_OPEN, MCZ_ERR_UNSUPPORTED, NULL},
    {"header reserved", m_hdr_reserved, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"end magic", m_end_magic, 1, AT_OPEN, MCZ_ERR_FORMAT, "footer"},
    {"footer byte flipped", m_ft_byte, 0, AT_OPEN, MCZ_ERR_CHECKSUM, "footer"},
    {"footer version", m_ft_version, 1, AT_OPEN, MCZ_ERR_VERSION, NULL},
    {"footer file size", m_ft_size, 1, AT_OPEN, MCZ_ERR_FORMAT, "truncated or extended"},
    {"bytes before the footer", m_appended, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"index misaligned", m_ix_unaligned, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"index inside the header", m_ix_before_header, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"index size 2^40", m_ix_huge, 1, AT_OPEN, MCZ_ERR_LIMIT, NULL},
    {"index offset wraps", m_ix_overflow, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"index sizes differ", m_ix_raw_mismatch, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"index codec 9", m_ix_codec, 1, AT_OPEN, MCZ_ERR_UNSUPPORTED, "codec"},
    {"stored index called zstd", m_ix_codec_zstd, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"zstd index one byte short", m_zstd_index, 1, AT_OPEN, MCZ_ERR_FORMAT, "decompress"},
    {"index byte flipped", m_ix_byte, 0, AT_OPEN, MCZ_ERR_CHECKSUM, "index checksum"},
    {"index magic", m_ix_magic, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"tensor count 2^31", m_count_huge, 1, AT_OPEN, MCZ_ERR_LIMIT, NULL},
    {"tensor count + 1", m_count_plus1, 1, AT_OPEN, MCZ_ERR_FORMAT, "tensor table"},
    {"100000 sections", m_nsec_huge, 1, AT_OPEN, MCZ_ERR_LIMIT, NULL},
    {"a section missing", m_nsec_less, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"a section past the end", m_nsec_more, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"index flags", m_ix_flags, 1, AT_OPEN, MCZ_ERR_UNSUPPORTED, NULL},
    {"section size 2^62", m_sec_size_huge, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"section size wraps", m_sec_size_wrap, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"section flags", m_sec_flags, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"section kind twice", m_sec_dup, 1, AT_OPEN, MCZ_ERR_FORMAT, "twice"},
    {"section padding not zero", m_sec_padding, 1, AT_OPEN, MCZ_ERR_FORMAT, "padding"},
    {"name of 100000 bytes", m_name_len_huge, 1, AT_OPEN, MCZ_ERR_LIMIT, NULL},
    {"NUL inside a name", m_name_nul, 1, AT_OPEN, MCZ_ERR_FORMAT, "name"},
    {"name runs past NAMES", m_names_short, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"rank 33", m_rank_33, 1, AT_OPEN, MCZ_ERR_LIMIT, NULL},
    {"DIMS too short", m_rank_more, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"DIMS left over", m_dims_left, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"negative dim", m_dim_negative, 1, AT_OPEN, MCZ_ERR_FORMAT, "negative"},
    {"dims overflow", m_dim_overflow, 1, AT_OPEN, MCZ_ERR_LIMIT, "overflow"},
    {"dtype 99", m_dtype_unknown, 1, AT_OPEN, MCZ_ERR_UNSUPPORTED, "dtype 99"},
    {"string without the skeleton flag", m_dtype_string, 1, AT_OPEN, MCZ_ERR_UNSUPPORTED, NULL},
    {"raw size does not fit dtype", m_dtype_size, 1, AT_OPEN, MCZ_ERR_FORMAT, "raw bytes"},
    {"encoding 3 (sparse) with 1 plane", m_encoding_3, 1, AT_OPEN, MCZ_ERR_FORMAT, "encoding 3"},
    {"encoding 4 (reserved)", m_encoding_4, 1, AT_OPEN, MCZ_ERR_UNSUPPORTED, NULL},
    {"encoding 16 (reserved, lossy)", m_encoding_16, 1, AT_OPEN, MCZ_ERR_UNSUPPORTED, NULL},
    {"raw size 17 for 4 floats", m_raw_size, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"3 planes", m_planes_3, 1, AT_OPEN, MCZ_ERR_FORMAT, "planes"},
    {"planes on zstd", m_planes_on_zstd, 1, AT_OPEN, MCZ_ERR_FORMAT, "planes"},
    {"transform 2", m_transform_2, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"transform on raw", m_transform_on_raw, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"block size 0", m_block_zero, 1, AT_OPEN, MCZ_ERR_FORMAT, "block size"},
    {"block size over 16 MiB", m_block_huge, 1, AT_OPEN, MCZ_ERR_FORMAT, "block size"},
    {"block size not a multiple of planes", m_block_odd, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"fewer blocks than listed", m_block_fewer, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"more blocks than listed", m_block_more, 1, AT_OPEN, MCZ_ERR_FORMAT, "too short"},
    {"payload misaligned", m_offset_unaligned, 1, AT_OPEN, MCZ_ERR_FORMAT, "payload"},
    {"payload in the header", m_offset_header, 1, AT_OPEN, MCZ_ERR_FORMAT, "payload"},
    {"payload in the index", m_offset_past, 1, AT_OPEN, MCZ_ERR_FORMAT, "payload"},
    {"payload offset wraps", m_offset_wrap, 1, AT_OPEN, MCZ_ERR_FORMAT, "payload"},
    {"payload size 2^62", m_stored_huge, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"segments do not add up", m_stored_sum, 1, AT_OPEN, MCZ_ERR_FORMAT, "add up"},
    {"segment larger than its plane", m_seg_over, 1, AT_OPEN, MCZ_ERR_FORMAT, "segment"},
    {"raw tensor with a short segment", m_raw_seg_short, 1, AT_OPEN, MCZ_ERR_FORMAT, "segment"},
    {"partition 1 without PARTS", m_part, 1, AT_OPEN, MCZ_ERR_FORMAT, "partition 1"},
    {"aux_size without the quantized flag", m_aux, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"quantized flag without QPARAMS", m_quant_no_params, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"unknown tensor flag", m_flags, 1, AT_OPEN, MCZ_ERR_UNSUPPORTED, NULL},
    {"skeleton flag on a float", m_skel_flag_on_float, 1, AT_OPEN, MCZ_ERR_FORMAT, NULL},
    {"entry reserved bytes", m_reserved, 1, AT_OPEN, MCZ_ERR_FORMAT, "reserved"},
    {"entry bytes 46-47", m_reserved46, 1, AT_OPEN, MCZ_ERR_FORMAT, "reserved"},
    {"planar payload byte flipped", m_payload_byte, 0, AT_READ, MCZ_ERR_CHECKSUM, "'planes'"},
    {"raw payload byte flipped", m_raw_payload_byte, 0, AT_READ, MCZ_ERR_CHECKSUM, "'raw'"},
    {"decoded checksum wrong", m_raw_checksum, 1, AT_VERIFY, MCZ_ERR_CHECKSUM, "decoded"},
    {"zstd frame is garbage", m_zstd_garbage, 1, AT_READ, MCZ_ERR_FORMAT, "'zstd'"},
    {"zstd frame of another size", m_zstd_other_size, 1, AT_READ, MCZ_ERR_FORMAT, "'zstd'"},
    {"padding not zero", m_padding_nonzero, 0, AT_VERIFY, MCZ_ERR_FORMAT, "padding"},
    {"marker names no tensor", m_marker_range, 1, AT_VERIFY, MCZ_ERR_FORMAT, "marker"},
    {"skeleton not protobuf", m_skel_garbage, 1, AT_VERIFY, MCZ_ERR_FORMAT, NULL},
};

START_TEST(malformed_file_gives_its_error)
{
    const bad_case *c = &bad_cases[_i];
    size_t len;
    uint8_t *base = base_file(&len, 0, 0);
    uint8_t *f = calloc(1, len + 256);
    memcpy(f, base, len);
    c->mutate(f, &len);
    if (c->fix)
        mk_fix(f, len);
    mcz_error e = {0};
    mcz_file *mf = mcz_open_buffer(f, len, "bad.mcz", &e);
    mcz_status got = mf ? MCZ_OK : e.code;
    long bad = -2;
    if (mf && c->at == AT_READ) {
        for (size_t i = 0; i < mcz_tensor_count(mf) && !got; i++) {
            void *p = mcz_read_alloc(mf, i, &e);
            got = p ? MCZ_OK : e.code;
            free(p);
        }
        mcz_error e2 = {0};
        ck_assert_msg(mcz_verify(mf, 2, &bad, &e2) == got, "%s: verify: %s", c->what, e2.msg);
        ck_assert_int_ge(bad, 0);
    } else if (mf && c->at == AT_VERIFY) {
        got = mcz_verify(mf, 2, &bad, &e);
        uint8_t *onnx = NULL;
        size_t n;
        mcz_error e2 = {0};
        mcz_status b = mcz_build_onnx(mf, 1, &onnx, &n, &e2);
        free(onnx);
        if (c->want == MCZ_ERR_FORMAT && !strstr(c->what, "padding"))
            ck_assert_msg(b == c->want, "%s: build: %d", c->what, b);
    }
    ck_assert_msg(got == c->want, "%s: status %d (%s), expected %d; message: %s", c->what,
                  got, mcz_strerror(got), c->want, e.msg);
    if (c->msg)
        ck_assert_msg(strstr(e.msg, c->msg), "%s: message \"%s\" lacks \"%s\"", c->what, e.msg,
                      c->msg);
    ck_assert_msg(strstr(e.msg, "bad.mcz"), "%s: message \"%s\" does not name the file",
                  c->what, e.msg);
    mcz_close(mf);
    free(f);
    free(base);
}
END_TEST

START_TEST(truncated_at_every_length)
{
    for (int compress = 0; compress < 2; compress++) {
        size_t len;
        uint8_t *f = base_file(&len, 0, 0);
        if (compress) { /* same tensors with a compressed index */
            free(f);
            mk_mcz m;
            mk_begin(&m);
            mk_tensor(&m, "x", 1, 1, (int64_t[]){3}, (float[]){1, 2, 3}, 12, MK_PLANES, 0, 1);
            mk_onnx(&m.skel, NULL, 0);
            f = mk_end(&m, 1, &len);
        }
        for (size_t n = 0; n < len; n++) {
            mcz_error e = {0};
            mcz_file *mf = mcz_open_buffer(f, n, NULL, &e);
            ck_assert_msg(mf == NULL && e.code == MCZ_ERR_FORMAT, "truncated to %zu: %d %s", n,
                          e.code, e.msg);
        }
        free(f);
    }
}
END_TEST

/* Hostile indexes: random bytes of the index changed, checksums made to match, so the parser
 * (not the checksum) meets them. Whatever happens: no crash, no out-of-bounds access (run
 * under ASan), every call returns. */
START_TEST(random_index_mutations_never_crash)
{
    size_t len;
    uint8_t *base = base_file(&len, 0, 0), *f = malloc(len);
    size_t ix = mk_index_offset(base, len), opened = 0;
    rng_state = 99;
    for (int it = 0; it < 20000; it++) {
        memcpy(f, base, len);
        int k = 1 + (int)(rnd() % 4);
        for (int j = 0; j < k; j++) {
            size_t at = ix + 32 + rnd() % (len - 64 - ix - 32);
            f[at] = (uint8_t)(rnd() % 3 == 0 ? 0xff : rnd());
        }
        mk_fix(f, len);
        mcz_error e = {0};
        mcz_file *mf = mcz_open_buffer(f, len, NULL, &e);
        if (!mf) {
            ck_assert_int_ne(e.code, MCZ_OK);
            continue;
        }
        opened++;
        for (size_t i = 0; i < mcz_tensor_count(mf); i++) {
            free(mcz_read_alloc(mf, i, &e));
            mcz_find(mf, mcz_tensor(mf, i)->name);
        }
        uint8_t *onnx = NULL;
        size_t n;
        mcz_verify(mf, 2, NULL, &e);
        if (mcz_build_onnx(mf, 2, &onnx, &n, &e) == MCZ_OK)
            free(onnx);
        mcz_close(mf);
    }
    fprintf(stderr, "random_index_mutations_never_crash: %zu of 20000 mutated files opened\n",
            opened);
    free(f);
    free(base);
}
END_TEST

START_TEST(unknown_sections)
{
    size_t len;
    uint8_t *f = base_file(&len, 42, 0); /* optional: skipped */
    mcz_error e = {0};
    mcz_file *mf = mcz_open_buffer(f, len, NULL, &e);
    ck_assert_msg(mf != NULL, "%s", e.msg);
    expect_status(mcz_verify(mf, 1, NULL, &e), MCZ_OK, &e);
    mcz_close(mf);
    free(f);
    f = base_file(&len, 42, 1); /* required: refused */
    ck_assert_ptr_null(mcz_open_buffer(f, len, NULL, &e));
    expect_status(e.code, MCZ_ERR_UNSUPPORTED, &e);
    free(f);
    f = base_file(&len, 7, 1); /* a reserved kind, required */
    ck_assert_ptr_null(mcz_open_buffer(f, len, NULL, &e));
    expect_status(e.code, MCZ_ERR_UNSUPPORTED, &e);
    free(f);
}
END_TEST

START_TEST(open_errors_name_the_path)
{
    mcz_error e = {0};
    ck_assert_ptr_null(mcz_open("/nonexistent/x.mcz", &e));
    expect_status(e.code, MCZ_ERR_IO, &e);
    ck_assert(strstr(e.msg, "/nonexistent/x.mcz"));
    ck_assert_ptr_null(mcz_open("/tmp", &e));
    expect_status(e.code, MCZ_ERR_IO, &e);
    ck_assert_ptr_null(mcz_open_buffer(NULL, 10, NULL, &e));
    expect_status(e.code, MCZ_ERR_ARG, &e);
    ck_assert_str_eq(mcz_encoding_name(2), "planes");
    ck_assert_str_eq(mcz_encoding_name(7), "?");
}
END_TEST

int main(void)
{
    if (!mkdtemp(tmpdir))
        return 1;
    Suite *s = suite_create("container-loader");
    TCase *t = tcase_create("roundtrip");
    tcase_add_test(t, xxh64_matches_zstd_frame_checksums);
    tcase_add_loop_test(t, roundtrip_every_encoding, 0, sizeof rt_cases / sizeof rt_cases[0]);
    tcase_add_test(t, float16_every_value_to_float32);
    tcase_add_test(t, empty_container_opens);
    tcase_add_test(t, string_tensor_stays_in_skeleton);
    tcase_add_test(t, find_by_name);
    tcase_set_timeout(t, 60);
    suite_add_tcase(s, t);
    t = tcase_create("malformed");
    tcase_add_loop_test(t, malformed_file_gives_its_error, 0,
                        sizeof bad_cases / sizeof bad_cases[0]);
    tcase_add_test(t, truncated_at_every_length);
    tcase_add_test(t, random_index_mutations_never_crash);
    tcase_add_test(t, unknown_sections);
    tcase_add_test(t, open_errors_name_the_path);
    tcase_set_timeout(t, 60);
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
