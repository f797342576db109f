/* roundtrip - import and export every model of the ONNX conformance corpus.
 *
 * For each ROOT/CASE/model.onnx: import with libcompress, export, and check that
 *   - the export equals protobuf-c's own canonical re-encoding of the file (every field kept),
 *   - the streamed file export equals the in-memory serialization,
 * and count how many came back byte-identical to the original file. Writes OUTDIR/list.tsv
 * (original, exported, test data folder) for the ONNX Runtime comparison.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mcz/model.h"
#include "onnx.pb-c.h"

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: roundtrip OUTDIR ROOT...\n");
        return 2;
    }
    const char *outdir = argv[1];
    mkdir(outdir, 0755);
    char listpath[4096];
    snprintf(listpath, sizeof listpath, "%s/list.tsv", outdir);
    FILE *list = fopen(listpath, "w");
    if (!list) {
        perror(listpath);
        return 1;
    }
    size_t total = 0, identical = 0, canonical = 0, failed = 0, weights = 0;
    unsigned long long weight_bytes = 0;
    for (int r = 2; r < argc; r++) {
        DIR *d = opendir(argv[r]);
        if (!d) {
            perror(argv[r]);
            return 1;
        }
        char **names = NULL;
        size_t nn = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            names = realloc(names, (nn + 1) * sizeof *names);
            names[nn++] = strdup(de->d_name);
        }
        closedir(d);
        qsort(names, nn, sizeof *names, cmp_names);
        const char *group = strrchr(argv[r], '/') ? strrchr(argv[r], '/') + 1 : argv[r];
        for (size_t i = 0; i < nn; i++) {
            char path[4096], out[4096], data[4096];
            snprintf(path, sizeof path, "%s/%s/model.onnx", argv[r], names[i]);
            snprintf(data, sizeof data, "%s/%s/test_data_set_0", argv[r], names[i]);
            snprintf(out, sizeof out, "%s/%s__%s.onnx", outdir, group, names[i]);
            size_t len;
            unsigned char *orig = slurp(path, &len);
            if (!orig)
                continue; /* not a model folder */
            total++;
            const char *why = NULL;
            mcz_error err = {0};
            uint8_t *ours = NULL, *canon = NULL, *file = NULL;
            size_t ours_len = 0, canon_len = 0, file_len = 0;
            Onnx__ModelProto *p = onnx__model_proto__unpack(NULL, len, orig);
            mcz_model *m = mcz_model_load_onnx(path, &err);
            if (!p) {
                why = "protobuf-c cannot parse the original";
            } else if (!m) {
                why = err.msg;
            } else if (mcz_model_serialize(m, &ours, &ours_len, &err) != MCZ_OK) {
                why = err.msg;
            } else {
                canon_len = onnx__model_proto__get_packed_size(p);
                canon = malloc(canon_len ? canon_len : 1);
                onnx__model_proto__pack(p, canon);
                mcz_save_opts so = {.force = 1};
                if (canon_len != ours_len || memcmp(canon, ours, ours_len) != 0)
                    why = "export differs from protobuf-c's canonical encoding";
                else if (mcz_model_save_onnx(m, out, &so, &err) != MCZ_OK)
                    why = err.msg;
                else if (!(file = slurp(out, &file_len)) || file_len != ours_len ||
                         memcmp(file, ours, ours_len) != 0)
                    why = "file export differs from the in-memory serialization";
            }
            if (why) {
                failed++;
                printf("FAIL %s/%s: %s\n", group, names[i], why);
            } else {
                canonical++;
                if (ours_len == len && memcmp(ours, orig, len) == 0)
                    identical++;
                for (size_t k = 0; k < mcz_model_weight_count(m); k++)
                    weight_bytes += mcz_model_weight(m, k)->nbytes;
                weights += mcz_model_weight_count(m);
                struct stat st;
                fprintf(list, "%s\t%s\t%s\n", path, out, stat(data, &st) == 0 ? data : "");
            }
            if (p)
                onnx__model_proto__free_unpacked(p, NULL);
            mcz_model_free(m);
            free(orig);
            free(ours);
            free(canon);
            free(file);
        }
        for (size_t i = 0; i < nn; i++)
            free(names[i]);
        free(names);
    }
    fclose(list);
    printf("conformance: %zu models, %zu weights (%llu bytes); %zu exported with every field "
           "kept, %zu byte-identical to the original file, %zu failed\n",
           total, weights, weight_bytes, canonical, identical, failed);
    return failed ? 1 : 0;
}
