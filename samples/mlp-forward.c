/* mlp-forward - load a packed sample MLP with the loader library alone and run its forward
 * pass from the loaded weights: how an application uses libmczload.
 *
 *   mcz-sample mlp --size 1M -o mlp.onnx && mcz-pack mlp.onnx -o mlp.mcz
 *   mlp-forward mlp.mcz [VALUE]      # input: one row, every element VALUE (default 0.5)
 *
 * Prints the output row, one value per line. Layers fc0, fc1, ... alternate between Gemm
 * (weight [out, in], transB = 1) and MatMul + Add (weight [in, out]); Relu after every layer
 * but the last (see samples/sample-mlp.c). Depends on mcz/load.h (zstd + libc) only.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mcz/load.h"

/* Weight `name` as float32 into a new buffer; checks its rank and returns its dims. */
static float *load(mcz_file *f, const char *name, int rank, int64_t *dims, mcz_error *err)
{
    long i = mcz_find(f, name);
    if (i < 0)
        return NULL;
    const mcz_tensor_info *t = mcz_tensor(f, (size_t)i);
    if (t->rank != rank) {
        snprintf(err->msg, sizeof err->msg, "%s: rank %d, expected %d", name, t->rank, rank);
        return NULL;
    }
    for (int d = 0; d < rank; d++)
        dims[d] = t->dims[d];
    float *v = malloc((size_t)t->count * sizeof *v + 1);
    if (!v || mcz_read_f32(f, (size_t)i, v, (size_t)t->count, err) != MCZ_OK) {
        free(v);
        return NULL;
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: mlp-forward MODEL.mcz [VALUE]\n");
        return 2;
    }
    float value = argc > 2 ? strtof(argv[2], NULL) : 0.5f;
    mcz_error err = {0};
    mcz_file *f = mcz_open(argv[1], &err);
    if (!f) {
        fprintf(stderr, "mlp-forward: %s\n", err.msg);
        return 1;
    }
    float *x = NULL;
    int64_t width = -1;
    int layers = 0, rc = 0;
    for (;; layers++) {
        char wname[64], bname[64];
        snprintf(wname, sizeof wname, "fc%d.weight", layers);
        snprintf(bname, sizeof bname, "fc%d.bias", layers);
        if (mcz_find(f, wname) < 0)
            break;
        int64_t wd[2] = {0, 0}, bd[1] = {0};
        err.msg[0] = 0;
        float *w = load(f, wname, 2, wd, &err), *b = load(f, bname, 1, bd, &err);
        int gemm = layers % 2 == 0; /* Gemm: [out, in]; MatMul: [in, out] */
        int64_t in = gemm ? wd[1] : wd[0], out = gemm ? wd[0] : wd[1];
        if (!w || !b || bd[0] != out || (width >= 0 && in != width)) {
            fprintf(stderr, "mlp-forward: %s: layer %d: %s\n", argv[1], layers,
                    err.msg[0] ? err.msg : "missing or mismatched weights");
            free(w), free(b);
            rc = 1;
            break;
        }
        if (!x) { /* the input row */
            x = malloc((size_t)in * sizeof *x);
            for (int64_t k = 0; x && k < in; k++)
                x[k] = value;
        }
        float *y = malloc((size_t)out * sizeof *y);
        if (!x || !y) {
            fprintf(stderr, "mlp-forward: out of memory\n");
            free(w), free(b), free(y);
            rc = 1;
            break;
        }
        for (int64_t o = 0; o < out; o++) {
            double acc = b[o];
            for (int64_t k = 0; k < in; k++)
                acc += (double)x[k] * (gemm ? w[o * in + k] : w[k * out + o]);
            y[o] = (float)acc;
        }
        free(x), free(w), free(b);
        x = y;
        width = out;
        /* Relu follows every layer but the last: apply it lazily, once we know more follow */
        char next[64];
        snprintf(next, sizeof next, "fc%d.weight", layers + 1);
        if (mcz_find(f, next) >= 0)
            for (int64_t o = 0; o < out; o++)
                x[o] = x[o] > 0 ? x[o] : 0;
    }
    if (!rc && layers == 0) {
        fprintf(stderr, "mlp-forward: %s: no fc0.weight: not a sample MLP\n", argv[1]);
        rc = 1;
    }
    for (int64_t o = 0; !rc && o < width; o++)
        printf("%.9g\n", x[o]);
    free(x);
    mcz_close(f);
    return rc;
}
