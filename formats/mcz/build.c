/* build.c - the runnable ONNX model from the skeleton and the decoded payloads; verify. */
#include <stdlib.h>

#include "loader_impl.h"

typedef struct fill {
    const mcz_file *f;
    void **dst;         /* NULL: only check the markers */
    const uint8_t *in;  /* with dst NULL: tensors the skeleton may name (NULL: all) */
} fill;

static mcz_status put_payload(void *ctx, uint64_t i, const uint8_t *raw, size_t len,
                              const uint8_t **out, size_t *out_len, mcz_error *err)
{
    fill *c = ctx;
    if (i >= c->f->n || c->f->t[i].pub.in_skeleton || (c->dst ? !c->dst[i] : c->in && !c->in[i]))
        FAIL(MCZ_ERR_FORMAT, "%s: skeleton: marker for tensor %llu, which has no payload%s",
             c->f->name, ULL(i), i < c->f->n ? " or is not in the partition" : "");
    *out = c->dst ? c->dst[i] : raw;
    *out_len = c->dst ? (size_t)c->f->t[i].pub.raw_bytes : len;
    return MCZ_OK;
}

mcz_status mcz_build(const mcz_file *f, const uint8_t *skel, size_t len, const uint32_t *sel,
                     size_t n, int threads, uint8_t **out, size_t *out_len, mcz_error *err)
{
    *out = NULL;
    *out_len = 0;
    uint64_t total = 0;
    n = sel ? n : f->n;
    for (size_t k = 0; k < n; k++) { /* raw tensors are used in place */
        const mcz_tensor_info *p = &f->t[sel ? sel[k] : k].pub;
        if (p->encoding != MCZ_ENC_RAW && (total += p->raw_bytes) >= SIZE_MAX)
            FAIL(MCZ_ERR_NOMEM, "%s: decoded model too large", f->name);
    }
    uint8_t *arena = malloc(total ? (size_t)total : 1);
    void **dst = calloc(f->n ? f->n : 1, sizeof *dst);
    mcz_status s = MCZ_OK;
    if (!arena || !dst)
        s = mcz_seterr(err, MCZ_ERR_NOMEM, "%s: out of memory for %llu decoded bytes", f->name,
                       ULL(total));
    for (size_t k = 0, pos = 0; k < n && !s; k++) {
        const mcz_tensor_info *p = &f->t[sel ? sel[k] : k].pub;
        if (!p->in_skeleton)
            dst[sel ? sel[k] : k] = p->encoding == MCZ_ENC_RAW ? (void *)(f->base + p->offset)
                                                               : arena + pos;
        pos += p->encoding == MCZ_ENC_RAW ? 0 : (size_t)p->raw_bytes;
    }
    fill c = {f, dst, NULL};
    mcz_marker_cb mc = {put_payload, &c};
    if (!s && !(s = mcz_run_blocks(f, threads, dst, NULL, err)))
        s = mcz_onnxwire_rewrite(skel, len, mcz_marker_dispatch, &mc, out, out_len, f->name,
                                 err);
    free(arena);
    free(dst);
    return s;
}

mcz_status mcz_build_onnx(const mcz_file *f, int threads, uint8_t **out, size_t *out_len,
                          mcz_error *err)
{
    return mcz_build(f, f->skel, f->skel_len, NULL, 0, threads, out, out_len, err);
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
    fill c = {f, NULL, NULL};
    mcz_marker_cb mc = {put_payload, &c};
    uint8_t *out = NULL, *in = calloc(f->n ? f->n : 1, 1);
    size_t len;
    if (!in)
        FAIL(MCZ_ERR_NOMEM, "%s: out of memory", f->name);
    /* the whole model's skeleton (p = 0), then each part's naming only its own tensors */
    for (size_t p = 0; p <= f->nparts && !s; p++) {
        const mcz_part_desc *d = p ? &f->parts[p - 1].pub : NULL;
        for (size_t k = 0; d && k < d->tensor_count; k++)
            in[d->tensors[k]] = 1;
        c.in = d ? in : NULL;
        free(out);
        s = mcz_onnxwire_rewrite(d ? f->parts[p - 1].skel : f->skel,
                                 d ? (size_t)d->skeleton_bytes : f->skel_len,
                                 mcz_marker_dispatch, &mc, &out, &len, f->name, err);
        for (size_t k = 0; d && k < d->tensor_count; k++)
            in[d->tensors[k]] = 0;
    }
    free(in);
    free(out);
    return s;
}
