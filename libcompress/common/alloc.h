/* alloc.h - the small allocation helpers libcompress shares. Internal. */
#ifndef MCZ_ALLOC_H
#define MCZ_ALLOC_H

#include <stddef.h>

#include "mcz/load.h"

/* Grow a dynamic array (elements of `elem` bytes) to hold at least `need`: capacity doubles
 * from 16. MCZ_ERR_NOMEM (the array unchanged) on overflow or a failed realloc. */
mcz_status mcz_grow(void **arr, size_t *cap, size_t need, size_t elem, mcz_error *err);

/* strdup in ISO C: NULL when out of memory. */
char *mcz_strdup(const char *s);

#endif
