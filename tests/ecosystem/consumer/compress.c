/* compress.c - a user's program reading an ONNX model with the installed static libcompress:
 * where its weights live and how big they are.
 *
 *   mcz-consumer-compress MODEL.onnx
 *
 * Exit status: 0 success, 1 the model cannot be read. */
#include <stdio.h>

#include <mcz/model.h>
#include <mcz/suggest.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mcz-consumer-compress MODEL.onnx\n");
        return 2;
    }
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx(argv[1], &err);
    if (!m) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    size_t n = mcz_model_weight_count(m);
    unsigned long long bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += mcz_model_weight(m, i)->nbytes;
    printf("%s: %zu weights, %llu bytes\n", argv[1], n, bytes);
    printf("edit distance quantise/quantize: %zu\n", mcz_edit_distance("quantise", "quantize", 5));
    mcz_model_free(m);
    return 0;
}
