/* mczerr.h - the one error idiom of mcz's libraries (the loader and libcompress): fill an
 * mcz_error and return its code. Internal to mcz: not installed. */
#ifndef MCZ_MCZERR_H
#define MCZ_MCZERR_H

#include "mcz/load.h"

/* Fill `err` (may be NULL) with code and a printf-style message; returns code. */
mcz_status mcz_seterr(mcz_error *err, mcz_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* In a function with an `mcz_error *err`: fail with code and a message. */
#define FAIL(code, ...) return mcz_seterr(err, code, __VA_ARGS__)

/* An allocation failed: MCZ_ERR_NOMEM, said once for every caller. */
#define NOMEM(err) mcz_seterr((err), MCZ_ERR_NOMEM, "out of memory")

#endif
