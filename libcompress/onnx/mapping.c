/* mapping.c - the files a model's bytes come from: the model file and its external data,
 * memory-mapped read-only, and the release of pages whose values have been consumed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx/model_impl.h"

mcz_status mcz_map_file(const char *path, const char *shown, uint8_t **addr, size_t *len,
                           mcz_error *err)
{
    /* O_NONBLOCK: a FIFO must not hang the open; it is refused below as not a regular file */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return mcz_seterr(err, MCZ_ERR_IO, "%s: cannot open: %s", shown, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return mcz_seterr(err, MCZ_ERR_IO, "%s: not a regular file", shown);
    }
    if ((uint64_t)st.st_size > MCZ_ONNX_MAX_BYTES) {
        close(fd);
        return mcz_seterr(err, MCZ_ERR_LIMIT, "%s: file too large", shown);
    }
    *len = (size_t)st.st_size;
    *addr = NULL;
    if (*len) {
        void *p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            close(fd);
            return mcz_seterr(err, MCZ_ERR_IO, "%s: cannot map: %s", shown, strerror(errno));
        }
        *addr = p;
    }
    close(fd);
    return MCZ_OK;
}

/* A location must be a relative path inside the model's folder. */
static int location_escapes(const char *loc)
{
    if (loc[0] == '/' || strchr(loc, '\\'))
        return 1;
    const char *p = loc;
    while (*p) {
        const char *q = strchr(p, '/');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return 1;
        if (!q)
            break;
        p = q + 1;
    }
    return 0;
}

mcz_status mcz_model_map_external(mcz_model *m, const char *location, const char *tensor,
                                  const mapping **out, mcz_error *err)
{
    for (size_t i = 0; i < m->next; i++)
        if (strcmp(m->ext[i].location, location) == 0) {
            *out = &m->ext[i];
            return MCZ_OK;
        }
    if (!m->dir)
        return mcz_seterr(err, MCZ_ERR_UNSUPPORTED,
                          "%s: tensor '%s': external data '%s' cannot be resolved for a model in memory",
                          m->path, tensor, location);
    if (location_escapes(location))
        return mcz_seterr(err, MCZ_ERR_FORMAT,
                          "%s: tensor '%s': external data location '%s' escapes the model's folder",
                          m->path, tensor, location);
    size_t need = strlen(m->dir) + strlen(location) + 2;
    char *full = malloc(need);
    if (!full)
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    snprintf(full, need, "%s/%s", m->dir, location);
    /* a symlink may still lead outside: compare canonical paths, and map the resolved one */
    char *rdir = realpath(m->dir, NULL), *rfile = realpath(full, NULL);
    mcz_status s = MCZ_OK;
    size_t dl = rdir ? strlen(rdir) : 0;
    if (rdir && dl == 1)
        dl = 0; /* the model sits in "/" */
    if (!rfile) {
        s = mcz_seterr(err, MCZ_ERR_IO, "%s: tensor '%s': external data file '%s': %s", m->path,
                       tensor, location, strerror(errno));
    } else if (!rdir || strncmp(rfile, rdir, dl) != 0 || rfile[dl] != '/') {
        s = mcz_seterr(err, MCZ_ERR_FORMAT,
                       "%s: tensor '%s': external data location '%s' escapes the model's folder",
                       m->path, tensor, location);
    }
    mapping mp = {0};
    if (s == MCZ_OK) {
        char shown[1024];
        snprintf(shown, sizeof shown, "%s: tensor '%s': external data file '%s'", m->path, tensor,
                 location);
        s = mcz_map_file(rfile, shown, &mp.addr, &mp.len, err);
    }
    free(rdir);
    free(rfile);
    free(full);
    if (s == MCZ_OK && !(mp.location = mcz_strdup(location))) {
        s = mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        if (mp.addr)
            munmap(mp.addr, mp.len);
    }
    if (s == MCZ_OK && (s = mcz_grow((void **)&m->ext, &m->capext, m->next + 1, sizeof *m->ext, err))) {
        if (mp.addr)
            munmap(mp.addr, mp.len);
        free(mp.location);
    }
    if (s)
        return s;
    m->ext[m->next] = mp;
    *out = &m->ext[m->next++];
    return MCZ_OK;
}

/* Release the pages that hold only this weight's values in a file mapping. */
void mcz_model_release_pages(const mcz_model *m, const void *data, uint64_t len)
{
    const uint8_t *p = data;
    bool mapped = m->map && p >= m->map && p + len <= m->map + m->maplen;
    for (size_t i = 0; !mapped && i < m->next; i++)
        mapped = m->ext[i].addr && p >= m->ext[i].addr &&
                 p + len <= m->ext[i].addr + m->ext[i].len;
    if (mapped)
        mcz_release_mapped(p, len);
}

void mcz_release_mapped(const void *data, uint64_t len)
{
    uintptr_t a = (uintptr_t)data, e = a + len;
    long pg = sysconf(_SC_PAGESIZE);
    if (pg <= 0)
        return;
    uintptr_t s = (a + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1), t = e & ~((uintptr_t)pg - 1);
    if (t > s)
        madvise((void *)s, t - s, MADV_DONTNEED);
}
