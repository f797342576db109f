/* onnxwire.c - see onnxwire.h. Two passes over the wire bytes: the first measures every
 * rewritten message (calling the callback once per raw_data), the second writes. */
#include "onnxwire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

/* The skeleton marker, written by libcompress and read by the loader: here, once. */
void mcz_marker_make(uint64_t index, uint8_t out[MCZ_MARKER_LEN])
{
    memcpy(out, MCZ_MARKER_MAGIC, 8);
    for (int i = 0; i < 8; i++)
        out[8 + i] = (uint8_t)(index >> (8 * i));
}

int mcz_marker_parse(const uint8_t *p, size_t len, uint64_t *index)
{
    if (len != MCZ_MARKER_LEN || memcmp(p, MCZ_MARKER_MAGIC, 8) != 0)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[8 + i] << (8 * i);
    *index = v;
    return 1;
}

mcz_status mcz_marker_dispatch(void *cb, uint64_t ordinal, const uint8_t *raw, size_t len,
                               const uint8_t **out, size_t *out_len, mcz_error *err)
{
    const mcz_marker_cb *c = cb;
    uint64_t index;
    (void)ordinal;
    return mcz_marker_parse(raw, len, &index) ? c->fn(c->ctx, index, raw, len, out, out_len, err)
                                              : MCZ_OK;
}

enum msg { M_MODEL, M_GRAPH, M_NODE, M_ATTR, M_TENSOR, M_RAW, M_NONE };

/* Which message a length-delimited field of `parent` holds, along the tensor paths. */
static enum msg child_of(enum msg parent, uint32_t field)
{
    switch (parent) {
    case M_MODEL: return field == 7 ? M_GRAPH : M_NONE;
    case M_GRAPH: return field == 1 ? M_NODE : field == 5 ? M_TENSOR : M_NONE;
    case M_NODE: return field == 5 ? M_ATTR : M_NONE;
    case M_ATTR:
        if (field == 5 || field == 10) return M_TENSOR;
        if (field == 6 || field == 11) return M_GRAPH;
        return M_NONE;
    case M_TENSOR: return field == 9 ? M_RAW : M_NONE;
    default: return M_NONE;
    }
}

struct repl {
    const uint8_t *p;
    size_t n;
};

typedef struct wstate {
    const uint8_t *base;
    const char *what;
    mcz_raw_fn fn;
    void *ctx;
    mcz_error *err;
    uint64_t ordinal;
    size_t *lens; /* rewritten lengths of descended messages, in pre-order */
    size_t nlens, caplens;
    struct repl *repl; /* replacements, in order */
    size_t nrepl, caprepl;
} wstate;

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t varint_put(uint8_t *o, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        o[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    o[n++] = (uint8_t)v;
    return n;
}

/* Reads a varint at *p (< end). Returns 0 on success. */
static int varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int i = 0; i < 10; i++) {
        if (*p >= end)
            return -1;
        uint8_t b = *(*p)++;
        if (i == 9 && b > 1)
            return -1;
        r |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* One field as read from the wire. */
typedef struct field {
    const uint8_t *start;   /* first byte of the tag */
    const uint8_t *payload; /* for wire type 2: first byte of the payload */
    const uint8_t *end;     /* one past the field */
    uint32_t number;
    int wire;
    size_t taglen;
} field;

static mcz_status next_field(wstate *st, const uint8_t **p, const uint8_t *end, field *f)
{
    uint64_t tag, v;
    f->start = *p;
    if (varint_get(p, end, &tag) != 0 || tag > UINT32_MAX || (tag >> 3) == 0)
        return mcz_seterr(st->err, MCZ_ERR_FORMAT, "%s: invalid protobuf: bad field tag at byte %zu",
                          st->what, (size_t)(f->start - st->base));
    f->number = (uint32_t)(tag >> 3);
    f->wire = (int)(tag & 7);
    f->taglen = (size_t)(*p - f->start);
    f->payload = NULL;
    size_t remain;
    switch (f->wire) {
    case 0:
        if (varint_get(p, end, &v) != 0)
            goto truncated;
        break;
    case 1:
    case 5:
        remain = (size_t)(end - *p);
        if (remain < (f->wire == 1 ? 8u : 4u))
            goto truncated;
        *p += f->wire == 1 ? 8 : 4;
        break;
    case 2:
        if (varint_get(p, end, &v) != 0)
            goto truncated;
        if (v > (uint64_t)(end - *p))
            return mcz_seterr(st->err, MCZ_ERR_FORMAT,
                              "%s: truncated or invalid protobuf: field %u at byte %zu claims %llu "
                              "bytes, %zu remain",
                              st->what, f->number, (size_t)(f->start - st->base),
                              (unsigned long long)v, (size_t)(end - *p));
        f->payload = *p;
        *p += v;
        break;
    default:
        return mcz_seterr(st->err, MCZ_ERR_FORMAT,
                          "%s: invalid protobuf: unsupported wire type %d at byte %zu", st->what,
                          f->wire, (size_t)(f->start - st->base));
    }
    f->end = *p;
    return MCZ_OK;
truncated:
    return mcz_seterr(st->err, MCZ_ERR_FORMAT,
                      "%s: truncated protobuf: field %u at byte %zu runs past the end", st->what,
                      f->number, (size_t)(f->start - st->base));
}

static mcz_status grow(void **arr, size_t *cap, size_t need, size_t elem, mcz_error *err)
{
    if (need <= *cap)
        return MCZ_OK;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    void *n = realloc(*arr, ncap * elem);
    if (!n)
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    *arr = n;
    *cap = ncap;
    return MCZ_OK;
}

static mcz_status measure(wstate *st, const uint8_t *p, const uint8_t *end, enum msg type,
                          int depth, size_t *out_len)
{
    if (depth > MAX_DEPTH)
        return mcz_seterr(st->err, MCZ_ERR_LIMIT, "%s: messages nested deeper than %d at byte %zu",
                          st->what, MAX_DEPTH, (size_t)(p - st->base));
    size_t total = 0;
    while (p < end) {
        field f;
        mcz_status s = next_field(st, &p, end, &f);
        if (s)
            return s;
        enum msg child = f.wire == 2 ? child_of(type, f.number) : M_NONE;
        if (child == M_NONE) {
            if (f.wire != 2 && child_of(type, f.number) != M_NONE)
                return mcz_seterr(st->err, MCZ_ERR_FORMAT,
                                  "%s: invalid protobuf: field %u at byte %zu has wire type %d, "
                                  "expected a length-delimited field",
                                  st->what, f.number, (size_t)(f.start - st->base), f.wire);
            total += (size_t)(f.end - f.start);
            continue;
        }
        size_t clen;
        if (child == M_RAW) {
            const uint8_t *rp = f.payload;
            size_t rn = (size_t)(f.end - f.payload);
            s = st->fn(st->ctx, st->ordinal++, f.payload, rn, &rp, &rn, st->err);
            if (s)
                return s;
            if ((s = grow((void **)&st->repl, &st->caprepl, st->nrepl + 1, sizeof *st->repl,
                          st->err)))
                return s;
            st->repl[st->nrepl++] = (struct repl){rp, rn};
            clen = rn;
        } else {
            if ((s = grow((void **)&st->lens, &st->caplens, st->nlens + 1, sizeof *st->lens,
                          st->err)))
                return s;
            size_t slot = st->nlens++;
            if ((s = measure(st, f.payload, f.end, child, depth + 1, &clen)))
                return s;
            st->lens[slot] = clen;
        }
        if (clen > SIZE_MAX / 2 || total > SIZE_MAX / 2 - clen - 32)
            return mcz_seterr(st->err, MCZ_ERR_LIMIT, "%s: rewritten model too large", st->what);
        total += f.taglen + varint_size(clen) + clen;
    }
    *out_len = total;
    return MCZ_OK;
}

/* Where the second pass writes: a buffer of the measured size, or a sink. */
typedef struct emitter {
    uint8_t *buf;
    size_t pos;
    mcz_wire_sink sink;
    void *sink_ctx;
    mcz_error *err;
    mcz_status st;
} emitter;

static void put(emitter *e, const void *p, size_t n)
{
    if (e->st != MCZ_OK || n == 0)
        return;
    if (e->buf) {
        memcpy(e->buf + e->pos, p, n);
        e->pos += n;
    } else {
        e->st = e->sink(e->sink_ctx, p, n, e->err);
    }
}

static void put_varint(emitter *e, uint64_t v)
{
    uint8_t tmp[10];
    put(e, tmp, varint_put(tmp, v));
}

/* Second pass: the input was validated by measure(), so fields parse again without error. */
static void emit(wstate *st, const uint8_t *p, const uint8_t *end, enum msg type, emitter *e,
                 size_t *li, size_t *ri)
{
    while (p < end && e->st == MCZ_OK) {
        field f;
        (void)next_field(st, &p, end, &f);
        enum msg child = f.wire == 2 ? child_of(type, f.number) : M_NONE;
        if (child == M_NONE) {
            put(e, f.start, (size_t)(f.end - f.start));
            continue;
        }
        put(e, f.start, f.taglen);
        if (child == M_RAW) {
            struct repl r = st->repl[(*ri)++];
            put_varint(e, r.n);
            put(e, r.p, r.n);
        } else {
            size_t clen = st->lens[(*li)++];
            put_varint(e, clen);
            emit(st, f.payload, f.end, child, e, li, ri);
        }
    }
}

static mcz_status rewrite(const uint8_t *in, size_t in_len, mcz_raw_fn fn, void *ctx,
                          emitter *e, size_t *out_len, const char *what, mcz_error *err)
{
    wstate st = {.base = in, .what = what ? what : "model", .fn = fn, .ctx = ctx, .err = err};
    size_t total = 0;
    mcz_status s = measure(&st, in, in + in_len, M_MODEL, 0, &total);
    if (s == MCZ_OK && !e->sink && !(e->buf = malloc(total ? total : 1)))
        s = mcz_seterr(err, MCZ_ERR_NOMEM, "%s: out of memory for %zu bytes", st.what, total);
    if (s == MCZ_OK) {
        size_t li = 0, ri = 0;
        emit(&st, in, in + in_len, M_MODEL, e, &li, &ri);
        s = e->st;
        *out_len = total;
    }
    free(st.lens);
    free(st.repl);
    return s;
}

mcz_status mcz_onnxwire_rewrite(const uint8_t *in, size_t in_len, mcz_raw_fn fn, void *ctx,
                                uint8_t **out, size_t *out_len, const char *what,
                                mcz_error *err)
{
    emitter e = {.err = err};
    *out = NULL;
    *out_len = 0;
    mcz_status s = rewrite(in, in_len, fn, ctx, &e, out_len, what, err);
    if (s != MCZ_OK) {
        free(e.buf);
        *out_len = 0;
        return s;
    }
    *out = e.buf;
    return MCZ_OK;
}

mcz_status mcz_onnxwire_stream(const uint8_t *in, size_t in_len, mcz_raw_fn fn, void *ctx,
                               mcz_wire_sink sink, void *sink_ctx, uint64_t *out_len,
                               const char *what, mcz_error *err)
{
    emitter e = {.sink = sink, .sink_ctx = sink_ctx, .err = err};
    size_t n = 0;
    mcz_status s = rewrite(in, in_len, fn, ctx, &e, &n, what, err);
    if (out_len)
        *out_len = n;
    return s;
}
