/* model-io.c - every tool reads ONNX or .mcz and writes by the output's name. */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "mcz/roles.h"
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

void tool_candidate_totals(mcz_model *m, uint64_t min_elements, uint64_t *items,
                           uint64_t *bytes)
{
    size_t nw = mcz_model_weight_count(m);
    mcz_weight_role *r = calloc(nw ? nw : 1, sizeof *r);
    *items = *bytes = 0;
    if (!r || mcz_model_weight_roles(m, r, NULL) != MCZ_OK) {
        free(r);
        return;
    }
    for (size_t i = 0; i < nw; i++) {
        const mcz_weight *w = mcz_model_weight(m, i);
        if (r[i].op != MCZ_ROLE_NONE && w->count >= min_elements) {
            (*items)++;
            *bytes += w->nbytes;
        }
    }
    free(r);
}
