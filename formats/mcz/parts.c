/* parts.c - partitions (docs/format.md 7a): the PARTS section, loading and building a part. */
#include <stdlib.h>

#include "loader_impl.h"

/* Walk the PARTS records. Counting pass (f->parts NULL): check every size and add up the
 * tensor indices (*nt) and names (*nn). Filling pass: fill f->parts, `tens` and `names`. */
static mcz_status walk(mcz_file *f, const uint8_t *p, uint64_t size, size_t *nt, size_t *nn,
                       uint32_t *tens, const char **names, mcz_error *err)
{
    const char *nm = f->name;
    uint64_t pos = 8;
    if (mcz_rd32(p + 4))
        FAIL(MCZ_ERR_FORMAT, "%s: PARTS: reserved bytes are not zero", nm);
    for (size_t k = 0; k < f->nparts; k++) {
        const uint8_t *h = p + pos;
        if (size - pos < MCZ_PART_HEADER_SIZE)
            FAIL(MCZ_ERR_FORMAT, "%s: PARTS: partition %zu of %zu truncated", nm, k, f->nparts);
        uint32_t tc = mcz_rd32(h), ni = mcz_rd32(h + 4), no = mcz_rd32(h + 8);
        uint64_t sl = mcz_rd64(h + 16);
        if (tc > f->n || ni > MCZ_MAX_PART_NAMES || no > MCZ_MAX_PART_NAMES - ni)
            FAIL(tc > f->n ? MCZ_ERR_FORMAT : MCZ_ERR_LIMIT, "%s: PARTS: partition %zu: %u "
                 "tensors, %u + %u names (at most %zu, %u)", nm, k, tc, ni, no, f->n,
                 MCZ_MAX_PART_NAMES);
        pos += MCZ_PART_HEADER_SIZE;
        if ((uint64_t)tc * 4 > size - pos)
            FAIL(MCZ_ERR_FORMAT, "%s: PARTS: partition %zu: tensor list past the end", nm, k);
        mcz_fpart *pt = f->parts ? &f->parts[k] : NULL;
        if (pt) {
            *pt = (mcz_fpart){.pub = {tc, tens, ni, no, names, names + ni, 0, sl,
                                      mcz_rd32(h + 12)}};
            for (uint32_t j = 0; j < tc; j++) {
                tens[j] = mcz_rd32(p + pos + 4 * j);
                if (tens[j] >= f->n || (j && tens[j] <= tens[j - 1]))
                    FAIL(MCZ_ERR_FORMAT, "%s: PARTS: partition %zu: tensor %u out of range or "
                         "not ascending", nm, k, tens[j]);
                pt->pub.weight_bytes += f->t[tens[j]].pub.raw_bytes;
            }
            tens += tc;
        }
        pos += (uint64_t)tc * 4;
        for (uint32_t j = 0; j < ni + no; j++) {
            uint64_t room = size - pos;
            const uint8_t *z = memchr(p + pos, 0, room < MCZ_MAX_NAME + 1 ? room : MCZ_MAX_NAME + 1);
            if (!z)
                FAIL(room > MCZ_MAX_NAME ? MCZ_ERR_LIMIT : MCZ_ERR_FORMAT, "%s: PARTS: partition "
                     "%zu: name %u unterminated or over %u bytes", nm, k, j, MCZ_MAX_NAME);
            if (pt)
                *names++ = (const char *)(p + pos);
            pos += (uint64_t)(z - (p + pos)) + 1;
        }
        if (sl > size - pos)
            FAIL(MCZ_ERR_FORMAT, "%s: PARTS: partition %zu: skeleton past the end", nm, k);
        if (pt)
            pt->skel = p + pos;
        pos += sl;
        uint64_t pad = (8 - pos % 8) % 8;
        if (pad > size - pos || memcmp(p + pos, "\0\0\0\0\0\0\0", pad))
            FAIL(MCZ_ERR_FORMAT, "%s: PARTS: bad padding after partition %zu", nm, k);
        pos += pad;
        *nt += tc;
        *nn += ni + no;
    }
    if (pos != size)
        FAIL(MCZ_ERR_FORMAT, "%s: PARTS: %llu stray bytes", nm, ULL(size - pos));
    return MCZ_OK;
}

mcz_status mcz_read_parts(mcz_file *f, const uint8_t *p, uint64_t size, mcz_error *err)
{
    size_t nt = 0, nn = 0;
    mcz_status s = walk(f, p, size, &nt, &nn, NULL, NULL, err);
    if (s)
        return s;
    /* one allocation: parts, then name pointers, then tensor indices (bounded by the index) */
    size_t ps = f->nparts * sizeof *f->parts, ns = nn * sizeof(char *);
    if (!(f->parts = calloc(1, ps + ns + nt * 4 + 1)))
        FAIL(MCZ_ERR_NOMEM, "%s: out of memory for %zu partitions", f->name, f->nparts);
    nt = nn = 0;
    return walk(f, p, size, &nt, &nn, (uint32_t *)((char *)f->parts + ps + ns),
                (const char **)((char *)f->parts + ps), err);
}

size_t mcz_part_count(const mcz_file *f)
{
    return f->nparts;
}

const mcz_part_desc *mcz_part(const mcz_file *f, size_t p)
{
    return p < f->nparts ? &f->parts[p].pub : NULL;
}

static mcz_status part_arg(const mcz_file *f, size_t p, mcz_error *err)
{
    if (p >= f->nparts)
        FAIL(MCZ_ERR_NOT_FOUND, "%s: no partition %zu (%zu partitions)", f->name, p, f->nparts);
    return MCZ_OK;
}

mcz_status mcz_load_part(const mcz_file *f, size_t p, int threads, void *const *dst,
                         mcz_error *err)
{
    mcz_status s = part_arg(f, p, err);
    if (s || !dst)
        return s ? s : mcz_seterr(err, MCZ_ERR_ARG, "%s: no destination table", f->name);
    void **sel = calloc(f->n ? f->n : 1, sizeof *sel);
    if (!sel)
        FAIL(MCZ_ERR_NOMEM, "%s: out of memory", f->name);
    const mcz_part_desc *d = &f->parts[p].pub;
    for (size_t j = 0; j < d->tensor_count; j++)
        sel[d->tensors[j]] = f->t[d->tensors[j]].pub.in_skeleton ? NULL : dst[d->tensors[j]];
    s = mcz_run_blocks(f, threads, sel, NULL, err);
    free(sel);
    return s;
}

mcz_status mcz_build_part_onnx(const mcz_file *f, size_t p, int threads, uint8_t **out,
                               size_t *out_len, mcz_error *err)
{
    *out = NULL;
    *out_len = 0;
    mcz_status s = part_arg(f, p, err);
    const mcz_fpart *pt = s ? NULL : &f->parts[p];
    return s ? s : mcz_build(f, pt->skel, (size_t)pt->pub.skeleton_bytes, pt->pub.tensors,
                             pt->pub.tensor_count, threads, out, out_len, err);
}

mcz_status mcz_skeleton(const mcz_file *f, long part, const uint8_t **skel, size_t *len,
                        mcz_error *err)
{
    if (part < 0) {
        *skel = f->skel;
        *len = f->skel_len;
        return MCZ_OK;
    }
    if ((size_t)part >= f->nparts)
        FAIL(MCZ_ERR_NOT_FOUND, "%s: no partition %ld (%zu partitions)", f->name, part,
             f->nparts);
    *skel = f->parts[part].skel;
    *len = (size_t)f->parts[part].pub.skeleton_bytes;
    return MCZ_OK;
}

uint64_t mcz_tensor_block_count(const mcz_file *f, size_t i)
{
    return i < f->n ? f->t[i].nblocks : 0;
}

const uint8_t *mcz_file_bytes(const mcz_file *f, size_t *size)
{
    *size = f->size;
    return f->base;
}
