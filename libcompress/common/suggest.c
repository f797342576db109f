/* suggest.c - nearest names by edit distance (see mcz/suggest.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/suggest.h"

#define SMALL_ROW 256

size_t mcz_edit_distance(const char *a, const char *b, size_t max)
{
    size_t la = strlen(a), lb = strlen(b);
    if ((la > lb ? la - lb : lb - la) > max)
        return max + 1;
    if (la < lb) { /* keep the row (b) the shorter one */
        const char *t = a;
        a = b;
        b = t;
        size_t tl = la;
        la = lb;
        lb = tl;
    }
    size_t small[SMALL_ROW], *row = small;
    if (lb + 1 > SMALL_ROW && !(row = malloc((lb + 1) * sizeof *row)))
        return max + 1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    size_t result = 0;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0], best = i;
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t v = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < v)
                v = up + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            row[j] = v;
            diag = up;
            if (v < best)
                best = v;
        }
        if (best > max) { /* every path goes through this row: the distance exceeds max */
            result = max + 1;
            goto out;
        }
    }
    result = row[lb] > max ? max + 1 : row[lb];
out:
    if (row != small)
        free(row);
    return result;
}

size_t mcz_suggest_max_distance(const char *query)
{
    size_t d = strlen(query) / 3;
    return d < 2 ? 2 : d;
}

size_t mcz_suggest(const char *query, const char *const *names, size_t n, size_t *out,
                   size_t nout)
{
    size_t max = mcz_suggest_max_distance(query), k = 0;
    size_t dist[16];
    if (nout > 16)
        nout = 16;
    for (size_t i = 0; i < n && nout; i++) {
        if (!names[i] || !*names[i])
            continue;
        size_t d = mcz_edit_distance(query, names[i], max);
        if (d > max)
            continue;
        int dup = 0;
        for (size_t j = 0; j < k && !dup; j++)
            dup = strcmp(names[out[j]], names[i]) == 0;
        if (dup)
            continue;
        /* insert by distance, after equal ones (table order breaks ties) */
        size_t pos = k;
        while (pos > 0 && dist[pos - 1] > d)
            pos--;
        if (pos >= nout)
            continue;
        size_t end = k < nout ? k : nout - 1;
        for (size_t j = end; j > pos; j--) {
            out[j] = out[j - 1];
            dist[j] = dist[j - 1];
        }
        out[pos] = i;
        dist[pos] = d;
        if (k < nout)
            k++;
    }
    return k;
}

char *mcz_suggest_list(const char *const *names, const size_t *idx, size_t k, char *buf,
                       size_t cap)
{
    if (!cap)
        return buf;
    buf[0] = '\0';
    size_t p = 0;
    for (size_t j = 0; j < k && p < cap; j++) {
        const char *sep = j == 0 ? "" : j + 1 == k ? " or " : ", ";
        int w = snprintf(buf + p, cap - p, "%s'%s'", sep, names[idx[j]]);
        if (w < 0)
            break;
        p += (size_t)w;
    }
    return buf;
}
