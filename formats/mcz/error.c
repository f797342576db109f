/* error.c - status strings, the library version, filling an mcz_error. */
#include <stdarg.h>
#include <stdio.h>

#include "mcz/load.h"
#include "mczerr.h"

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

mcz_status mcz_seterr(mcz_error *err, mcz_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}
