/* halffloat.h - float16 and bfloat16 <-> float32, the one copy both the loader and libcompress
 * use: mcz_f16_widen / mcz_bf16_widen (to float32) and mcz_f16_round / mcz_bf16_round (from
 * float32). Widening is exact (every float16 and bfloat16 value is a float32, NaN payloads and the
 * sign of zero kept); narrowing rounds to nearest, ties to even, as ONNX and PyTorch do.
 * Header-only, so the loader's -O3 decode loops inline and vectorize it. Internal to mcz. */
#ifndef MCZ_HALFFLOAT_H
#define MCZ_HALFFLOAT_H

#include <stdint.h>
#include <string.h>

/* Branch-free: a normal value is (1024 + m) x 2^(e - 25), a subnormal m x 2^-24, both exact in
 * float32; exponent 31 keeps its bits (infinity, NaN with its payload). */
static inline float mcz_f16_widen(uint16_t h)
{
    uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff, pow2 = ((e ? e : 1) + 102) << 23;
    uint32_t bits = (uint32_t)(h & 0x8000) << 16 | 0x7f800000u | m << 13;
    float v, scale;
    memcpy(&scale, &pow2, 4);
    memcpy(&v, &bits, 4);
    return e == 0x1f ? v : (h & 0x8000 ? -1.0f : 1.0f) * (float)(e ? 1024 + m : m) * scale;
}

static inline float mcz_bf16_widen(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Round to nearest even; overflow gives infinity, underflow a subnormal or zero, NaN a quiet
 * NaN. */
static inline uint16_t mcz_f16_round(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, e = (x >> 23) & 0xff, man = x & 0x7fffff;
    if (e == 0xff)
        return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
    int32_t ne = (int32_t)e - 127 + 15;
    if (ne >= 31)
        return (uint16_t)(sign | 0x7c00);
    if (ne <= 0) { /* a float16 subnormal, or zero */
        if (ne < -10)
            return (uint16_t)sign;
        man |= 0x800000;
        uint32_t shift = (uint32_t)(14 - ne);
        uint32_t h = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1)))
            h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)ne << 10) | (man >> 13), rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
        h++; /* a carry into the exponent is the right result, up to infinity */
    return (uint16_t)(sign | h);
}

static inline uint16_t mcz_bf16_round(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7f800000u) == 0x7f800000u && (x & 0x7fffffu))
        return (uint16_t)((x >> 16) | 0x40u); /* NaN stays NaN, made quiet */
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

#endif
