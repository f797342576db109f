/* alloc.c - see common/alloc.h. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "mczerr.h"

char *mcz_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

mcz_status mcz_grow(void **arr, size_t *cap, size_t need, size_t elem, mcz_error *err)
{
    if (need <= *cap)
        return MCZ_OK;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        ncap *= 2;
    }
    void *n = realloc(*arr, ncap * elem);
    if (!n)
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    *arr = n;
    *cap = ncap;
    return MCZ_OK;
}
