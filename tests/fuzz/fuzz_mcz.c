/* fuzz_mcz - the .mcz loader on hostile bytes: open from a buffer, list, find, read every
 * tensor (mcz_read, mcz_read_f32, mcz_tensor_data), load_all, verify, build ONNX.
 * Any input must end in a clean error or data; never a crash, a leak or an unbounded read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decoded sizes above this are skipped (the fuzzer's RSS limit, not a library limit). */
#define FUZZ_MAX_DECODE ((uint64_t)64 << 20)

static void touch(const void *p, uint64_t n)
{
    volatile uint8_t sink = 0;
    if (p && n)
        sink ^= ((const uint8_t *)p)[0] ^ ((const uint8_t *)p)[n - 1];
    (void)sink;
}

int mcz_fuzz_loader(uint8_t *copy, size_t size);

#ifndef MCZ_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy, so that an out-of-bounds read past `size` is seen by ASan. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    return mcz_fuzz_loader(copy, size);
}
#endif

/* The whole loader on `copy` (malloc'd, `size` bytes; freed here). Also used by
 * fuzz_mcz_index.c, built with MCZ_FUZZ_NO_ENTRY. */
int mcz_fuzz_loader(uint8_t *copy, size_t size)
{
    mcz_error err = {0};
    mcz_file *f = mcz_open_buffer(copy, size, "fuzz", &err);
    if (!f) {
        free(copy);
        return 0;
    }
    (void)mcz_format_version(f);
    size_t n = mcz_tensor_count(f);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const mcz_tensor_info *t = mcz_tensor(f, i);
        if (!t || !t->name)
            abort(); /* the API promises an entry for every i < count */
        (void)mcz_find(f, t->name);
        (void)mcz_encoding_name(t->encoding);
        for (int d = 0; d < t->rank; d++)
            if (t->dims[d] < 0)
                abort(); /* documented: each >= 0 */
        total += t->raw_bytes;
        if (t->raw_bytes > FUZZ_MAX_DECODE)
            continue;
        void *buf = mcz_read_alloc(f, i, &err);
        touch(buf, t->raw_bytes);
        free(buf);
        if (t->count <= FUZZ_MAX_DECODE / sizeof(float)) {
            float *fl = malloc((size_t)t->count * sizeof *fl + 1);
            if (fl)
                mcz_read_f32(f, i, fl, (size_t)t->count, &err);
            free(fl);
        }
        const void *in_place = NULL;
        if (mcz_tensor_data(f, i, &in_place, &err) == MCZ_OK)
            touch(in_place, t->raw_bytes);
    }
    (void)mcz_find(f, "");
    (void)mcz_tensor(f, n); /* out of range: NULL */
    if (total <= FUZZ_MAX_DECODE) {
        void **dst = calloc(n ? n : 1, sizeof *dst);
        int ok = dst != NULL;
        for (size_t i = 0; ok && i < n; i++) {
            const mcz_tensor_info *t = mcz_tensor(f, i);
            if (!t->in_skeleton && !(dst[i] = malloc(t->raw_bytes ? t->raw_bytes : 1)))
                ok = 0;
        }
        if (ok)
            mcz_load_all(f, 2, dst, &err);
        for (size_t i = 0; dst && i < n; i++)
            free(dst[i]);
        free(dst);
        long bad = 0;
        mcz_verify(f, 1, &bad, &err);
        uint8_t *onnx = NULL;
        size_t onnx_len = 0;
        if (mcz_build_onnx(f, 1, &onnx, &onnx_len, &err) == MCZ_OK) {
            touch(onnx, onnx_len);
            free(onnx);
        }
    }
    mcz_close(f);
    free(copy);
    return 0;
}
