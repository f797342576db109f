/* testfs.c - see testfs.h. */
#include "testfs.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testmodel.h"

static char *dirs[64];
static size_t ndirs;
static char root[4096]; /* not arena memory: it outlives every test */

static const char *tmp_base(void)
{
    const char *base = getenv("TMPDIR");
    return base && *base ? base : "/tmp";
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw);

void td_root_make(void)
{
    snprintf(root, sizeof root, "%s/mcz-unit-XXXXXX", tmp_base());
    if (!mkdtemp(root)) {
        fprintf(stderr, "mkdtemp %s: %s\n", root, strerror(errno));
        exit(EXIT_FAILURE);
    }
}

void td_root_remove(void)
{
    if (root[0])
        nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    root[0] = 0;
}

char *td_new(void)
{
    char *d = tm_printf("%s/%s-XXXXXX", root[0] ? root : tmp_base(), root[0] ? "t" : "mcz-unit");
    ck_assert_msg(mkdtemp(d) != NULL, "mkdtemp %s: %s", d, strerror(errno));
    ck_assert_msg(ndirs < sizeof dirs / sizeof dirs[0], "too many temporary folders");
    dirs[ndirs++] = strdup(d);
    return d;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void td_cleanup(void)
{
    for (size_t i = 0; i < ndirs; i++) {
        nftw(dirs[i], remove_one, 16, FTW_DEPTH | FTW_PHYS);
        free(dirs[i]);
    }
    ndirs = 0;
}

char *td_path(const char *dir, const char *name)
{
    return tm_printf("%s/%s", dir, name);
}

void td_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s: %s", path, strerror(errno));
    ck_assert_msg(len == 0 || fwrite(data, 1, len, f) == len, "cannot write %s", path);
    ck_assert_msg(fclose(f) == 0, "cannot close %s", path);
}

uint8_t *td_read(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    tm_bytes b = {0};
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        tm_put(&b, chunk, n);
    fclose(f);
    *len = b.len;
    return b.p ? b.p : tm_alloc(1);
}

bool td_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int td_count(const char *dir, const char *substr)
{
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot list %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, substr))
            n++;
    closedir(d);
    return n;
}
