/* dtype.c - ONNX element types: sizes and names. */
#include "mcz/model.h"
#include "mczformat.h"

/* The sizes are the container's table (formats/mcz/shared/mczformat.h): one table for both. */
size_t mcz_dtype_size(int32_t dtype)
{
    int e = mcz_elem_size(dtype);
    return e > 0 ? (size_t)e : 0;
}

bool mcz_dtype_nbytes(int32_t dtype, uint64_t count, uint64_t *nbytes)
{
    int ok;
    *nbytes = mcz_raw_size(dtype, count, &ok);
    return ok;
}

bool mcz_dtype_is_float(int32_t dtype)
{
    return dtype == MCZ_DT_FLOAT || dtype == MCZ_DT_FLOAT16 || dtype == MCZ_DT_BFLOAT16 ||
           dtype == MCZ_DT_DOUBLE;
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
