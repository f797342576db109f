/* unpack.c - .mcz -> model, through the loader library (one reader). mcz-unpack streams the
 * skeleton to the output, decoding one tensor at a time; models over 2 GiB (external data)
 * and mcz_model_load_mcz go through the loader's in-memory build and the ONNX importer. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/outfile.h"
#include "mcz/pack.h"
#include "onnx/model_impl.h" /* mcz_release_mapped */
#include "mczformat.h"

mcz_model *mcz_model_load_mcz(const char *path, int threads, mcz_error *err)
{
    mcz_file *f = mcz_open(path, err);
    if (!f)
        return NULL;
    uint8_t *buf;
    size_t len;
    mcz_status s = mcz_build_onnx(f, threads, &buf, &len, err);
    mcz_close(f);
    return s ? NULL : mcz_model_load_onnx_buffer(buf, len, path, err);
}

int mcz_is_container(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char head[8];
    int yes = fp && fread(head, 1, 8, fp) == 8 && memcmp(head, MCZ_MAGIC, 8) == 0;
    if (fp)
        fclose(fp);
    return yes;
}

mcz_model *mcz_model_load_any(const char *path, int threads, mcz_error *err)
{
    return mcz_is_container(path) ? mcz_model_load_mcz(path, threads, err)
                                  : mcz_model_load_onnx(path, err);
}

/* ---- streaming: skeleton + one decoded tensor at a time -> the output file ----
 *
 * Building the whole model in memory (the loader's mcz_build_onnx) holds the decoded weights,
 * the built model and the mapped container at once: about 2.8x the model at the peak. Instead
 * the skeleton is streamed through onnxwire to the output; each weight's replacement is a tag
 * (an address inside `tag`, one per tensor) that onnxwire passes to the sink untouched (its
 * documented contract: replacements go to the sink as they are, never copied), and the sink
 * decodes that tensor only then, writes it and drops the container pages it came from. */
typedef struct ustream {
    mcz_file *f;
    const char *in;       /* the container's path, for messages */
    size_t n;             /* its tensor count */
    const uint8_t *base;  /* its bytes, to release the pages of a decoded tensor */
    const uint8_t *tag;   /* n bytes: tensor i's replacement is tag + i */
    uint8_t *buf;
    size_t cap;
    int threads;
    mcz_outfile *out;
    const mcz_unpack_opts *o;
} ustream;

static mcz_status tag_tensor(void *ctx, uint64_t i, const uint8_t *raw, size_t len,
                             const uint8_t **out, size_t *out_len, mcz_error *err)
{
    ustream *u = ctx;
    (void)raw, (void)len;
    const mcz_tensor_info *t = i < u->n ? mcz_tensor(u->f, (size_t)i) : NULL;
    if (!t || t->in_skeleton)
        return mcz_seterr(err, MCZ_ERR_FORMAT, "%s: skeleton: marker for tensor %llu, which "
                          "has no payload", u->in, (unsigned long long)i);
    *out = u->tag + i;
    *out_len = (size_t)t->raw_bytes;
    return MCZ_OK;
}

static mcz_status write_piece(void *ctx, const void *data, size_t len, mcz_error *err)
{
    ustream *u = ctx;
    const uint8_t *p = data;
    if (p < u->tag || p >= u->tag + u->n) /* skeleton bytes */
        return mcz_outfile_write(u->out, data, len, err);
    size_t i = (size_t)(p - u->tag);
    const mcz_tensor_info *t = mcz_tensor(u->f, i);
    if (len > u->cap) {
        free(u->buf);
        u->cap = len;
        if (!(u->buf = malloc(len)))
            return mcz_seterr(err, MCZ_ERR_NOMEM, "%s: out of memory for tensor '%s'",
                              u->in, t->name);
    }
    mcz_status s;
    if (mcz_tensor_block_count(u->f, i) > 1) { /* a large tensor: its blocks on every thread */
        void **dst = calloc(u->n, sizeof *dst);
        if (!dst)
            return mcz_seterr(err, MCZ_ERR_NOMEM, "%s: out of memory", u->in);
        dst[i] = u->buf;
        s = mcz_load_all(u->f, u->threads, dst, err);
        free(dst);
    } else {
        s = mcz_read(u->f, i, u->buf, len, err);
    }
    if (!s)
        s = mcz_outfile_write(u->out, u->buf, len, err);
    if (!s) /* its stored bytes are read: let their pages go */
        mcz_release_mapped(u->base + t->offset, t->stored_bytes);
    if (!s && u->o->progress)
        u->o->progress(u->o->progress_ctx, 1, len);
    return s;
}

/* The model (part < 0) or partition `part`, when it fits one protobuf (< 2 GiB) and external
 * data was not asked for: streamed (*done = 1). Else *done = 0 and nothing is written. */
static mcz_status unpack_stream(const char *in, long part, const char *out,
                                const mcz_unpack_opts *o, int *done, mcz_error *err)
{
    mcz_file *f = mcz_open(in, err);
    if (!f)
        return err ? err->code : MCZ_ERR_FORMAT;
    const uint8_t *skel = NULL;
    size_t skel_len = 0, n = mcz_tensor_count(f), size;
    mcz_status s = mcz_skeleton(f, part, &skel, &skel_len, err);
    const mcz_part_desc *pd = !s && part >= 0 ? mcz_part(f, (size_t)part) : NULL;
    uint64_t total = skel_len + (pd ? pd->weight_bytes : 0);
    for (size_t i = 0; i < n && part < 0; i++)
        total += mcz_tensor(f, i)->raw_bytes;
    *done = !s && o->external_data == 0 && total < ((uint64_t)2 << 30) - ((uint64_t)64 << 20);
    if (*done) {
        ustream u = {.f = f, .in = in, .n = n, .base = mcz_file_bytes(f, &size),
                     .tag = malloc(n ? n : 1), .threads = o->threads, .o = o};
        if (!u.tag)
            s = mcz_seterr(err, MCZ_ERR_NOMEM, "%s: out of memory", in);
        else if (!(u.out = mcz_outfile_open(out, o->force, err)))
            s = err ? err->code : MCZ_ERR_IO;
        if (!s)
            s = mcz_onnxwire_stream(skel, skel_len, mcz_marker_dispatch,
                                    &(mcz_marker_cb){tag_tensor, &u}, write_piece, &u, NULL, in,
                                    err);
        if (!s)
            s = mcz_outfile_commit(u.out, err);
        else if (u.out)
            mcz_outfile_abort(u.out);
        free((void *)u.tag);
        free(u.buf);
    }
    mcz_close(f);
    return s;
}

mcz_status mcz_unpack(const char *in, const char *out, const mcz_unpack_opts *opts,
                      mcz_error *err)
{
    mcz_unpack_opts o = opts ? *opts : (mcz_unpack_opts){0};
    int done = 0;
    mcz_status st = unpack_stream(in, -1, out, &o, &done, err);
    if (st || done)
        return st;
    mcz_model *m = mcz_model_load_mcz(in, o.threads, err);
    if (!m)
        return err ? err->code : MCZ_ERR_FORMAT;
    /* the loader decodes every tensor at once: progress comes in two steps */
    size_t nw = mcz_model_weight_count(m);
    uint64_t bytes = 0;
    for (size_t i = 0; i < nw; i++)
        bytes += mcz_model_weight(m, i)->nbytes;
    if (o.progress)
        o.progress(o.progress_ctx, nw / 2, bytes / 2);
    mcz_save_opts so = {.external_data = o.external_data, .force = o.force};
    mcz_status s = mcz_model_save_onnx(m, out, &so, err);
    if (s == MCZ_OK && o.progress)
        o.progress(o.progress_ctx, nw - nw / 2, bytes - bytes / 2);
    mcz_model_free(m);
    return s;
}

mcz_status mcz_unpack_part(const char *in, size_t part, const char *out,
                           const mcz_unpack_opts *opts, mcz_error *err)
{
    mcz_unpack_opts o = opts ? *opts : (mcz_unpack_opts){0};
    int done = 0;
    mcz_status st = unpack_stream(in, part > LONG_MAX ? LONG_MAX : (long)part, out, &o, &done,
                                  err);
    if (st || done)
        return st;
    mcz_file *f = mcz_open(in, err);
    if (!f)
        return err ? err->code : MCZ_ERR_FORMAT;
    uint8_t *buf;
    size_t len;
    mcz_status s = mcz_build_part_onnx(f, part, o.threads, &buf, &len, err);
    mcz_close(f);
    if (s)
        return s;
    mcz_model *m = mcz_model_load_onnx_buffer(buf, len, in, err);
    if (!m)
        return err ? err->code : MCZ_ERR_FORMAT;
    mcz_save_opts so = {.external_data = o.external_data, .force = o.force};
    s = mcz_model_save_onnx(m, out, &so, err);
    mcz_model_free(m);
    return s;
}
