/* test_loader_ext.c - specification tests for the reader of quantized tensors (QPARAMS,
 * docs/format.md 5a), the sparse encoding (6) and partitions (PARTS, 7a), against files
 * hand-built by mkmcz.c from the specification: dequantization against a plain reference,
 * sparse round trips, partition loading and building, and a table of malformed files each
 * with the error it must give. Links the loader only (zstd + libc). Run under ASan too
 * (cmake -DMCZ_SANITIZE=ON). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "mcz/load.h"
#include "loader_impl.h"
#include "mkmcz.h"

#define expect_status(got, want, e)                                                            \
    ck_assert_msg((got) == (want), "status %d (%s), expected %d (%s); message: %s", (int)(got), \
                  mcz_strerror(got), (int)(want), mcz_strerror(want), (e)->msg)

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

/* float16 <-> float32, plainly (test values are normal numbers). */
static uint16_t f2h(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    int e = (int)((x >> 23) & 0xff) - 127 + 15;
    if (e <= 0)
        return (uint16_t)sign;
    return (uint16_t)(sign | (uint32_t)e << 10 | ((x >> 13) & 0x3ff));
}
static float h2f(uint16_t h)
{
    int ex = (h >> 10) & 31, m = h & 1023;
    double v = ex == 31 ? (m ? NAN : INFINITY) : ex ? ldexp(1024 + m, ex - 25) : ldexp(m, -24);
    return (float)(h & 0x8000 ? -v : v);
}
static float bf2f(uint16_t b)
{
    uint32_t x = (uint32_t)b << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static size_t esize(int32_t dtype)
{
    switch (dtype) {
    case 1: case 6: case 12: return 4;
    case 4: case 5: case 10: case 16: return 2;
    case 7: case 11: case 13: case 14: return 8;
    default: return 1;
    }
}

static int is4(int32_t dtype) { return dtype == 21 || dtype == 22; }

/* The whole model with every weight inline, as mcz_build_onnx must give it back. */
static void expect_onnx(const uint8_t *got, size_t got_len, const mk_tensor_spec *t, size_t n)
{
    mk_buf want = {0};
    mk_onnx(&want, t, n);
    ck_assert_uint_eq(got_len, want.n);
    ck_assert_msg(memcmp(got, want.p, want.n) == 0, "built model differs");
    free(want.p);
}

/* ---- quantized tensors: mcz_read_f32 against a plain DequantizeLinear ------------------- */

typedef struct q_case {
    int32_t dtype;     /* codes: 3 int8, 2 uint8, 22 int4, 21 uint4 */
    int rank;
    int64_t dims[3];
    int axis;          /* -1 per tensor */
    uint32_t bs;       /* 0 per channel, else blocked */
    int zp;            /* with zero points */
    int32_t sdtype;    /* scales: 1 float, 10 float16, 16 bfloat16 */
    int enc;           /* how the codes are stored */
    int codes_last;    /* table order: scale, zp, codes (else codes, scale, zp) */
} q_case;

static const q_case q_cases[] = {
    /* int8 / uint8, per tensor, with and without zero points */
    {3, 2, {5, 7}, -1, 0, 0, 1, MK_RAW, 0},
    {3, 2, {5, 7}, -1, 0, 1, 1, MK_RAW, 0},
    {2, 2, {5, 7}, -1, 0, 1, 1, MK_ZSTD, 1},
    {2, 1, {3}, -1, 0, 0, 1, MK_RAW, 0},
    {3, 0, {0}, -1, 0, 1, 1, MK_RAW, 0},
    /* per channel on axis 0, 1 and the last axis */
    {3, 3, {6, 4, 3}, 0, 0, 1, 1, MK_RAW, 0},
    {3, 3, {6, 4, 3}, 1, 0, 1, 1, MK_ZSTD, 0},
    {3, 3, {6, 4, 3}, 2, 0, 0, 1, MK_RAW, 1},
    {2, 3, {6, 4, 3}, 0, 0, 0, 1, MK_RAW, 0},
    {2, 3, {6, 4, 3}, 1, 0, 1, 10, MK_RAW, 0},
    {2, 3, {2, 3, 5}, 2, 0, 1, 16, MK_ZSTD, 1},
    {3, 2, {64, 33}, 1, 0, 1, 10, MK_SPARSE, 0},
    /* blocked int4 / uint4, block size not dividing the axis, odd element counts */
    {22, 2, {5, 7}, 1, 3, 1, 1, MK_RAW, 0},
    {22, 2, {5, 7}, 1, 3, 0, 10, MK_ZSTD, 1},
    {21, 2, {5, 7}, 1, 3, 1, 10, MK_RAW, 0},
    {22, 2, {7, 5}, 0, 4, 0, 1, MK_RAW, 0},
    {21, 3, {3, 7, 5}, 1, 2, 1, 1, MK_ZSTD, 0},
    {22, 3, {3, 7, 5}, 2, 2, 1, 16, MK_RAW, 1},
    {22, 2, {64, 100}, 1, 32, 1, 10, MK_ZSTD, 0},
    /* 4-bit per tensor / per channel, odd counts */
    {21, 1, {9}, -1, 0, 1, 1, MK_RAW, 0},
    {22, 1, {9}, -1, 0, 1, 10, MK_RAW, 0},
    {22, 2, {5, 3}, 0, 0, 1, 1, MK_RAW, 0},
    {21, 2, {3, 5}, 1, 0, 0, 1, MK_RAW, 1},
    /* blocked 8-bit, and a block larger than the axis */
    {3, 2, {4, 9}, 1, 4, 1, 10, MK_RAW, 0},
    {2, 2, {4, 8}, 1, 32, 1, 1, MK_ZSTD, 0},
    {3, 2, {9, 4}, 0, 2, 0, 1, MK_RAW, 1},
    /* an empty axis: no scales (the blocked count, count / D x ceil(D / B), is 0/0 in 5a) */
    {3, 2, {0, 7}, 0, 0, 1, 1, MK_RAW, 0},
    {22, 2, {5, 0}, 1, 3, 1, 1, MK_RAW, 0},
};

static int code_at(int32_t dtype, const uint8_t *b, uint64_t j)
{
    if (dtype == 3)
        return (int8_t)b[j];
    if (dtype == 2)
        return b[j];
    int v = (b[j / 2] >> (4 * (j % 2))) & 15;
    return dtype == 22 && v >= 8 ? v - 16 : v;
}

static float scale_at(int32_t sdtype, const uint8_t *b, uint64_t s)
{
    if (sdtype == 1) {
        float f;
        memcpy(&f, b + 4 * s, 4);
        return f;
    }
    uint16_t h = (uint16_t)(b[2 * s] | b[2 * s + 1] << 8);
    return sdtype == 10 ? h2f(h) : bf2f(h);
}

/* Random codes of `dtype` (4-bit packed, low nibble first; the unused high nibble of an odd
 * count is 0). Returns the bytes (malloc'd), *raw their size. `zeros`: percent of zeros. */
static uint8_t *make_codes(int32_t dtype, uint64_t count, int zeros, uint64_t *raw)
{
    *raw = is4(dtype) ? (count + 1) / 2 : count;
    uint8_t *b = calloc(1, *raw + 1);
    for (uint64_t j = 0; j < count; j++) {
        unsigned v = (int)(rnd() % 100) < zeros ? 0 : (unsigned)rnd();
        if (is4(dtype))
            b[j / 2] |= (uint8_t)((v & 15) << (4 * (j % 2)));
        else
            b[j] = (uint8_t)v;
    }
    return b;
}

START_TEST(dequantize_matches_reference)
{
    const q_case *c = &q_cases[_i];
    rng_state = 1000 + (uint64_t)_i;
    uint64_t count = 1;
    for (int k = 0; k < c->rank; k++)
        count *= (uint64_t)c->dims[k];
    uint64_t D = c->axis < 0 ? 1 : (uint64_t)c->dims[c->axis], inner = 1;
    for (int k = c->axis + 1; c->axis >= 0 && k < c->rank; k++)
        inner *= (uint64_t)c->dims[k];
    uint64_t nblk = c->bs ? (D + c->bs - 1) / c->bs : D;
    uint64_t nscales = c->axis < 0 ? 1 : c->bs ? (D ? count / D * nblk : 0) : D;
    int64_t sdims[3];
    int srank = c->axis < 0 ? 0 : c->bs ? c->rank : 1;
    for (int k = 0; k < c->rank; k++)
        sdims[k] = c->dims[k];
    if (c->axis >= 0 && c->bs)
        sdims[c->axis] = (int64_t)nblk;
    else if (c->axis >= 0)
        sdims[0] = (int64_t)D;

    if (!D)
        inner = 1; /* no element: the reference loop does not run */
    uint64_t raw, zraw;
    uint8_t *codes = make_codes(c->dtype, count, c->enc == MK_SPARSE ? 50 : 0, &raw);
    uint8_t *zps = make_codes(c->dtype, nscales, 0, &zraw);
    size_t ssz = esize(c->sdtype);
    uint8_t *scales = malloc(nscales * ssz + 1);
    for (uint64_t s = 0; s < nscales; s++) {
        float f = (float)ldexp(0.5 + (double)(rnd() % 1000) / 1000.0, -(int)(rnd() % 9));
        if (c->sdtype == 1) {
            memcpy(scales + 4 * s, &f, 4);
        } else {
            uint32_t x;
            memcpy(&x, &f, 4);
            uint16_t h = c->sdtype == 10 ? f2h(f) : (uint16_t)(x >> 16);
            memcpy(scales + 2 * s, &h, 2);
        }
    }

    uint32_t ci = c->codes_last ? 2 : 0, si = c->codes_last ? 0 : 1, zi = c->codes_last ? 1 : 2;
    mk_mcz m;
    mk_begin(&m);
    for (uint32_t k = 0; k < 3; k++) {
        if (k == ci)
            mk_tensor(&m, "q", c->dtype, c->rank, c->dims, codes, raw, c->enc, 64, 0);
        else if (k == si)
            mk_tensor(&m, "q.scale", c->sdtype, srank, sdims, scales, nscales * ssz,
                      _i % 3 ? MK_RAW : MK_PLANES, 0, 1);
        else
            mk_tensor(&m, "q.zero_point", c->dtype, srank, sdims, zps, zraw, MK_ZSTD, 0, 0);
    }
    mk_quant(&m, ci, si, c->zp ? zi + 1 : 0, c->axis, c->bs);
    mk_tensor_spec spec[3] = {{"q", c->dtype, c->rank, c->dims, NULL, 0, ci},
                              {"q.scale", c->sdtype, srank, sdims, NULL, 0, si},
                              {"q.zero_point", c->dtype, srank, sdims, NULL, 0, zi}};
    mk_tensor_spec sorted[3];
    for (uint32_t k = 0; k < 3; k++)
        sorted[spec[k].marker] = spec[k];
    mk_onnx(&m.skel, sorted, 3);
    size_t len;
    uint8_t *file = mk_end(&m, _i % 2, &len);

    mcz_error e = {0};
    mcz_file *f = mcz_open_buffer(file, len, "q.mcz", &e);
    ck_assert_msg(f != NULL, "case %d: %s", _i, e.msg);
    const mcz_tensor_info *t = mcz_tensor(f, ci);
    ck_assert_ptr_nonnull(t->quant);
    ck_assert_uint_eq(t->quant->scale, si);
    ck_assert_int_eq(t->quant->zero_point, c->zp ? (long)zi : -1);
    ck_assert_int_eq(t->quant->axis, c->axis);
    ck_assert_uint_eq(t->quant->block_size, c->bs);
    ck_assert_ptr_null(mcz_tensor(f, si)->quant);
    ck_assert_ptr_null(mcz_tensor(f, zi)->quant);
    ck_assert_uint_eq(t->count, count);
    ck_assert_uint_eq(t->raw_bytes, raw);

    /* mcz_read gives the codes unchanged */
    uint8_t *got = mcz_read_alloc(f, ci, &e);
    ck_assert_msg(got != NULL, "%s", e.msg);
    ck_assert_msg(memcmp(got, codes, raw) == 0, "case %d: codes changed by mcz_read", _i);
    free(got);

    /* mcz_read_f32 dequantizes: (q - zp[s]) x scale[s] in float32 */
    float *y = malloc(4 * count + 4);
    expect_status(mcz_read_f32(f, ci, y, count, &e), MCZ_OK, &e);
    for (uint64_t j = 0; j < count; j++) {
        uint64_t a = (j / inner) % D, o = j / (inner * D), i = j % inner;
        uint64_t s = c->axis < 0 ? 0 : c->bs ? (o * nblk + a / c->bs) * inner + i : a;
        int q = code_at(c->dtype, codes, j), z = c->zp ? code_at(c->dtype, zps, s) : 0;
        float want = (float)(q - z) * scale_at(c->sdtype, scales, s);
        ck_assert_msg(y[j] == want, "case %d element %llu (scale %llu): %.9g, expected %.9g", _i,
                      (unsigned long long)j, (unsigned long long)s, y[j], want);
    }
    if (count)
        expect_status(mcz_read_f32(f, ci, y, count - 1, &e), MCZ_ERR_ARG, &e);
    free(y);
    /* the zero points are plain integers: no float view */
    float zf[64];
    if (nscales <= 64)
        expect_status(mcz_read_f32(f, zi, zf, 64, &e), MCZ_ERR_UNSUPPORTED, &e);

    expect_status(mcz_verify(f, 2, NULL, &e), MCZ_OK, &e);
    uint8_t *onnx;
    size_t n;
    expect_status(mcz_build_onnx(f, 2, &onnx, &n, &e), MCZ_OK, &e);
    sorted[ci].data = codes, sorted[ci].len = raw;
    sorted[si].data = scales, sorted[si].len = nscales * ssz;
    sorted[zi].data = zps, sorted[zi].len = zraw;
    expect_onnx(onnx, n, sorted, 3);
    free(onnx);
    mcz_close(f);
    free(file);
    free(codes);
    free(zps);
    free(scales);
}
END_TEST

/* Several tensors may share one record (5a); a record need not be used by the first one. */
START_TEST(tensors_share_a_record)
{
    int8_t a[6] = {-128, -1, 0, 1, 2, 127}, b[6] = {5, 6, 7, 8, 9, 10};
    float sc[1] = {0.25f};
    int8_t zp[1] = {3};
    mk_mcz m;
    mk_begin(&m);
    mk_tensor(&m, "s", 1, 0, NULL, sc, 4, MK_RAW, 0, 0);
    mk_tensor(&m, "z", 3, 0, NULL, zp, 1, MK_RAW, 0, 0);
    mk_tensor(&m, "a", 3, 2, (int64_t[]){2, 3}, a, 6, MK_ZSTD, 0, 0);
    mk_tensor(&m, "b", 3, 1, (int64_t[]){6}, b, 6, MK_RAW, 0, 0);
    mk_qrecord(&m, 0, 0, -1, 0); /* another record first: the offset matters */
    uint64_t r = mk_qrecord(&m, 0, 2, -1, 0);
    mk_quantize(&m, 2, r);
    mk_quantize(&m, 3, r);
    mk_tensor_spec spec[4] = {{"s", 1, 0, NULL, NULL, 0, 0}, {"z", 3, 0, NULL, NULL, 0, 1},
                              {"a", 3, 2, (int64_t[]){2, 3}, NULL, 0, 2},
                              {"b", 3, 1, (int64_t[]){6}, NULL, 0, 3}};
    mk_onnx(&m.skel, spec, 4);
    size_t len;
    uint8_t *file = mk_end(&m, 0, &len);
    mcz_error e = {0};
    mcz_file *f = mcz_open_buffer(file, len, "share.mcz", &e);
    ck_assert_msg(f != NULL, "%s", e.msg);
    ck_assert_ptr_nonnull(mcz_tensor(f, 2)->quant);
    ck_assert_ptr_nonnull(mcz_tensor(f, 3)->quant);
    float y[6];
    expect_status(mcz_read_f32(f, 2, y, 6, &e), MCZ_OK, &e);
    for (int j = 0; j < 6; j++)
        ck_assert_msg(y[j] == (float)(a[j] - 3) * 0.25f, "a[%d]: %g", j, y[j]);
    expect_status(mcz_read_f32(f, 3, y, 6, &e), MCZ_OK, &e);
    for (int j = 0; j < 6; j++)
        ck_assert_msg(y[j] == (float)(b[j] - 3) * 0.25f, "b[%d]: %g", j, y[j]);
    expect_status(mcz_verify(f, 1, NULL, &e), MCZ_OK, &e);
    mcz_close(f);
    free(file);
}
END_TEST

/* The QPARAMS section with its required bit set is still read (the reader knows the kind). */
START_TEST(qparams_section_flag_required_is_read)
{
    uint8_t q[4] = {1, 2, 3, 4};
    float sc = 2.0f;
    mk_mcz m;
    mk_begin(&m);
    m.qparams_flags = 1;
    mk_tensor(&m, "q", 2, 1, (int64_t[]){4}, q, 4, MK_RAW, 0, 0);
    mk_tensor(&m, "s", 1, 0, NULL, &sc, 4, MK_RAW, 0, 0);
    mk_quant(&m, 0, 1, 0, -1, 0);
    mk_onnx(&m.skel, NULL, 0);
    size_t len;
    uint8_t *file = mk_end(&m, 1, &len);
    mcz_error e = {0};
    mcz_file *f = mcz_open_buffer(file, len, NULL, &e);
    ck_assert_msg(f != NULL, "%s", e.msg);
    float y[4];
    expect_status(mcz_read_f32(f, 0, y, 4, &e), MCZ_OK, &e);
    for (int j = 0; j < 4; j++)
        ck_assert(y[j] == 2.0f * q[j]);
    mcz_close(f);
    free(file);
}
END_TEST

/* ---- the sparse encoding: round trips --------------------------------------------------- */

typedef struct sp_case {
    int32_t dtype;
    uint64_t count;
    int zeros;      /* percent */
    uint32_t bs;    /* block size in bytes */
    int tf;         /* transform */
    int raw_segs;   /* every segment stored as is (else zstd where smaller) */
    int negzero;    /* some zeros are -0.0 (stored as values) */
} sp_case;

static const sp_case sp_cases[] = {
    {1, 1000, 0, 0, 0, 1, 0},      {1, 1000, 50, 0, 1, 1, 0},    {1, 1000, 100, 0, 0, 1, 0},
    {1, 10000, 0, 4096, 1, 0, 0},  {1, 10000, 50, 4096, 1, 0, 1}, {1, 10000, 100, 4096, 0, 0, 0},
    {1, 1001, 50, 412, 0, 0, 1},   {1, 3, 50, 4, 1, 1, 0},       {1, 1, 0, 0, 0, 0, 0},
    {10, 999, 0, 64, 1, 1, 0},     {10, 999, 50, 64, 1, 0, 1},   {10, 999, 100, 64, 0, 0, 0},
    {10, 30000, 50, 2002, 1, 0, 0}, {10, 30000, 90, 8192, 1, 1, 0},
    {3, 1234, 0, 100, 0, 1, 0},    {3, 1234, 50, 100, 0, 0, 0},  {3, 1234, 100, 100, 0, 1, 0},
    {3, 70000, 50, 65536, 0, 0, 0}, {3, 70000, 97, 8191, 0, 0, 0},
    {11, 300, 0, 800, 1, 1, 0},    {11, 300, 50, 800, 1, 0, 1},  {11, 300, 100, 800, 0, 0, 0},
    {11, 5000, 50, 8000, 0, 1, 1}, {11, 5000, 60, 0, 1, 0, 0},
    {16, 5000, 50, 1024, 1, 0, 0}, {7, 500, 50, 0, 0, 0, 0},     {2, 333, 50, 7, 0, 1, 0},
    {9, 100, 50, 0, 0, 0, 0},      {4, 257, 50, 10, 0, 0, 0},    {6, 2048, 75, 1024, 1, 0, 0},
};

/* Values of `dtype` with about `zeros` percent exact zeros (some of them -0.0 when negzero). */
static void sp_fill(uint8_t *p, const sp_case *c)
{
    size_t E = esize(c->dtype);
    for (uint64_t j = 0; j < c->count; j++) {
        uint8_t *x = p + j * E;
        memset(x, 0, E);
        if ((int)(rnd() % 100) < c->zeros) {
            if (c->negzero && j % 3 == 0) /* -0.0: sign bit only */
                x[E - 1] = 0x80;
            continue;
        }
        double g = gauss() * 0.05;
        if (g == 0)
            g = 1;
        if (c->dtype == 1) {
            float v = (float)g;
            memcpy(x, &v, 4);
        } else if (c->dtype == 11) {
            memcpy(x, &g, 8);
        } else if (c->dtype == 16) {
            float v = (float)g;
            uint32_t b;
            memcpy(&b, &v, 4);
            uint16_t h = (uint16_t)(b >> 16);
            if (!h)
                h = 0x3f80;
            memcpy(x, &h, 2);
        } else if (c->dtype == 10) {
            uint16_t h = f2h((float)g);
            if (!h)
                h = 0x3c00;
            memcpy(x, &h, 2);
        } else {
            uint64_t v = rnd();
            memcpy(x, &v, E);
            if (c->dtype == 9)
                x[0] = 1;
            x[0] |= 1; /* never zero */
        }
    }
}

START_TEST(sparse_roundtrip)
{
    const sp_case *c = &sp_cases[_i];
    rng_state = 2000 + (uint64_t)_i;
    size_t E = esize(c->dtype);
    uint64_t raw = c->count * E;
    uint8_t *data = malloc(raw + 1);
    sp_fill(data, c);
    int64_t dims[1] = {(int64_t)c->count};
    mk_mcz m;
    mk_begin(&m);
    m.store_raw = c->raw_segs;
    mk_tensor(&m, "before", 1, 0, NULL, (float[]){1.5f}, 4, MK_RAW, 0, 0);
    mk_tensor(&m, "s", c->dtype, 1, dims, data, raw, MK_SPARSE, c->bs, c->tf);
    mk_tensor_spec spec[2] = {{"before", 1, 0, NULL, NULL, 0, 0},
                              {"s", c->dtype, 1, dims, NULL, 0, 1}};
    mk_onnx(&m.skel, spec, 2);
    size_t len;
    uint8_t *file = mk_end(&m, _i % 2, &len);
    mcz_error e = {0};
    mcz_file *f = mcz_open_buffer(file, len, "sparse.mcz", &e);
    ck_assert_msg(f != NULL, "case %d: %s", _i, e.msg);
    const mcz_tensor_info *t = mcz_tensor(f, 1);
    ck_assert_int_eq(t->encoding, MCZ_ENC_SPARSE);
    ck_assert_uint_eq(t->planes, 1 + E);
    ck_assert_uint_eq(t->transform, (unsigned)c->tf);
    ck_assert_ptr_null(t->quant);
    ck_assert_str_eq(mcz_encoding_name(MCZ_ENC_SPARSE), "sparse");

    /* what the segments hold: as is, or (some) zstd frames */
    uint64_t bs = c->bs ? c->bs : 1u << 20, as_is = 0;
    for (uint64_t at = 0; at < raw; at += bs) {
        uint64_t n = raw - at < bs ? raw - at : bs, k = n / E, nnz = 0;
        for (uint64_t j = 0; j < k; j++) {
            uint64_t v = 0;
            memcpy(&v, data + at + j * E, E);
            nnz += v != 0;
        }
        as_is += (k + 7) / 8 + E * nnz;
    }
    if (c->raw_segs)
        ck_assert_uint_eq(t->stored_bytes, as_is);
    else if (c->count >= 1000 && bs >= 1024 &&
             (c->zeros >= 90 || c->dtype == 1 || c->dtype == 10 || c->dtype == 11 ||
              c->dtype == 16))
        ck_assert_msg(t->stored_bytes < as_is, "case %d: nothing was compressed", _i);

    uint8_t *got = malloc(raw + 1);
    expect_status(mcz_read(f, 1, got, raw, &e), MCZ_OK, &e);
    ck_assert_msg(memcmp(got, data, raw) == 0, "case %d: decoded bytes differ", _i);
    free(got);
    got = mcz_read_alloc(f, 1, &e);
    ck_assert_msg(got && memcmp(got, data, raw) == 0, "case %d: %s", _i, e.msg);
    free(got);
    const void *inplace;
    expect_status(mcz_tensor_data(f, 1, &inplace, &e), MCZ_ERR_UNSUPPORTED, &e);
    if (c->dtype == 1 || c->dtype == 10 || c->dtype == 16) { /* -0.0 stays -0.0 */
        float *y = malloc(4 * c->count + 4);
        expect_status(mcz_read_f32(f, 1, y, c->count, &e), MCZ_OK, &e);
        for (uint64_t j = 0; j < c->count; j++) {
            float want;
            uint16_t h;
            if (c->dtype == 1)
                memcpy(&want, data + 4 * j, 4);
            else
                memcpy(&h, data + 2 * j, 2), want = c->dtype == 10 ? h2f(h) : bf2f(h);
            ck_assert_msg(y[j] == want && !signbit(y[j]) == !signbit(want),
                          "case %d element %llu: %g, expected %g", _i, (unsigned long long)j,
                          y[j], want);
        }
        free(y);
    }
    for (int th = 1; th <= 3; th++) {
        void *dst[2] = {malloc(4), malloc(raw + 1)};
        expect_status(mcz_load_all(f, th, dst, &e), MCZ_OK, &e);
        ck_assert(memcmp(dst[1], data, raw) == 0);
        free(dst[0]);
        free(dst[1]);
    }
    expect_status(mcz_verify(f, 2, NULL, &e), MCZ_OK, &e);
    uint8_t *onnx;
    size_t n;
    expect_status(mcz_build_onnx(f, 2, &onnx, &n, &e), MCZ_OK, &e);
    spec[0].data = (float[]){1.5f}, spec[0].len = 4;
    spec[1].data = data, spec[1].len = raw;
    expect_onnx(onnx, n, spec, 2);
    free(onnx);
    mcz_close(f);
    free(file);
    free(data);
}
END_TEST

/* -0.0 is a value, not a zero: its bitmap bit is set, it comes back with its sign. */
START_TEST(sparse_keeps_negative_zero)
{
    float v[16] = {0.0f, -0.0f, 1.0f, 0.0f, -0.0f, -0.0f, 0.0f, 0.0f,
                   0.0f, 0.0f,  0.0f, 0.0f, 0.0f,  -2.5f, 0.0f, -0.0f};
    double d[5] = {-0.0, 0.0, 0.0, -0.0, 3.0};
    uint16_t h[5] = {0x8000, 0, 0x3c00, 0, 0x8000};
    for (int tf = 0; tf < 2; tf++) {
        mk_mcz m;
        mk_begin(&m);
        m.store_raw = 1;
        mk_tensor(&m, "f", 1, 1, (int64_t[]){16}, v, sizeof v, MK_SPARSE, 0, tf);
        mk_tensor(&m, "d", 11, 1, (int64_t[]){5}, d, sizeof d, MK_SPARSE, 0, tf);
        mk_tensor(&m, "h", 10, 1, (int64_t[]){5}, h, sizeof h, MK_SPARSE, 0, tf);
        mk_onnx(&m.skel, NULL, 0);
        size_t len;
        uint8_t *file = mk_end(&m, 0, &len);
        /* the writer's bitmap of "f": bits 1,2,4,5,13,15 */
        size_t seg = mk_segment(file, len, 0, 0, 0);
        ck_assert_uint_eq(file[seg], 0x36);
        ck_assert_uint_eq(file[seg + 1], 0xa0);
        mcz_error e = {0};
        mcz_file *f = mcz_open_buffer(file, len, NULL, &e);
        ck_assert_msg(f != NULL, "%s", e.msg);
        float y[16];
        expect_status(mcz_read(f, 0, y, sizeof y, &e), MCZ_OK, &e);
        ck_assert(memcmp(y, v, sizeof v) == 0);
        expect_status(mcz_read_f32(f, 0, y, 16, &e), MCZ_OK, &e);
        for (int j = 0; j < 16; j++)
            ck_assert_msg(!signbit(y[j]) == !signbit(v[j]) && y[j] == v[j], "f[%d]", j);
        double dd[5];
        expect_status(mcz_read(f, 1, dd, sizeof dd, &e), MCZ_OK, &e);
        ck_assert(memcmp(dd, d, sizeof d) == 0);
        uint16_t hh[5];
        expect_status(mcz_read(f, 2, hh, sizeof hh, &e), MCZ_OK, &e);
        ck_assert(memcmp(hh, h, sizeof h) == 0);
        expect_status(mcz_read_f32(f, 2, y, 5, &e), MCZ_OK, &e);
        ck_assert(signbit(y[0]) && y[0] == 0 && !signbit(y[1]) && y[2] == 1.0f);
        expect_status(mcz_verify(f, 1, NULL, &e), MCZ_OK, &e);
        mcz_close(f);
        free(file);
    }
}
END_TEST

/* ---- sparse payloads made by hand: every size rule of section 6 ------------------------- */

/* A float tensor of K = 1020 elements in one block: element j is 1.0f for even j, else 0,
 * so nnz = 510 and the bitmap is 128 bytes (bits 1020..1023 of its last byte are past k). */
enum { SK = 1020, SNNZ = 510, SBM = 128 };

typedef struct sp_bad {
    const char *what;
    int variant;
    int at_open;      /* the error comes at open (else when reading) */
    mcz_status want;
} sp_bad;

enum {
    SB_RAW_OK, SB_ZSTD_OK, SB_MIXED_OK, SB_EMPTY_OK,
    SB_ZSTD_SHORT, SB_ZSTD_LONG, SB_ASIS_LONG, SB_ASIS_SHORT, SB_OVER_K, SB_BITMAP_LONG,
    SB_BITMAP_ZSTD_SHORT, SB_BITS_PAST_K, SB_NO_VALUES, SB_MORE_BITS, SB_PLANES_DIFFER,
};

static const sp_bad sp_bads[] = {
    {"control: every segment as is", SB_RAW_OK, 0, MCZ_OK},
    {"control: every segment zstd", SB_ZSTD_OK, 0, MCZ_OK},
    {"control: zstd and as-is planes mixed", SB_MIXED_OK, 0, MCZ_OK},
    {"control: all zero, empty value planes", SB_EMPTY_OK, 0, MCZ_OK},
    {"value plane: zstd frame of nnz - 1 bytes", SB_ZSTD_SHORT, 0, MCZ_ERR_FORMAT},
    {"value plane: zstd frame of nnz + 1 bytes", SB_ZSTD_LONG, 0, MCZ_ERR_FORMAT},
    {"value plane: stored as is, nnz + 1 bytes", SB_ASIS_LONG, 0, MCZ_ERR_FORMAT},
    {"value plane: nnz - 1 bytes, not a frame", SB_ASIS_SHORT, 0, MCZ_ERR_FORMAT},
    {"value plane larger than k", SB_OVER_K, 1, MCZ_ERR_FORMAT},
    {"bitmap larger than ceil(k/8)", SB_BITMAP_LONG, 1, MCZ_ERR_FORMAT},
    {"bitmap: zstd frame one byte short", SB_BITMAP_ZSTD_SHORT, 0, MCZ_ERR_FORMAT},
    {"bitmap bits past k", SB_BITS_PAST_K, 0, MCZ_ERR_FORMAT},
    {"bitmap bits but empty value planes", SB_NO_VALUES, 0, MCZ_ERR_FORMAT},
    {"bitmap with one bit more than values", SB_MORE_BITS, 0, MCZ_ERR_FORMAT},
    {"value planes of different sizes", SB_PLANES_DIFFER, 0, MCZ_ERR_FORMAT},
};

static uint8_t *sparse_bad_file(int v, size_t *len, float *values)
{
    uint8_t bitmap[SBM + 1] = {0}, plane[4][SK];
    memset(values, 0, 4 * SK);
    int empty = v == SB_EMPTY_OK;
    for (int j = 0; j < SK; j += 2)
        if (!empty) {
            values[j] = 1.0f;
            bitmap[j / 8] |= (uint8_t)(1u << (j % 8));
        }
    size_t nnz = empty ? 0 : SNNZ;
    for (int q = 0; q < 4; q++)
        memset(plane[q], q == 2 ? 0x80 : q == 3 ? 0x3f : 0, SK);
    mk_buf z[5] = {{0}};
    mk_seg segs[5] = {{bitmap, SBM}};
    for (int q = 0; q < 4; q++)
        segs[1 + q] = (mk_seg){plane[q], nnz};
    if (v == SB_ZSTD_OK || v == SB_MIXED_OK) {
        for (int q = v == SB_MIXED_OK ? 2 : 0; q < 5; q++) {
            mk_zstd(&z[q], q ? plane[q - 1] : bitmap, q ? nnz : SBM);
            segs[q] = (mk_seg){z[q].p, z[q].n};
        }
    }
    switch (v) {
    case SB_ZSTD_SHORT:
    case SB_ZSTD_LONG:
        mk_zstd(&z[2], plane[1], v == SB_ZSTD_SHORT ? nnz - 1 : nnz + 1);
        ck_assert_uint_lt(z[2].n, nnz);
        segs[2] = (mk_seg){z[2].p, z[2].n};
        break;
    case SB_ASIS_LONG: segs[2].n = nnz + 1; break;
    case SB_ASIS_SHORT: segs[2].n = nnz - 1; break;
    case SB_OVER_K: segs[2].n = SK + 1; break;
    case SB_BITMAP_LONG: segs[0].n = SBM + 1; break;
    case SB_BITMAP_ZSTD_SHORT:
        mk_zstd(&z[0], bitmap, SBM - 1);
        segs[0] = (mk_seg){z[0].p, z[0].n};
        break;
    case SB_BITS_PAST_K: /* same popcount: element 1016 dropped, "element 1022" added */
        bitmap[SBM - 1] = (uint8_t)((bitmap[SBM - 1] & ~1u) | 0x40);
        break;
    case SB_NO_VALUES:
        for (int q = 1; q < 5; q++)
            segs[q].n = 0;
        break;
    case SB_MORE_BITS: bitmap[0] |= 2; break;
    case SB_PLANES_DIFFER: segs[4].n = nnz - 2; segs[3].n = nnz + 2; break;
    default: break;
    }
    mk_mcz m;
    mk_begin(&m);
    mk_tensor_segments(&m, "s", 1, 1, (int64_t[]){SK}, values, 4 * SK, MK_SPARSE, 4 * SK, 5, 0,
                       segs);
    mk_onnx(&m.skel, (mk_tensor_spec[]){{"s", 1, 1, (int64_t[]){SK}, NULL, 0, 0}}, 1);
    for (int q = 0; q < 5; q++)
        free(z[q].p);
    return mk_end(&m, 0, len);
}

START_TEST(sparse_payload_rules)
{
    const sp_bad *c = &sp_bads[_i];
    static float values[SK];
    size_t len;
    uint8_t *file = sparse_bad_file(c->variant, &len, values);
    mcz_error e = {0};
    mcz_file *f = mcz_open_buffer(file, len, "sp.mcz", &e);
    mcz_status got = f ? MCZ_OK : e.code;
    if (c->at_open || !f) {
        ck_assert_msg(got == c->want, "%s: open: %d (%s), expected %d; %s", c->what, got,
                      mcz_strerror(got), c->want, e.msg);
    } else {
        float *out = malloc(4 * SK);
        got = mcz_read(f, 0, out, 4 * SK, &e);
        ck_assert_msg(got == c->want, "%s: read: %d (%s), expected %d; %s", c->what, got,
                      mcz_strerror(got), c->want, e.msg);
        if (!got)
            ck_assert_msg(memcmp(out, values, 4 * SK) == 0, "%s: wrong values", c->what);
        long bad = -2;
        mcz_error e2 = {0};
        ck_assert_msg(mcz_verify(f, 1, &bad, &e2) == c->want, "%s: verify: %s", c->what,
                      e2.msg);
        if (c->want)
            ck_assert_int_eq(bad, 0);
        free(out);
    }
    if (c->want)
        ck_assert_msg(strstr(e.msg, "sp.mcz"), "%s: message \"%s\" does not name the file",
                      c->what, e.msg);
    mcz_close(f);
    free(file);
}
END_TEST

/* ---- partitions ------------------------------------------------------------------------- */

static char long_name[4098];

/* Six tensors in four parts: P0 {0,1,2}, P1 {2,3,4} (tensor 2 shared), P2 {5}, P3 {} (no
 * weights). Names at MAX_NAME bytes are accepted. */
typedef struct parts_model {
    mk_tensor_spec t[6];
    uint8_t *data[6];
    size_t raw[6];
} parts_model;

static const uint32_t pm_list0[] = {0, 1, 2}, pm_list1[] = {2, 3, 4}, pm_list2[] = {5};
static const uint32_t *const pm_lists[4] = {pm_list0, pm_list1, pm_list2, NULL};
static const size_t pm_counts[4] = {3, 3, 1, 0};
static const uint32_t pm_part_of[6] = {0, 0, 0, 1, 1, 2};

static void part_skeleton(mk_buf *out, const parts_model *pm, int p, int with_data)
{
    mk_tensor_spec s[6];
    for (size_t k = 0; k < pm_counts[p]; k++) {
        s[k] = pm->t[pm_lists[p][k]];
        if (with_data)
            s[k].data = pm->data[pm_lists[p][k]], s[k].len = pm->raw[pm_lists[p][k]];
    }
    mk_onnx(out, s, pm_counts[p]);
}

static uint8_t *parts_file(parts_model *pm, int compress, size_t *len, uint32_t parts_flags)
{
    static const int32_t dt[6] = {1, 1, 3, 1, 11, 1};
    static int64_t dims[6][2] = {{4}, {3, 2}, {10}, {5}, {2}, {3}};
    static const int rank[6] = {1, 2, 1, 1, 1, 1}, enc[6] = {MK_RAW, MK_ZSTD, MK_SPARSE,
                                                              MK_PLANES, MK_RAW, MK_ZSTD};
    static const char *names[6] = {"a", "b", "c", "d", "e", "f"};
    memset(long_name, 'n', 4096);
    rng_state = 77;
    mk_mcz m;
    mk_begin(&m);
    m.parts_flags = parts_flags;
    for (int i = 0; i < 6; i++) {
        uint64_t count = 1;
        for (int k = 0; k < rank[i]; k++)
            count *= (uint64_t)dims[i][k];
        pm->raw[i] = count * esize(dt[i]);
        pm->data[i] = calloc(1, pm->raw[i]);
        for (size_t j = 0; j < pm->raw[i]; j++)
            pm->data[i][j] = (uint8_t)(i == 2 && j % 2 ? 0 : rnd() | 1);
        m.part = pm_part_of[i];
        mk_tensor(&m, names[i], dt[i], rank[i], dims[i], pm->data[i], pm->raw[i], enc[i], 0,
                  enc[i] == MK_PLANES);
        pm->t[i] = (mk_tensor_spec){names[i], dt[i], rank[i], dims[i], NULL, 0, (uint64_t)i};
    }
    mk_onnx(&m.skel, pm->t, 6);
    const char *in[4][2] = {{"x"}, {"t7", long_name}, {"u"}, {"w"}};
    const char *out[4][2] = {{"t7", long_name}, {"u"}, {"w"}, {"y"}};
    const uint32_t nin[4] = {1, 2, 1, 1}, nout[4] = {2, 1, 1, 1};
    for (int p = 0; p < 4; p++) {
        mk_buf sk = {0};
        part_skeleton(&sk, pm, p, 0);
        mk_part(&m, pm_lists[p], (uint32_t)pm_counts[p], in[p], nin[p], out[p], nout[p], sk.p,
                sk.n);
        free(sk.p);
    }
    return mk_end(&m, compress, len);
}

static void parts_model_free(parts_model *pm)
{
    for (int i = 0; i < 6; i++)
        free(pm->data[i]);
}

START_TEST(parts_describe_load_and_build)
{
    parts_model pm;
    size_t len;
    uint8_t *file = parts_file(&pm, _i, &len, _i ? 1 : 0); /* required bit: still read */
    mcz_error e = {0};
    mcz_file *f = mcz_open_buffer(file, len, "parts.mcz", &e);
    ck_assert_msg(f != NULL, "%s", e.msg);
    ck_assert_uint_eq(mcz_part_count(f), 4);
    ck_assert_ptr_null(mcz_part(f, 4));
    for (size_t i = 0; i < 6; i++)
        ck_assert_uint_eq(mcz_tensor(f, i)->part, pm_part_of[i]);
    const char *in[4][2] = {{"x"}, {"t7", long_name}, {"u"}, {"w"}};
    const char *out[4][2] = {{"t7", long_name}, {"u"}, {"w"}, {"y"}};
    for (int p = 0; p < 4; p++) {
        const mcz_part_desc *d = mcz_part(f, (size_t)p);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(d->tensor_count, pm_counts[p]);
        uint64_t wb = 0;
        for (size_t k = 0; k < pm_counts[p]; k++) {
            ck_assert_uint_eq(d->tensors[k], pm_lists[p][k]);
            wb += pm.raw[pm_lists[p][k]];
        }
        ck_assert_uint_eq(d->weight_bytes, wb);
        ck_assert_uint_eq(d->node_count, 10 + p);
        ck_assert_uint_eq(d->input_count, p == 1 ? 2 : 1);
        ck_assert_uint_eq(d->output_count, p == 0 ? 2 : 1);
        for (size_t k = 0; k < d->input_count; k++)
            ck_assert_str_eq(d->inputs[k], in[p][k]);
        for (size_t k = 0; k < d->output_count; k++)
            ck_assert_str_eq(d->outputs[k], out[p][k]);
        mk_buf sk = {0};
        part_skeleton(&sk, &pm, p, 0);
        ck_assert_uint_eq(d->skeleton_bytes, sk.n);
        free(sk.p);

        /* mcz_load_part fills that part's tensors and leaves every other dst alone */
        for (int th = 1; th <= 2; th++) {
            void *dst[6];
            for (int i = 0; i < 6; i++)
                memset(dst[i] = malloc(pm.raw[i] + 8), 0xa5, pm.raw[i] + 8);
            expect_status(mcz_load_part(f, (size_t)p, th, dst, &e), MCZ_OK, &e);
            for (int i = 0; i < 6; i++) {
                int listed = 0;
                for (size_t k = 0; k < pm_counts[p]; k++)
                    listed |= pm_lists[p][k] == (uint32_t)i;
                const uint8_t *g = dst[i];
                if (listed)
                    ck_assert_msg(memcmp(g, pm.data[i], pm.raw[i]) == 0, "part %d tensor %d", p,
                                  i);
                for (size_t j = listed ? pm.raw[i] : 0; j < pm.raw[i] + 8; j++)
                    ck_assert_msg(g[j] == 0xa5, "part %d wrote tensor %d byte %zu", p, i, j);
                free(dst[i]);
            }
        }
        /* a NULL destination is skipped */
        void *none[6] = {NULL};
        expect_status(mcz_load_part(f, (size_t)p, 2, none, &e), MCZ_OK, &e);

        /* the part's model: its skeleton with its payloads put back */
        uint8_t *onnx;
        size_t n;
        expect_status(mcz_build_part_onnx(f, (size_t)p, 2, &onnx, &n, &e), MCZ_OK, &e);
        mk_buf want = {0};
        part_skeleton(&want, &pm, p, 1);
        ck_assert_uint_eq(n, want.n);
        ck_assert_msg(memcmp(onnx, want.p, n) == 0, "part %d: built model differs", p);
        free(want.p);
        free(onnx);
    }
    void *dst[6] = {NULL};
    expect_status(mcz_load_part(f, 4, 1, dst, &e), MCZ_ERR_NOT_FOUND, &e);
    uint8_t *onnx = NULL;
    size_t n;
    expect_status(mcz_build_part_onnx(f, 4, 1, &onnx, &n, &e), MCZ_ERR_NOT_FOUND, &e);
    /* the whole model is still there */
    expect_status(mcz_build_onnx(f, 2, &onnx, &n, &e), MCZ_OK, &e);
    mk_tensor_spec full[6];
    for (int i = 0; i < 6; i++)
        full[i] = pm.t[i], full[i].data = pm.data[i], full[i].len = pm.raw[i];
    expect_onnx(onnx, n, full, 6);
    free(onnx);
    for (int i = 0; i < 6; i++)
        dst[i] = malloc(pm.raw[i]);
    expect_status(mcz_load_all(f, 4, dst, &e), MCZ_OK, &e);
    for (int i = 0; i < 6; i++) {
        ck_assert(memcmp(dst[i], pm.data[i], pm.raw[i]) == 0);
        free(dst[i]);
    }
    expect_status(mcz_verify(f, 2, NULL, &e), MCZ_OK, &e);
    mcz_close(f);
    free(file);
    parts_model_free(&pm);
}
END_TEST

START_TEST(no_parts_section_means_no_parts)
{
    mk_mcz m;
    mk_begin(&m);
    mk_tensor(&m, "a", 1, 1, (int64_t[]){2}, (float[]){1, 2}, 8, MK_RAW, 0, 0);
    mk_onnx(&m.skel, (mk_tensor_spec[]){{"a", 1, 1, (int64_t[]){2}, NULL, 0, 0}}, 1);
    size_t len;
    uint8_t *file = mk_end(&m, 0, &len);
    mcz_error e = {0};
    mcz_file *f = mcz_open_buffer(file, len, NULL, &e);
    ck_assert_msg(f != NULL, "%s", e.msg);
    ck_assert_uint_eq(mcz_part_count(f), 0);
    ck_assert_ptr_null(mcz_part(f, 0));
    ck_assert_uint_eq(mcz_tensor(f, 0)->part, 0);
    ck_assert_ptr_null(mcz_tensor(f, 0)->quant);
    void *dst[1] = {malloc(8)};
    expect_status(mcz_load_part(f, 0, 1, dst, &e), MCZ_ERR_NOT_FOUND, &e);
    uint8_t *onnx = NULL;
    size_t n;
    expect_status(mcz_build_part_onnx(f, 0, 1, &onnx, &n, &e), MCZ_ERR_NOT_FOUND, &e);
    free(dst[0]);
    mcz_close(f);
    free(file);
}
END_TEST

/* ---- malformed files: a table ----------------------------------------------------------- */

/* The base file (uncompressed index):
 *   0 inl   float [4]     in skeleton                                       part 0
 *   1 w8    int8 [4,6]    zstd, quantized: record 0 = scale 2, zp 3, axis 0 part 0
 *   2 w8.s  float [4]     raw                                               part 0
 *   3 w8.z  int8 [4]      raw                                               part 0
 *   4 sp    float [300]   sparse, 3 blocks, transform 1, zstd where smaller  part 0
 *   5 w4    int4 [5,7]    raw, quantized: record 1 = scale 6, axis 1, block 3 part 1
 *   6 w4.s  float16 [5,3] raw                                               part 1
 *   7 sp8   int8 [100]    sparse, one block, segments as is, 90 non-zero    part 1
 * PARTS: P0 lists {1,2,3,4}, P1 lists {4,5,6,7}. */
enum { V_BASE, V_NO_QPARAMS, V_NO_PARTS, V_QPARAMS_ODD, V_PARTS_TAIL, V_LONG_NAME,
       V_QPARAMS_UNUSED };

static uint8_t *ext_base(size_t *len, int variant)
{
    static float inl[4] = {1, 2, 3, 4}, w8s[4] = {0.5f, 0.25f, 0.125f, 1}, sp[300];
    static int8_t w8[24], w8z[4] = {1, -1, 0, 3}, sp8[100];
    static uint8_t w4[18];
    static uint16_t w4s[15];
    rng_state = 5;
    for (int i = 0; i < 24; i++)
        w8[i] = (int8_t)(i * 7 - 80);
    for (int i = 0; i < 300; i++)
        sp[i] = i % 2 ? 0.0f : (float)(gauss() * 0.1 + 0.01);
    for (int i = 0; i < 18; i++)
        w4[i] = (uint8_t)(i == 17 ? 0x05 : i * 29 + 3);
    for (int i = 0; i < 15; i++)
        w4s[i] = f2h(0.01f * (float)(i + 1));
    for (int i = 0; i < 100; i++)
        sp8[i] = (int8_t)(i % 10 == 0 ? 0 : i);
    int64_t d4[1] = {4}, d46[2] = {4, 6}, d300[1] = {300}, d57[2] = {5, 7}, d53[2] = {5, 3},
            d100[1] = {100};
    mk_mcz m;
    mk_begin(&m);
    mk_inline(&m, "inl", 1, 1, d4);
    mk_tensor(&m, "w8", 3, 2, d46, w8, 24, MK_ZSTD, 0, 0);
    mk_tensor(&m, "w8.s", 1, 1, d4, w8s, 16, MK_RAW, 0, 0);
    mk_tensor(&m, "w8.z", 3, 1, d4, w8z, 4, MK_RAW, 0, 0);
    mk_tensor(&m, "sp", 1, 1, d300, sp, 1200, MK_SPARSE, 400, 1);
    m.part = 1;
    mk_tensor(&m, "w4", 22, 2, d57, w4, 18, MK_RAW, 0, 0);
    mk_tensor(&m, "w4.s", 10, 2, d53, w4s, 30, MK_RAW, 0, 0);
    m.store_raw = 1;
    mk_tensor(&m, "sp8", 3, 1, d100, sp8, 100, MK_SPARSE, 100, 0);
    m.store_raw = 0;
    mk_quant(&m, 1, 2, 4, 0, 0);
    mk_quant(&m, 5, 6, 0, 1, 3);
    mk_tensor_spec spec[8] = {
        {"inl", 1, 1, d4, inl, 16, 0},      {"w8", 3, 2, d46, NULL, 0, 1},
        {"w8.s", 1, 1, d4, NULL, 0, 2},     {"w8.z", 3, 1, d4, NULL, 0, 3},
        {"sp", 1, 1, d300, NULL, 0, 4},     {"w4", 22, 2, d57, NULL, 0, 5},
        {"w4.s", 10, 2, d53, NULL, 0, 6},   {"sp8", 3, 1, d100, NULL, 0, 7}};
    mk_onnx(&m.skel, spec, 8);
    const char *h[1] = {"h"}, *x[1] = {"x"}, *y[1] = {"y"};
    static char longer[4098];
    memset(longer, 'n', 4097);
    const char *lo[1] = {longer};
    mk_buf s0 = {0}, s1 = {0};
    mk_onnx(&s0, spec + 1, 4);
    mk_onnx(&s1, spec + 4, 4);
    mk_part(&m, (uint32_t[]){1, 2, 3, 4}, 4, x, 1, variant == V_LONG_NAME ? lo : h, 1, s0.p, s0.n);
    mk_part(&m, (uint32_t[]){4, 5, 6, 7}, 4, variant == V_LONG_NAME ? lo : h, 1, y, 1, s1.p, s1.n);
    free(s0.p);
    free(s1.p);
    if (variant == V_NO_QPARAMS)
        m.with_qparams = 0;
    if (variant == V_NO_PARTS)
        m.with_parts = 0;
    if (variant == V_QPARAMS_ODD)
        mk_zero(&m.qparams, 8);
    if (variant == V_QPARAMS_UNUSED) /* a third record, naming nothing that exists */
        mk_qrecord(&m, UINT32_MAX, UINT32_MAX, 1000, 7);
    if (variant == V_PARTS_TAIL)
        mk_zero(&m.parts, 8);
    return mk_end(&m, 0, len);
}

typedef enum { AT_OPEN, AT_READ, AT_VERIFY, AT_PART0, AT_PART1 } stage;

typedef struct bad_case {
    const char *what;
    int variant;
    void (*mutate)(uint8_t *f, size_t *len);
    int fix; /* recompute the checksums after mutating */
    stage at;
    mcz_status want;
} bad_case;

#define E(i) mk_entry(f, *len, i)
#define SEC(k) mk_section(f, *len, k)
#define QR(k) mk_qrec_at(f, *len, 24 * (k))
#define PR(p) mk_part_record(f, *len, p)
#define IX mk_index_offset(f, *len)
#define M(name, body)                                                                          \
    static void name(uint8_t *f, size_t *len)                                                  \
    {                                                                                          \
        (void)f, (void)len;                                                                    \
        body;                                                                                  \
    }

M(m_none, )
/* QPARAMS and the quantized flag */
M(m_aux_unaligned, mk_set64(f + E(1) + 56, 12))
M(m_aux_past, mk_set64(f + E(1) + 56, 48))
M(m_aux_huge, mk_set64(f + E(1) + 56, UINT64_MAX - UINT64_MAX % 24))
M(m_aux_size16, mk_set64(f + E(1) + 64, 16))
M(m_aux_size48, mk_set64(f + E(5) + 64, 48))
M(m_aux_size0, mk_set64(f + E(1) + 64, 0))
M(m_aux_size_plain, mk_set64(f + E(2) + 64, 24))
M(m_aux_off_plain, mk_set64(f + E(2) + 56, 24))
M(m_no_quantized, mk_set32(f + E(1) + 48, 0); mk_set64(f + E(1) + 64, 0);
  mk_set32(f + E(5) + 48, 0); mk_set64(f + E(5) + 56, 0); mk_set64(f + E(5) + 64, 0))
M(m_scale_range, mk_set32(f + QR(0), 8))
M(m_scale_huge, mk_set32(f + QR(0), UINT32_MAX))
M(m_scale_quantized, mk_set32(f + QR(0), 5))
M(m_scale_inline, mk_set32(f + QR(0), 0))
M(m_scale_int, mk_set32(f + QR(0), 3))
M(m_scale_self, mk_set32(f + QR(0), 1))
M(m_scale_double, mk_set32(f + E(2) + 4, 11); mk_set64(f + SEC(3) + 16 + 24, 2))
M(m_zp_dtype, mk_set32(f + E(3) + 4, 2))
M(m_zp_inline, mk_set32(f + E(0) + 4, 3); mk_set32(f + QR(0) + 4, 1))
M(m_zp_quantized, mk_set32(f + QR(0) + 4, 2))
M(m_zp_range, mk_set32(f + QR(0) + 4, 9))
M(m_zp_huge, mk_set32(f + QR(0) + 4, UINT32_MAX))
M(m_zp_count, mk_set32(f + QR(0) + 4, 8))
M(m_zp_on_4bit, mk_set32(f + QR(1) + 4, 4))
M(m_count_tensor, mk_set32(f + QR(0) + 8, (uint32_t)-1))
M(m_count_channel, mk_set32(f + QR(0) + 8, 1))
M(m_count_blocked, mk_set32(f + QR(1) + 12, 2))
M(m_count_blocked_as_channel, mk_set32(f + QR(1) + 12, 0))
M(m_count_block_huge, mk_set32(f + QR(1) + 12, UINT32_MAX))
M(m_axis_rank, mk_set32(f + QR(0) + 8, 2))
M(m_axis_1000, mk_set32(f + QR(0) + 8, 1000))
M(m_axis_minus2, mk_set32(f + QR(0) + 8, (uint32_t)-2))
M(m_axis_min, mk_set32(f + QR(0) + 8, 0x80000000u))
M(m_block_no_axis, mk_set32(f + QR(1) + 8, (uint32_t)-1))
M(m_qres16, f[QR(0) + 16] = 1)
M(m_qres23, f[QR(1) + 23] = 0x80)
M(m_quant_float, mk_set32(f + E(2) + 48, 2); mk_set64(f + E(2) + 64, 24))
M(m_quant_int32, mk_set32(f + E(2) + 4, 6); mk_set32(f + E(2) + 48, 2);
  mk_set64(f + E(2) + 56, 0); mk_set64(f + E(2) + 64, 24); mk_set32(f + QR(0), 3);
  mk_set32(f + QR(0) + 4, 0))
M(m_quant_inline, mk_set32(f + E(0) + 48, 3); mk_set64(f + E(0) + 64, 24))
M(m_flag4, mk_set32(f + E(1) + 48, 6))
/* sparse */
M(m_sp_planes4, f[E(4) + 44] = 4)
M(m_sp_planes2, f[E(4) + 44] = 2)
M(m_sp8_planes1, f[E(7) + 44] = 1)
M(m_sp8_planes3, f[E(7) + 44] = 3)
M(m_sp_on_4bit, mk_set32(f + E(5) + 12, 3); f[E(5) + 44] = 2)
M(m_sp_block_odd, mk_set32(f + E(4) + 40, 402))
M(m_sp8_transform, f[E(7) + 45] = 1)
M(m_sp_transform2, f[E(4) + 45] = 2)
M(m_sp_encoding4, mk_set32(f + E(4) + 12, 4))
static void grow_seg(uint8_t *f, size_t *len, unsigned plane, uint32_t to)
{
    size_t s = mk_segsize_at(f, *len, 7, 0, plane);
    uint64_t delta = to - mk_get32(f + s);
    mk_set32(f + s, to);
    mk_set64(f + E(7) + 24, mk_get64(f + E(7) + 24) + delta);
    mk_fix_block(f, *len, 7, 0);
}
M(m_sp8_bitmap_long, grow_seg(f, len, 0, 14))
M(m_sp8_values_over_k, grow_seg(f, len, 1, 101))
M(m_sp8_values_k, grow_seg(f, len, 1, 100))
M(m_sp8_payload_byte, f[mk_segment(f, *len, 7, 0, 1) + 3] ^= 0x20)
M(m_sp_raw_checksum, f[mk_block_at(f, *len, 4, 1) + 8] ^= 1)
M(m_sp8_bit_past_k, f[mk_segment(f, *len, 7, 0, 0) + 12] |= 0x80; mk_fix_block(f, *len, 7, 0))
/* PARTS */
M(m_pc0, mk_set32(f + SEC(10) + 16, 0))
/* The PARTS section (the last one) cut to n bytes: the index and the file shrink with it. */
static void shrink_parts(uint8_t *f, size_t *len, uint64_t n)
{
    size_t ix = IX, s = SEC(10), end = s + 16 + (size_t)n + (8 - n % 8) % 8;
    mk_set64(f + s + 8, n);
    memset(f + s + 16 + n, 0, end - s - 16 - n);
    memmove(f + end, f + *len - 64, 64);
    *len = end + 64;
    mk_set64(f + *len - 64 + 8, end - ix);
    mk_set64(f + *len - 64 + 16, end - ix);
    mk_set64(f + *len - 64 + 40, *len);
}
M(m_parts_empty, shrink_parts(f, len, 0))
M(m_parts_4, shrink_parts(f, len, 4))
M(m_parts_head_only, shrink_parts(f, len, 8))
M(m_pc_cap, mk_set32(f + SEC(10) + 16, 65537))
M(m_pc_huge, mk_set32(f + SEC(10) + 16, UINT32_MAX))
M(m_pc_plus1, mk_set32(f + SEC(10) + 16, 3))
M(m_pc_minus1, mk_set32(f + SEC(10) + 16, 1))
M(m_parts_reserved, f[SEC(10) + 20] = 1)
M(m_rec_nt_over, mk_set32(f + PR(1), 9))
M(m_rec_nt_huge, mk_set32(f + PR(1), UINT32_MAX))
M(m_list_order, mk_set32(f + PR(0) + 24, 2); mk_set32(f + PR(0) + 28, 1))
M(m_list_dup, mk_set32(f + PR(0) + 28, 1))
M(m_list_range, mk_set32(f + PR(1) + 24 + 12, 8))
M(m_list_huge, mk_set32(f + PR(1) + 24 + 12, UINT32_MAX))
M(m_inputs_cap, mk_set32(f + PR(0) + 4, (1u << 20) + 1))
M(m_outputs_huge, mk_set32(f + PR(0) + 8, UINT32_MAX))
M(m_inputs_run_on, mk_set32(f + PR(1) + 4, 1000))
static void m_name_no_nul(uint8_t *f, size_t *len)
{
    size_t r = PR(1), end = SEC(10) + 16 + (size_t)mk_get64(f + SEC(10) + 8);
    size_t names = r + 24 + 4 * 4; /* "h\0y\0" */
    ck_assert(f[names] == 'h' && f[names + 2] == 'y');
    memset(f + names + 3, 'z', end - names - 3);
}
M(m_skel_past, mk_set64(f + PR(1) + 16, mk_get64(f + PR(1) + 16) + 8))
M(m_skel_huge, mk_set64(f + PR(0) + 16, 1ull << 63))
M(m_skel_wrap, mk_set64(f + PR(0) + 16, UINT64_MAX - 3))
static void m_part_padding(uint8_t *f, size_t *len)
{
    size_t end = SEC(10) + 16 + (size_t)mk_get64(f + SEC(10) + 8);
    for (uint32_t p = 0; p < 2; p++) {
        size_t r = PR(p), at = r + 24 + 4 * 4 + 4 + (size_t)mk_get64(f + r + 16);
        size_t next = p ? end : PR(1);
        if (at < next) {
            f[at] = 1;
            return;
        }
    }
    ck_abort_msg("no part record has padding: change the base file");
}
M(m_part_eq_count, mk_set32(f + E(7) + 52, 2))
M(m_part_huge, mk_set32(f + E(7) + 52, UINT32_MAX))
M(m_part_decreasing, mk_set32(f + E(1) + 52, 1))
M(m_part_not_first, mk_set32(f + E(4) + 52, 1))
static void set_marker(uint8_t *f, size_t *len, int part, uint64_t from, uint64_t to)
{
    uint8_t mk[8] = {'M', 'C', 'Z', 1, 'W', 'G', 'T', 0};
    size_t r = PR((uint32_t)part), s = r + 24 + 16 + 4;
    uint8_t *p = f + s, *end = p + mk_get64(f + r + 16);
    for (; p + 16 <= end; p++)
        if (memcmp(p, mk, 8) == 0 && mk_get64(p + 8) == from) {
            mk_set64(p + 8, to);
            return;
        }
    ck_abort_msg("no marker %d in part %d's skeleton", (int)from, part);
}
M(m_pskel_not_listed, set_marker(f, len, 0, 2, 5))
M(m_pskel_range, set_marker(f, len, 1, 7, 8))
M(m_pskel_inline, set_marker(f, len, 0, 1, 0))
M(m_pskel_garbage, f[PR(1) + 24 + 16 + 4] = 0xff)

#define FM MCZ_ERR_FORMAT
static const bad_case bad_cases[] = {
    {"control: the base file", V_BASE, m_none, 1, AT_VERIFY, MCZ_OK},
    /* 5 / 5a: aux fields and QPARAMS records */
    {"aux_offset not a multiple of 24", V_BASE, m_aux_unaligned, 1, AT_OPEN, FM},
    {"aux_offset past the section", V_BASE, m_aux_past, 1, AT_OPEN, FM},
    {"aux_offset near 2^64", V_BASE, m_aux_huge, 1, AT_OPEN, FM},
    {"aux_size 16", V_BASE, m_aux_size16, 1, AT_OPEN, FM},
    {"aux_size 48", V_BASE, m_aux_size48, 1, AT_OPEN, FM},
    {"aux_size 0 on a quantized tensor", V_BASE, m_aux_size0, 1, AT_OPEN, FM},
    {"aux_size on a tensor not quantized", V_BASE, m_aux_size_plain, 1, AT_OPEN, FM},
    {"aux_offset on a tensor not quantized", V_BASE, m_aux_off_plain, 1, AT_OPEN, FM},
    {"quantized flag without QPARAMS", V_NO_QPARAMS, m_none, 1, AT_OPEN, FM},
    /* 4: "a record no tensor refers to is ignored" */
    {"QPARAMS without a quantized tensor: ignored", V_BASE, m_no_quantized, 1, AT_VERIFY,
     MCZ_OK},
    {"a record no tensor refers to: ignored", V_QPARAMS_UNUSED, m_none, 1, AT_VERIFY, MCZ_OK},
    {"QPARAMS size not a multiple of 24", V_QPARAMS_ODD, m_none, 1, AT_OPEN, FM},
    {"scale index out of range", V_BASE, m_scale_range, 1, AT_OPEN, FM},
    {"scale index 2^32-1", V_BASE, m_scale_huge, 1, AT_OPEN, FM},
    {"scale tensor quantized", V_BASE, m_scale_quantized, 1, AT_OPEN, FM},
    {"scale tensor in skeleton", V_BASE, m_scale_inline, 1, AT_OPEN, FM},
    {"scale tensor of int8", V_BASE, m_scale_int, 1, AT_OPEN, FM},
    {"scale tensor is the codes", V_BASE, m_scale_self, 1, AT_OPEN, FM},
    {"scale tensor of double", V_BASE, m_scale_double, 1, AT_OPEN, FM},
    {"zero point of another dtype", V_BASE, m_zp_dtype, 1, AT_OPEN, FM},
    {"zero point in skeleton", V_BASE, m_zp_inline, 1, AT_OPEN, FM},
    {"zero point quantized", V_BASE, m_zp_quantized, 1, AT_OPEN, FM},
    {"zero point index out of range", V_BASE, m_zp_range, 1, AT_OPEN, FM},
    {"zero point index 2^32-1", V_BASE, m_zp_huge, 1, AT_OPEN, FM},
    {"zero point count differs", V_BASE, m_zp_count, 1, AT_OPEN, FM},
    {"int8 zero point for int4 codes", V_BASE, m_zp_on_4bit, 1, AT_OPEN, FM},
    {"per-tensor: 4 scales", V_BASE, m_count_tensor, 1, AT_OPEN, FM},
    {"per-channel: 4 scales for 6 channels", V_BASE, m_count_channel, 1, AT_OPEN, FM},
    {"blocked: 15 scales for 5x4 blocks", V_BASE, m_count_blocked, 1, AT_OPEN, FM},
    {"blocked scales read per channel", V_BASE, m_count_blocked_as_channel, 1, AT_OPEN, FM},
    {"block size 2^32-1", V_BASE, m_count_block_huge, 1, AT_OPEN, FM},
    {"axis = rank", V_BASE, m_axis_rank, 1, AT_OPEN, FM},
    {"axis 1000", V_BASE, m_axis_1000, 1, AT_OPEN, FM},
    {"axis -2", V_BASE, m_axis_minus2, 1, AT_OPEN, FM},
    {"axis INT32_MIN", V_BASE, m_axis_min, 1, AT_OPEN, FM},
    {"block size with axis -1", V_BASE, m_block_no_axis, 1, AT_OPEN, FM},
    {"record reserved byte 16", V_BASE, m_qres16, 1, AT_OPEN, FM},
    {"record reserved byte 23", V_BASE, m_qres23, 1, AT_OPEN, FM},
    {"quantized float tensor", V_BASE, m_quant_float, 1, AT_OPEN, FM},
    {"quantized int32 tensor", V_BASE, m_quant_int32, 1, AT_OPEN, FM},
    {"quantized and in skeleton", V_BASE, m_quant_inline, 1, AT_OPEN, FM},
    {"unknown tensor flag bit 2", V_BASE, m_flag4, 1, AT_OPEN, MCZ_ERR_UNSUPPORTED},
    /* 6: sparse */
    {"sparse float with 4 planes", V_BASE, m_sp_planes4, 1, AT_OPEN, FM},
    {"sparse float with 2 planes", V_BASE, m_sp_planes2, 1, AT_OPEN, FM},
    {"sparse int8 with 1 plane", V_BASE, m_sp8_planes1, 1, AT_OPEN, FM},
    {"sparse int8 with 3 planes", V_BASE, m_sp8_planes3, 1, AT_OPEN, FM},
    {"sparse int4", V_BASE, m_sp_on_4bit, 1, AT_OPEN, FM},
    {"sparse block size not a multiple of 4", V_BASE, m_sp_block_odd, 1, AT_OPEN, FM},
    {"sparse int8 with transform 1", V_BASE, m_sp8_transform, 1, AT_OPEN, FM},
    {"sparse transform 2", V_BASE, m_sp_transform2, 1, AT_OPEN, FM},
    {"encoding 4", V_BASE, m_sp_encoding4, 1, AT_OPEN, MCZ_ERR_UNSUPPORTED},
    {"bitmap segment over ceil(k/8)", V_BASE, m_sp8_bitmap_long, 1, AT_OPEN, FM},
    {"value segment over k", V_BASE, m_sp8_values_over_k, 1, AT_OPEN, FM},
    {"value plane as is, k bytes for 90 values", V_BASE, m_sp8_values_k, 1, AT_READ, FM},
    {"bitmap bit past k", V_BASE, m_sp8_bit_past_k, 1, AT_READ, FM},
    {"sparse payload byte flipped", V_BASE, m_sp8_payload_byte, 0, AT_READ, MCZ_ERR_CHECKSUM},
    {"sparse decoded checksum", V_BASE, m_sp_raw_checksum, 1, AT_VERIFY, MCZ_ERR_CHECKSUM},
    /* 7a: PARTS */
    {"part_count 0", V_BASE, m_pc0, 1, AT_OPEN, FM},
    {"PARTS section empty", V_BASE, m_parts_empty, 1, AT_OPEN, FM},
    {"PARTS section of 4 bytes", V_BASE, m_parts_4, 1, AT_OPEN, FM},
    {"PARTS section: 2 parts, no records", V_BASE, m_parts_head_only, 1, AT_OPEN, FM},
    {"part_count 65537", V_BASE, m_pc_cap, 1, AT_OPEN, MCZ_ERR_LIMIT},
    {"part_count 2^32-1", V_BASE, m_pc_huge, 1, AT_OPEN, MCZ_ERR_LIMIT},
    {"part_count one more than the records", V_BASE, m_pc_plus1, 1, AT_OPEN, FM},
    {"part_count one less than the records", V_BASE, m_pc_minus1, 1, AT_OPEN, FM},
    {"PARTS reserved word", V_BASE, m_parts_reserved, 1, AT_OPEN, FM},
    {"part lists more tensors than the file", V_BASE, m_rec_nt_over, 1, AT_OPEN, FM},
    {"part tensor_count 2^32-1", V_BASE, m_rec_nt_huge, 1, AT_OPEN, FM},
    {"part tensors not ascending", V_BASE, m_list_order, 1, AT_OPEN, FM},
    {"part lists a tensor twice", V_BASE, m_list_dup, 1, AT_OPEN, FM},
    {"part tensor out of range", V_BASE, m_list_range, 1, AT_OPEN, FM},
    {"part tensor 2^32-1", V_BASE, m_list_huge, 1, AT_OPEN, FM},
    {"part input_count over MAX_PART_NAMES", V_BASE, m_inputs_cap, 1, AT_OPEN, MCZ_ERR_LIMIT},
    {"part output_count 2^32-1", V_BASE, m_outputs_huge, 1, AT_OPEN, MCZ_ERR_LIMIT},
    {"part names run past the section", V_BASE, m_inputs_run_on, 1, AT_OPEN, FM},
    {"part name without its NUL", V_BASE, m_name_no_nul, 1, AT_OPEN, FM},
    {"part name of 4097 bytes", V_LONG_NAME, m_none, 1, AT_OPEN, MCZ_ERR_LIMIT},
    {"part skeleton past the section", V_BASE, m_skel_past, 1, AT_OPEN, FM},
    {"part skeleton size 2^63", V_BASE, m_skel_huge, 1, AT_OPEN, FM},
    {"part skeleton size wraps", V_BASE, m_skel_wrap, 1, AT_OPEN, FM},
    {"part record padding not zero", V_BASE, m_part_padding, 1, AT_OPEN, FM},
    {"bytes after the last part record", V_PARTS_TAIL, m_none, 1, AT_OPEN, FM},
    {"entry part = part_count", V_BASE, m_part_eq_count, 1, AT_OPEN, FM},
    {"entry part 2^32-1", V_BASE, m_part_huge, 1, AT_OPEN, FM},
    {"entry parts decreasing", V_BASE, m_part_decreasing, 1, AT_OPEN, FM},
    /* 7a: "a writer puts a tensor in the first part that lists it (a reader does not rely on
     * this: a part loads the tensors it lists)" */
    {"entry part not the first part listing it: read", V_BASE, m_part_not_first, 1, AT_VERIFY,
     MCZ_OK},
    {"entry part 1 without PARTS", V_NO_PARTS, m_none, 1, AT_OPEN, FM},
    {"part skeleton marks a tensor not in its list", V_BASE, m_pskel_not_listed, 1, AT_PART0,
     FM},
    {"part skeleton marks no tensor", V_BASE, m_pskel_range, 1, AT_PART1, FM},
    {"part skeleton marks an in-skeleton tensor", V_BASE, m_pskel_inline, 1, AT_PART0, FM},
    {"part skeleton not protobuf", V_BASE, m_pskel_garbage, 1, AT_PART1, FM},
};

static mcz_status read_everything(const mcz_file *mf, mcz_error *e)
{
    for (size_t i = 0; i < mcz_tensor_count(mf); i++) {
        const mcz_tensor_info *t = mcz_tensor(mf, i);
        if (t->in_skeleton)
            continue;
        void *p = mcz_read_alloc(mf, i, e);
        if (!p)
            return e->code;
        free(p);
        if (t->quant) {
            float *y = malloc(4 * t->count + 4);
            mcz_status s = mcz_read_f32(mf, i, y, t->count, e);
            free(y);
            if (s)
                return s;
        }
    }
    return MCZ_OK;
}

START_TEST(malformed_file_gives_its_error)
{
    const bad_case *c = &bad_cases[_i];
    size_t len;
    uint8_t *base = ext_base(&len, c->variant);
    uint8_t *f = calloc(1, len + 256);
    memcpy(f, base, len);
    c->mutate(f, &len);
    if (c->fix)
        mk_fix(f, len);
    mcz_error e = {0};
    mcz_file *mf = mcz_open_buffer(f, len, "bad.mcz", &e);
    mcz_status got = mf ? MCZ_OK : e.code;
    if (mf && c->at == AT_READ) {
        got = read_everything(mf, &e);
        long bad = -2;
        mcz_error e2 = {0};
        ck_assert_msg(mcz_verify(mf, 2, &bad, &e2) == got, "%s: verify: %s", c->what, e2.msg);
        ck_assert_int_eq(bad, 7);
    } else if (mf && c->at == AT_VERIFY) {
        got = mcz_verify(mf, 2, NULL, &e);
        if (!got)
            got = read_everything(mf, &e);
        for (size_t p = 0; !got && p < mcz_part_count(mf); p++) {
            uint8_t *onnx = NULL;
            size_t n;
            got = mcz_build_part_onnx(mf, p, 2, &onnx, &n, &e);
            free(onnx);
        }
    } else if (mf && (c->at == AT_PART0 || c->at == AT_PART1)) {
        size_t badp = c->at == AT_PART1;
        long bad = -2;
        got = mcz_verify(mf, 2, &bad, &e);
        ck_assert_msg(bad == -1, "%s: verify blames tensor %ld, not the part", c->what, bad);
        uint8_t *onnx = NULL;
        size_t n;
        mcz_error e2 = {0};
        mcz_status b = mcz_build_part_onnx(mf, badp, 1, &onnx, &n, &e2);
        free(onnx);
        onnx = NULL;
        ck_assert_msg(b == c->want, "%s: build part %zu: %d (%s) %s", c->what, badp, b,
                      mcz_strerror(b), e2.msg);
        b = mcz_build_part_onnx(mf, 1 - badp, 1, &onnx, &n, &e2);
        free(onnx);
        onnx = NULL;
        ck_assert_msg(b == MCZ_OK, "%s: the other part: %s", c->what, e2.msg);
        b = mcz_build_onnx(mf, 1, &onnx, &n, &e2);
        free(onnx);
        ck_assert_msg(b == MCZ_OK, "%s: the whole model: %s", c->what, e2.msg);
    }
    ck_assert_msg(got == c->want, "%s: status %d (%s), expected %d (%s); message: %s", c->what,
                  got, mcz_strerror(got), c->want, mcz_strerror(c->want), e.msg);
    if (c->want)
        ck_assert_msg(strstr(e.msg, "bad.mcz"), "%s: message \"%s\" does not name the file",
                      c->what, e.msg);
    mcz_close(mf);
    free(f);
    free(base);
}
END_TEST

START_TEST(truncated_at_every_length)
{
    size_t len;
    uint8_t *f = ext_base(&len, V_BASE);
    for (size_t n = 0; n < len; n++) {
        mcz_error e = {0};
        mcz_file *mf = mcz_open_buffer(f, n, NULL, &e);
        ck_assert_msg(mf == NULL && e.code == MCZ_ERR_FORMAT, "truncated to %zu: %d %s", n,
                      e.code, e.msg);
    }
    free(f);
}
END_TEST

/* Random bytes of the index (and of the sparse payloads) changed, checksums made to match:
 * whatever the parser meets, no crash, no out-of-bounds access (run under ASan). */
START_TEST(random_mutations_never_crash)
{
    size_t len;
    uint8_t *base = ext_base(&len, V_BASE), *f = malloc(len);
    size_t ix = mk_index_offset(base, len), opened = 0, ok = 0;
    size_t sp8 = mk_segment(base, len, 7, 0, 0);
    rng_state = 4242 + (uint64_t)_i;
    for (int it = 0; it < 4000; it++) {
        memcpy(f, base, len);
        int k = 1 + (int)(rnd() % 4);
        for (int j = 0; j < k; j++) {
            size_t at = it % 4 == 3 ? sp8 + rnd() % 100
                                    : ix + 32 + rnd() % (len - 64 - ix - 32);
            f[at] = (uint8_t)(rnd() % 3 == 0 ? 0xff : rnd() % 3 == 0 ? rnd() % 8 : rnd());
        }
        if (it % 4 == 3)
            mk_fix_block(f, len, 7, 0);
        mk_fix(f, len);
        mcz_error e = {0};
        mcz_file *mf = mcz_open_buffer(f, len, NULL, &e);
        if (!mf) {
            ck_assert_int_ne(e.code, MCZ_OK);
            continue;
        }
        opened++;
        ok += read_everything(mf, &e) == MCZ_OK;
        uint8_t *onnx = NULL;
        size_t n;
        mcz_verify(mf, 2, NULL, &e);
        for (size_t p = 0; p < mcz_part_count(mf); p++) {
            const mcz_part_desc *d = mcz_part(mf, p);
            for (size_t q = 0; q < d->input_count + d->output_count; q++)
                (void)strlen(q < d->input_count ? d->inputs[q] : d->outputs[q - d->input_count]);
            if (mcz_build_part_onnx(mf, p, 1, &onnx, &n, &e) == MCZ_OK)
                free(onnx);
        }
        if (mcz_build_onnx(mf, 2, &onnx, &n, &e) == MCZ_OK)
            free(onnx);
        mcz_close(mf);
    }
    fprintf(stderr, "random_mutations_never_crash: %zu of 4000 opened, %zu read\n", opened, ok);
    free(f);
    free(base);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("container-loader-ext");
    TCase *t = tcase_create("quantized");
    tcase_add_loop_test(t, dequantize_matches_reference, 0, sizeof q_cases / sizeof q_cases[0]);
    tcase_add_test(t, tensors_share_a_record);
    tcase_add_test(t, qparams_section_flag_required_is_read);
    tcase_set_timeout(t, 60);
    suite_add_tcase(s, t);
    t = tcase_create("sparse");
    tcase_add_loop_test(t, sparse_roundtrip, 0, sizeof sp_cases / sizeof sp_cases[0]);
    tcase_add_test(t, sparse_keeps_negative_zero);
    tcase_add_loop_test(t, sparse_payload_rules, 0, sizeof sp_bads / sizeof sp_bads[0]);
    tcase_set_timeout(t, 60);
    suite_add_tcase(s, t);
    t = tcase_create("parts");
    tcase_add_loop_test(t, parts_describe_load_and_build, 0, 2);
    tcase_add_test(t, no_parts_section_means_no_parts);
    tcase_set_timeout(t, 60);
    suite_add_tcase(s, t);
    t = tcase_create("malformed");
    tcase_add_loop_test(t, malformed_file_gives_its_error, 0,
                        sizeof bad_cases / sizeof bad_cases[0]);
    tcase_add_test(t, truncated_at_every_length);
    tcase_add_loop_test(t, random_mutations_never_crash, 0, 2);
    tcase_set_timeout(t, 120);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
