/* roundtrip.c - corpus helper: for each ONNX model, check that the model the loader builds in
 * memory from its .mcz equals the canonical serialization of the model (what mcz writes for
 * it) or, for weights the source held in typed fields (int64_data...) or empty, the canonical
 * serialization with those weights as raw_data; optionally write the built model to a folder
 * (for ONNX Runtime).
 *
 *   mcz-container-roundtrip [--built DIR] --list FILE
 *   FILE: one "MODEL<TAB>MCZ[<TAB>UNPACKED]" a line; UNPACKED (what mcz-unpack wrote) must
 *   equal the built model byte for byte.
 *
 * Prints "ok MODEL", "ok-raw MODEL" (equal once typed fields are raw_data) or "FAIL MODEL: why"
 * per line; exit 1 if any failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/load.h"
#include "mcz/model.h"

/* The model with every weight held in a typed field (or empty) moved to raw_data. */
static int as_raw_data(mcz_model *m, uint8_t **out, size_t *len, mcz_error *e)
{
    for (size_t i = 0; i < mcz_model_weight_count(m); i++) {
        const mcz_weight *w = mcz_model_weight(m, i);
        if (w->dtype == MCZ_DT_STRING || (strcmp(w->field, "raw_data") == 0 && w->nbytes))
            continue;
        const void *d = mcz_model_weight_data(m, i, e);
        void *copy = malloc(w->nbytes ? w->nbytes : 1);
        if ((!d && w->nbytes) || !copy)
            return -1;
        memcpy(copy, d, w->nbytes);
        if (mcz_model_weight_replace(m, i, w->dtype, w->rank, w->dims, copy, w->nbytes, e))
            return -1;
    }
    return mcz_model_serialize(m, out, len, e) ? -1 : 0;
}

static int same_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    int same = 1;
    uint8_t b[65536];
    size_t got, at = 0;
    while (same && (got = fread(b, 1, sizeof b, f)) > 0) {
        same = at + got <= n && memcmp(b, p + at, got) == 0;
        at += got;
    }
    fclose(f);
    return same && at == n;
}

static int check(const char *onnx, const char *mcz, const char *unpacked, const char *built_dir,
                 unsigned long k)
{
    mcz_error e = {0};
    mcz_model *m = mcz_model_load_onnx(onnx, &e);
    uint8_t *canon = NULL, *built = NULL;
    size_t clen = 0, blen = 0;
    int ok = 0;
    mcz_file *f = NULL;
    if (!m || mcz_model_serialize(m, &canon, &clen, &e)) {
        printf("FAIL %s: canonical form: %s\n", onnx, e.msg);
    } else if (!(f = mcz_open(mcz, &e)) || mcz_build_onnx(f, 1, &built, &blen, &e)) {
        printf("FAIL %s: loader: %s\n", onnx, e.msg);
    } else if (blen != clen || memcmp(built, canon, clen) != 0) {
        free(canon);
        canon = NULL;
        if (as_raw_data(m, &canon, &clen, &e) != 0)
            printf("FAIL %s: canonical raw_data form: %s\n", onnx, e.msg);
        else if (blen != clen || memcmp(built, canon, clen) != 0)
            printf("FAIL %s: the model built from %s differs from the canonical form (%zu vs %zu "
                   "bytes)\n", onnx, mcz, blen, clen);
        else
            ok = 2;
    } else {
        ok = 1;
    }
    if (ok && unpacked && !same_file(unpacked, built, blen)) {
        printf("FAIL %s: %s (mcz-unpack) differs from the model the loader builds\n", onnx,
               unpacked);
        ok = 0;
    }
    if (ok) {
        printf("%s %s\n", ok == 1 ? "ok" : "ok-raw", onnx);
        if (built_dir) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%06lu.onnx", built_dir, k);
            FILE *o = fopen(path, "wb");
            if (!o || fwrite(built, 1, blen, o) != blen || fclose(o) != 0) {
                printf("FAIL %s: cannot write %s\n", onnx, path);
                ok = 0;
            }
        }
    }
    mcz_close(f);
    mcz_model_free(m);
    free(canon);
    free(built);
    return ok;
}

int main(int argc, char **argv)
{
    const char *built = NULL, *list = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--built") == 0)
            built = argv[i + 1];
        else if (strcmp(argv[i], "--list") == 0)
            list = argv[i + 1];
    }
    FILE *l = list ? fopen(list, "r") : NULL;
    if (!l) {
        fprintf(stderr, "usage: mcz-container-roundtrip [--built DIR] --list FILE\n");
        return 2;
    }
    char line[8192];
    unsigned long n = 0, bad = 0;
    while (fgets(line, sizeof line, l)) {
        line[strcspn(line, "\n")] = 0;
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = 0;
        char *third = strchr(tab + 1, '\t');
        if (third)
            *third++ = 0;
        if (!check(line, tab + 1, third, built, n++))
            bad++;
    }
    fclose(l);
    fprintf(stderr, "roundtrip: %lu models, %lu failed\n", n, bad);
    return bad ? 1 : 0;
}
