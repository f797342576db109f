/* inspect-mcz.h - mcz-inspect for .mcz containers (tools/inspect-mcz.c): summary with the
 * quantized tensors and the partitions, --tensors, --tensor NAME, --verify, --json. */
#ifndef MCZ_INSPECT_MCZ_H
#define MCZ_INSPECT_MCZ_H

#include <stddef.h>

#include "mcz/load.h"

/* Describe the .mcz at `path` on standard output. Returns a tool exit status (TOOL_OK,
 * TOOL_FAIL), having printed any error. */
int inspect_mcz(const char *path, int tensors, const char *tensor_name, int verify, int json);

/* How the quantized codes `t` dequantize, named as mcz-quantize --granularity names them:
 * "int8 channel (axis 0)", "uint4 block 32 (axis 1)", "int8 tensor"; "" when t->quant is
 * NULL. Writes at most `cap` bytes (NUL included) into `buf`. */
void inspect_quant_scheme(const mcz_tensor_info *t, char *buf, size_t cap);

#endif
