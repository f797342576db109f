/* mcz-inspect - what is in a model or an .mcz artifact. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect-html.h"
#include "inspect-text.h"
#include "tool.h"

static const char usage[] =
    "Usage: mcz-inspect FILE [--tensors] [--tensor NAME] [--verify] [--json]\n"
    "       mcz-inspect FILE --html REPORT [-f]\n"
    "\n"
    "Describe an ONNX model or an .mcz container (recognised by content).\n"
    "\n"
    "An .mcz summary also gives the quantized tensors by scheme, the encodings (raw, zstd,\n"
    "planes, sparse) and the partitions: per part its tensors, weight bytes, inputs, outputs.\n"
    "\n"
    "  --tensors        one row per weight: name, type, shape, location, bytes (.mcz:\n"
    "                   encoding, quantization scheme, part)\n"
    "  --tensor NAME    details of one weight (.mcz: encoding, sparsity, quantization with\n"
    "                   its scale and zero-point tensors, stats and histogram; quantized:\n"
    "                   of the dequantized values and of the codes)\n"
    "  --verify         decode every payload and check every checksum (.mcz)\n"
    "      --json       machine-readable output\n"
    "      --html REPORT  write a self-contained HTML report of FILE (summary, operators,\n"
    "                   one row per weight: bytes before/after, encoding, sparsity, SQNR;\n"
    "                   the partitions); '-' for standard output\n"
    "  -f, --force      overwrite an existing REPORT\n"
    "  -q, --quiet      print nothing; the exit status tells\n"
    "  -h, --help       this help\n"
    "      --version    print the version\n"
    "\n"
    "Exit status: 0 success, 1 failure (bad input, I/O), 2 usage error.\n";

enum { OPT_TENSORS = TOOL_OPT_USER, OPT_TENSOR, OPT_VERIFY, OPT_HTML };

/* ---- the report, computed once and rendered as text or JSON ---------------------------- */

/* What the report needs for these options: the model for a summary, roles for the ONNX
 * --tensors table, verification for --verify. */
static unsigned report_parts(const char *path, const tool_common *c, int tensors,
                             const char *one, int verify)
{
    unsigned what = one || (verify && !tensors) ? 0 : INSPECT_MODEL;
    if (tensors && !c->json && !one && !tool_is_mcz_file(path))
        what |= INSPECT_ROLES;
    return what | (verify ? INSPECT_VERIFY : 0);
}

/* --verify of an .mcz: the line or the JSON object (when nothing else follows), then the
 * error naming the first bad tensor. Returns TOOL_FAIL when the file is damaged. */
static int render_verify(const inspect_report *r, const tool_common *c, int alone)
{
    if (!c->quiet && c->json && alone)
        inspect_json_verify(r);
    else if (!c->quiet && !c->json)
        inspect_text_verify(r);
    if (r->verify_ok)
        return TOOL_OK;
    tool_fail(&r->verify_error);
    if (r->bad_tensor >= 0)
        tool_error(r->path, "first bad tensor: '%s' (tensor %ld)", r->tensors[r->bad_tensor].name,
                   r->bad_tensor);
    return TOOL_FAIL;
}

static int inspect(const char *path, const tool_common *c, int tensors, const char *one,
                   int verify)
{
    inspect_report r;
    int rc = inspect_report_open(&r, path, report_parts(path, c, tensors, one, verify));
    int summary = !one && (!r.verified || tensors);
    if (rc == TOOL_OK && r.verified)
        rc = render_verify(&r, c, !one && !summary);
    if (rc == TOOL_OK && one) {
        long i = inspect_report_find(&r, one);
        inspect_detail d;
        if (i < 0 || inspect_report_detail(&r, (size_t)i, &d) != TOOL_OK)
            rc = TOOL_FAIL;
        else if (c->json && !c->quiet)
            inspect_json_tensor(&r, (size_t)i, &d);
        else if (!c->quiet)
            inspect_text_tensor(&r, (size_t)i, &d);
    } else if (rc == TOOL_OK && summary && !c->quiet) {
        if (c->json)
            inspect_json_summary(&r, tensors);
        else if (tensors)
            inspect_text_tensors(&r);
        else
            inspect_text_summary(&r);
    }
    inspect_report_free(&r);
    return rc;
}

int main(int argc, char **argv)
{
    tool_init("mcz-inspect");
    static const tool_option options[] = {
        {OPT_TENSORS, 0, "tensors", TOOL_ARG_NONE},
        {OPT_TENSOR, 0, "tensor", TOOL_ARG_REQUIRED},
        {OPT_VERIFY, 0, "verify", TOOL_ARG_NONE},
        TOOL_OPTION_JSON,
        {OPT_HTML, 0, "html", TOOL_ARG_REQUIRED},
        TOOL_OPTION_FORCE, TOOL_OPTION_QUIET, TOOL_OPTION_HELP, TOOL_OPTION_VERSION,
        TOOL_OPTION_END};
    tool_common c = {0};
    tool_args args;
    const char *arg;
    int tensors = 0, verify = 0, opt;
    const char *one = NULL, *html = NULL;
    tool_args_init(&args, argc, argv, options);
    while ((opt = tool_next_option(&args, &arg)) != -1) {
        if (tool_common_opt(&c, opt, arg, usage))
            continue;
        switch (opt) {
        case OPT_TENSORS: tensors = 1; break;
        case OPT_TENSOR: one = arg; break;
        case OPT_VERIFY: verify = 1; break;
        case OPT_HTML: html = arg; break;
        }
    }
    if (args.noperands != 1)
        return tool_usage_error(args.noperands == 0 ? "no input file" : "one input file at a time");
    const char *path = args.operands[0];
    if (html) {
        if (tensors || one || verify || c.json)
            return tool_usage_error("--html goes alone (not with --tensors, --tensor, --verify, "
                                    "--json)");
        return inspect_html(path, html, c.force);
    }
    if (verify && !c.quiet && !c.json && !tool_is_mcz_file(path))
        printf("verify: ONNX has no checksums; the model parses and every weight fits its shape\n");
    return inspect(path, &c, tensors, one, verify && tool_is_mcz_file(path));
}
