/* namemap.h - a hash map from names to numbers (libcompress only). The names are not copied:
 * they must outlive the map. */
#ifndef MCZ_NAMEMAP_H
#define MCZ_NAMEMAP_H

#include <stddef.h>

#include "mcz/load.h"

typedef struct mcz_namemap {
    const char **keys; /* cap slots, NULL when empty */
    long *vals;
    size_t n, cap;     /* cap is 0 or a power of two */
} mcz_namemap;

/* The number stored for `name`, or -1. */
long mcz_namemap_get(const mcz_namemap *m, const char *name);

/* Store `val` (>= 0) for `name`, replacing what was there. MCZ_ERR_NOMEM on failure (the map is
 * unchanged). */
mcz_status mcz_namemap_put(mcz_namemap *m, const char *name, long val, mcz_error *err);

/* Free the map's storage and empty it (it can be reused). */
void mcz_namemap_free(mcz_namemap *m);

#endif
