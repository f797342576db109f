/* build.c - the runnable ONNX model from the skeleton and the decoded payloads; verify. */
#include <stdlib.h>

#include "mczfmt.h"

typedef struct fill {
    const mcz_file *f;
    void **dst; /* NULL: only check the markers */
} fill;

static mcz_status put_payload(void *ctx, uint64_t ordinal, const uint8_t *raw, size_t len,
                              const uint8_t **out, size_t *out_len, mcz_error *err)
{
    fill *c = ctx;
    uint64_t i;
    (void)ordinal;
    if (!mcz_marker_parse(raw, len, &i))
        return MCZ_OK; /* not a weight: left as it is */
    if (i >= c->f->n || c->f->t[i].pub.in_skeleton)
        FAIL(MCZ_ERR_FORMAT, "%s: skeleton: marker for tensor %llu, which has no payload",
             c->f->name, ULL(i));
    *out = c->dst ? c->dst[i] : raw;
    *out_len = c->dst ? (size_t)c->f->t[i].pub.raw_bytes : len;
    return MCZ_OK;
}

mcz_status mcz_build_onnx(const mcz_file *f, int threads, uint8_t **out, size_t *out_len,
                          mcz_error *err)
{
    *out = NULL;
    *out_len = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < f->n; i++) /* raw tensors are used in place */
        if (f->t[i].pub.encoding != MCZ_ENC_RAW && (total += f->t[i].pub.raw_bytes) >= SIZE_MAX)
            FAIL(MCZ_ERR_NOMEM, "%s: decoded model too large", f->name);
    uint8_t *arena = malloc(total ? (size_t)total : 1);
    void **dst = calloc(f->n ? f->n : 1, sizeof *dst);
    mcz_status s = MCZ_OK;
    if (!arena || !dst)
        s = mcz_seterr(err, MCZ_ERR_NOMEM, "%s: out of memory for %llu decoded bytes", f->name,
                       ULL(total));
    for (size_t i = 0, pos = 0; i < f->n && !s; i++) {
        const mcz_tensor_info *p = &f->t[i].pub;
        if (!p->in_skeleton)
            dst[i] = p->encoding == MCZ_ENC_RAW ? (void *)(f->base + p->offset) : arena + pos;
        pos += p->encoding == MCZ_ENC_RAW ? 0 : (size_t)p->raw_bytes;
    }
    fill c = {f, dst};
    if (!s && !(s = mcz_run_blocks(f, threads, dst, NULL, err)))
        s = mcz_onnxwire_rewrite(f->skel, f->skel_len, put_payload, &c, out, out_len, f->name,
                                 err);
    free(arena);
    free(dst);
    return s;
}

/* Padding between payloads is zero. Payloads are in table order; a shared payload (an
 * earlier tensor's) starts before the running position and is skipped. */
static mcz_status check_padding(const mcz_file *f, mcz_error *err)
{
    uint64_t pos = MCZ_HEADER_SIZE;
    for (size_t i = 0; i <= f->n; i++) {
        const mcz_tensor_info *p = i < f->n ? &f->t[i].pub : NULL;
        uint64_t to = p ? p->offset : f->payload_end;
        if (p && (p->in_skeleton || to < pos))
            continue;
        for (; pos < to; pos++)
            if (f->base[pos])
                FAIL(MCZ_ERR_FORMAT, "%s: byte %llu: padding is not zero", f->name, ULL(pos));
        pos = p ? to + p->stored_bytes : pos;
    }
    return MCZ_OK;
}

mcz_status mcz_verify(const mcz_file *f, int threads, long *bad_tensor, mcz_error *err)
{
    mcz_status s = mcz_run_blocks(f, threads, NULL, bad_tensor, err);
    if (s || (s = check_padding(f, err)))
        return s;
    fill c = {f, NULL};
    uint8_t *out;
    size_t len;
    s = mcz_onnxwire_rewrite(f->skel, f->skel_len, put_payload, &c, &out, &len, f->name, err);
    free(out);
    return s;
}
