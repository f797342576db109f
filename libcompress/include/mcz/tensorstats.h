/* mcz/tensorstats.h - summary statistics and a histogram of a tensor's values (mcz-inspect
 * --tensor), and the conversion of raw little-endian values of any numeric ONNX type to
 * float32 that they need. */
#ifndef MCZ_TENSORSTATS_H
#define MCZ_TENSORSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "mcz/load.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCZ_STATS_BINS 16

typedef struct mcz_tensor_stats {
    uint64_t count;               /* values */
    uint64_t finite;              /* values that are neither NaN nor infinite */
    uint64_t nan, inf, zeros;
    double min, max, mean, std;   /* over the finite values (0 when there are none) */
    uint64_t hist[MCZ_STATS_BINS];/* finite values in MCZ_STATS_BINS equal bins over [min, max] */
} mcz_tensor_stats;

/* Statistics of v[0..n). Never fails. */
void mcz_tensor_stats_f32(const float *v, size_t n, mcz_tensor_stats *out);

/* Convert `count` values of ONNX `dtype` in raw little-endian layout to float32 (`out`,
 * caller-owned). Supports float, float16, bfloat16, double, the 8/16/32/64-bit integers, bool
 * and int4/uint4. Returns MCZ_OK or MCZ_ERR_UNSUPPORTED (other types; `err` filled). */
mcz_status mcz_values_to_f32(int32_t dtype, const void *raw, uint64_t count, float *out,
                             mcz_error *err);

#ifdef __cplusplus
}
#endif
#endif
