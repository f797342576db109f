/* progress.c - progress on stderr: a bar on terminals, plain lines elsewhere (progress.h). */
#include "progress.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define TICK_NS 100000000L   /* the bar is redrawn at most every 100 ms */
#define LOG_INTERVAL 5.0     /* seconds between plain lines when stderr is not a terminal */
#define DEFAULT_DELAY 1.0    /* nothing before this many seconds of work */
#define LINE_MAX_BYTES 512

struct progress {
    _Atomic uint64_t items, bytes;
    uint64_t total_items, total_bytes;
    char label[48];
    char unit[16];
    int tty;        /* stderr is a terminal: the bar; else plain lines */
    double t0;      /* start, monotonic seconds */
    double delay;   /* seconds before anything is printed */
    pthread_t thread;
    pthread_mutex_t mu; /* guards everything below and every write to stderr */
    pthread_cond_t cv;
    int stop;
    int shown;      /* the bar (tty) or a plain line was printed */
    size_t visible; /* characters of the bar now on the terminal's line (0: none) */
    double next_log;
    char last[LINE_MAX_BYTES];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* MCZ_PROGRESS_DELAY: seconds (>= 0) before anything is printed; "off" disables. Returns -1
 * when disabled. */
static double delay_from_env(void)
{
    const char *s = getenv("MCZ_PROGRESS_DELAY");
    if (!s || !*s)
        return DEFAULT_DELAY;
    if (strcmp(s, "off") == 0)
        return -1;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || *end || !(d >= 0) || d > 1e6)
        return DEFAULT_DELAY;
    return d;
}

static int terminal_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    long v = c ? strtol(c, NULL, 10) : 0;
    return v >= 20 && v <= 1000 ? (int)v : 80;
}

/* Drawing in the background would stop the process (SIGTTOU) or mess up the shell. */
static int in_foreground(void)
{
    pid_t fg = tcgetpgrp(STDERR_FILENO);
    return fg < 0 || fg == getpgrp();
}

/* "35.2" of a byte count in the unit chosen for `scale` (its largest value). */
static const char *unit_for(uint64_t scale, double *div)
{
    if (scale >= (1ull << 30)) {
        *div = 1024.0 * 1024 * 1024;
        return "GiB";
    }
    if (scale >= (1ull << 20)) {
        *div = 1024.0 * 1024;
        return "MiB";
    }
    *div = 1024.0;
    return "KiB";
}

static void eta_str(double secs, char *buf, size_t cap)
{
    if (!(secs >= 0) || secs > 359999) {
        snprintf(buf, cap, "--:--");
        return;
    }
    unsigned long s = (unsigned long)(secs + 0.5);
    if (s >= 3600)
        snprintf(buf, cap, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, cap, "%lu:%02lu", s / 60, s % 60);
}

/* The figures after the bar, one string each: counts, bytes, rate, and the ETA (the elapsed
 * time once final). With `widest`, the widest each usually gets (done = total, a rate under
 * 1000 MiB/s, under an hour left),
 * which sizes the bar once so it does not jump about. Numbers are padded to the width of
 * their totals for the same reason (not in plain lines: `pad` 0). */
enum { F_ITEMS, F_BYTES, F_RATE, F_TIME, NFIELDS };
typedef char fields[NFIELDS][64];

static void figures(const progress *p, double t, int final, int widest, int pad, fields f)
{
    uint64_t items = atomic_load_explicit(&p->items, memory_order_relaxed);
    uint64_t bytes = atomic_load_explicit(&p->bytes, memory_order_relaxed);
    if (widest) {
        items = p->total_items > items ? p->total_items : items;
        bytes = p->total_bytes > bytes ? p->total_bytes : bytes;
    }
    char tot[32];
    int w = 0;
    if (p->total_items) {
        snprintf(tot, sizeof tot, "%llu", (unsigned long long)p->total_items);
        w = pad ? (int)strlen(tot) : 0;
        snprintf(f[F_ITEMS], sizeof f[0], "%*llu/%s %s", w, (unsigned long long)items, tot,
                 p->unit);
    } else {
        snprintf(f[F_ITEMS], sizeof f[0], "%llu %s", (unsigned long long)items, p->unit);
    }
    double rate_b = t > 0 ? (double)bytes / t : 0, rate_i = t > 0 ? (double)items / t : 0;
    f[F_BYTES][0] = '\0';
    if (p->total_bytes || bytes) {
        double div;
        const char *u = unit_for(p->total_bytes > bytes ? p->total_bytes : bytes, &div);
        if (p->total_bytes && !final) {
            snprintf(tot, sizeof tot, "%.1f", (double)p->total_bytes / div);
            w = pad ? (int)strlen(tot) : 0;
            snprintf(f[F_BYTES], sizeof f[0], "%*.1f/%s %s", w, (double)bytes / div, tot, u);
        } else {
            snprintf(f[F_BYTES], sizeof f[0], "%.1f %s", (double)bytes / div, u);
        }
        snprintf(f[F_RATE], sizeof f[0], "%*.1f MiB/s", pad ? 5 : 0,
                 widest ? 999.9 : rate_b / (1024.0 * 1024));
    } else {
        snprintf(f[F_RATE], sizeof f[0], "%*.1f %s/s", pad ? 5 : 0, widest ? 999.9 : rate_i,
                 p->unit);
    }
    if (final) {
        snprintf(f[F_TIME], sizeof f[0], "in %.1f s", t);
    } else {
        double left = -1;
        if (widest)
            left = 3599; /* 59:59 */
        else if (p->total_bytes && rate_b > 0)
            left = (double)(p->total_bytes > bytes ? p->total_bytes - bytes : 0) / rate_b;
        else if (!p->total_bytes && p->total_items && rate_i > 0)
            left = (double)(p->total_items > items ? p->total_items - items : 0) / rate_i;
        char eta[24];
        eta_str(left, eta, sizeof eta);
        snprintf(f[F_TIME], sizeof f[0], "ETA %s", eta);
    }
}

/* The fields not dropped (bit i of `drop` drops field i), `sep` between them. Returns the
 * length. */
static size_t join(fields f, unsigned drop, const char *sep, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < NFIELDS && n < cap; i++) {
        if ((drop >> i & 1) || !f[i][0])
            continue;
        int w = snprintf(buf + n, cap - n, "%s%s", n ? sep : "", f[i]);
        n = w < 0 ? cap : n + (size_t)w;
    }
    return n < cap ? n : cap - 1;
}

static double fraction(const progress *p)
{
    double f = 0;
    if (p->total_bytes)
        f = (double)atomic_load_explicit(&p->bytes, memory_order_relaxed) / (double)p->total_bytes;
    else if (p->total_items)
        f = (double)atomic_load_explicit(&p->items, memory_order_relaxed) / (double)p->total_items;
    return f < 0 ? 0 : f > 1 ? 1 : f;
}

/* Redraw the bar (with p->mu held). */
static void draw_bar(progress *p, double t, int final)
{
    fields f;
    char fig[256], line[LINE_MAX_BYTES];
    int width = terminal_width() - 1; /* never write the last column: no wrap */
    int lab = (int)strlen(p->label);
    /* the bar: as wide as the widest figures leave room for, 10 to 30 columns, or none */
    figures(p, t, 0, 1, 1, f);
    int barw = width - lab - (int)join(f, 0, "  ", fig, sizeof fig) - 5; /* " [" "]  " */
    if (barw > 30)
        barw = 30;
    if (barw < 10 || !(p->total_items || p->total_bytes))
        barw = 0;
    /* a narrow terminal: drop the bytes, then the rate, then the time; cut what still
     * does not fit, never wrap */
    static const unsigned drops[] = {0, 1u << F_BYTES, 1u << F_BYTES | 1u << F_RATE,
                                     1u << F_BYTES | 1u << F_RATE | 1u << F_TIME};
    figures(p, t, final, 0, 1, f);
    size_t n = 0;
    for (size_t d = 0; d < sizeof drops / sizeof drops[0]; d++) {
        join(f, drops[d], "  ", fig, sizeof fig);
        if (barw) {
            char bar[32];
            int full = (int)(fraction(p) * barw + 1e-9);
            for (int i = 0; i < barw; i++)
                bar[i] = i < full ? '=' : i == full ? '>' : ' ';
            bar[barw] = '\0';
            n = (size_t)snprintf(line, sizeof line, "%s [%s]  %s", p->label, bar, fig);
        } else {
            n = (size_t)snprintf(line, sizeof line, "%s  %s", p->label, fig);
        }
        if (n >= sizeof line)
            n = sizeof line - 1;
        if (n <= (size_t)width)
            break;
    }
    if (n > (size_t)width) {
        n = (size_t)width;
        line[n] = '\0';
    }
    if (!final && p->visible && strcmp(line, p->last) == 0)
        return;
    size_t pad = p->visible > n ? p->visible - n : 0;
    fprintf(stderr, "\r%s%*s", line, (int)pad, ""); /* spaces wipe a longer old line */
    if (final) {
        fputc('\n', stderr);
        p->visible = 0;
    } else {
        p->visible = n;
    }
    fflush(stderr);
    memcpy(p->last, line, n + 1);
    p->shown = 1;
}

static void plain_line(progress *p, double t, int final)
{
    fields f;
    char fig[256];
    figures(p, t, final, 0, 0, f);
    join(f, 0, ", ", fig, sizeof fig);
    fprintf(stderr, "%s: %s%s\n", p->label, final ? "done: " : "", fig);
    fflush(stderr);
    p->shown = 1;
}

static void *ticker(void *arg)
{
    progress *p = arg;
    pthread_mutex_lock(&p->mu);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!p->stop) {
        next.tv_nsec += TICK_NS;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        int rc = 0;
        while (!p->stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&p->cv, &p->mu, &next);
        if (p->stop)
            break;
        double t = now_s() - p->t0;
        if (t < p->delay)
            continue;
        if (p->tty) {
            if (in_foreground())
                draw_bar(p, t, 0);
        } else if (t >= p->next_log) {
            plain_line(p, t, 0);
            while (p->next_log <= t)
                p->next_log += LOG_INTERVAL;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

progress *progress_start(const char *label, uint64_t total_items, uint64_t total_bytes,
                         int quiet)
{
    if (quiet)
        return NULL;
    double delay = delay_from_env();
    if (delay < 0)
        return NULL;
    progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    snprintf(p->unit, sizeof p->unit, "tensors");
    p->total_items = total_items;
    p->total_bytes = total_bytes;
    atomic_init(&p->items, 0);
    atomic_init(&p->bytes, 0);
    p->tty = isatty(STDERR_FILENO);
    p->delay = delay;
    p->next_log = delay > LOG_INTERVAL ? delay : LOG_INTERVAL;
    p->t0 = now_s();
    pthread_condattr_t ca;
    int ok = pthread_condattr_init(&ca) == 0;
    ok = ok && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0;
    ok = ok && pthread_cond_init(&p->cv, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!ok) {
        free(p);
        return NULL;
    }
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        pthread_cond_destroy(&p->cv);
        free(p);
        return NULL;
    }
    if (pthread_create(&p->thread, NULL, ticker, p) != 0) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p);
        return NULL;
    }
    return p;
}

void progress_unit(progress *p, const char *unit)
{
    if (!p || !unit)
        return;
    pthread_mutex_lock(&p->mu);
    snprintf(p->unit, sizeof p->unit, "%s", unit);
    pthread_mutex_unlock(&p->mu);
}

void progress_add(progress *p, uint64_t items, uint64_t bytes)
{
    if (!p)
        return;
    if (items)
        atomic_fetch_add_explicit(&p->items, items, memory_order_relaxed);
    if (bytes)
        atomic_fetch_add_explicit(&p->bytes, bytes, memory_order_relaxed);
}

void progress_callback(void *ctx, uint64_t items, uint64_t bytes)
{
    progress_add(ctx, items, bytes);
}

uint64_t progress_items(const progress *p)
{
    return p ? atomic_load_explicit(&p->items, memory_order_relaxed) : 0;
}

uint64_t progress_bytes(const progress *p)
{
    return p ? atomic_load_explicit(&p->bytes, memory_order_relaxed) : 0;
}

void progress_message(progress *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (p)
        pthread_mutex_lock(&p->mu);
    if (p && p->visible) { /* clear the bar's line; the next tick draws it again */
        fprintf(stderr, "\r%*s\r", (int)p->visible, "");
        p->visible = 0;
    }
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
    if (p)
        pthread_mutex_unlock(&p->mu);
    va_end(ap);
}

void progress_done(progress *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    /* the final state: on a terminal for work that lasted the delay (so with a delay of 0,
     * always); in a log only after progress lines. Short work stays silent. */
    double t = now_s() - p->t0;
    if (p->tty && (p->shown || t >= p->delay) && in_foreground())
        draw_bar(p, t, 1);
    else if (!p->tty && p->shown)
        plain_line(p, t, 1);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
