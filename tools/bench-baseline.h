/* mcz/baseline.h - what a user without mcz does to get float32 weights out of an ONNX file:
 * read the file, parse it with protobuf-c, convert every float weight to float32. Used by
 * mcz-bench as the baseline the loader is compared with; not an import path (see model.h). */
#ifndef MCZ_BASELINE_H
#define MCZ_BASELINE_H

#include <stdint.h>

#include "mcz/load.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A parsed model and its weights as float32; opaque. */
typedef struct mcz_baseline mcz_baseline;

/* What a baseline load found. */
typedef struct mcz_baseline_stats {
    uint64_t file_bytes;   /* bytes read from the .onnx */
    uint64_t weights;      /* weights converted (initializers and Constant values, subgraphs too) */
    uint64_t f32_bytes;    /* bytes of float32 produced */
    uint64_t skipped;      /* weights left alone: not float/float16/bfloat16/double, or external */
} mcz_baseline_stats;

/* Read `path` whole (read(2), no mmap), onnx__model_proto__unpack it and convert every
 * float, float16, bfloat16 and double weight (raw_data or typed field) to a malloc'd float32
 * array. Returns NULL on error with `err` filled (IO, FORMAT, NOMEM); free with
 * mcz_baseline_free. `st` (may be NULL) receives the counts. */
mcz_baseline *mcz_baseline_load(const char *path, mcz_baseline_stats *st, mcz_error *err);

/* Free everything mcz_baseline_load allocated. Accepts NULL. */
void mcz_baseline_free(mcz_baseline *b);

#ifdef __cplusplus
}
#endif
#endif
