/* loadall - the loader's whole read path over one .mcz, for valgrind memcheck (linked with the
 * plain library, not the sanitized one): open (mmap), list, find, read every tensor (read,
 * read_f32 where the dtype allows, in place for raw payloads), load_all with 2 threads,
 * verify, build the ONNX model; then the same from a buffer. Exit 0 when all of it succeeds.
 * usage: loadall FILE.mcz */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/load.h"

static int run(mcz_file *f)
{
    mcz_error err = {0};
    size_t n = mcz_tensor_count(f);
    void **dst = calloc(n ? n : 1, sizeof *dst);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        const mcz_tensor_info *t = mcz_tensor(f, i);
        if (t->in_skeleton)
            continue;
        if (mcz_find(f, t->name) < 0)
            goto fail;
        uint8_t *d = mcz_read_alloc(f, i, &err);
        if (!d)
            goto fail;
        for (uint64_t k = 0; k < t->raw_bytes; k++)
            sum += d[k]; /* every byte read: memcheck sees uninitialised values */
        free(d);
        if (t->dtype == 1 || t->dtype == 10 || t->dtype == 16) {
            float *fl = malloc((size_t)t->count * sizeof *fl + 1);
            if (mcz_read_f32(f, i, fl, (size_t)t->count, &err) != MCZ_OK) {
                free(fl);
                goto fail;
            }
            for (uint64_t k = 0; k < t->count; k++)
                sum += fl[k] > 0;
            free(fl);
        }
        const void *p = NULL;
        if (t->encoding == MCZ_ENC_RAW && mcz_tensor_data(f, i, &p, &err) != MCZ_OK)
            goto fail;
        dst[i] = malloc(t->raw_bytes ? t->raw_bytes : 1);
    }
    if (mcz_load_all(f, 2, dst, &err) != MCZ_OK)
        goto fail;
    long bad = 0;
    if (mcz_verify(f, 2, &bad, &err) != MCZ_OK)
        goto fail;
    uint8_t *onnx = NULL;
    size_t len = 0;
    if (mcz_build_onnx(f, 2, &onnx, &len, &err) != MCZ_OK)
        goto fail;
    for (size_t k = 0; k < len; k++)
        sum += onnx[k];
    free(onnx);
    for (size_t i = 0; i < n; i++)
        free(dst[i]);
    free(dst);
    printf("loadall: %zu tensors, %zu bytes of ONNX, checksum %llu\n", n, len,
           (unsigned long long)sum);
    return 0;
fail:
    for (size_t i = 0; i < n; i++)
        free(dst[i]);
    free(dst);
    fprintf(stderr, "loadall: %s\n", err.msg);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: loadall FILE.mcz\n");
        return 2;
    }
    mcz_error err = {0};
    mcz_file *f = mcz_open(argv[1], &err);
    if (!f) {
        fprintf(stderr, "loadall: %s\n", err.msg);
        return 1;
    }
    int rc = run(f);
    mcz_close(f);
    if (rc)
        return rc;
    FILE *fp = fopen(argv[1], "rb");
    if (!fp)
        return 1;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    void *buf = malloc(n > 0 ? (size_t)n : 1);
    if (fread(buf, 1, (size_t)n, fp) != (size_t)n)
        rc = 1;
    fclose(fp);
    if (!rc) {
        f = mcz_open_buffer(buf, (size_t)n, argv[1], &err);
        rc = f ? run(f) : 1;
        if (!f)
            fprintf(stderr, "loadall: %s\n", err.msg);
        mcz_close(f);
    }
    free(buf);
    return rc;
}
