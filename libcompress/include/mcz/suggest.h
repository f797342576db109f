/* mcz/suggest.h - "did you mean": the names nearest to a mistyped one, by edit distance.
 * Used by the tools' --exclude (a pattern that matches nothing) and name look-ups. */
#ifndef MCZ_SUGGEST_H
#define MCZ_SUGGEST_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Levenshtein distance between `a` and `b` (bytes; insert, delete and substitute cost 1).
 * Stops early and returns `max` + 1 once the distance is known to exceed `max`. Uses no
 * allocation for strings up to 255 bytes, else malloc; returns `max` + 1 if that fails. */
size_t mcz_edit_distance(const char *a, const char *b, size_t max);

/* The largest distance mcz_suggest accepts for `query`: a third of its length, at least 2. */
size_t mcz_suggest_max_distance(const char *query);

/* Indices into `names` (n entries; NULL or empty entries are ignored) of up to `nout`
 * names nearest to `query`, nearest first, ties in `names` order, duplicates (same string)
 * given once, only those within mcz_suggest_max_distance(query). Writes them to out[] and
 * returns how many. Deterministic; no allocation beyond mcz_edit_distance's. */
size_t mcz_suggest(const char *query, const char *const *names, size_t n, size_t *out,
                   size_t nout);

/* Write "'a', 'b' or 'c'" for the suggested names into buf (cap bytes, always terminated;
 * "" when there are none). Returns buf. */
char *mcz_suggest_list(const char *const *names, const size_t *idx, size_t k, char *buf,
                       size_t cap);

#ifdef __cplusplus
}
#endif
#endif
