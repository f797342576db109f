/* mcz/load.h - the mcz loader library: reads .mcz containers.
 *
 * Depends on zstd and libc (pthreads) only. No global state: every function works on the
 * handles it is given. Functions that can fail return an mcz_status and, when `err` is not
 * NULL, fill it with a message naming what is wrong (file, tensor, byte offset).
 */
#ifndef MCZ_LOAD_H
#define MCZ_LOAD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MCZ_BUILDING) && defined(__GNUC__)
#define MCZ_API __attribute__((visibility("default")))
#else
#define MCZ_API
#endif

#define MCZ_VERSION_MAJOR 0
#define MCZ_VERSION_MINOR 1
#define MCZ_VERSION_PATCH 0
#define MCZ_VERSION_STRING "0.1.0"

/* Error codes: stable, never renumbered; retired codes keep their slot. */
typedef enum mcz_status {
    MCZ_OK = 0,
    MCZ_ERR_IO = 1,          /* open/read/write/mmap failed */
    MCZ_ERR_NOMEM = 2,       /* allocation failed */
    MCZ_ERR_FORMAT = 3,      /* malformed input (bad magic, truncated, inconsistent sizes) */
    MCZ_ERR_CHECKSUM = 4,    /* a checksum does not match */
    MCZ_ERR_VERSION = 5,     /* unknown format version */
    MCZ_ERR_UNSUPPORTED = 6, /* valid but not supported (an encoding, an element type) */
    MCZ_ERR_LIMIT = 7,       /* a count or size exceeds a hard cap */
    MCZ_ERR_NOT_FOUND = 8,   /* no such tensor / partition */
    MCZ_ERR_ARG = 9,         /* invalid argument from the caller */
    MCZ_ERR_EXISTS = 10,     /* output exists (and overwriting was not requested) */
} mcz_status;

#define MCZ_ERRMSG_MAX 512

/* Error details filled by a failing call when the caller passes one. */
typedef struct mcz_error {
    mcz_status code;
    char msg[MCZ_ERRMSG_MAX];
} mcz_error;

/* Static string describing a status code (never NULL, never to be freed). */
MCZ_API const char *mcz_strerror(mcz_status code);

/* Library version string, e.g. "0.1.0" (static). */
MCZ_API const char *mcz_version(void);

#ifdef __cplusplus
}
#endif
#endif
