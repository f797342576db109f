/* dtype.c - ONNX element types: sizes and names. */
#include "mcz/model.h"

size_t mcz_dtype_size(int32_t dtype)
{
    switch (dtype) {
    case MCZ_DT_UINT8: case MCZ_DT_INT8: case MCZ_DT_BOOL:
    case 17: case 18: case 19: case 20: /* float8 variants */
        return 1;
    case MCZ_DT_UINT16: case MCZ_DT_INT16: case MCZ_DT_FLOAT16: case MCZ_DT_BFLOAT16:
        return 2;
    case MCZ_DT_FLOAT: case MCZ_DT_INT32: case MCZ_DT_UINT32:
        return 4;
    case MCZ_DT_INT64: case MCZ_DT_DOUBLE: case MCZ_DT_UINT64: case MCZ_DT_COMPLEX64:
        return 8;
    case MCZ_DT_COMPLEX128:
        return 16;
    default:
        return 0;
    }
}

bool mcz_dtype_nbytes(int32_t dtype, uint64_t count, uint64_t *nbytes)
{
    if (dtype == MCZ_DT_INT4 || dtype == MCZ_DT_UINT4 || dtype == 23 /* float4e2m1 */) {
        *nbytes = count / 2 + (count & 1);
        return true;
    }
    size_t es = mcz_dtype_size(dtype);
    if (es == 0 || count > UINT64_MAX / es)
        return false;
    *nbytes = count * es;
    return true;
}

const char *mcz_dtype_name(int32_t dtype)
{
    static const char *const names[] = {
        "undefined", "float", "uint8", "int8", "uint16", "int16", "int32", "int64",
        "string", "bool", "float16", "double", "uint32", "uint64", "complex64", "complex128",
        "bfloat16", "float8e4m3fn", "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4",
        "int4", "float4e2m1"};
    if (dtype < 0 || (size_t)dtype >= sizeof names / sizeof names[0])
        return "?";
    return names[dtype];
}
