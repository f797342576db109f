/* values.c - raw little-endian tensor values of any numeric ONNX type as float32: the one
 * conversion the quantizer's statistics, the model's float view and inspect share
 * (declared in mcz/tensorstats.h). */
#include <string.h>

#include "halffloat.h"
#include "mcz/tensorstats.h"
#include "mczerr.h"

mcz_status mcz_values_to_f32(int32_t dtype, const void *raw, uint64_t count, float *out,
                             mcz_error *err)
{
    const uint8_t *p = raw;
    for (uint64_t i = 0; i < count; i++) {
        union { uint8_t b[8]; float f; double d; uint16_t u16; int16_t i16; uint32_t u32;
                int32_t i32; uint64_t u64; int64_t i64; } x = {{0}};
        switch (dtype) {
        case 1: case 6: case 12: memcpy(x.b, p + 4 * i, 4); break;
        case 4: case 5: case 10: case 16: memcpy(x.b, p + 2 * i, 2); break;
        case 7: case 11: case 13: memcpy(x.b, p + 8 * i, 8); break;
        default: break;
        }
        switch (dtype) {
        case 1: out[i] = x.f; break;
        case 2: case 9: out[i] = p[i]; break;
        case 3: out[i] = (int8_t)p[i]; break;
        case 4: out[i] = x.u16; break;
        case 5: out[i] = x.i16; break;
        case 6: out[i] = (float)x.i32; break;
        case 7: out[i] = (float)x.i64; break;
        case 10: out[i] = mcz_f16_widen(x.u16); break;
        case 11: out[i] = (float)x.d; break;
        case 12: out[i] = (float)x.u32; break;
        case 13: out[i] = (float)x.u64; break;
        case 16: out[i] = mcz_bf16_widen(x.u16); break;
        case 21: out[i] = (float)((p[i / 2] >> (4 * (i & 1))) & 15); break;
        case 22: out[i] = (float)((int8_t)(uint8_t)(p[i / 2] >> (4 * (i & 1)) << 4) >> 4); break;
        default:
            return mcz_seterr(err, MCZ_ERR_UNSUPPORTED, "no float32 view of dtype %d", (int)dtype);
        }
    }
    return MCZ_OK;
}
