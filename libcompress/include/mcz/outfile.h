/* mcz/outfile.h - atomic output files.
 *
 * A regular-file destination is written to a temporary file in the same folder and renamed
 * into place by mcz_outfile_commit once everything is written, flushed and fsync'd; on error or
 * mcz_outfile_abort the temporary is removed and the destination is untouched. "-" means
 * standard output; a destination that exists and is not a regular file (a pipe, /dev/stdout,
 * a character device) is written in place, never replaced by a rename.
 */
#ifndef MCZ_OUTFILE_H
#define MCZ_OUTFILE_H

#include <stdint.h>
#include <stdio.h>

#include "mcz/load.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mcz_outfile mcz_outfile;

/* Open `path` for writing. An existing regular file is refused (MCZ_ERR_EXISTS) unless
 * `force`. Returns NULL on error with `err` filled. */
mcz_outfile *mcz_outfile_open(const char *path, int force, mcz_error *err);

/* Append bytes (buffered). Errors (a full disk, ...) are reported here or at commit. */
mcz_status mcz_outfile_write(mcz_outfile *o, const void *data, size_t len, mcz_error *err);

/* Bytes written so far (the current offset). */
uint64_t mcz_outfile_tell(const mcz_outfile *o);

/* Write zero bytes until the offset is a multiple of `align` (a power of two). */
mcz_status mcz_outfile_pad(mcz_outfile *o, uint64_t align, mcz_error *err);

/* Finish: flush, fsync and rename into place (regular files). Frees `o` whatever the result;
 * on failure the destination is untouched and the temporary removed. */
mcz_status mcz_outfile_commit(mcz_outfile *o, mcz_error *err);

/* Give up: remove the temporary, leave the destination untouched, free `o`. Accepts NULL. */
void mcz_outfile_abort(mcz_outfile *o);

/* The destination path as given ("-" for standard output). */
const char *mcz_outfile_path(const mcz_outfile *o);

#ifdef __cplusplus
}
#endif
#endif
