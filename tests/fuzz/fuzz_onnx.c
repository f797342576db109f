/* fuzz_onnx - the ONNX importer on hostile bytes: import, read every weight, export.
 * Any input must end in a clean error or a model that exports; never a crash or a leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx_buffer(copy, size, "fuzz", &err);
    if (!m)
        return 0;
    for (size_t i = 0; i < mcz_model_weight_count(m); i++) {
        const mcz_weight *w = mcz_model_weight(m, i);
        const uint8_t *d = mcz_model_weight_data(m, i, &err);
        volatile uint8_t sink = 0;
        if (d && w->nbytes)
            sink ^= d[0] ^ d[w->nbytes - 1];
        (void)sink;
        if (w->count <= (1u << 20)) {
            float *f = malloc((size_t)w->count * sizeof *f + 1);
            if (f)
                mcz_model_weight_to_f32(m, i, f, &err);
            free(f);
        }
    }
    uint8_t *out = NULL;
    size_t len = 0;
    if (mcz_model_serialize(m, &out, &len, &err) == MCZ_OK)
        free(out);
    if (mcz_model_serialize_skeleton(m, &out, &len, &err) == MCZ_OK)
        free(out);
    mcz_model_free(m);
    return 0;
}
