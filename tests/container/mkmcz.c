/* mkmcz.c - see mkmcz.h. Written from docs/format.md. */
#include "mkmcz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "mczformat.h" /* mcz_xxh64 only (checked against zstd's frame checksums by a test) */

uint8_t *mk_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    long n = -1;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "mk_slurp: cannot read %s\n", path);
        abort();
    }
    uint8_t *p = malloc((size_t)n + 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n)
        abort();
    fclose(f);
    *len = (size_t)n;
    return p;
}

uint64_t mk_rnd(uint64_t *state)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return *state >> 17;
}

void mk_put(mk_buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            abort();
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

void mk_u8(mk_buf *b, uint8_t v) { mk_put(b, &v, 1); }

void mk_set32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void mk_set64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t mk_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t mk_get64(const uint8_t *p) { return mk_get32(p) | (uint64_t)mk_get32(p + 4) << 32; }

void mk_u32(mk_buf *b, uint32_t v)
{
    uint8_t x[4];
    mk_set32(x, v);
    mk_put(b, x, 4);
}

void mk_u64(mk_buf *b, uint64_t v)
{
    uint8_t x[8];
    mk_set64(x, v);
    mk_put(b, x, 8);
}

void mk_zero(mk_buf *b, size_t n)
{
    static const uint8_t z[64];
    while (n) {
        size_t k = n < 64 ? n : 64;
        mk_put(b, z, k);
        n -= k;
    }
}

void pb_varint(mk_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        mk_u8(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    mk_u8(b, (uint8_t)v);
}

void pb_bytes(mk_buf *b, uint32_t field, const void *p, size_t n)
{
    pb_varint(b, (uint64_t)field << 3 | 2);
    pb_varint(b, n);
    mk_put(b, p, n);
}

void pb_uint(mk_buf *b, uint32_t field, uint64_t v)
{
    pb_varint(b, (uint64_t)field << 3);
    pb_varint(b, v);
}

void mk_onnx(mk_buf *out, const mk_tensor_spec *t, size_t n)
{
    mk_buf g = {0}, opset = {0};
    pb_bytes(&g, 2, "g", 1); /* GraphProto.name */
    for (size_t i = 0; i < n; i++) {
        mk_buf tp = {0};
        for (int k = 0; k < t[i].rank; k++)
            pb_uint(&tp, 1, (uint64_t)t[i].dims[k]); /* dims */
        pb_uint(&tp, 2, (uint64_t)t[i].dtype);      /* data_type */
        pb_bytes(&tp, 8, t[i].name, strlen(t[i].name));
        if (t[i].data) {
            pb_bytes(&tp, 9, t[i].data, t[i].len);   /* raw_data */
        } else {
            uint8_t mk[16] = {'M', 'C', 'Z', 1, 'W', 'G', 'T', 0};
            mk_set64(mk + 8, t[i].marker);
            pb_bytes(&tp, 9, mk, 16);
        }
        pb_bytes(&g, 5, tp.p, tp.n);                 /* initializer */
        free(tp.p);
    }
    pb_uint(&opset, 2, 17);
    pb_uint(out, 1, 8);               /* ir_version */
    pb_bytes(out, 8, opset.p, opset.n); /* opset_import */
    pb_bytes(out, 7, g.p, g.n);       /* graph */
    free(g.p);
    free(opset.p);
}

void mk_begin(mk_mcz *m)
{
    memset(m, 0, sizeof *m);
    uint8_t h[64] = {'M', 'C', 'Z', 0x89, '\r', '\n', 0x1a, '\n'};
    mk_set32(h + 8, 1);
    mk_set32(h + 12, 64);
    mk_set64(h + 56, mcz_xxh64(h, 56));
    mk_put(&m->file, h, 64);
}

static size_t elem_size(int32_t dtype)
{
    switch (dtype) {
    case 10: case 16: case 4: case 5: return 2;
    case 1: case 6: case 12: return 4;
    case 7: case 11: case 13: case 14: return 8;
    default: return 1;
    }
}

/* A segment: zstd frame if strictly smaller than the plane, else the plane itself. */
static void segment(mk_mcz *m, mk_buf *blk, const uint8_t *p, size_t n, int compress)
{
    size_t cap = ZSTD_compressBound(n);
    uint8_t *z = malloc(cap ? cap : 1);
    size_t r = compress ? ZSTD_compress(z, cap, p, n, 3) : 0;
    if (compress && !ZSTD_isError(r) && r < n) {
        mk_put(blk, z, r);
        mk_u32(&m->segs, (uint32_t)r);
    } else {
        mk_put(blk, p, n);
        mk_u32(&m->segs, (uint32_t)n);
    }
    free(z);
}

static uint64_t rotl(uint64_t v, size_t E)
{
    uint64_t mask = E == 8 ? ~0ull : (1ull << (8 * E)) - 1;
    return (v << 1 | v >> (8 * E - 1)) & mask;
}

size_t mk_zstd(mk_buf *out, const void *p, size_t n)
{
    size_t cap = ZSTD_compressBound(n);
    uint8_t *z = malloc(cap);
    size_t r = ZSTD_compress(z, cap, p, n, 3);
    if (!z || ZSTD_isError(r))
        abort();
    mk_put(out, z, r);
    free(z);
    return r;
}

/* A plane stored as is, or as one zstd frame when `compress` and that is strictly smaller. */
static void plane_segment(mk_buf *seg, const uint8_t *p, size_t n, int compress)
{
    if (compress && n) {
        mk_buf z = {0};
        size_t r = mk_zstd(&z, p, n);
        if (r < n) {
            mk_put(seg, z.p, r);
            free(z.p);
            return;
        }
        free(z.p);
    }
    mk_put(seg, p, n);
}

size_t mk_sparse_block(const uint8_t *src, size_t n, size_t E, int transform, int compress,
                       mk_buf segs[9])
{
    size_t k = n / E, nnz = 0;
    uint8_t *bitmap = calloc(1, (k + 7) / 8 + 1), *pl = malloc(n + 1);
    for (size_t j = 0; j < k; j++) {
        uint64_t v = 0;
        memcpy(&v, src + j * E, E); /* little-endian host, as everywhere in these tests */
        if (!v)
            continue;
        bitmap[j / 8] |= (uint8_t)(1u << (j % 8));
        if (transform)
            v = rotl(v, E);
        for (size_t q = 0; q < E; q++)
            pl[q * k + nnz] = (uint8_t)(v >> (8 * q));
        nnz++;
    }
    memset(segs, 0, 9 * sizeof *segs);
    plane_segment(&segs[0], bitmap, (k + 7) / 8, compress);
    for (size_t q = 0; q < E; q++)
        plane_segment(&segs[1 + q], pl + q * k, nnz, compress);
    free(bitmap);
    free(pl);
    return nnz;
}

static void put_entry(mk_mcz *m, const char *name, int32_t dtype, int rank, const int64_t *dims,
                      int enc, uint64_t off, uint64_t stored, uint64_t raw, uint32_t bs,
                      unsigned planes, int transform, uint32_t flags)
{
    uint8_t e[128] = {0};
    mk_set32(e, (uint32_t)strlen(name));
    mk_set32(e + 4, (uint32_t)dtype);
    mk_set32(e + 8, (uint32_t)rank);
    mk_set32(e + 12, (uint32_t)enc);
    mk_set64(e + 16, off);
    mk_set64(e + 24, stored);
    mk_set64(e + 32, raw);
    mk_set32(e + 40, raw ? bs : 0);
    e[44] = (uint8_t)planes;
    e[45] = (uint8_t)transform;
    mk_set32(e + 48, flags);
    mk_set32(e + 52, m->part);
    mk_put(&m->entries, e, sizeof e);
    mk_put(&m->names, name, strlen(name) + 1);
    for (int k = 0; k < rank; k++)
        mk_u64(&m->dims, (uint64_t)dims[k]);
}

uint32_t mk_tensor(mk_mcz *m, const char *name, int32_t dtype, int rank, const int64_t *dims,
                   const void *data, uint64_t raw, int enc, uint32_t bs, int transform)
{
    const uint8_t *src = data;
    size_t E = enc == MK_PLANES || enc == MK_SPARSE ? elem_size(dtype) : 1;
    unsigned planes = enc == MK_SPARSE ? (unsigned)E + 1 : (unsigned)E;
    if (!bs)
        bs = 1u << 20;
    mk_zero(&m->file, (64 - m->file.n % 64) % 64);
    uint64_t off = m->file.n;
    for (uint64_t at = 0; at < raw; at += bs) {
        size_t n = (size_t)(raw - at < bs ? raw - at : bs), k = n / E;
        mk_buf blk = {0};
        if (enc == MK_SPARSE) {
            mk_buf segs[9];
            mk_sparse_block(src + at, n, E, transform, !m->store_raw, segs);
            for (unsigned q = 0; q < planes; q++) {
                mk_put(&blk, segs[q].p, segs[q].n);
                mk_u32(&m->segs, (uint32_t)segs[q].n);
                free(segs[q].p);
            }
        } else if (E == 1) {
            segment(m, &blk, src + at, n, enc != MK_RAW && !m->store_raw);
        } else {
            uint8_t *pl = malloc(n);
            for (size_t j = 0; j < k; j++) {
                uint64_t v = 0;
                memcpy(&v, src + at + j * E, E);
                if (transform)
                    v = rotl(v, E);
                for (size_t q = 0; q < E; q++)
                    pl[q * k + j] = (uint8_t)(v >> (8 * q));
            }
            for (size_t q = 0; q < E; q++)
                segment(m, &blk, pl + q * k, k, !m->store_raw);
            free(pl);
        }
        mk_u64(&m->blocks, mcz_xxh64(blk.p, blk.n));
        mk_u64(&m->blocks, mcz_xxh64(src + at, n));
        mk_put(&m->file, blk.p, blk.n);
        free(blk.p);
    }
    int tf = enc == MK_PLANES || enc == MK_SPARSE ? transform : 0;
    put_entry(m, name, dtype, rank, dims, enc, off, m->file.n - off, raw, bs, planes, tf, 0);
    return m->n++;
}

uint32_t mk_tensor_segments(mk_mcz *m, const char *name, int32_t dtype, int rank,
                            const int64_t *dims, const void *raw, uint64_t raw_size,
                            int encoding, uint32_t block_size, unsigned planes, int transform,
                            const mk_seg *segs)
{
    const uint8_t *src = raw;
    mk_zero(&m->file, (64 - m->file.n % 64) % 64);
    uint64_t off = m->file.n;
    size_t si = 0;
    for (uint64_t at = 0; at < raw_size; at += block_size) {
        size_t n = (size_t)(raw_size - at < block_size ? raw_size - at : block_size);
        size_t start = m->file.n;
        for (unsigned q = 0; q < planes; q++, si++) {
            mk_put(&m->file, segs[si].p, segs[si].n);
            mk_u32(&m->segs, (uint32_t)segs[si].n);
        }
        mk_u64(&m->blocks, mcz_xxh64(m->file.p + start, m->file.n - start));
        mk_u64(&m->blocks, mcz_xxh64(src + at, n));
    }
    put_entry(m, name, dtype, rank, dims, encoding, off, m->file.n - off, raw_size, block_size,
              planes, transform, 0);
    return m->n++;
}

uint32_t mk_inline(mk_mcz *m, const char *name, int32_t dtype, int rank, const int64_t *dims)
{
    put_entry(m, name, dtype, rank, dims, 0, 0, 0, 0, 0, 1, 0, 1);
    return m->n++;
}

uint64_t mk_qrecord(mk_mcz *m, uint32_t scale, uint32_t zero_point, int32_t axis,
                    uint32_t block_size)
{
    uint64_t at = m->qparams.n;
    mk_u32(&m->qparams, scale);
    mk_u32(&m->qparams, zero_point);
    mk_u32(&m->qparams, (uint32_t)axis);
    mk_u32(&m->qparams, block_size);
    mk_u64(&m->qparams, 0);
    m->with_qparams = 1;
    return at;
}

void mk_quantize(mk_mcz *m, uint32_t i, uint64_t aux_offset)
{
    uint8_t *e = m->entries.p + 128 * (size_t)i;
    mk_set32(e + 48, mk_get32(e + 48) | 2);
    mk_set64(e + 56, aux_offset);
    mk_set64(e + 64, 24);
}

uint64_t mk_quant(mk_mcz *m, uint32_t i, uint32_t scale, uint32_t zero_point, int32_t axis,
                  uint32_t block_size)
{
    uint64_t at = mk_qrecord(m, scale, zero_point, axis, block_size);
    mk_quantize(m, i, at);
    return at;
}

void mk_part(mk_mcz *m, const uint32_t *tensors, uint32_t tensor_count,
             const char *const *inputs, uint32_t input_count, const char *const *outputs,
             uint32_t output_count, const void *skeleton, size_t skeleton_size)
{
    mk_buf *b = &m->parts;
    mk_u32(b, tensor_count);
    mk_u32(b, input_count);
    mk_u32(b, output_count);
    mk_u32(b, 10 + m->part_count); /* node_count: a value tests can recognise */
    mk_u64(b, skeleton_size);
    for (uint32_t k = 0; k < tensor_count; k++)
        mk_u32(b, tensors[k]);
    for (uint32_t k = 0; k < input_count; k++)
        mk_put(b, inputs[k], strlen(inputs[k]) + 1);
    for (uint32_t k = 0; k < output_count; k++)
        mk_put(b, outputs[k], strlen(outputs[k]) + 1);
    mk_put(b, skeleton, skeleton_size);
    mk_zero(b, (8 - (b->n + 8) % 8) % 8); /* the section starts with the 8-byte head */
    m->part_count++;
    m->with_parts = 1;
}

static void put_section(mk_buf *ix, uint32_t kind, uint32_t flags, const void *p, size_t n)
{
    mk_u32(ix, kind);
    mk_u32(ix, flags);
    mk_u64(ix, n);
    mk_put(ix, p, n);
    mk_zero(ix, (8 - ix->n % 8) % 8);
}

uint8_t *mk_end(mk_mcz *m, int compress, size_t *len)
{
    mk_buf ix = {0};
    mk_put(&ix, "MCZINDEX", 8);
    mk_u32(&ix, m->n);
    mk_u32(&ix, 6 + !!m->extra_kind + !!m->with_qparams + !!m->with_parts);
    mk_zero(&ix, 16);
    mk_buf *sec[6] = {&m->entries, &m->names, &m->dims, &m->blocks, &m->segs, &m->skel};
    for (uint32_t k = 0; k < 6; k++) {
        put_section(&ix, k + 1, 1, sec[k]->p, sec[k]->n);
        free(sec[k]->p);
    }
    if (m->with_qparams)
        put_section(&ix, 8, m->qparams_flags, m->qparams.p, m->qparams.n);
    if (m->with_parts) {
        mk_buf ps = {0};
        mk_u32(&ps, m->part_count);
        mk_u32(&ps, 0);
        mk_put(&ps, m->parts.p, m->parts.n);
        put_section(&ix, 10, m->parts_flags, ps.p, ps.n);
        free(ps.p);
    }
    free(m->qparams.p);
    free(m->parts.p);
    if (m->extra_kind) {
        mk_u32(&ix, m->extra_kind);
        mk_u32(&ix, m->extra_flags);
        mk_u64(&ix, 3);
        mk_put(&ix, "abc", 3);
        mk_zero(&ix, 5);
    }
    mk_buf *f = &m->file;
    mk_zero(f, (64 - f->n % 64) % 64);
    uint64_t off = f->n, raw = ix.n, stored = ix.n;
    if (compress) {
        size_t cap = ZSTD_compressBound(ix.n);
        uint8_t *z = malloc(cap);
        stored = ZSTD_compress(z, cap, ix.p, ix.n, 3);
        mk_put(f, z, stored);
        free(z);
    } else {
        mk_put(f, ix.p, ix.n);
    }
    uint8_t ft[64] = {0};
    mk_set64(ft, off);
    mk_set64(ft + 8, stored);
    mk_set64(ft + 16, raw);
    mk_set32(ft + 24, compress ? 1 : 0);
    mk_set32(ft + 28, 1);
    mk_set64(ft + 32, mcz_xxh64(f->p + off, stored));
    mk_set64(ft + 40, off + stored + 64);
    mk_set64(ft + 48, mcz_xxh64(ft, 48));
    memcpy(ft + 56, "MCZ\x89" "END\n", 8);
    mk_put(f, ft, 64);
    free(ix.p);
    *len = f->n;
    return f->p;
}

size_t mk_index_offset(const uint8_t *f, size_t len)
{
    return (size_t)mk_get64(f + len - 64);
}

void mk_fix(uint8_t *f, size_t len)
{
    uint8_t *ft = f + len - 64;
    mk_set64(f + 56, mcz_xxh64(f, 56));
    size_t off = (size_t)mk_get64(ft), n = (size_t)mk_get64(ft + 8);
    if (off <= len - 64 && n <= len - 64 - off)
        mk_set64(ft + 32, mcz_xxh64(f + off, n));
    mk_set64(ft + 48, mcz_xxh64(ft, 48));
}

size_t mk_section(const uint8_t *f, size_t len, uint32_t kind)
{
    size_t ix = mk_index_offset(f, len), pos = ix + 32, end = len - 64;
    uint32_t nsec = mk_get32(f + ix + 12);
    for (uint32_t k = 0; k < nsec && pos + 16 <= end; k++) {
        if (mk_get32(f + pos) == kind)
            return pos;
        pos += 16 + (size_t)mk_get64(f + pos + 8);
        pos += (8 - (pos - ix) % 8) % 8;
    }
    return 0;
}

size_t mk_entry(const uint8_t *f, size_t len, uint32_t i)
{
    return mk_section(f, len, 1) + 16 + 128 * (size_t)i;
}

size_t mk_qrec_at(const uint8_t *f, size_t len, uint64_t aux)
{
    return mk_section(f, len, 8) + 16 + (size_t)aux;
}

size_t mk_part_record(const uint8_t *f, size_t len, uint32_t p)
{
    size_t s = mk_section(f, len, 10);
    if (!s)
        return 0;
    size_t data = s + 16, end = data + (size_t)mk_get64(f + s + 8), pos = data + 8;
    for (uint32_t k = 0; pos + 24 <= end; k++) {
        if (k == p)
            return pos;
        uint32_t nt = mk_get32(f + pos), nn = mk_get32(f + pos + 4) + mk_get32(f + pos + 8);
        size_t skel = (size_t)mk_get64(f + pos + 16);
        pos += 24 + 4 * (size_t)nt;
        for (uint32_t j = 0; j < nn && pos < end; j++)
            pos += strnlen((const char *)f + pos, end - pos) + 1;
        pos += skel;
        pos += (8 - (pos - data) % 8) % 8;
    }
    return 0;
}

/* Blocks and segments of the tensors before i (table walk). */
static void walk(const uint8_t *f, size_t len, uint32_t i, uint64_t *blocks, uint64_t *segs)
{
    *blocks = *segs = 0;
    for (uint32_t k = 0; k < i; k++) {
        const uint8_t *e = f + mk_entry(f, len, k);
        uint64_t raw = mk_get64(e + 32), bs = mk_get32(e + 40);
        uint64_t nb = raw && bs ? (raw + bs - 1) / bs : 0;
        *blocks += nb;
        *segs += nb * e[44];
    }
}

size_t mk_segsize_at(const uint8_t *f, size_t len, uint32_t i, uint64_t b, unsigned p)
{
    uint64_t blocks, segs;
    walk(f, len, i, &blocks, &segs);
    unsigned planes = f[mk_entry(f, len, i) + 44];
    return mk_section(f, len, 5) + 16 + 4 * (size_t)(segs + b * planes + p);
}

size_t mk_block_at(const uint8_t *f, size_t len, uint32_t i, uint64_t b)
{
    uint64_t blocks, segs;
    walk(f, len, i, &blocks, &segs);
    return mk_section(f, len, 4) + 16 + 16 * (size_t)(blocks + b);
}

size_t mk_segment(const uint8_t *f, size_t len, uint32_t i, uint64_t b, unsigned p)
{
    unsigned planes = f[mk_entry(f, len, i) + 44];
    size_t at = (size_t)mk_get64(f + mk_entry(f, len, i) + 16), s0 = mk_segsize_at(f, len, i, 0, 0);
    for (uint64_t k = 0; k < b * planes + p; k++)
        at += mk_get32(f + s0 + 4 * k);
    return at;
}

void mk_fix_block(uint8_t *f, size_t len, uint32_t i, uint64_t b)
{
    unsigned planes = f[mk_entry(f, len, i) + 44];
    size_t at = mk_segment(f, len, i, b, 0), s = mk_segsize_at(f, len, i, b, 0), n = 0;
    for (unsigned p = 0; p < planes; p++)
        n += mk_get32(f + s + 4 * p);
    mk_set64(f + mk_block_at(f, len, i, b), mcz_xxh64(f + at, n));
}
