/* raise-opset - write a model with its default-domain opset raised (mcz_model_raise_opset),
 * for the tests that check the conversion changes nothing ONNX Runtime computes.
 *
 *   raise-opset IN.onnx OUT.onnx OPSET
 *   raise-opset --corpus OUTDIR OPSET ROOT...   every model.onnx under ROOT/<test>/ with its
 *       test_data_set_0: writes OUTDIR/<root>-<test>.onnx and OUTDIR/list.tsv for
 *       compare.js --list; models at or above OPSET, or that the converter refuses, are
 *       counted (refusals are listed) and left out.
 * Exit: 0 success, 1 failure. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mcz/model.h"
#include "mcz/opset.h"

static int one(const char *in, const char *out, long opset)
{
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx(in, &err);
    if (!m) {
        fprintf(stderr, "raise-opset: %s\n", err.msg);
        return 1;
    }
    mcz_save_opts o = {.force = 1};
    if (mcz_model_raise_opset(m, opset, &err) != MCZ_OK ||
        mcz_model_save_onnx(m, out, &o, &err) != MCZ_OK) {
        fprintf(stderr, "raise-opset: %s\n", err.msg);
        mcz_model_free(m);
        return 1;
    }
    mcz_model_free(m);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--corpus") != 0)
        return one(argv[1], argv[2], strtol(argv[3], NULL, 10));
    if (argc < 5 || strcmp(argv[1], "--corpus") != 0) {
        fprintf(stderr, "usage: raise-opset IN OUT OPSET | --corpus OUTDIR OPSET ROOT...\n");
        return 1;
    }
    const char *outdir = argv[2];
    long opset = strtol(argv[3], NULL, 10);
    mkdir(outdir, 0777);
    char path[4096];
    snprintf(path, sizeof path, "%s/list.tsv", outdir);
    FILE *list = fopen(path, "w");
    if (!list) {
        perror(path);
        return 1;
    }
    size_t written = 0, above = 0, refused = 0, unreadable = 0;
    for (int r = 4; r < argc; r++) {
        DIR *d = opendir(argv[r]);
        if (!d)
            continue;
        char **names = NULL;
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char **nn = realloc(names, (n + 1) * sizeof *nn);
            if (!nn)
                break;
            names = nn;
            names[n++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof *names, by_name);
        const char *root = strrchr(argv[r], '/') ? strrchr(argv[r], '/') + 1 : argv[r];
        for (size_t i = 0; i < n; i++) {
            char in[4096], data[4096], out[4096];
            snprintf(in, sizeof in, "%s/%s/model.onnx", argv[r], names[i]);
            snprintf(data, sizeof data, "%s/%s/test_data_set_0", argv[r], names[i]);
            snprintf(out, sizeof out, "%s/%s-%s.onnx", outdir, root, names[i]);
            struct stat st;
            if (stat(in, &st) != 0 || stat(data, &st) != 0) {
                free(names[i]);
                continue;
            }
            mcz_error err = {0};
            mcz_model *m = mcz_model_load_onnx(in, &err);
            if (!m) {
                unreadable++;
                free(names[i]);
                continue;
            }
            if (mcz_model_opset_version(m, "") >= opset) {
                above++;
            } else if (mcz_model_raise_opset(m, opset, &err) != MCZ_OK) {
                refused++;
                printf("refused %s: %s\n", names[i], err.msg);
            } else {
                mcz_save_opts o = {.force = 1};
                if (mcz_model_save_onnx(m, out, &o, &err) != MCZ_OK) {
                    fprintf(stderr, "raise-opset: %s\n", err.msg);
                    mcz_model_free(m);
                    fclose(list);
                    return 1;
                }
                fprintf(list, "%s\t%s\t%s\n", in, out, data);
                written++;
            }
            mcz_model_free(m);
            free(names[i]);
        }
        free(names);
    }
    fclose(list);
    printf("raise-opset: %zu models raised to %ld, %zu already there, %zu refused, %zu unreadable\n",
           written, opset, above, refused, unreadable);
    return 0;
}
