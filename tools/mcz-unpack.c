/* mcz-unpack - an .mcz container back to the ONNX model it was packed from. */
#include <stdio.h>
#include <string.h>

#include "mcz/pack.h"
#include "progress.h"
#include "tool.h"

static const char usage[] =
    "Usage: mcz-unpack IN.mcz -o OUT.onnx [--part N] [--external-data] [-f] [-j N] [-q]\n"
    "\n"
    "Give back the ONNX model an .mcz holds, exactly as packed: same graph, same weight\n"
    "placement (initializer, Constant node, subgraph). Weights go to external data\n"
    "(OUT.onnx.data) when the model is over 2 GiB, or always with --external-data. With\n"
    "--part N, the partition N of a model split by mcz-partition -o OUT.mcz (counted from\n"
    "0) as a model of its own.\n"
    "\n"
    "  -o, --output PATH  the ONNX model to write ('-' for standard output)\n"
    "      --part N       write partition N instead of the whole model\n"
    "      --external-data  weights in OUT.onnx.data, whatever the model's size\n"
    "  -j, --threads N    decoding threads (default 0 = all cores)\n"
    "  -f, --force        overwrite an existing output\n"
    "  -q, --quiet        print nothing on success\n"
    "  -h, --help         this help\n"
    "      --version      print the version\n"
    "\n"
    "Exit status: 0 success, 1 failure (bad input, I/O), 2 usage error.\n";

enum { OPT_PART = TOOL_OPT_USER };

int main(int argc, char **argv)
{
    tool_init("mcz-unpack");
    static const tool_option options[] = {
        TOOL_OPTION_OUTPUT, {OPT_PART, 0, "part", TOOL_ARG_REQUIRED}, TOOL_OPTION_EXTERNAL_DATA,
        TOOL_OPTION_THREADS, TOOL_OPTION_FORCE, TOOL_OPTION_QUIET, TOOL_OPTION_HELP,
        TOOL_OPTION_VERSION, TOOL_OPTION_END};
    tool_common c = {0};
    tool_args args;
    const char *arg;
    int opt;
    long part = -1;
    tool_args_init(&args, argc, argv, options);
    while ((opt = tool_next_option(&args, &arg)) != -1) {
        if (tool_common_opt(&c, opt, arg, usage))
            continue;
        if (tool_parse_int(arg, 0, 65535, &part) != 0) /* OPT_PART, the one left */
            return tool_usage_error("invalid part '%s' (0..65535)", arg);
    }
    int io = tool_want_io(&args, &c, "file", "OUT.onnx");
    if (io != TOOL_OK)
        return io;
    const char *in = args.operands[0];
    if (!mcz_is_container(in)) {
        tool_error(in, "not an .mcz container");
        return TOOL_FAIL;
    }
    mcz_error err = {0};
    uint64_t items = 0, bytes = 0;
    mcz_file *f = mcz_open(in, NULL);
    for (size_t i = 0; f && part < 0 && i < mcz_tensor_count(f); i++, items++)
        bytes += mcz_tensor(f, i)->raw_bytes;
    if (f && part >= 0 && (size_t)part >= mcz_part_count(f)) {
        tool_error(in, "no partition %ld (the file has %zu)", part, mcz_part_count(f));
        mcz_close(f);
        return TOOL_FAIL;
    }
    mcz_close(f); /* totals for the progress bar only: unpack reports errors itself */
    progress *bar = progress_start("unpack", items, bytes, c.quiet);
    mcz_unpack_opts o = {.threads = c.threads, .force = c.force,
                         .external_data = c.external_data, .progress = progress_callback,
                         .progress_ctx = bar};
    mcz_status s = part >= 0 ? mcz_unpack_part(in, (size_t)part, c.output, &o, &err)
                             : mcz_unpack(in, c.output, &o, &err);
    progress_done(bar);
    if (s != MCZ_OK)
        return tool_fail(&err);
    if (!c.quiet && strcmp(c.output, "-") != 0)
        printf("%s -> %s\n", in, c.output);
    return TOOL_OK;
}
