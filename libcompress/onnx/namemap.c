/* namemap.c - open addressing with linear probing, FNV-1a hashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/namemap.h"
#include "onnxwire.h"

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

long mcz_namemap_get(const mcz_namemap *m, const char *name)
{
    if (!m->cap)
        return -1;
    for (size_t i = hash(name) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i])
            return -1;
        if (strcmp(m->keys[i], name) == 0)
            return m->vals[i];
    }
}

static void insert(const char **keys, long *vals, size_t cap, const char *name, long val)
{
    size_t i = hash(name) & (cap - 1);
    while (keys[i] && strcmp(keys[i], name) != 0)
        i = (i + 1) & (cap - 1);
    keys[i] = name;
    vals[i] = val;
}

mcz_status mcz_namemap_put(mcz_namemap *m, const char *name, long val, mcz_error *err)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        const char **keys = calloc(cap, sizeof *keys);
        long *vals = malloc(cap * sizeof *vals);
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i])
                insert(keys, vals, cap, m->keys[i], m->vals[i]);
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    if (mcz_namemap_get(m, name) < 0)
        m->n++;
    insert(m->keys, m->vals, m->cap, name, val);
    return MCZ_OK;
}

void mcz_namemap_free(mcz_namemap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}
