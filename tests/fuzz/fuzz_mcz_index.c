/* fuzz_mcz_index - the loader past its checksums. Mutating an .mcz almost always breaks the
 * header, footer or index checksum, so fuzz_mcz rarely reaches the index parser. This target
 * first re-seals the input: it sets the footer's file size, recomputes the index checksum (over
 * the bytes the footer points at, when in bounds), the footer checksum and the header checksum,
 * then runs what fuzz_mcz runs. Its corpus holds .mcz files whose index is stored uncompressed
 * (codec 0, make-corpus.sh), so that mutations land in the index entries themselves: names,
 * dtypes, ranks, dims, offsets, sizes, encodings, block tables. Payload block checksums are
 * left alone (they live in the index). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int mcz_fuzz_loader(uint8_t *copy, size_t size); /* fuzz_mcz.c */

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void wr64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *b = malloc(size ? size : 1);
    if (!b)
        return 0;
    memcpy(b, data, size);
    if (size >= MCZ_HEADER_SIZE + MCZ_FOOTER_SIZE) {
        uint8_t *ft = b + size - MCZ_FOOTER_SIZE;
        wr64(ft + 40, size);
        uint64_t off = rd64(ft), stored = rd64(ft + 8);
        if (off <= size - MCZ_FOOTER_SIZE && stored <= size - MCZ_FOOTER_SIZE - off)
            wr64(ft + 32, mcz_xxh64(b + off, (size_t)stored));
        wr64(ft + 48, mcz_xxh64(ft, 48));
        wr64(b + 56, mcz_xxh64(b, 56));
    }
    return mcz_fuzz_loader(b, size); /* frees b */
}
