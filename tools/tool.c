/* tool.c - the behaviour every mcz tool shares. */
#include "tool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MCZ_TOOL_VERSION
#define MCZ_TOOL_VERSION MCZ_VERSION_STRING
#endif

static const char *g_name = "mcz";

void tool_init(const char *name)
{
    g_name = name;
}

const char *tool_name(void)
{
    return g_name;
}

void tool_error(const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", g_name);
    if (file)
        fprintf(stderr, "%s: ", file);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int tool_fail(const mcz_error *e)
{
    fprintf(stderr, "%s: %s\n", g_name, e->msg[0] ? e->msg : mcz_strerror(e->code));
    return TOOL_FAIL;
}

int tool_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", g_name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", g_name);
    va_end(ap);
    return TOOL_USAGE;
}

int tool_parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int tool_parse_size(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    double mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1024.0; end++; break;
    case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
    case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end || v * mul > 1.8e19)
        return -1;
    *out = (unsigned long long)(v * mul);
    return 0;
}

int tool_common_opt(tool_common *c, int opt, const char *arg, const char *usage)
{
    long v;
    switch (opt) {
    case 'o':
        c->output = arg;
        return 1;
    case 'f':
        c->force = 1;
        return 1;
    case 'q':
        c->quiet = 1;
        return 1;
    case 'j':
        if (tool_parse_int(arg, 0, 1024, &v) != 0)
            exit(tool_usage_error("invalid thread count '%s' (0..1024, 0 = all cores)", arg));
        c->threads = (int)v;
        return 1;
    case TOOL_OPT_JSON:
        c->json = 1;
        return 1;
    case TOOL_OPT_REPORT:
        c->report = arg;
        return 1;
    case TOOL_OPT_EXCLUDE: {
        const char **n = realloc(c->exclude, (c->nexclude + 1) * sizeof *n);
        if (!n) {
            tool_error(NULL, "out of memory");
            exit(TOOL_FAIL);
        }
        c->exclude = n;
        c->exclude[c->nexclude++] = arg;
        return 1;
    }
    case TOOL_OPT_EXTERNAL:
        c->external_data = 1;
        return 1;
    case TOOL_OPT_MIN_ELEMENTS:
        if (tool_parse_count(arg, &c->min_elements) != 0)
            exit(tool_usage_error("invalid --min-elements '%s'", arg));
        c->have_min_elements = 1;
        return 1;
    case TOOL_OPT_VERSION:
        printf("%s (mcz) %s\n", g_name, MCZ_TOOL_VERSION);
        exit(TOOL_OK);
    case 'h':
        fputs(usage, stdout);
        exit(TOOL_OK);
    default:
        return 0;
    }
}

void tool_args_init(tool_args *a, int argc, char **argv, const tool_option *opts)
{
    *a = (tool_args){.opts = opts, .argc = argc, .argv = argv, .next = 1,
                     .operands = argv + 1};
}

static const tool_option *find_long(const tool_option *o, const char *name, size_t len)
{
    for (; o->id; o++)
        if (o->long_name && strlen(o->long_name) == len && strncmp(o->long_name, name, len) == 0)
            return o;
    return NULL;
}

static const tool_option *find_short(const tool_option *o, char c)
{
    for (; o->id; o++)
        if (o->short_name && o->short_name == c)
            return o;
    return NULL;
}

int tool_next_option(tool_args *a, const char **arg)
{
    *arg = NULL;
    if (a->cluster && *a->cluster) { /* "-fq": the options after the first */
        char c = *a->cluster++;
        const tool_option *o = find_short(a->opts, c);
        if (!o)
            exit(tool_usage_error("unrecognized option '-%c'", c));
        if (o->arg == TOOL_ARG_REQUIRED) {
            if (*a->cluster) { /* "-j4" */
                *arg = a->cluster;
            } else if (a->next < a->argc) { /* "-j 4" */
                *arg = a->argv[a->next++];
            } else {
                exit(tool_usage_error("option '-%c' requires an argument", c));
            }
            a->cluster = NULL;
        }
        return o->id;
    }
    a->cluster = NULL;
    while (a->next < a->argc) {
        char *s = a->argv[a->next++];
        if (a->options_done || s[0] != '-' || s[1] == '\0') { /* an operand ("-" is one) */
            a->operands[a->noperands++] = s;
            continue;
        }
        if (s[1] != '-') {
            a->cluster = s + 1;
            return tool_next_option(a, arg);
        }
        if (s[2] == '\0') { /* "--" */
            a->options_done = 1;
            continue;
        }
        const char *name = s + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const tool_option *o = find_long(a->opts, name, len);
        if (!o)
            exit(tool_usage_error("unrecognized option '--%.*s'", (int)len, name));
        if (o->arg == TOOL_ARG_NONE && eq)
            exit(tool_usage_error("option '--%s' doesn't allow an argument", o->long_name));
        if (o->arg == TOOL_ARG_REQUIRED) {
            if (eq)
                *arg = eq + 1;
            else if (a->next < a->argc)
                *arg = a->argv[a->next++];
            else
                exit(tool_usage_error("option '--%s' requires an argument", o->long_name));
        }
        return o->id;
    }
    return -1;
}

void tool_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

const char *tool_bytes(unsigned long long n, char *buf, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%llu B", n);
    else
        snprintf(buf, cap, "%.2f %s", v, units[u]);
    return buf;
}

int tool_want_io(const tool_args *a, const tool_common *c, const char *what,
                 const char *out_hint)
{
    if (a->noperands == 0)
        return tool_usage_error("no input %s", what);
    if (a->noperands != 1)
        return tool_usage_error("one input %s at a time", what);
    if (!c->output)
        return tool_usage_error("no output: use -o %s", out_hint);
    return TOOL_OK;
}

void tool_shape_str(int rank, const int64_t *dims, char *buf, size_t cap)
{
    size_t p = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < rank && p < cap; d++)
        p += (size_t)snprintf(buf + p, cap - p, "%s%lld", d ? "," : "", (long long)dims[d]);
    if (p < cap)
        snprintf(buf + p, cap - p, "]");
}
