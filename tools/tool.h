/* tool.h - what every mcz tool shares: the common options, error printing, exit codes.
 * Tools stay thin: parse options, call libcompress, print. */
#ifndef MCZ_TOOL_H
#define MCZ_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include "mcz/load.h"

/* Exit status of every tool. */
enum { TOOL_OK = 0, TOOL_FAIL = 1, TOOL_USAGE = 2 };

/* The values of the common options (DESIGN.md, "The command-line contract"); each tool takes
 * only those its option table lists (below). */
typedef struct tool_common {
    const char *output;  /* -o PATH, NULL if absent */
    int force;           /* -f/--force */
    int quiet;           /* -q */
    int threads;         /* -j/--threads N (0 = all cores) */
    int json;            /* --json */
    const char *report;  /* --report FILE.json */
    const char **exclude;/* --exclude PATTERN (repeatable) */
    size_t nexclude;
    int external_data;   /* --external-data: ONNX outputs keep weights in OUT.data */
    int have_min_elements;              /* --min-elements N given */
    unsigned long long min_elements;    /* its N */
} tool_common;

/* ---- options: every tool's own table --------------------------------------------------
 * A tool lists exactly the options it acts on, common ones (TOOL_OPTION_*) and its own, in a
 * tool_option table ending with TOOL_OPTION_END; tool_next_option reads argv against it. Any
 * other option is a usage error ("mcz-TOOL: unrecognized option '--report'", exit 2). Long
 * names match exactly (no abbreviations), "--name=VALUE" and "--name VALUE" both work, short
 * ones cluster ("-fq", "-j4", "-oOUT"), operands may come anywhere, and "--" ends the options. */

/* ids of the common options without a short letter; a tool's own ids start at TOOL_OPT_USER. */
enum { TOOL_OPT_JSON = 1000, TOOL_OPT_REPORT, TOOL_OPT_EXCLUDE, TOOL_OPT_VERSION,
       TOOL_OPT_EXTERNAL, TOOL_OPT_MIN_ELEMENTS, TOOL_OPT_USER = 1100 };

enum { TOOL_ARG_NONE = 0, TOOL_ARG_REQUIRED = 1 };

typedef struct tool_option {
    int id;                /* what tool_next_option returns: the short letter, or an id */
    char short_name;       /* 'o' for -o; 0 for none */
    const char *long_name; /* "output" for --output; NULL for none */
    int arg;               /* TOOL_ARG_NONE or TOOL_ARG_REQUIRED */
} tool_option;

/* The common options (DESIGN.md, "The command-line contract"), for a tool's table. */
#define TOOL_OPTION_OUTPUT {'o', 'o', "output", TOOL_ARG_REQUIRED}
#define TOOL_OPTION_FORCE {'f', 'f', "force", TOOL_ARG_NONE}
#define TOOL_OPTION_QUIET {'q', 'q', "quiet", TOOL_ARG_NONE}
#define TOOL_OPTION_THREADS {'j', 'j', "threads", TOOL_ARG_REQUIRED}
#define TOOL_OPTION_JSON {TOOL_OPT_JSON, 0, "json", TOOL_ARG_NONE}
#define TOOL_OPTION_REPORT {TOOL_OPT_REPORT, 0, "report", TOOL_ARG_REQUIRED}
#define TOOL_OPTION_EXCLUDE {TOOL_OPT_EXCLUDE, 0, "exclude", TOOL_ARG_REQUIRED}
#define TOOL_OPTION_EXTERNAL_DATA {TOOL_OPT_EXTERNAL, 0, "external-data", TOOL_ARG_NONE}
#define TOOL_OPTION_MIN_ELEMENTS {TOOL_OPT_MIN_ELEMENTS, 0, "min-elements", TOOL_ARG_REQUIRED}
#define TOOL_OPTION_HELP {'h', 'h', "help", TOOL_ARG_NONE}
#define TOOL_OPTION_VERSION {TOOL_OPT_VERSION, 0, "version", TOOL_ARG_NONE}
#define TOOL_OPTION_END {0, 0, NULL, 0}
/* The common tail of a tool that rewrites a model's weights (mcz-prune, mcz-quantize). */
#define TOOL_OPTIONS_WEIGHT_PASS                                                              \
    TOOL_OPTION_MIN_ELEMENTS, TOOL_OPTION_EXCLUDE, TOOL_OPTION_EXTERNAL_DATA,                  \
        TOOL_OPTION_THREADS, TOOL_OPTION_JSON, TOOL_OPTION_REPORT, TOOL_OPTION_FORCE,          \
        TOOL_OPTION_QUIET, TOOL_OPTION_HELP, TOOL_OPTION_VERSION, TOOL_OPTION_END

/* Reading argv. After tool_next_option returned -1, the operands (the arguments that are not
 * options or their values), in their order, are operands[0..noperands). */
typedef struct tool_args {
    const tool_option *opts;
    int argc;
    char **argv;
    int next;            /* the argv index read next */
    const char *cluster; /* the rest of a short-option cluster ("q" of "-fq"), or NULL */
    int options_done;    /* after "--" */
    char **operands;     /* argv + 1: operands are moved there as they are met */
    int noperands;
} tool_args;

void tool_args_init(tool_args *a, int argc, char **argv, const tool_option *opts);

/* The next option's id, with its value in *arg (NULL when it takes none); -1 when argv is
 * read. An option the table lacks, a missing value or a value given to an option that takes
 * none is a usage error: printed, and the tool exits 2. */
int tool_next_option(tool_args *a, const char **arg);

/* Name used in messages ("mcz-inspect"); set once at start. */
void tool_init(const char *name);
const char *tool_name(void);

/* Handle a common option returned by tool_next_option. Returns 1 if handled, 0 if not a
 * common option, and exits (0 for --help/--version after printing `usage`, 2 on a bad value). */
int tool_common_opt(tool_common *c, int opt, const char *arg, const char *usage);

/* "mcz-TOOL: FILE: message" on stderr (FILE may be NULL). */
void tool_error(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print an mcz_error (its message already names the file). Returns TOOL_FAIL. */
int tool_fail(const mcz_error *e);

/* The operands and -o of a tool that reads one input and writes one output: a usage error
 * (returned) unless there is exactly one operand ("no input WHAT", "one input WHAT at a
 * time") and c->output is set ("no output: use -o OUT_HINT"); else TOOL_OK. */
int tool_want_io(const tool_args *a, const tool_common *c, const char *what,
                 const char *out_hint);

/* Usage error: message, a hint to --help, returns TOOL_USAGE. */
int tool_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse a size like "4M", "1.5G", "123" (powers of 1024). Returns 0 on success. */
int tool_parse_size(const char *s, unsigned long long *out);

/* Parse a non-negative integer in [lo, hi]. Returns 0 on success. */
int tool_parse_int(const char *s, long lo, long hi, long *out);

/* Print a JSON string literal (quoted, escaped) to `f`. */
#include <stdio.h>
void tool_json_str(FILE *f, const char *s);

/* A shape as "[2,3,4]" ("[]" for a scalar) into buf, truncated to cap. */
void tool_shape_str(int rank, const int64_t *dims, char *buf, size_t cap);

/* Human-readable byte count ("1.23 MB") into buf. */
const char *tool_bytes(unsigned long long n, char *buf, size_t cap);



/* ---- reading and writing models (tools/model-io.c) ---------------------------------- */
#include "mcz/model.h"

/* Read an ONNX model or an .mcz container, recognised by content (not by name). NULL on
 * error with `err` filled. */
mcz_model *tool_read_model(const char *path, mcz_error *err);

/* Write `m` to c->output: a name ending in ".mcz" gets the container, anything else ONNX
 * (external data when over 2 GiB, or always with --external-data or external_data = 1).
 * Honours -f. Returns a tool exit status, having printed any error. */
int tool_write_model(mcz_model *m, const tool_common *c, int external_data);
/* Does `path` hold an .mcz container (by its first bytes)? */
int tool_is_mcz_file(const char *path);

/* Is an output path an ONNX one ("-" or any name not ending in ".mcz")? */
int tool_is_onnx_output(const char *path);

/* Copy the input file to c->output byte for byte (atomically, honouring -f): what a tool
 * writes when it changed nothing. Returns a tool exit status. */
int tool_copy_file(const char *in, const tool_common *c);

/* Write `len` bytes of `text` to `path` atomically (honouring `force`): reports and the like.
 * Returns a tool exit status, having printed any error. */
int tool_write_file(const char *path, int force, const char *text, size_t len);

/* Text printed into memory, then written as tool_write_file writes (JSON reports, pages). */
typedef struct tool_text {
    FILE *f; /* print here */
    char *buf;
    size_t len;
} tool_text;

/* Start one. Returns TOOL_OK, or TOOL_FAIL having printed the error (`path` names it). */
int tool_text_open(tool_text *t, const char *path);

/* Write what t->f received to `path` and free it all. Returns a tool exit status. */
int tool_text_write(tool_text *t, const char *path, int force);

/* A JSON number with `digits` significant digits, or null when not finite. */
void tool_json_num(FILE *f, double v, int digits);

/* How many weights (and bytes) quantize/prune may touch: those with a role (mcz/roles.h) and
 * at least `min_elements` elements. For progress totals; 0, 0 on error. */
void tool_candidate_totals(mcz_model *m, uint64_t min_elements, uint64_t *items,
                           uint64_t *bytes);

/* A pass that rewrites a model's weights in place (mcz-prune, mcz-quantize), as the tool
 * describes it to tool_run_pass, which does the rest: read the input, show progress, run,
 * write the output (the input's very bytes when nothing changed and nothing is external),
 * write --report, print the JSON or the table. */
typedef struct tool_pass {
    const char *verb;      /* the progress label */
    uint64_t min_elements; /* for the progress totals */
    void *ctx;             /* the tool's parameters and, once run, its report */
    /* Run on m, reporting progress through (fn, fctx). A status in usage_errors (a bit per
     * mcz_status) makes the tool's exit status TOOL_USAGE. */
    mcz_status (*run)(void *ctx, mcz_model *m, mcz_progress_fn fn, void *fctx, mcz_error *err);
    unsigned usage_errors;
    int (*changed)(void *ctx);                 /* did the pass change any weight? */
    /* write the output with external data? any_external: a weight was external data when
     * the model was read */
    int (*external)(void *ctx, int any_external);
    void (*json)(void *ctx, FILE *f, const char *in, const char *out, mcz_model *m);
    void (*table)(void *ctx, FILE *f, mcz_model *m);
} tool_pass;

/* The usage_errors bit of a status. */
#define TOOL_STATUS_BIT(s) (1u << (s))

/* Run `ps` on the model at `in` with the common options `c`. Returns a tool exit status. */
int tool_run_pass(const tool_common *c, const char *in, const tool_pass *ps);

/* Parse an unsigned count ("0" up to UINT64_MAX, no sign). Returns 0 on success. */
int tool_parse_count(const char *s, unsigned long long *out);
#endif
