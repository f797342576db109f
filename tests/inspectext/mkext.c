/* mkext.c - mkext OUT.mcz: a small .mcz with every container feature mcz-inspect shows, written
 * by hand from docs/format.md (not by the library's writer), so the inspect tests do not
 * depend on mcz-quantize / mcz-partition and know every value in the file:
 *
 *   x[1,8] -> Gemm(x, DequantizeLinear(w_q, w_scale, axis 0), transB) -> h[1,4]     part 0
 *   h -> MatMul(h, DequantizeLinear(u_q, u_scale, u_zp, axis 1, block 16)) -> Add b -> y  part 1
 *
 *   0 w_q      int8 [4,8]   zstd encoding (segments stored), quantized per channel (axis 0)
 *   1 w_scale  float [4]    raw
 *   2 u_q      uint4 [4,32] raw, quantized block-wise (axis 1, block 16) with zero points
 *   3 u_scale  float [4,2]  planes (4 planes, sign rotated)
 *   4 u_zp     uint4 [4,2]  raw
 *   5 b        float [32]   sparse (16 of 32 zero: sparsity 50%)
 *
 * Exit 0 on success, 1 on an I/O error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mczformat.h" /* mcz_xxh64 only */
#include "mkmcz.h"

/* ---- protobuf, just enough ONNX (the byte writers are tests/container/mkmcz.h's) ---- */

static void pstr(mk_buf *b, uint32_t field, const char *s) { pb_bytes(b, field, s, strlen(s)); }

/* Append sub-message `m` as field `field` of `b`, and free it. */
static void pmsg(mk_buf *b, uint32_t field, mk_buf *m)
{
    pb_bytes(b, field, m->p, m->n);
    free(m->p);
    *m = (mk_buf){0};
}

enum { T_W_Q, T_W_SCALE, T_U_Q, T_U_SCALE, T_U_ZP, T_B, NT };

typedef struct spec {
    const char *name;
    int32_t dtype;
    int rank;
    int64_t dims[2];
} spec;

static const spec specs[NT] = {
    {"w_q", 3, 2, {4, 8}},     {"w_scale", 1, 1, {4, 0}}, {"u_q", 21, 2, {4, 32}},
    {"u_scale", 1, 2, {4, 2}}, {"u_zp", 21, 2, {4, 2}},   {"b", 1, 1, {32, 0}},
};

/* An initializer whose raw_data is the marker of tensor t (format.md 7). */
static void marker_init(mk_buf *g, int t)
{
    mk_buf tp = {0};
    for (int k = 0; k < specs[t].rank; k++)
        pb_uint(&tp, 1, (uint64_t)specs[t].dims[k]);
    pb_uint(&tp, 2, (uint64_t)specs[t].dtype);
    pstr(&tp, 8, specs[t].name);
    uint8_t mk[16] = {'M', 'C', 'Z', 1, 'W', 'G', 'T', 0};
    mk_set64(mk + 8, (uint64_t)t);
    pb_bytes(&tp, 9, mk, 16);
    pmsg(g, 5, &tp);
}

/* A float graph input or output (field 11 or 12) of shape [1, d]. */
static void value_info(mk_buf *g, uint32_t field, const char *name, int64_t d)
{
    mk_buf vi = {0}, ty = {0}, tt = {0}, sh = {0}, dim = {0};
    pb_uint(&dim, 1, 1);
    pmsg(&sh, 1, &dim);
    pb_uint(&dim, 1, (uint64_t)d);
    pmsg(&sh, 1, &dim);
    pb_uint(&tt, 1, 1);
    pmsg(&tt, 2, &sh);
    pmsg(&ty, 1, &tt);
    pstr(&vi, 1, name);
    pmsg(&vi, 2, &ty);
    pmsg(g, field, &vi);
}

static void int_attr(mk_buf *n, const char *name, int64_t v)
{
    mk_buf a = {0};
    pstr(&a, 1, name);
    pb_uint(&a, 3, (uint64_t)v);
    pb_uint(&a, 20, 2); /* AttributeProto.type = INT */
    pmsg(n, 5, &a);
}

/* A node: inputs (NULL-terminated), one output. */
static mk_buf node(const char *op, const char *name, const char *const *in, const char *out)
{
    mk_buf n = {0};
    for (; *in; in++)
        pstr(&n, 1, *in);
    pstr(&n, 2, out);
    pstr(&n, 3, name);
    pstr(&n, 4, op);
    return n;
}

static void part0_nodes(mk_buf *g)
{
    mk_buf n = node("DequantizeLinear", "dq_w", (const char *[]){"w_q", "w_scale", NULL}, "w");
    int_attr(&n, "axis", 0);
    pmsg(g, 1, &n);
    n = node("Gemm", "gemm", (const char *[]){"x", "w", NULL}, "h");
    int_attr(&n, "transB", 1);
    pmsg(g, 1, &n);
}

static void part1_nodes(mk_buf *g)
{
    mk_buf n = node("DequantizeLinear", "dq_u", (const char *[]){"u_q", "u_scale", "u_zp", NULL},
                 "u");
    int_attr(&n, "axis", 1);
    int_attr(&n, "block_size", 16);
    pmsg(g, 1, &n);
    n = node("MatMul", "matmul", (const char *[]){"h", "u", NULL}, "hu");
    pmsg(g, 1, &n);
    n = node("Add", "add", (const char *[]){"hu", "b", NULL}, "y");
    pmsg(g, 1, &n);
}

/* A ModelProto (IR 10, opset 21). which: -1 the whole model, else part 0 or 1. */
static void model(mk_buf *out, int which)
{
    mk_buf g = {0}, op = {0};
    if (which <= 0)
        part0_nodes(&g);
    if (which != 0)
        part1_nodes(&g);
    pstr(&g, 2, which < 0 ? "main" : which ? "part1" : "part0");
    for (int t = which == 1 ? T_U_Q : 0; t < (which == 0 ? T_U_Q : NT); t++)
        marker_init(&g, t);
    value_info(&g, 11, which == 1 ? "h" : "x", which == 1 ? 4 : 8);
    value_info(&g, 12, which == 0 ? "h" : "y", which == 0 ? 4 : 32);
    pb_uint(out, 1, 10);
    pstr(out, 2, "mkext");
    pb_uint(&op, 2, 21);
    pmsg(out, 8, &op);
    pmsg(out, 7, &g);
}

/* ---- the container -------------------------------------------------------------------- */

typedef struct mk {
    mk_buf file, entries, names, dims, blocks, segs;
} mk;

/* Append tensor t's payload as one block of `nseg` segments (each stored as is), its index
 * entries, and its table entry with `enc`, `planes`, `transform`, `flags`, part, aux. */
static void put_tensor(mk *m, int t, const void *raw, size_t raw_size, int enc, const mk_buf *segs,
                   int nseg, int transform, uint32_t flags, uint32_t part, uint64_t aux)
{
    while (m->file.n % 64)
        mk_u8(&m->file, 0);
    uint64_t off = m->file.n;
    for (int k = 0; k < nseg; k++) {
        mk_put(&m->file, segs[k].p, segs[k].n);
        mk_u32(&m->segs, (uint32_t)segs[k].n);
    }
    mk_u64(&m->blocks, mcz_xxh64(m->file.p + off, m->file.n - off));
    mk_u64(&m->blocks, mcz_xxh64(raw, raw_size));
    uint8_t e[128] = {0};
    mk_set32(e, (uint32_t)strlen(specs[t].name));
    mk_set32(e + 4, (uint32_t)specs[t].dtype);
    mk_set32(e + 8, (uint32_t)specs[t].rank);
    mk_set32(e + 12, (uint32_t)enc);
    mk_set64(e + 16, off);
    mk_set64(e + 24, m->file.n - off);
    mk_set64(e + 32, raw_size);
    mk_set32(e + 40, (uint32_t)raw_size); /* one block */
    e[44] = (uint8_t)nseg;
    e[45] = (uint8_t)transform;
    mk_set32(e + 48, flags);
    mk_set32(e + 52, part);
    if (flags & 2) {
        mk_set64(e + 56, aux);
        mk_set64(e + 64, 24);
    }
    mk_put(&m->entries, e, sizeof e);
    mk_put(&m->names, specs[t].name, strlen(specs[t].name) + 1);
    for (int k = 0; k < specs[t].rank; k++)
        mk_u64(&m->dims, (uint64_t)specs[t].dims[k]);
}

static uint32_t rotl32(uint32_t v) { return v << 1 | v >> 31; }

/* The 4 byte planes of n floats, sign rotated, appended to segs[0..3]. */
static void float_planes(const float *v, size_t n, mk_buf *segs)
{
    for (size_t j = 0; j < n; j++) {
        uint32_t x;
        memcpy(&x, &v[j], 4);
        x = rotl32(x);
        for (int p = 0; p < 4; p++)
            mk_u8(&segs[p], (uint8_t)(x >> (8 * p)));
    }
}

static void section(mk_buf *ix, uint32_t kind, uint32_t flags, mk_buf *data)
{
    mk_u32(ix, kind);
    mk_u32(ix, flags);
    mk_u64(ix, data->n);
    mk_put(ix, data->p, data->n);
    while (ix->n % 8)
        mk_u8(ix, 0);
    free(data->p);
    *data = (mk_buf){0};
}

static void names(mk_buf *b, const char *const *v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        mk_put(b, v[k], strlen(v[k]) + 1);
}

/* One PARTS record (format.md 7a). */
static void part_record(mk_buf *ps, const uint32_t *tensors, size_t nt, const char *in,
                        const char *out, int which)
{
    mk_buf sk = {0};
    model(&sk, which);
    mk_u32(ps, (uint32_t)nt);
    mk_u32(ps, 1);
    mk_u32(ps, 1);
    mk_u32(ps, which ? 3 : 2); /* node_count: part0_nodes makes 2 nodes, part1_nodes 3 */
    mk_u64(ps, sk.n);
    for (size_t k = 0; k < nt; k++)
        mk_u32(ps, tensors[k]);
    names(ps, &in, 1);
    names(ps, &out, 1);
    mk_put(ps, sk.p, sk.n);
    while (ps->n % 8)
        mk_u8(ps, 0);
    free(sk.p);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkext OUT.mcz\n");
        return 2;
    }
    mk m = {0};
    uint8_t h[64] = {'M', 'C', 'Z', 0x89, '\r', '\n', 0x1a, '\n'};
    mk_set32(h + 8, 1);
    mk_set32(h + 12, 64);
    mk_set64(h + 56, mcz_xxh64(h, 56));
    mk_put(&m.file, h, 64);

    int8_t wq[32];
    for (int i = 0; i < 32; i++)
        wq[i] = (int8_t)(i % 8 == 0 ? 0 : i - 16); /* 4 zero codes: 0 and i = 16 */
    float wscale[4] = {0.5f, 0.25f, 0.125f, 1.0f};
    uint8_t uq[64]; /* 128 uint4 codes, two per byte */
    for (int i = 0; i < 64; i++)
        uq[i] = (uint8_t)((i % 16) | ((15 - i % 16) << 4));
    float uscale[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t uzp[4] = {0x88, 0x88, 0x88, 0x88}; /* zero point 8 everywhere */
    float b[32];
    for (int i = 0; i < 32; i++)
        b[i] = i % 2 ? (float)i * 0.5f - 4.0f : 0.0f; /* the even ones: 16 zeros */

    mk_buf seg[5] = {{0}};
    mk_put(&seg[0], wq, sizeof wq); /* zstd encoding, segment stored as is (s == m) */
    put_tensor(&m, T_W_Q, wq, sizeof wq, 1, seg, 1, 0, 2, 0, 0);
    free(seg[0].p);
    seg[0] = (mk_buf){0};
    mk_put(&seg[0], wscale, sizeof wscale);
    put_tensor(&m, T_W_SCALE, wscale, sizeof wscale, 0, seg, 1, 0, 0, 0, 0);
    free(seg[0].p);
    seg[0] = (mk_buf){0};
    mk_put(&seg[0], uq, sizeof uq);
    put_tensor(&m, T_U_Q, uq, sizeof uq, 0, seg, 1, 0, 2, 1, 24);
    free(seg[0].p);
    seg[0] = (mk_buf){0};
    float_planes(uscale, 8, seg);
    put_tensor(&m, T_U_SCALE, uscale, sizeof uscale, 2, seg, 4, 1, 0, 1, 0);
    for (int p = 0; p < 4; p++) {
        free(seg[p].p);
        seg[p] = (mk_buf){0};
    }
    mk_put(&seg[0], uzp, sizeof uzp);
    put_tensor(&m, T_U_ZP, uzp, sizeof uzp, 0, seg, 1, 0, 0, 1, 0);
    free(seg[0].p);
    seg[0] = (mk_buf){0};
    /* sparse: bitmap of 32 bits, then the 16 non-zero floats as 4 rotated planes */
    float nz[16];
    size_t nnz = 0;
    uint8_t bitmap[4] = {0};
    for (int i = 0; i < 32; i++)
        if (b[i] != 0.0f) {
            bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
            nz[nnz++] = b[i];
        }
    mk_put(&seg[0], bitmap, sizeof bitmap);
    float_planes(nz, nnz, seg + 1);
    put_tensor(&m, T_B, b, sizeof b, 3, seg, 5, 1, 0, 1, 0);
    for (int p = 0; p < 5; p++)
        free(seg[p].p);

    mk_buf skel = {0}, qp = {0}, ps = {0}, ix = {0};
    model(&skel, -1);
    mk_u32(&qp, T_W_SCALE); /* w_q: per channel along axis 0, no zero point */
    mk_u32(&qp, 0);
    mk_u32(&qp, 0);
    mk_u32(&qp, 0);
    mk_u64(&qp, 0);
    mk_u32(&qp, T_U_SCALE); /* u_q: blocks of 16 along axis 1, zero points u_zp */
    mk_u32(&qp, T_U_ZP + 1);
    mk_u32(&qp, 1);
    mk_u32(&qp, 16);
    mk_u64(&qp, 0);
    mk_u32(&ps, 2);
    mk_u32(&ps, 0);
    part_record(&ps, (const uint32_t[]){T_W_Q, T_W_SCALE}, 2, "x", "h", 0);
    part_record(&ps, (const uint32_t[]){T_U_Q, T_U_SCALE, T_U_ZP, T_B}, 4, "h", "y", 1);

    mk_put(&ix, "MCZINDEX", 8);
    mk_u32(&ix, NT);
    mk_u32(&ix, 8);
    mk_zero(&ix, 16);
    section(&ix, 1, 1, &m.entries);
    section(&ix, 2, 1, &m.names);
    section(&ix, 3, 1, &m.dims);
    section(&ix, 4, 1, &m.blocks);
    section(&ix, 5, 1, &m.segs);
    section(&ix, 6, 1, &skel);
    section(&ix, 8, 1, &qp);
    section(&ix, 10, 1, &ps);

    mk_buf *f = &m.file;
    while (f->n % 64)
        mk_u8(f, 0);
    uint64_t off = f->n;
    mk_put(f, ix.p, ix.n);
    uint8_t ft[64] = {0};
    mk_set64(ft, off);
    mk_set64(ft + 8, ix.n);
    mk_set64(ft + 16, ix.n);
    mk_set32(ft + 28, 1);
    mk_set64(ft + 32, mcz_xxh64(ix.p, ix.n));
    mk_set64(ft + 40, off + ix.n + 64);
    mk_set64(ft + 48, mcz_xxh64(ft, 48));
    memcpy(ft + 56, "MCZ\x89" "END\n", 8);
    mk_put(f, ft, 64);
    free(ix.p);

    FILE *o = fopen(argv[1], "wb");
    int ok = o && fwrite(f->p, 1, f->n, o) == f->n;
    ok = o && fclose(o) == 0 && ok;
    free(f->p);
    if (!ok) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
