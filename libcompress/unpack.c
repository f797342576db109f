/* unpack.c - .mcz -> model, through the loader library (one reader): the loader builds the
 * ONNX model in memory, the ONNX importer takes it from there. */
#include <stdio.h>
#include <string.h>

#include "mcz/pack.h"
#include "mczfmt.h"

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

mcz_status mcz_unpack(const char *in, const char *out, const mcz_unpack_opts *opts,
                      mcz_error *err)
{
    mcz_unpack_opts o = opts ? *opts : (mcz_unpack_opts){0};
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
