/* model-io.c - every tool reads ONNX or .mcz and writes by the output's name. */
#include <stdio.h>
#include <string.h>

#include "tool.h"

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

mcz_model *tool_read_model(const char *path, mcz_error *err)
{
    /* .mcz support arrives with the container (issue 3) */
    return mcz_model_load_onnx(path, err);
}

int tool_write_model(mcz_model *m, const tool_common *c, int external_data)
{
    mcz_error err = {0};
    if (!c->output)
        return tool_usage_error("no output: use -o PATH");
    if (has_suffix(c->output, ".mcz")) {
        tool_error(c->output, ".mcz output is not available yet");
        return TOOL_FAIL;
    }
    mcz_save_opts o = {.external_data = external_data || c->external_data, .force = c->force};
    if (mcz_model_save_onnx(m, c->output, &o, &err) != MCZ_OK)
        return tool_fail(&err);
    return TOOL_OK;
}
