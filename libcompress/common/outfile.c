/* outfile.c - atomic output files (see mcz/outfile.h). */
#include "mcz/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mczerr.h"

#define OUTBUF_SIZE (1u << 20)
/* Written data is handed to the disk every KICK_BYTES. Without this, a few hundred MB stay
 * dirty in the page cache (below the kernel's background threshold on a machine with a lot
 * of memory) and the whole disk write happens in the final fsync, after the work is done. */
#define KICK_BYTES ((uint64_t)16 << 20)

struct mcz_outfile {
    char *path;    /* destination as given */
    int force;     /* may replace an existing destination */
    char *tmp;     /* temporary path (NULL when writing in place) */
    int fd;
    int close_fd;  /* 0 for standard output */
    uint64_t off;
    uint64_t kicked; /* bytes whose writeback was started */
    size_t used;
    uint8_t *buf;
};

/* The process umask, read without changing it (umask(2) would race with other threads). */
static mode_t current_umask(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    unsigned int um = 022;
    char line[128];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Umask: %o", &um) == 1)
            break;
    if (f)
        fclose(f);
    return (mode_t)um;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

mcz_outfile *mcz_outfile_open(const char *path, int force, mcz_error *err)
{
    mcz_outfile *o = calloc(1, sizeof *o);
    if (!o || !(o->path = dup_str(path)) || !(o->buf = malloc(OUTBUF_SIZE))) {
        mcz_seterr(err, MCZ_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    o->fd = -1;
    o->force = force;
    if (strcmp(path, "-") == 0) {
        o->fd = STDOUT_FILENO;
        return o;
    }
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            /* a pipe, a device, /dev/stdout: write in place */
            o->fd = open(path, O_WRONLY | O_CLOEXEC);
            if (o->fd < 0) {
                mcz_seterr(err, MCZ_ERR_IO, "%s: cannot open for writing: %s", path, strerror(errno));
                goto fail;
            }
            o->close_fd = 1;
            return o;
        }
        if (!force) {
            mcz_seterr(err, MCZ_ERR_EXISTS, "%s: already exists (use -f to overwrite)", path);
            goto fail;
        }
    }
    size_t n = strlen(path);
    o->tmp = malloc(n + 16);
    if (!o->tmp) {
        mcz_seterr(err, MCZ_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    memcpy(o->tmp, path, n);
    memcpy(o->tmp + n, ".mcz-tmpXXXXXX", 15);
    o->fd = mkostemp(o->tmp, O_CLOEXEC);
    if (o->fd < 0) {
        mcz_seterr(err, MCZ_ERR_IO, "%s: cannot create a temporary file beside it: %s", path,
                   strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        goto fail;
    }
    o->close_fd = 1;
    /* mkstemp makes 0600; an output gets the mode any new file would */
    (void)fchmod(o->fd, 0666 & ~current_umask());
    return o;
fail:
    mcz_outfile_abort(o);
    return NULL;
}

static mcz_status write_all(mcz_outfile *o, const uint8_t *p, size_t len, mcz_error *err)
{
    while (len) {
        ssize_t w = write(o->fd, p, len > (1u << 30) ? (1u << 30) : len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return mcz_seterr(err, MCZ_ERR_IO, "%s: write failed: %s", o->path, strerror(errno));
        }
        p += w;
        len -= (size_t)w;
    }
    return MCZ_OK;
}

/* Start writing back what is in the file so far (all but the buffer), without waiting for it:
 * a hint, so a failure changes nothing; the final fsync reports any error. */
static void kick(mcz_outfile *o)
{
    uint64_t in_file = o->off - o->used;
    if (o->tmp && in_file - o->kicked >= KICK_BYTES) {
        (void)sync_file_range(o->fd, (off_t)o->kicked, (off_t)(in_file - o->kicked),
                              SYNC_FILE_RANGE_WRITE);
        o->kicked = in_file;
    }
}

static mcz_status flush_buf(mcz_outfile *o, mcz_error *err)
{
    mcz_status s = write_all(o, o->buf, o->used, err);
    o->used = 0;
    return s;
}

mcz_status mcz_outfile_write(mcz_outfile *o, const void *data, size_t len, mcz_error *err)
{
    const uint8_t *p = data;
    o->off += len;
    if (o->used + len <= OUTBUF_SIZE) {
        memcpy(o->buf + o->used, p, len);
        o->used += len;
        return MCZ_OK;
    }
    mcz_status s = flush_buf(o, err);
    if (s)
        return s;
    if (len >= OUTBUF_SIZE) {
        if ((s = write_all(o, p, len, err)))
            return s;
    } else {
        memcpy(o->buf, p, len);
        o->used = len;
    }
    kick(o);
    return MCZ_OK;
}

uint64_t mcz_outfile_tell(const mcz_outfile *o)
{
    return o->off;
}

mcz_status mcz_outfile_pad(mcz_outfile *o, uint64_t align, mcz_error *err)
{
    static const uint8_t zeros[256];
    uint64_t pad = (align - (o->off & (align - 1))) & (align - 1);
    while (pad) {
        size_t n = pad > sizeof zeros ? sizeof zeros : (size_t)pad;
        mcz_status s = mcz_outfile_write(o, zeros, n, err);
        if (s)
            return s;
        pad -= n;
    }
    return MCZ_OK;
}

const char *mcz_outfile_path(const mcz_outfile *o)
{
    return o->path;
}

mcz_status mcz_outfile_commit(mcz_outfile *o, mcz_error *err)
{
    mcz_status s = flush_buf(o, err);
    if (s == MCZ_OK && o->tmp) {
        if (fsync(o->fd) != 0)
            s = mcz_seterr(err, MCZ_ERR_IO, "%s: fsync failed: %s", o->path, strerror(errno));
    }
    if (o->close_fd) {
        if (close(o->fd) != 0 && s == MCZ_OK)
            s = mcz_seterr(err, MCZ_ERR_IO, "%s: close failed: %s", o->path, strerror(errno));
        o->close_fd = 0;
    }
    o->fd = -1;
    if (s == MCZ_OK && o->tmp) {
        /* without force, a file created since open must not be replaced either */
        int r = o->force ? rename(o->tmp, o->path)
                         : renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->path, RENAME_NOREPLACE);
        if (r != 0 && !o->force && errno == EINVAL) /* a filesystem without NOREPLACE */
            r = rename(o->tmp, o->path);
        if (r != 0 && errno == EEXIST)
            s = mcz_seterr(err, MCZ_ERR_EXISTS, "%s: already exists (use -f to overwrite)", o->path);
        else if (r != 0)
            s = mcz_seterr(err, MCZ_ERR_IO, "%s: cannot rename into place: %s", o->path,
                           strerror(errno));
        else {
            free(o->tmp);
            o->tmp = NULL;
        }
    }
    mcz_outfile_abort(o);
    return s;
}

void mcz_outfile_abort(mcz_outfile *o)
{
    if (!o)
        return;
    if (o->close_fd && o->fd >= 0)
        close(o->fd);
    if (o->tmp) {
        unlink(o->tmp);
        free(o->tmp);
    }
    free(o->buf);
    free(o->path);
    free(o);
}
