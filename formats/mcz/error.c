/* error.c - status strings and the library version. */
#include "mcz/load.h"

const char *mcz_strerror(mcz_status code)
{
    switch (code) {
    case MCZ_OK: return "success";
    case MCZ_ERR_IO: return "I/O error";
    case MCZ_ERR_NOMEM: return "out of memory";
    case MCZ_ERR_FORMAT: return "malformed input";
    case MCZ_ERR_CHECKSUM: return "checksum mismatch";
    case MCZ_ERR_VERSION: return "unsupported format version";
    case MCZ_ERR_UNSUPPORTED: return "unsupported feature";
    case MCZ_ERR_LIMIT: return "limit exceeded";
    case MCZ_ERR_NOT_FOUND: return "not found";
    case MCZ_ERR_ARG: return "invalid argument";
    case MCZ_ERR_EXISTS: return "output exists";
    }
    return "unknown error";
}

const char *mcz_version(void)
{
    return MCZ_VERSION_STRING;
}
