/* model-io.c - every tool reads ONNX or .mcz and writes by the output's name. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "mcz/outfile.h"
#include "mcz/pack.h"
#include "mcz/roles.h"
#include "progress.h"
#include "tool.h"

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

mcz_model *tool_read_model(const char *path, mcz_error *err)
{
    return mcz_model_load_any(path, 0, err);
}

int tool_write_model(mcz_model *m, const tool_common *c, int external_data)
{
    mcz_error err = {0};
    if (!c->output)
        return tool_usage_error("no output: use -o PATH");
    if (has_suffix(c->output, ".mcz")) {
        mcz_pack_opts po = {.threads = c->threads, .force = c->force};
        if (mcz_pack(m, c->output, &po, NULL, &err) != MCZ_OK)
            return tool_fail(&err);
        return TOOL_OK;
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

int tool_is_mcz_file(const char *path)
{
    return mcz_is_container(path);
}

int tool_is_onnx_output(const char *path)
{
    return strcmp(path, "-") == 0 || !has_suffix(path, ".mcz");
}

int tool_copy_file(const char *in, const tool_common *c)
{
    mcz_error err = {0};
    FILE *f = fopen(in, "rb");
    if (!f) {
        tool_error(in, "cannot read: %s", strerror(errno));
        return TOOL_FAIL;
    }
    mcz_outfile *o = mcz_outfile_open(c->output, c->force, &err);
    if (!o) {
        fclose(f);
        return tool_fail(&err);
    }
    char buf[1 << 16];
    size_t n;
    mcz_status s = MCZ_OK;
    while (s == MCZ_OK && (n = fread(buf, 1, sizeof buf, f)) > 0)
        s = mcz_outfile_write(o, buf, n, &err);
    int rerr = ferror(f);
    fclose(f);
    if (s == MCZ_OK && rerr) {
        mcz_outfile_abort(o);
        tool_error(in, "read error");
        return TOOL_FAIL;
    }
    if (s != MCZ_OK) {
        mcz_outfile_abort(o);
        return tool_fail(&err);
    }
    if (mcz_outfile_commit(o, &err) != MCZ_OK)
        return tool_fail(&err);
    return TOOL_OK;
}

int tool_write_file(const char *path, int force, const char *text, size_t len)
{
    mcz_error err = {0};
    mcz_outfile *o = mcz_outfile_open(path, force, &err);
    mcz_status s = o ? mcz_outfile_write(o, text, len, &err) : err.code;
    if (o && s != MCZ_OK)
        mcz_outfile_abort(o);
    else if (o)
        s = mcz_outfile_commit(o, &err); /* frees o whatever the result */
    return s == MCZ_OK ? TOOL_OK : tool_fail(&err);
}

int tool_text_open(tool_text *t, const char *path)
{
    *t = (tool_text){0};
    if ((t->f = open_memstream(&t->buf, &t->len)))
        return TOOL_OK;
    tool_error(path, "out of memory");
    return TOOL_FAIL;
}

int tool_text_write(tool_text *t, const char *path, int force)
{
    int rc = TOOL_FAIL;
    if (fclose(t->f) != 0)
        tool_error(path, "out of memory");
    else
        rc = tool_write_file(path, force, t->buf, t->len);
    free(t->buf);
    *t = (tool_text){0};
    return rc;
}

void tool_json_num(FILE *f, double v, int digits)
{
    if (isfinite(v))
        fprintf(f, "%.*g", digits, v);
    else
        fputs("null", f);
}

int tool_run_pass(const tool_common *c, const char *in, const tool_pass *ps)
{
    mcz_error err = {0};
    mcz_model *m = tool_read_model(in, &err);
    if (!m)
        return tool_fail(&err);
    int any_external = 0;
    for (size_t i = 0; i < mcz_model_weight_count(m); i++)
        any_external |= mcz_model_weight(m, i)->external;
    uint64_t todo_items, todo_bytes;
    tool_candidate_totals(m, ps->min_elements, &todo_items, &todo_bytes);
    progress *bar = progress_start(ps->verb, todo_items, todo_bytes, c->quiet);
    mcz_status s = ps->run(ps->ctx, m, progress_callback, bar, &err);
    progress_done(bar);
    if (s != MCZ_OK) {
        int rc = tool_fail(&err);
        mcz_model_free(m);
        return ps->usage_errors & TOOL_STATUS_BIT(s) ? TOOL_USAGE : rc;
    }
    int rc;
    if (!ps->changed(ps->ctx) && !any_external && tool_is_onnx_output(c->output) &&
        !tool_is_mcz_file(in))
        rc = tool_copy_file(in, c); /* nothing changed: the very same bytes */
    else
        rc = tool_write_model(m, c, ps->external(ps->ctx, any_external));
    if (rc == TOOL_OK && c->report) {
        tool_text t;
        rc = tool_text_open(&t, c->report);
        if (rc == TOOL_OK) {
            ps->json(ps->ctx, t.f, in, c->output, m);
            rc = tool_text_write(&t, c->report, c->force);
        }
    }
    if (rc == TOOL_OK && !c->quiet) {
        if (c->json)
            ps->json(ps->ctx, stdout, in, c->output, m);
        else
            ps->table(ps->ctx, strcmp(c->output, "-") == 0 ? stderr : stdout, m);
    }
    mcz_model_free(m);
    return rc;
}

int tool_parse_count(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}
