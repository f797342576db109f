/* mutate - the mutation sweep: deterministic random byte mutations (flips, truncations,
 * insertions) of one .mcz file, each opened from memory with the loader and read in full.
 * Every mutation must end in an error, or in data equal to the unmutated file's: a tensor
 * that reads without error has the same name, dtype, shape and bytes as the original; a file
 * that passes mcz_verify builds the same ONNX model. No crash, no sanitizer report (this is
 * linked with the ASan + UBSan build of the library), no mutation taking over 10 s.
 * usage: mutate FILE.mcz SEED FROM COUNT   (mutations FROM..FROM+COUNT-1 of SEED; a failure
 * prints the mutation number: rerun with COUNT 1 to reproduce it alone) */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcz/load.h"

#define HANG_SECONDS 10

static unsigned long current = 0;

static uint64_t rng_next(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void on_alarm(int sig)
{
    (void)sig;
    char msg[96];
    int n = snprintf(msg, sizeof msg, "mutate: mutation %lu took over %d s (hang)\n", current,
                     HANG_SECONDS);
    if (write(2, msg, (size_t)n) < 0)
        _exit(3);
    _exit(3);
}

/* Sanitizer reports end the process: say which mutation it was. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));
static void on_death(void)
{
    fprintf(stderr, "mutate: sanitizer report during mutation %lu\n", current);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = n > 0 ? malloc((size_t)n) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = b ? (size_t)n : 0;
    return b;
}

/* A position: half the time anywhere, half the time in the first or last 4 KiB (header,
 * index, footer: where one byte changes the most). */
static size_t pick_pos(uint64_t *s, size_t n)
{
    uint64_t r = rng_next(s);
    size_t edge = n < 4096 ? n : 4096;
    switch (r % 4) {
    case 0:
        return (size_t)(rng_next(s) % edge);
    case 1:
        return n - 1 - (size_t)(rng_next(s) % edge);
    default:
        return (size_t)(rng_next(s) % n);
    }
}

/* Mutation `k` of `orig` into a malloc'd buffer; *kind names it. */
static uint8_t *mutate(const uint8_t *orig, size_t n, uint64_t seed, unsigned long k,
                       size_t *out_len, char *kind, size_t kind_len)
{
    uint64_t s = seed * 0x100000001b3ull + k;
    rng_next(&s);
    uint8_t *b = malloc(n + 64);
    if (!b)
        abort();
    memcpy(b, orig, n);
    *out_len = n;
    switch (rng_next(&s) % 5) {
    case 0:
    case 1: { /* flip 1..4 bytes */
        int flips = 1 + (int)(rng_next(&s) % 4);
        size_t first = 0;
        for (int i = 0; i < flips; i++) {
            size_t p = pick_pos(&s, n);
            b[p] ^= (uint8_t)(1 + rng_next(&s) % 255);
            if (i == 0)
                first = p;
        }
        snprintf(kind, kind_len, "flip %d byte(s), first at %zu", flips, first);
        break;
    }
    case 2: { /* one bit */
        size_t p = pick_pos(&s, n);
        b[p] ^= (uint8_t)(1u << (rng_next(&s) % 8));
        snprintf(kind, kind_len, "bit flip at %zu", p);
        break;
    }
    case 3: { /* truncate */
        size_t p = pick_pos(&s, n);
        *out_len = p;
        snprintf(kind, kind_len, "truncate to %zu", p);
        break;
    }
    default: { /* insert 1..16 bytes */
        size_t p = pick_pos(&s, n);
        size_t m = 1 + (size_t)(rng_next(&s) % 16);
        memmove(b + p + m, b + p, n - p);
        for (size_t i = 0; i < m; i++)
            b[p + i] = (uint8_t)rng_next(&s);
        *out_len = n + m;
        snprintf(kind, kind_len, "insert %zu byte(s) at %zu", m, p);
        break;
    }
    }
    return b;
}

typedef struct reference {
    mcz_file *f;
    void **data;
    uint8_t *onnx;
    size_t onnx_len;
} reference;

static int check(const reference *ref, const uint8_t *buf, size_t len, const char *kind,
                 unsigned long *opened)
{
    mcz_error err = {0};
    mcz_file *f = mcz_open_buffer(buf, len, "mutated", &err);
    if (!f) {
        if (!err.msg[0] || err.code == MCZ_OK) {
            fprintf(stderr, "mutate: mutation %lu (%s): open failed without a message\n",
                    current, kind);
            return 1;
        }
        return 0;
    }
    (*opened)++;
    int bad = 0;
    size_t n = mcz_tensor_count(f);
    for (size_t i = 0; i < n && !bad; i++) {
        const mcz_tensor_info *t = mcz_tensor(f, i);
        if (t->in_skeleton)
            continue;
        void *d = mcz_read_alloc(f, i, &err);
        if (!d)
            continue; /* an error: fine */
        long j = mcz_find(ref->f, t->name);
        const mcz_tensor_info *o = j >= 0 ? mcz_tensor(ref->f, (size_t)j) : NULL;
        if (!o || o->dtype != t->dtype || o->rank != t->rank || o->raw_bytes != t->raw_bytes ||
            (t->rank && memcmp(o->dims, t->dims, (size_t)t->rank * sizeof *t->dims) != 0) ||
            memcmp(ref->data[j], d, (size_t)t->raw_bytes) != 0) {
            fprintf(stderr, "mutate: mutation %lu (%s): tensor %zu '%s' read without error "
                    "but differs from the original\n", current, kind, i, t->name);
            bad = 1;
        }
        free(d);
    }
    long bad_tensor = 0;
    if (!bad && mcz_verify(f, 1, &bad_tensor, &err) == MCZ_OK) {
        uint8_t *onnx = NULL;
        size_t onnx_len = 0;
        if (mcz_build_onnx(f, 1, &onnx, &onnx_len, &err) != MCZ_OK ||
            onnx_len != ref->onnx_len || memcmp(onnx, ref->onnx, onnx_len) != 0) {
            fprintf(stderr, "mutate: mutation %lu (%s): verifies but builds a different ONNX "
                    "model (%s)\n", current, kind, err.msg);
            bad = 1;
        }
        free(onnx);
    }
    mcz_close(f);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: mutate FILE.mcz SEED FROM COUNT\n");
        return 2;
    }
    uint64_t seed = strtoull(argv[2], NULL, 10);
    unsigned long from = strtoul(argv[3], NULL, 10), count = strtoul(argv[4], NULL, 10);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(on_death);
    signal(SIGALRM, on_alarm);

    size_t n = 0;
    uint8_t *orig = read_file(argv[1], &n);
    if (!orig) {
        fprintf(stderr, "mutate: cannot read %s\n", argv[1]);
        return 2;
    }
    mcz_error err = {0};
    reference ref = {0};
    ref.f = mcz_open_buffer(orig, n, argv[1], &err);
    long bt = 0;
    if (!ref.f || mcz_verify(ref.f, 1, &bt, &err) != MCZ_OK) {
        fprintf(stderr, "mutate: the unmutated file does not load: %s\n", err.msg);
        return 2;
    }
    size_t nt = mcz_tensor_count(ref.f);
    ref.data = calloc(nt ? nt : 1, sizeof *ref.data);
    for (size_t i = 0; i < nt; i++)
        if (!mcz_tensor(ref.f, i)->in_skeleton && !(ref.data[i] = mcz_read_alloc(ref.f, i, &err))) {
            fprintf(stderr, "mutate: the unmutated file does not read: %s\n", err.msg);
            return 2;
        }
    if (mcz_build_onnx(ref.f, 1, &ref.onnx, &ref.onnx_len, &err) != MCZ_OK) {
        fprintf(stderr, "mutate: the unmutated file does not build: %s\n", err.msg);
        return 2;
    }

    unsigned long failures = 0, opened = 0;
    for (current = from; current < from + count; current++) {
        char kind[96];
        size_t len = 0;
        uint8_t *b = mutate(orig, n, seed, current, &len, kind, sizeof kind);
        /* exactly `len` bytes in their own allocation: ASan sees any read past the end */
        uint8_t *exact = malloc(len ? len : 1);
        memcpy(exact, b, len);
        free(b);
        alarm(HANG_SECONDS);
        failures += (unsigned long)check(&ref, exact, len, kind, &opened);
        alarm(0);
        free(exact);
    }
    printf("mutate: %lu mutations of %s (seed %llu, from %lu): %lu opened, %lu failures\n",
           count, argv[1], (unsigned long long)seed, from, opened, failures);
    for (size_t i = 0; i < nt; i++)
        free(ref.data[i]);
    free(ref.data);
    free(ref.onnx);
    mcz_close(ref.f);
    free(orig);
    return failures ? 1 : 0;
}
