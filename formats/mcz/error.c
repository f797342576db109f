/* error.c - status strings and the library version. */
#include "mcz/load.h"

const char *mcz_strerror(mcz_status code)
{
    static const char *const msg[] = {
        "success", "I/O error", "out of memory", "malformed input", "checksum mismatch",
        "unsupported format version", "unsupported feature", "limit exceeded", "not found",
        "invalid argument", "output exists"}; /* indexed by mcz_status */
    return code >= MCZ_OK && code <= MCZ_ERR_EXISTS ? msg[code] : "unknown error";
}

const char *mcz_version(void)
{
    return MCZ_VERSION_STRING;
}
