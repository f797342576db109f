/* loader.c - open a .mcz container: check header, footer and index (docs/format.md), build
 * the tensor table and the name hash. Every number read from the file is bounded by the bytes
 * that remain and the hard caps before it is used. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "loader_impl.h"

int mcz_elem_size(int32_t dtype)
{
    /* by TensorProto.DataType: 1 float, 2 uint8, ... 16 bfloat16, 17-20 float8, 21-23 4-bit */
    static const signed char size[24] = {0, 4, 1, 1, 2, 2, 4, 8, 0, 1, 2, 8,
                                         4, 8, 8, 16, 2, 1, 1, 1, 1, -1, -1, -1};
    return dtype >= 0 && dtype < 24 ? size[dtype] : 0;
}

uint64_t mcz_raw_size(int32_t dtype, uint64_t count, int *ok)
{
    int e = mcz_elem_size(dtype);
    *ok = e != 0 && (e < 0 || count <= UINT64_MAX / (uint64_t)e);
    return !*ok ? 0 : e < 0 ? count / 2 + (count & 1) : count * (uint64_t)e;
}

static const uint8_t zero64[64]; /* constant: reserved fields and padding are <= 64 bytes */
#define all_zero(p, n) (memcmp((p), zero64, (n)) == 0)

static mcz_status check_header(mcz_file *f, mcz_error *err)
{
    const uint8_t *h = f->base;
    const char *nm = f->name;
    if (f->size < MCZ_HEADER_SIZE + MCZ_FOOTER_SIZE)
        FAIL(MCZ_ERR_FORMAT, "%s: not an .mcz file (only %zu bytes)", nm, f->size);
    if (memcmp(h, MCZ_MAGIC, 8) != 0)
        FAIL(MCZ_ERR_FORMAT, "%s: not an .mcz file (bad magic)", nm);
    if (mcz_xxh64(h, 56) != mcz_rd64(h + 56))
        FAIL(MCZ_ERR_CHECKSUM, "%s: header checksum mismatch (bytes 0..63)", nm);
    if (mcz_rd32(h + 8) != MCZ_FORMAT_VERSION)
        FAIL(MCZ_ERR_VERSION, "%s: format version %u (this library reads version %d)", nm,
             mcz_rd32(h + 8), MCZ_FORMAT_VERSION);
    if (mcz_rd32(h + 12) != MCZ_HEADER_SIZE || !all_zero(h + 24, 32))
        FAIL(MCZ_ERR_FORMAT, "%s: bad header (size or reserved fields)", nm);
    if (mcz_rd64(h + 16) != 0)
        FAIL(MCZ_ERR_UNSUPPORTED, "%s: requires features 0x%llx unknown to this library", nm,
             ULL(mcz_rd64(h + 16)));
    return MCZ_OK;
}

/* Footer, then the index bytes: checked, decompressed. Sets *index and *isize. */
static mcz_status read_index(mcz_file *f, const uint8_t **index, uint64_t *isize,
                             mcz_error *err)
{
    const char *nm = f->name;
    uint64_t fo = f->size - MCZ_FOOTER_SIZE;
    const uint8_t *ft = f->base + fo;
    if (memcmp(ft + 56, MCZ_END_MAGIC, 8) != 0)
        FAIL(MCZ_ERR_FORMAT, "%s: no footer at byte %llu (truncated file?)", nm, ULL(fo));
    if (mcz_xxh64(ft, 48) != mcz_rd64(ft + 48))
        FAIL(MCZ_ERR_CHECKSUM, "%s: footer checksum mismatch (byte %llu)", nm, ULL(fo));
    if (mcz_rd32(ft + 28) != MCZ_FORMAT_VERSION)
        FAIL(MCZ_ERR_VERSION, "%s: footer format version %u (this library reads version %d)",
             nm, mcz_rd32(ft + 28), MCZ_FORMAT_VERSION);
    if (mcz_rd64(ft + 40) != f->size)
        FAIL(MCZ_ERR_FORMAT, "%s: truncated or extended: the footer says %llu bytes, the file "
             "has %zu", nm, ULL(mcz_rd64(ft + 40)), f->size);
    uint64_t off = mcz_rd64(ft), stored = mcz_rd64(ft + 8), raw = mcz_rd64(ft + 16);
    uint32_t codec = mcz_rd32(ft + 24);
    if (stored > MCZ_MAX_INDEX || raw > MCZ_MAX_INDEX)
        FAIL(MCZ_ERR_LIMIT, "%s: index of %llu bytes (%llu decoded) over the %llu-byte cap", nm,
             ULL(stored), ULL(raw), ULL(MCZ_MAX_INDEX));
    if (off < MCZ_HEADER_SIZE || off % MCZ_ALIGN || off > fo || fo - off != stored)
        FAIL(MCZ_ERR_FORMAT, "%s: index at byte %llu, %llu bytes: not where the footer is", nm,
             ULL(off), ULL(stored));
    if (codec > MCZ_CODEC_ZSTD)
        FAIL(MCZ_ERR_UNSUPPORTED, "%s: unknown index codec %u", nm, codec);
    if (mcz_xxh64(f->base + off, stored) != mcz_rd64(ft + 32))
        FAIL(MCZ_ERR_CHECKSUM, "%s: index checksum mismatch (bytes %llu..%llu)", nm, ULL(off),
             ULL(fo));
    *index = f->base + off;
    *isize = raw;
    if (codec == MCZ_CODEC_NONE)
        return raw == stored ? MCZ_OK
                             : mcz_seterr(err, MCZ_ERR_FORMAT, "%s: index sizes differ", nm);
    if (!(f->index_buf = malloc(raw ? raw : 1)))
        FAIL(MCZ_ERR_NOMEM, "%s: out of memory for the %llu-byte index", nm, ULL(raw));
    size_t r = ZSTD_decompress(f->index_buf, raw, f->base + off, stored);
    if (ZSTD_isError(r) || r != raw)
        FAIL(MCZ_ERR_FORMAT, "%s: the index does not decompress to %llu bytes (%s)", nm,
             ULL(raw), ZSTD_isError(r) ? ZSTD_getErrorName(r) : "size");
    *index = f->index_buf;
    return MCZ_OK;
}

typedef struct section {
    const uint8_t *p;
    uint64_t size, pos; /* pos: running read position while walking the tensors */
} section;

static mcz_status read_sections(mcz_file *f, const uint8_t *ix, uint64_t isize, section *sec,
                                mcz_error *err)
{
    const char *nm = f->name;
    if (isize < MCZ_INDEX_HEADER_SIZE || memcmp(ix, MCZ_INDEX_MAGIC, 8) != 0)
        FAIL(MCZ_ERR_FORMAT, "%s: bad index header", nm);
    uint32_t n = mcz_rd32(ix + 8), nsec = mcz_rd32(ix + 12);
    if (n > MCZ_MAX_TENSORS || nsec > MCZ_MAX_SECTIONS)
        FAIL(MCZ_ERR_LIMIT, "%s: %u tensors, %u sections: over the caps (%u, %u)", nm, n, nsec,
             MCZ_MAX_TENSORS, MCZ_MAX_SECTIONS);
    if (!all_zero(ix + 16, 16))
        FAIL(MCZ_ERR_UNSUPPORTED, "%s: index flags unknown to this library", nm);
    f->n = n;
    uint64_t pos = MCZ_INDEX_HEADER_SIZE;
    for (uint32_t k = 0; k < nsec; k++) {
        if (isize - pos < MCZ_SECTION_HEADER_SIZE)
            FAIL(MCZ_ERR_FORMAT, "%s: index truncated in section %u of %u", nm, k, nsec);
        uint32_t kind = mcz_rd32(ix + pos), flags = mcz_rd32(ix + pos + 4);
        uint64_t size = mcz_rd64(ix + pos + 8);
        pos += MCZ_SECTION_HEADER_SIZE;
        if (size > isize - pos || flags & ~MCZ_SEC_REQUIRED)
            FAIL(MCZ_ERR_FORMAT, "%s: section %u (kind %u): %llu bytes past the index end or "
                 "bad flags", nm, k, kind, ULL(size));
        /* METADATA and SPARSE have no meaning yet: unknown */
        int known = kind >= 1 && kind <= MCZ_SEC_KNOWN && kind != 7 && kind != 9;
        if (known && sec[kind].p)
            FAIL(MCZ_ERR_FORMAT, "%s: section kind %u appears twice", nm, kind);
        if (known)
            sec[kind] = (section){ix + pos, size, 0};
        else if (flags & MCZ_SEC_REQUIRED)
            FAIL(MCZ_ERR_UNSUPPORTED, "%s: required section kind %u unknown to this library",
                 nm, kind);
        uint64_t pad = (8 - (pos + size) % 8) % 8;
        if (pad > isize - pos - size || !all_zero(ix + pos + size, pad))
            FAIL(MCZ_ERR_FORMAT, "%s: bad padding after section %u", nm, k);
        pos += size + pad;
    }
    if (pos != isize)
        FAIL(MCZ_ERR_FORMAT, "%s: %llu stray bytes at the end of the index", nm, ULL(isize - pos));
    for (int k = 1; k <= MCZ_SEC_MANDATORY; k++)
        if (!sec[k].p)
            FAIL(MCZ_ERR_FORMAT, "%s: index lacks section kind %d", nm, k);
    if (sec[MCZ_SEC_TENSORS].size != (uint64_t)n * MCZ_ENTRY_SIZE)
        FAIL(MCZ_ERR_FORMAT, "%s: tensor table of %llu bytes for %u tensors", nm,
             ULL(sec[MCZ_SEC_TENSORS].size), n);
    return MCZ_OK;
}

/* Take `n` bytes from a section's running position, or NULL. */
static const uint8_t *take(section *s, uint64_t n)
{
    if (n > s->size - s->pos)
        return NULL;
    s->pos += n;
    return s->p + s->pos - n;
}

static mcz_status read_tensor(mcz_file *f, section *sec, size_t i, int64_t **dimp,
                              uint64_t payload_end, mcz_error *err)
{
    const uint8_t *e = sec[MCZ_SEC_TENSORS].p + i * MCZ_ENTRY_SIZE;
    tensor *t = &f->t[i];
    mcz_tensor_info *p = &t->pub;
    const char *nm = f->name;
    uint32_t name_len = mcz_rd32(e + MCZ_E_NAME_LEN), flags = mcz_rd32(e + MCZ_E_FLAGS);
    uint32_t rank = mcz_rd32(e + MCZ_E_RANK), enc = mcz_rd32(e + MCZ_E_ENCODING);
    p->dtype = (int32_t)mcz_rd32(e + MCZ_E_DTYPE);
    p->offset = mcz_rd64(e + MCZ_E_DATA_OFFSET);
    p->stored_bytes = mcz_rd64(e + MCZ_E_STORED);
    uint64_t raw = p->raw_bytes = mcz_rd64(e + MCZ_E_RAW);
    uint64_t bs = p->block_size = mcz_rd32(e + MCZ_E_BLOCK_SIZE);
    unsigned pl = p->planes = e[MCZ_E_PLANES];
    p->transform = (mcz_transform)e[MCZ_E_TRANSFORM];
    p->in_skeleton = (flags & MCZ_TF_IN_SKELETON) != 0;
    if (name_len > MCZ_MAX_NAME || rank > MCZ_MAX_RANK)
        FAIL(MCZ_ERR_LIMIT, "%s: tensor %zu: name of %u bytes or rank %u over the caps", nm, i,
             name_len, rank);
    const uint8_t *s = take(&sec[MCZ_SEC_NAMES], (uint64_t)name_len + 1);
    if (!s || s[name_len] != 0 || memchr(s, 0, name_len))
        FAIL(MCZ_ERR_FORMAT, "%s: tensor %zu: bad name", nm, i);
    p->name = (const char *)s;
    uint64_t aux = mcz_rd64(e + MCZ_E_AUX_OFFSET), aux_size = mcz_rd64(e + MCZ_E_AUX_SIZE);
    p->part = mcz_rd32(e + MCZ_E_PART);
    if (enc > MCZ_ENC_SPARSE || (flags & ~(MCZ_TF_IN_SKELETON | MCZ_TF_QUANTIZED)))
        FAIL(MCZ_ERR_UNSUPPORTED, "%s: tensor '%s': encoding %u or flags 0x%x unknown to this "
             "library", nm, p->name, enc, flags);
    if (p->part >= (f->nparts ? f->nparts : 1) || (i && p->part < f->t[i - 1].pub.part))
        FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': partition %u (%zu partitions; tensors must go "
             "in partition order)", nm, p->name, p->part, f->nparts);
    if ((flags & MCZ_TF_QUANTIZED)
            ? aux_size != MCZ_QREC_SIZE || aux % MCZ_QREC_SIZE ||
                  aux >= sec[MCZ_SEC_QPARAMS].size || (flags & MCZ_TF_IN_SKELETON)
            : aux || aux_size)
        FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': parameters at %llu, %llu bytes: not a QPARAMS "
             "record", nm, p->name, ULL(aux), ULL(aux_size));
    if (flags & MCZ_TF_QUANTIZED) {
        const uint8_t *q = sec[MCZ_SEC_QPARAMS].p + aux;
        t->q = (mcz_quant_info){mcz_rd32(q), (long)mcz_rd32(q + 4) - 1, (int)mcz_rd32(q + 8),
                                mcz_rd32(q + 12)};
        p->quant = &t->q;
        if (!all_zero(q + 16, 8))
            FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': reserved QPARAMS bytes are not zero", nm,
                 p->name);
    }
    if (e[46] || e[47] || !all_zero(e + MCZ_E_RESERVED, MCZ_ENTRY_SIZE - MCZ_E_RESERVED))
        FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': reserved fields are not zero", nm, p->name);
    p->encoding = (mcz_encoding)enc;
    p->rank = (int)rank;
    p->dims = *dimp;
    const uint8_t *d = take(&sec[MCZ_SEC_DIMS], (uint64_t)rank * 8);
    if (!d)
        FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': DIMS section too short", nm, p->name);
    uint64_t count = 1;
    for (uint32_t k = 0; k < rank; k++) {
        int64_t v = (*dimp)[k] = (int64_t)mcz_rd64(d + 8 * k);
        if (v < 0)
            FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': negative dimension", nm, p->name);
        if (v && count > (UINT64_MAX >> 1) / (uint64_t)v)
            FAIL(MCZ_ERR_LIMIT, "%s: tensor '%s': element count overflows", nm, p->name);
        count *= (uint64_t)v;
    }
    *dimp += rank;
    p->count = count;
    int ok, es = mcz_elem_size(p->dtype);
    uint64_t want = mcz_raw_size(p->dtype, count, &ok);
    if (!ok && !(p->in_skeleton && p->dtype == 8)) /* strings only in the skeleton */
        FAIL(MCZ_ERR_UNSUPPORTED, "%s: tensor '%s': unsupported dtype %d", nm, p->name,
             (int)p->dtype);
    if (p->in_skeleton && (enc || pl != 1 || p->transform || p->stored_bytes || bs || raw ||
                           p->offset))
        FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': in-skeleton entry with a payload", nm, p->name);
    if (!p->in_skeleton && raw != want)
        FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': %llu raw bytes for %llu elements of dtype %d",
             nm, p->name, ULL(raw), ULL(count), (int)p->dtype);
    unsigned E = enc == MCZ_ENC_SPARSE ? pl - 1 : pl; /* element size (planes, sparse) */
    if (enc >= MCZ_ENC_PLANES ? (int)E != es || (E != 2 && E != 4 && E != 8 &&
                                                 (E != 1 || enc != MCZ_ENC_SPARSE)) ||
                                    p->transform > (E > 1)
                              : pl != 1 || p->transform)
        FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': %u planes, transform %u do not fit encoding %u",
             nm, p->name, pl, p->transform, enc);
    if (raw == 0 ? bs != 0 || p->stored_bytes : bs == 0 || bs > MCZ_MAX_BLOCK || bs % E)
        FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': block size %llu", nm, p->name, ULL(bs));
    uint64_t align = enc == MCZ_ENC_RAW && p->stored_bytes >= MCZ_ALIGN ? MCZ_ALIGN : 8;
    if (!p->in_skeleton && (p->offset % align || p->offset < MCZ_HEADER_SIZE ||
                            p->offset > payload_end || p->stored_bytes > payload_end - p->offset))
        FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': payload at byte %llu, %llu bytes: outside the "
             "payload area or misaligned", nm, p->name, ULL(p->offset), ULL(p->stored_bytes));
    section *bl = &sec[MCZ_SEC_BLOCKS], *sg = &sec[MCZ_SEC_SEGMENTS];
    t->nblocks = raw ? raw / bs + (raw % bs != 0) : 0;
    t->first_block = bl->pos / MCZ_BLOCK_ENTRY_SIZE;
    t->first_seg = sg->pos / 4;
    if (t->nblocks > (bl->size - bl->pos) / MCZ_BLOCK_ENTRY_SIZE ||
        t->nblocks * pl > (sg->size - sg->pos) / 4) /* (nblocks is small when || gets here) */
        FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': %llu blocks: BLOCKS or SEGMENTS too short", nm,
             p->name, ULL(t->nblocks));
    take(bl, t->nblocks * MCZ_BLOCK_ENTRY_SIZE);
    const uint8_t *seg = take(sg, t->nblocks * pl * 4);
    uint64_t sum = 0;
    for (uint64_t b = 0; b < t->nblocks; b++) {
        uint64_t m = (b + 1 < t->nblocks ? bs : raw - b * bs) / E;
        f->blk_off[t->first_block + b] = p->offset + sum;
        for (unsigned k = 0; k < pl; k++) {
            uint32_t len = mcz_rd32(seg + 4 * (b * pl + k));
            uint64_t mk = enc == MCZ_ENC_SPARSE && k == 0 ? m / 8 + (m % 8 != 0) : m; /* bitmap */
            if (len > mk || (enc == MCZ_ENC_RAW && len != mk))
                FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': block %llu: segment of %u bytes for a "
                     "%llu-byte plane", nm, p->name, ULL(b), len, ULL(mk));
            sum += len;
        }
    }
    if (sum != p->stored_bytes)
        FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s': segments add up to %llu bytes, payload is %llu",
             nm, p->name, ULL(sum), ULL(p->stored_bytes));
    return MCZ_OK;
}

/* A quantized tensor against the tensors its record names (format.md 5a). */
static mcz_status check_quant(const mcz_file *f, const mcz_tensor_info *p, mcz_error *err)
{
    const mcz_quant_info *q = p->quant;
    int32_t d = p->dtype;
    const mcz_tensor_info *s = q->scale < f->n ? &f->t[q->scale].pub : NULL;
    const mcz_tensor_info *z = q->zero_point >= 0 && q->zero_point < (long)f->n
                                   ? &f->t[q->zero_point].pub : NULL;
    int axis_ok = q->axis >= -1 && q->axis < p->rank && (q->axis >= 0 || !q->block_size);
    uint64_t D = axis_ok && q->axis >= 0 ? (uint64_t)p->dims[q->axis] : 0, b = q->block_size;
    uint64_t want = q->axis < 0 ? 1 : !b ? D : D ? p->count / D * (D / b + (D % b != 0)) : 0;
    if ((d != 2 && d != 3 && d != 21 && d != 22) || !axis_ok || !s || (q->zero_point >= 0 && !z) ||
        (s->dtype != 1 && s->dtype != 10 && s->dtype != 16) || s->quant || s->in_skeleton ||
        s->count != want || (z && (z->dtype != d || z->quant || z->in_skeleton || z->count != want)))
        FAIL(MCZ_ERR_FORMAT, "%s: tensor '%s' (dtype %d): its quantization (scales: tensor %zu, "
             "zero points: %ld, axis %d, block %u) does not fit the tensors it names", f->name,
             p->name, (int)d, q->scale, q->zero_point, q->axis, q->block_size);
    return MCZ_OK;
}

static size_t slot_of(const mcz_file *f, const char *name)
{
    return (size_t)mcz_xxh64_seed(name, strlen(name), f->seed) & f->hash_mask;
}

/* The name hash: the first of equal names wins. */
static void build_hash(mcz_file *f)
{
    /* a seed the file cannot predict: crafted names cannot pile up in one chain */
    if (getrandom(&f->seed, sizeof f->seed, GRND_NONBLOCK) != sizeof f->seed)
        f->seed = (uint64_t)(uintptr_t)f;
    for (size_t i = 0; i < f->n; i++) {
        size_t h = slot_of(f, f->t[i].pub.name);
        while (f->hash[h] && strcmp(f->t[f->hash[h] - 1].pub.name, f->t[i].pub.name) != 0)
            h = (h + 1) & f->hash_mask;
        f->hash[h] = f->hash[h] ? f->hash[h] : (uint32_t)i + 1;
    }
}

static mcz_status parse(mcz_file *f, mcz_error *err)
{
    const uint8_t *ix = NULL;
    uint64_t isize = 0;
    section sec[MCZ_SEC_KNOWN + 1] = {{0}};
    mcz_status s;
    if ((s = check_header(f, err)) || (s = read_index(f, &ix, &isize, err)) ||
        (s = read_sections(f, ix, isize, sec, err)))
        return s;
    size_t cap = 16, nt = f->n * sizeof *f->t, nd = (sec[MCZ_SEC_DIMS].size + 7) & ~(size_t)7;
    while (cap < 2 * f->n)
        cap *= 2;
    f->hash_mask = cap - 1;
    f->nblocks = sec[MCZ_SEC_BLOCKS].size / MCZ_BLOCK_ENTRY_SIZE;
    /* one allocation: tensors, dims, block offsets, hash slots (all sizes bounded by the index) */
    if (!(f->t = calloc(1, nt + nd + f->nblocks * 8 + cap * sizeof *f->hash)))
        FAIL(MCZ_ERR_NOMEM, "%s: out of memory for %zu tensors", f->name, f->n);
    f->dims = (int64_t *)((char *)f->t + nt);
    f->blk_off = (uint64_t *)((char *)f->dims + nd);
    f->hash = (uint32_t *)(f->blk_off + f->nblocks);
    f->blocks = sec[MCZ_SEC_BLOCKS].p;
    f->segs = sec[MCZ_SEC_SEGMENTS].p;
    f->skel = sec[MCZ_SEC_SKELETON].p;
    f->skel_len = sec[MCZ_SEC_SKELETON].size;
    f->payload_end = mcz_rd64(f->base + f->size - MCZ_FOOTER_SIZE); /* the index offset */
    int64_t *dimp = f->dims;
    const section *ps = &sec[MCZ_SEC_PARTS];
    f->nparts = ps->p && ps->size >= 8 ? mcz_rd32(ps->p) : 0;
    if (ps->p && (f->nparts == 0 || f->nparts > MCZ_MAX_PARTS))
        FAIL(f->nparts ? MCZ_ERR_LIMIT : MCZ_ERR_FORMAT, "%s: PARTS: %zu partitions (1 to %u)",
             f->name, f->nparts, MCZ_MAX_PARTS);
    if (sec[MCZ_SEC_QPARAMS].size % MCZ_QREC_SIZE)
        FAIL(MCZ_ERR_FORMAT, "%s: QPARAMS of %llu bytes", f->name,
             ULL(sec[MCZ_SEC_QPARAMS].size));
    for (size_t i = 0; i < f->n; i++)
        if ((s = read_tensor(f, sec, i, &dimp, f->payload_end, err)))
            return s;
    for (size_t i = 0; i < f->n; i++)
        if (f->t[i].pub.quant && (s = check_quant(f, &f->t[i].pub, err)))
            return s;
    if (ps->p && (s = mcz_read_parts(f, ps->p, ps->size, err)))
        return s;
    for (int k = MCZ_SEC_NAMES; k <= MCZ_SEC_SEGMENTS; k++)
        if (sec[k].pos != sec[k].size)
            FAIL(MCZ_ERR_FORMAT, "%s: section kind %d has %llu bytes no tensor uses", f->name,
                 k, ULL(sec[k].size - sec[k].pos));
    build_hash(f);
    return MCZ_OK;
}

/* A handle on (base, size), parsed; `mapped`: munmap at close. Frees it on error. */
static mcz_file *open_at(const char *name, const void *base, size_t size, int mapped,
                         mcz_error *err)
{
    mcz_file *f = calloc(1, sizeof *f + strlen(name) + 1);
    if (!f) {
        if (mapped)
            munmap((void *)base, size);
        mcz_seterr(err, MCZ_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    strcpy(f->name, name);
    f->base = base;
    f->size = size;
    f->mapped = mapped;
    if (parse(f, err) == MCZ_OK)
        return f;
    mcz_close(f);
    return NULL;
}

mcz_file *mcz_open(const char *path, mcz_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    void *p = MAP_FAILED;
    if (fd < 0 || fstat(fd, &st) != 0)
        mcz_seterr(err, MCZ_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        mcz_seterr(err, MCZ_ERR_IO, "%s: not a regular file", path);
    else if (st.st_size < MCZ_HEADER_SIZE + MCZ_FOOTER_SIZE)
        mcz_seterr(err, MCZ_ERR_FORMAT, "%s: not an .mcz file (only %lld bytes)", path,
                   (long long)st.st_size);
    else if ((p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
        mcz_seterr(err, MCZ_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return p == MAP_FAILED ? NULL : open_at(path, p, (size_t)st.st_size, 1, err);
}

mcz_file *mcz_open_buffer(const void *data, size_t len, const char *name, mcz_error *err)
{
    name = name ? name : "<memory>";
    if (!data && len) {
        mcz_seterr(err, MCZ_ERR_ARG, "%s: NULL buffer", name);
        return NULL;
    }
    return open_at(name, data, len, 0, err);
}

void mcz_close(mcz_file *f)
{
    if (!f)
        return;
    if (f->mapped)
        munmap((void *)f->base, f->size);
    free(f->index_buf);
    free(f->t);
    free(f->parts);
    free(f);
}

uint32_t mcz_format_version(const mcz_file *f)
{
    (void)f;
    return MCZ_FORMAT_VERSION;
}

size_t mcz_tensor_count(const mcz_file *f)
{
    return f->n;
}

const mcz_tensor_info *mcz_tensor(const mcz_file *f, size_t i)
{
    return i < f->n ? &f->t[i].pub : NULL;
}

long mcz_find(const mcz_file *f, const char *name)
{
    for (size_t h = slot_of(f, name); f->hash[h]; h = (h + 1) & f->hash_mask)
        if (strcmp(f->t[f->hash[h] - 1].pub.name, name) == 0)
            return (long)f->hash[h] - 1;
    return -1;
}

const char *mcz_encoding_name(mcz_encoding encoding)
{
    static const char *const names[] = {"raw", "zstd", "planes", "sparse"};
    return (int)encoding >= 0 && encoding <= MCZ_ENC_SPARSE ? names[encoding] : "?";
}
