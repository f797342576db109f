/* load.c - a user's program reading an .mcz container with the installed loader library.
 *
 *   mcz-consumer-load              the library's version, and a status string
 *   mcz-consumer-load FILE.mcz     check every byte, then list the tensors and read each one
 *
 * Exit status: 0 success, 1 the file is unreadable or damaged. */
#include <stdio.h>
#include <stdlib.h>

#include <mcz/load.h>

static void shape(const mcz_tensor_info *t)
{
    putchar('[');
    for (int d = 0; d < t->rank; d++)
        printf("%s%lld", d ? "," : "", (long long)t->dims[d]);
    putchar(']');
}

int main(int argc, char **argv)
{
    printf("mcz %s (header %s, container format %d)\n", mcz_version(), MCZ_VERSION_STRING,
           MCZ_FORMAT_VERSION);
    if (argc < 2) {
        printf("MCZ_ERR_CHECKSUM: %s\n", mcz_strerror(MCZ_ERR_CHECKSUM));
        return 0;
    }
    mcz_error err = {0};
    mcz_file *f = mcz_open(argv[1], &err);
    if (!f) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    long bad = -1;
    if (mcz_verify(f, 2, &bad, &err) != MCZ_OK) {
        fprintf(stderr, "%s (tensor %ld)\n", err.msg, bad);
        mcz_close(f);
        return 1;
    }
    size_t n = mcz_tensor_count(f);
    unsigned long long total = 0;
    for (size_t i = 0; i < n; i++) {
        const mcz_tensor_info *t = mcz_tensor(f, i);
        if (!t->in_skeleton) {
            void *v = mcz_read_alloc(f, i, &err);
            if (!v) {
                fprintf(stderr, "%s\n", err.msg);
                mcz_close(f);
                return 1;
            }
            free(v);
        }
        printf("  %s dtype=%d ", t->name, (int)t->dtype);
        shape(t);
        printf(" %llu bytes, %s\n", (unsigned long long)t->raw_bytes,
               mcz_encoding_name((int)t->encoding));
        total += t->raw_bytes;
    }
    printf("%s: %zu tensors, %llu bytes, verified\n", argv[1], n, total);
    mcz_close(f);
    return 0;
}
