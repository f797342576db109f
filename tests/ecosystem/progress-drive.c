/* progress-drive.c - drives tools/progress.c the way a tool's worker threads do, for the
 * terminal-behaviour tests (progress.sh).
 *
 *   progress-drive [-q] [--items N] [--bytes B] [--threads T] [--us U] [--label L]
 *                  [--unit NAME] [--message-at K]
 *
 * T threads take the N items one by one; each item sleeps U microseconds and then adds one
 * item and its share of the B bytes. With --message-at K the item K prints a message
 * through progress_message. Standard output gets "items=I bytes=B" as counted by the
 * reporter once the threads are done (0 with -q: there is no reporter). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "progress.h"

static struct {
    unsigned long long items, bytes, us, message_at;
    int threads, quiet;
    const char *label, *unit;
} opt = {40, 40ull << 20, 10000, 0, 4, 0, "drive", NULL};

static atomic_ullong next_item;
static progress *prog;

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        unsigned long long i = atomic_fetch_add(&next_item, 1);
        if (i >= opt.items)
            return NULL;
        if (opt.us) {
            struct timespec ts = {(time_t)(opt.us / 1000000), (long)(opt.us % 1000000) * 1000};
            nanosleep(&ts, NULL);
        }
        unsigned long long share = opt.bytes / opt.items;
        if (i == opt.items - 1)
            share += opt.bytes % opt.items;
        progress_add(prog, 1, share);
        if (opt.message_at && i + 1 == opt.message_at)
            progress_message(prog, "halfway: item %llu", i + 1);
    }
}

static unsigned long long num(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end) {
        fprintf(stderr, "progress-drive: bad number '%s'\n", s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-q") == 0) {
            opt.quiet = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "progress-drive: bad arguments\n");
            return 2;
        }
        i++;
        if (strcmp(a, "--items") == 0)
            opt.items = num(v);
        else if (strcmp(a, "--bytes") == 0)
            opt.bytes = num(v);
        else if (strcmp(a, "--threads") == 0)
            opt.threads = (int)num(v);
        else if (strcmp(a, "--us") == 0)
            opt.us = num(v);
        else if (strcmp(a, "--message-at") == 0)
            opt.message_at = num(v);
        else if (strcmp(a, "--label") == 0)
            opt.label = v;
        else if (strcmp(a, "--unit") == 0)
            opt.unit = v;
        else {
            fprintf(stderr, "progress-drive: unknown option '%s'\n", a);
            return 2;
        }
    }
    if (opt.threads < 1 || opt.threads > 64 || opt.items == 0) {
        fprintf(stderr, "progress-drive: 1..64 threads and at least one item\n");
        return 2;
    }
    prog = progress_start(opt.label, opt.items, opt.bytes, opt.quiet);
    progress_unit(prog, opt.unit);
    pthread_t t[64];
    for (int i = 0; i < opt.threads; i++)
        if (pthread_create(&t[i], NULL, worker, NULL) != 0) {
            fprintf(stderr, "progress-drive: cannot start a thread\n");
            return 1;
        }
    for (int i = 0; i < opt.threads; i++)
        pthread_join(t[i], NULL);
    unsigned long long items = progress_items(prog), bytes = progress_bytes(prog);
    progress_done(prog);
    printf("items=%llu bytes=%llu\n", items, bytes);
    return 0;
}
