/* resave - import an ONNX model and export it again: resave IN OUT [auto|external|inline] */
#include <stdio.h>
#include <string.h>

#include "mcz/model.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: resave IN OUT [auto|external|inline]\n");
        return 2;
    }
    const char *mode = argc > 3 ? argv[3] : "auto";
    mcz_save_opts o = {.force = 1};
    o.external_data = strcmp(mode, "external") == 0 ? 1 : strcmp(mode, "inline") == 0 ? -1 : 0;
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx(argv[1], &err);
    if (!m || mcz_model_save_onnx(m, argv[2], &o, &err) != MCZ_OK) {
        fprintf(stderr, "resave: %s\n", err.msg);
        mcz_model_free(m);
        return 1;
    }
    mcz_model_free(m);
    return 0;
}
