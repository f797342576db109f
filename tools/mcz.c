/* mcz - one command for every tool, as git does: `mcz COMMAND ARGS...` runs
 * `mcz-COMMAND ARGS...`, looked for beside this program first (readlink /proc/self/exe), then
 * on PATH. The separate executables stay; this only finds and runs them. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcz/load.h"
#include "mcz/suggest.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define PREFIX "mcz-"
#define MAX_NAME 128

/* The commands mcz ships, in the order `mcz help` lists them. */
static const struct command {
    const char *name, *summary;
} builtin[] = {
    {"inspect", "describe a model or an .mcz: weights, encodings, integrity"},
    {"pack", "pack an ONNX model into an .mcz container (lossless)"},
    {"unpack", "give back the ONNX model an .mcz holds"},
    {"prune", "zero the smallest weights (unstructured, N:M, whole channels)"},
    {"quantize", "int8 per-channel / int4 block-wise weights in QDQ form"},
    {"partition", "split a model into parts that load in parallel"},
    {"bench", "measure how fast an .mcz loads"},
    {"sample", "generate a deterministic sample model of any size"},
};
#define NBUILTIN (sizeof builtin / sizeof builtin[0])

static const char usage_head[] =
    "Usage: mcz COMMAND [ARGS...]\n"
    "       mcz help [COMMAND]\n"
    "       mcz --version\n"
    "\n"
    "Run the mcz tool COMMAND: 'mcz quantize ARGS' is 'mcz-quantize ARGS'. mcz-COMMAND is\n"
    "looked for beside this program first, then on PATH.\n"
    "\n"
    "  -h, --help     this help and the list of commands\n"
    "      --version  print the version\n";

static const char usage_tail[] =
    "\n"
    "'mcz help COMMAND' shows a command's options, 'man mcz-COMMAND' its manual.\n"
    "Exit status: the command's own (0 success, 1 failure, 2 usage error); mcz itself\n"
    "exits 2 on an unknown command or option and 1 when a command cannot be run.\n";

/* The folder this program lives in ("" when unknown). */
static char self_dir[PATH_MAX];

static void find_self_dir(const char *argv0)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = '\0';
    } else if (argv0 && strchr(argv0, '/') && strlen(argv0) < sizeof buf) {
        strcpy(buf, argv0);
    } else {
        self_dir[0] = '\0';
        return;
    }
    char *slash = strrchr(buf, '/');
    if (!slash)
        return;
    if (slash == buf)
        slash[1] = '\0';
    else
        *slash = '\0';
    snprintf(self_dir, sizeof self_dir, "%s", buf);
}

static int is_program(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Calls fn(dir, ctx) for this program's folder, then each PATH entry ("" means "."). Stops
 * when fn returns nonzero and returns that. */
static int for_each_dir(int (*fn)(const char *dir, void *ctx), void *ctx)
{
    if (self_dir[0]) {
        int r = fn(self_dir, ctx);
        if (r)
            return r;
    }
    const char *path = getenv("PATH");
    if (!path)
        return 0;
    for (const char *p = path;;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char dir[PATH_MAX];
        if (len < sizeof dir) {
            memcpy(dir, p, len);
            dir[len] = '\0';
            int r = fn(len ? dir : ".", ctx);
            if (r)
                return r;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

/* ---- finding one command ------------------------------------------------------------- */

typedef struct lookup {
    const char *name;
    char path[PATH_MAX];
} lookup;

static int try_dir(const char *dir, void *ctx)
{
    lookup *l = ctx;
    int n = snprintf(l->path, sizeof l->path, "%s/" PREFIX "%s", dir, l->name);
    return n > 0 && (size_t)n < sizeof l->path && is_program(l->path);
}

/* ---- listing every command ----------------------------------------------------------- */

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static int has_name(const names *ns, const char *s)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], s) == 0)
            return 1;
    return 0;
}

static void add_name(names *ns, const char *s)
{
    if (has_name(ns, s))
        return;
    if (ns->n == ns->cap) {
        size_t nc = ns->cap ? ns->cap * 2 : 32;
        char **v = realloc(ns->v, nc * sizeof *v);
        if (!v)
            return; /* a shorter list is all that is lost */
        ns->v = v;
        ns->cap = nc;
    }
    char *d = strdup(s);
    if (d)
        ns->v[ns->n++] = d;
}

static int scan_dir(const char *dir, void *ctx)
{
    names *ns = ctx;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *cmd = e->d_name + strlen(PREFIX);
        if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) != 0 || !*cmd ||
            strlen(cmd) >= MAX_NAME || has_name(ns, cmd))
            continue;
        char path[PATH_MAX];
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n > 0 && (size_t)n < sizeof path && is_program(path))
            add_name(ns, cmd);
    }
    closedir(d);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
}

static int is_builtin(const char *s)
{
    for (size_t i = 0; i < NBUILTIN; i++)
        if (strcmp(builtin[i].name, s) == 0)
            return 1;
    return 0;
}

/* Usage and the commands found. */
static int print_help(void)
{
    names found = {0};
    for_each_dir(scan_dir, &found);
    fputs(usage_head, stdout);
    fputs("\nCommands:\n", stdout);
    for (size_t i = 0; i < NBUILTIN; i++)
        printf("  %-10s %s%s\n", builtin[i].name, builtin[i].summary,
               has_name(&found, builtin[i].name) ? "" : " (not installed)");
    qsort(found.v, found.n, sizeof *found.v, by_name);
    int others = 0;
    for (size_t i = 0; i < found.n; i++) {
        if (is_builtin(found.v[i]))
            continue;
        if (!others++)
            fputs("\nOther mcz-* programs found beside mcz or on PATH:\n", stdout);
        printf("  %s\n", found.v[i]);
    }
    fputs(usage_tail, stdout);
    free_names(&found);
    return EXIT_OK;
}

/* ---- running a command --------------------------------------------------------------- */

static int valid_name(const char *s)
{
    return *s && *s != '-' && *s != '.' && !strchr(s, '/') && strlen(s) < MAX_NAME;
}

/* "mcz: 'quantise' is not an mcz command (did you mean 'quantize'?)" and exit 2. */
static int unknown_command(const char *cmd)
{
    names all = {0};
    for (size_t i = 0; i < NBUILTIN; i++)
        add_name(&all, builtin[i].name);
    for_each_dir(scan_dir, &all);
    size_t idx[3];
    size_t k = mcz_suggest(cmd, (const char *const *)all.v, all.n, idx, 3);
    char list[512];
    mcz_suggest_list((const char *const *)all.v, idx, k, list, sizeof list);
    if (k)
        fprintf(stderr, "mcz: '%s' is not an mcz command (did you mean %s?)\n", cmd, list);
    else
        fprintf(stderr, "mcz: '%s' is not an mcz command\n", cmd);
    fputs("Try 'mcz help' for the list of commands.\n", stderr);
    free_names(&all);
    return EXIT_USAGE;
}

/* Replace this process with mcz-CMD ARGS... (args: argc entries). Returns only on error. */
static int run(const char *cmd, int argc, char **args)
{
    if (!valid_name(cmd))
        return unknown_command(cmd);
    lookup l = {.name = cmd};
    if (!for_each_dir(try_dir, &l)) {
        if (!is_builtin(cmd))
            return unknown_command(cmd);
        fprintf(stderr, "mcz: '%s' is an mcz command, but " PREFIX "%s is not installed "
                        "(looked beside %s and on PATH)\n",
                cmd, cmd, self_dir[0] ? self_dir : "mcz");
        return EXIT_FAIL;
    }
    char **argv = calloc((size_t)argc + 2, sizeof *argv);
    char argv0[MAX_NAME + sizeof PREFIX];
    if (!argv) {
        fputs("mcz: out of memory\n", stderr);
        return EXIT_FAIL;
    }
    snprintf(argv0, sizeof argv0, PREFIX "%s", cmd);
    argv[0] = argv0;
    for (int i = 0; i < argc; i++)
        argv[i + 1] = args[i];
    fflush(NULL);
    execv(l.path, argv);
    fprintf(stderr, "mcz: cannot run %s: %s\n", l.path, strerror(errno));
    free(argv);
    return EXIT_FAIL;
}

int main(int argc, char **argv)
{
    find_self_dir(argc > 0 ? argv[0] : NULL);
    if (argc < 2)
        return print_help();
    const char *a = argv[1];
    if (strcmp(a, "--version") == 0) {
        printf("mcz %s\n", MCZ_VERSION_STRING);
        return EXIT_OK;
    }
    if (strcmp(a, "help") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
        if (argc < 3 || strcmp(argv[2], "help") == 0)
            return print_help();
        if (argc > 3) {
            fprintf(stderr, "mcz: help takes one command, not %d\n"
                            "Try 'mcz help' for the list of commands.\n", argc - 2);
            return EXIT_USAGE;
        }
        char *help[] = {"--help"};
        return run(argv[2], 1, help);
    }
    if (a[0] == '-') {
        fprintf(stderr, "mcz: unknown option '%s'\nTry 'mcz --help' for more information.\n", a);
        return EXIT_USAGE;
    }
    return run(a, argc - 2, argv + 2);
}
