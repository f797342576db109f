/* index.c - everything of the .mcz but the payload (docs/format.md): the header, the table
 * order and the skeletons' markers, the tensor entries with their names and dims, the QPARAMS
 * records, the PARTS section, and the index and footer that end the file.
 *
 * Table order is the model's weight order, or with partitions the order of the owning parts
 * (perm: table position -> model weight index); every skeleton marker is rewritten to table
 * positions. QDQ weights (mcz/qdq.h) get the quantized flag and a QPARAMS record. */
#include <stdlib.h>
#include <string.h>

#include "container/pack_impl.h"
#include "mcz/qdq.h"
#include "onnxwire.h"

mcz_status mcz_buf_put(buf *b, const void *p, size_t n, mcz_error *err)
{
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->n < n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q)
            return NOMEM(err);
        b->p = q;
        b->cap = cap;
    }
    if (p && n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    return MCZ_OK;
}

/* b may move while it grows: the copy is made after. */
mcz_status mcz_buf_put_again(buf *b, size_t off, size_t n, mcz_error *err)
{
    mcz_status s = mcz_buf_put(b, NULL, n, err);
    if (!s && n)
        memcpy(b->p + b->n - n, b->p + off, n);
    return s;
}

mcz_status mcz_buf_put64(buf *b, uint64_t v, mcz_error *err)
{
    uint8_t x[8];
    mcz_wr64(x, v);
    return mcz_buf_put(b, x, 8, err);
}

mcz_status mcz_buf_put32(buf *b, uint32_t v, mcz_error *err)
{
    uint8_t x[4];
    mcz_wr32(x, v);
    return mcz_buf_put(b, x, 4, err);
}

/* The file header (format.md 2). */
mcz_status mcz_write_header(packer *pk, mcz_error *err)
{
    uint8_t hdr[MCZ_HEADER_SIZE] = {0};
    memcpy(hdr, MCZ_MAGIC, 8);
    mcz_wr32(hdr + 8, MCZ_FORMAT_VERSION);
    mcz_wr32(hdr + 12, MCZ_HEADER_SIZE);
    mcz_wr64(hdr + 56, mcz_xxh64(hdr, 56));
    return mcz_outfile_write(pk->out, hdr, sizeof hdr, err);
}

/* Table order: by owning part (the first part listing a weight; unlisted ones go to the
 * last part), model order within a part. Without parts the model's order. */
mcz_status mcz_order_table(packer *pk, mcz_error *err)
{
    size_t K = pk->nparts;
    for (size_t i = 0; i < pk->n; i++)
        pk->owner[i] = UINT32_MAX; /* indexed by model weight for now */
    for (size_t p = 0; p < K; p++)
        for (size_t k = 0; k < pk->parts[p].n_weights; k++) {
            size_t w = pk->parts[p].weights[k];
            if (w >= pk->n)
                FAIL(MCZ_ERR_ARG, "%s: part %zu lists weight %zu, the model has %zu",
                     pk->path, p, w, pk->n);
            if (pk->owner[w] == UINT32_MAX)
                pk->owner[w] = (uint32_t)p;
        }
    uint32_t *own = pk->seen; /* scratch: owners by model index */
    for (size_t i = 0; i < pk->n; i++)
        own[i] = pk->owner[i] == UINT32_MAX ? (uint32_t)(K ? K - 1 : 0) : pk->owner[i];
    if (!K) {
        for (size_t i = 0; i < pk->n; i++)
            pk->perm[i] = i;
    } else {
        size_t *start = calloc(K + 1, sizeof *start);
        if (!start)
            return NOMEM(err);
        for (size_t i = 0; i < pk->n; i++)
            start[own[i] + 1]++;
        for (size_t p = 0; p < K; p++)
            start[p + 1] += start[p];
        for (size_t i = 0; i < pk->n; i++)
            pk->perm[start[own[i]]++] = i;
        free(start);
    }
    for (size_t pos = 0; pos < pk->n; pos++) {
        pk->inv[pk->perm[pos]] = pos;
        pk->owner[pos] = own[pk->perm[pos]];
    }
    memset(pk->seen, 0, pk->n * sizeof *pk->seen);
    return MCZ_OK;
}

/* A skeleton's marker names a model weight index: record it and point it at the table
 * position. The whole skeleton (cur_part 0) marks `marked`; a part's marks `seen`. */
static mcz_status see_marker(void *ctx, uint64_t i, const uint8_t *raw, size_t len,
                             const uint8_t **out, size_t *out_len, mcz_error *err)
{
    packer *pk = ctx;
    (void)raw, (void)len;
    size_t pos = i < pk->n ? pk->inv[i] : 0;
    int twice = i < pk->n && (pk->cur_part ? pk->seen[pos] == pk->cur_part : pk->marked[pos]);
    if (i >= pk->n || twice)
        FAIL(MCZ_ERR_FORMAT, "%s: skeleton%s marker %llu appears twice or names no weight",
             pk->path, pk->cur_part ? " of a part" : "", (unsigned long long)i);
    if (pk->cur_part && !pk->marked[pos]) {
        /* the whole skeleton keeps this one inline (typed fields): so does the part, as
         * raw_data (the same values) */
        const uint8_t *v = mcz_pack_weight_data(pk, pos, err);
        if (!v && mcz_pack_weight(pk, pos)->nbytes)
            return err ? err->code : MCZ_ERR_FORMAT;
        pk->seen[pos] = pk->cur_part;
        *out = v ? v : pk->mk; /* an empty tensor: any pointer, 0 bytes */
        *out_len = (size_t)mcz_pack_weight(pk, pos)->nbytes;
        return MCZ_OK;
    }
    if (pk->cur_part)
        pk->seen[pos] = pk->cur_part;
    else
        pk->marked[pos] = 1;
    mcz_marker_make(pos, pk->mk + pos * MCZ_MARKER_LEN);
    *out = pk->mk + pos * MCZ_MARKER_LEN;
    *out_len = MCZ_MARKER_LEN;
    return MCZ_OK;
}

/* A skeleton (the whole model's with pk->cur_part 0, else that part's) with its markers
 * rewritten to table positions (the table ordered). */
mcz_status mcz_rewrite_skeleton(packer *pk, const uint8_t *skel, size_t len, uint8_t **out,
                                size_t *out_len, mcz_error *err)
{
    mcz_marker_cb mc = {see_marker, pk};
    return mcz_onnxwire_rewrite(skel, len, mcz_marker_dispatch, &mc, out, out_len, pk->path, err);
}

/* Table entry i, its name and dims; the payload fields are filled when written. */
mcz_status mcz_describe_tensor(packer *pk, size_t i, mcz_error *err)
{
    const mcz_weight *w = mcz_pack_weight(pk, i);
    size_t len = strlen(w->name);
    if (len > MCZ_MAX_NAME || w->rank > MCZ_MAX_RANK)
        FAIL(MCZ_ERR_LIMIT, "%s: weight '%.64s...': name of %zu bytes or rank %d beyond the "
             "format's caps (%u, %d)", pk->path, w->name, len, w->rank, MCZ_MAX_NAME,
             MCZ_MAX_RANK);
    uint8_t *e = pk->entries + i * MCZ_ENTRY_SIZE;
    mcz_wr32(e + MCZ_E_NAME_LEN, (uint32_t)len);
    mcz_wr32(e + MCZ_E_DTYPE, (uint32_t)w->dtype);
    mcz_wr32(e + MCZ_E_RANK, (uint32_t)w->rank);
    e[MCZ_E_PLANES] = 1;
    mcz_wr32(e + MCZ_E_PART, pk->owner[i]);
    mcz_status s = mcz_buf_put(&pk->names, w->name, len + 1, err);
    for (int k = 0; k < w->rank && !s; k++)
        s = mcz_buf_put64(&pk->dims, (uint64_t)w->dims[k], err);
    return s;
}

static bool is_code_type(int32_t dt)
{
    return dt == MCZ_DT_INT8 || dt == MCZ_DT_UINT8 || dt == MCZ_DT_INT4 || dt == MCZ_DT_UINT4;
}

/* Scales a QDQ weight needs (format.md 5a), or 0 when its shape does not fit the spec. */
static uint64_t scales_needed(const mcz_weight *c, int axis, uint32_t block)
{
    if (axis < 0)
        return block ? 0 : 1;
    if (axis >= c->rank || c->dims[axis] <= 0)
        return 0;
    uint64_t D = (uint64_t)c->dims[axis];
    return block ? c->count / D * ((D + block - 1) / block) : D;
}

/* Whether QDQ weight d (its codes c, scale sc and zero point zp, -1 none, as table positions)
 * can be stored quantized: every part has a payload, the dtypes and counts fit the spec, and
 * no weight plays two roles (role: per table position, 1 codes, 2 scale / zero point). */
static bool qdq_fits(const packer *pk, const mcz_qdq_weight *d, size_t c, size_t sc, long zp,
                     const uint8_t *role)
{
    const mcz_weight *cw = mcz_pack_weight(pk, c), *sw = mcz_pack_weight(pk, sc);
    const mcz_weight *zw = zp >= 0 ? mcz_pack_weight(pk, (size_t)zp) : NULL;
    uint64_t need = scales_needed(cw, d->axis, d->block_size);
    return pk->marked[c] && pk->marked[sc] && (zp < 0 || pk->marked[zp]) &&
           is_code_type(cw->dtype) && role[c] == 0 && role[sc] != 1 &&
           (sw->dtype == MCZ_DT_FLOAT || sw->dtype == MCZ_DT_FLOAT16 ||
            sw->dtype == MCZ_DT_BFLOAT16) &&
           (!zw || (zw->dtype == cw->dtype && role[zp] != 1 && zw->count == need)) && need &&
           sw->count == need && c != sc && (long)c != zp;
}

/* Flag the codes of every QDQ weight that fits the spec as quantized, with a QPARAMS record.
 * Codes, scales and zero points must all have payloads; anything else stays plain. */
mcz_status mcz_build_qparams(packer *pk, mcz_error *err)
{
    mcz_qdq_weight *q = NULL;
    size_t nq = 0;
    mcz_status s = mcz_model_qdq_weights(pk->m, &q, &nq, err);
    uint8_t *role = s || !nq ? NULL : calloc(pk->n, 1); /* 1 codes, 2 scale / zero point */
    if (!s && nq && !role)
        s = NOMEM(err);
    for (size_t k = 0; k < nq && !s; k++) {
        const mcz_qdq_weight *d = &q[k];
        if (d->codes >= pk->n || d->scale >= pk->n || d->zero_point >= (long)pk->n)
            continue;
        size_t c = pk->inv[d->codes], sc = pk->inv[d->scale];
        long zp = d->zero_point >= 0 ? (long)pk->inv[d->zero_point] : -1;
        if (!qdq_fits(pk, d, c, sc, zp, role))
            continue;
        uint8_t r[MCZ_QREC_SIZE] = {0};
        mcz_wr32(r, (uint32_t)sc);
        mcz_wr32(r + 4, zp >= 0 ? (uint32_t)zp + 1 : 0);
        mcz_wr32(r + 8, (uint32_t)(int32_t)d->axis);
        mcz_wr32(r + 12, d->block_size);
        uint8_t *e = pk->entries + c * MCZ_ENTRY_SIZE;
        mcz_wr32(e + MCZ_E_FLAGS, MCZ_TF_QUANTIZED);
        mcz_wr64(e + MCZ_E_AUX_OFFSET, pk->qp.n);
        mcz_wr64(e + MCZ_E_AUX_SIZE, MCZ_QREC_SIZE);
        role[c] = 1;
        role[sc] = 2;
        if (zp >= 0)
            role[zp] = 2;
        pk->st.quantized++;
        s = mcz_buf_put(&pk->qp, r, sizeof r, err);
    }
    free(role);
    free(q);
    return s;
}

static mcz_status put_name(packer *pk, const char *name, mcz_error *err)
{
    size_t len = strlen(name);
    if (len > MCZ_MAX_NAME)
        FAIL(MCZ_ERR_LIMIT, "%s: part input/output name '%.64s...' of %zu bytes beyond the "
             "format's cap (%u)", pk->path, name, len, MCZ_MAX_NAME);
    return mcz_buf_put(&pk->partsec, name, len + 1, err);
}

/* Part p's record of the PARTS section: its counts, table positions, names and skeleton
 * (skel, rewritten), padded to 8 bytes. */
static mcz_status put_part(packer *pk, size_t p, const uint8_t *skel, size_t skel_len,
                           mcz_error *err)
{
    const mcz_pack_part *pt = &pk->parts[p];
    buf *b = &pk->partsec;
    size_t np = 0;
    for (size_t k = 0; k < pt->n_weights; k++)
        pk->seen[pk->inv[pt->weights[k]]] = pk->cur_part;
    /* the tensors with payloads it reads, ascending, as the format wants */
    for (size_t pos = 0; pos < pk->n; pos++)
        if (pk->seen[pos] == pk->cur_part && pk->marked[pos])
            pk->plist[np++] = pos;
    if (pt->n_inputs > MCZ_MAX_PART_NAMES || pt->n_outputs > MCZ_MAX_PART_NAMES ||
        pt->n_inputs + pt->n_outputs > MCZ_MAX_PART_NAMES)
        FAIL(MCZ_ERR_LIMIT, "%s: part %zu has %zu inputs and %zu outputs, beyond the format's "
             "cap", pk->path, p, pt->n_inputs, pt->n_outputs);
    mcz_status s;
    if (!(s = mcz_buf_put32(b, (uint32_t)np, err)) &&
        !(s = mcz_buf_put32(b, (uint32_t)pt->n_inputs, err)) &&
        !(s = mcz_buf_put32(b, (uint32_t)pt->n_outputs, err)) &&
        !(s = mcz_buf_put32(b, pt->nodes > UINT32_MAX ? UINT32_MAX : (uint32_t)pt->nodes, err)))
        s = mcz_buf_put64(b, skel_len, err);
    for (size_t k = 0; k < np && !s; k++)
        s = mcz_buf_put32(b, (uint32_t)pk->plist[k], err);
    for (size_t k = 0; k < pt->n_inputs && !s; k++)
        s = put_name(pk, pt->inputs[k], err);
    for (size_t k = 0; k < pt->n_outputs && !s; k++)
        s = put_name(pk, pt->outputs[k], err);
    if (!s)
        s = mcz_buf_put(b, skel, skel_len, err);
    if (!s) {
        static const uint8_t zero[8];
        s = mcz_buf_put(b, zero, (8 - b->n % 8) % 8, err);
    }
    return s;
}

/* The PARTS section (format.md 7a): per part its table positions, names and skeleton (its
 * markers rewritten to table positions). */
mcz_status mcz_build_parts(packer *pk, mcz_error *err)
{
    mcz_status s = mcz_buf_put32(&pk->partsec, (uint32_t)pk->nparts, err);
    if (!s)
        s = mcz_buf_put32(&pk->partsec, 0, err);
    for (size_t p = 0; p < pk->nparts && !s; p++) {
        const mcz_pack_part *pt = &pk->parts[p];
        uint8_t *skel = NULL;
        size_t skel_len = 0;
        pk->cur_part = (uint32_t)p + 1;
        if (!(s = mcz_rewrite_skeleton(pk, pt->skeleton, pt->skeleton_len, &skel, &skel_len,
                                       err)))
            s = put_part(pk, p, skel, skel_len, err);
        free(skel);
    }
    pk->cur_part = 0;
    return s;
}

/* The footer (format.md 3) of an index of blen bytes as stored (ilen decoded) at `off`. */
static void make_footer(uint8_t *ft, uint64_t off, const uint8_t *body, uint64_t blen,
                        uint64_t ilen, bool packed)
{
    memset(ft, 0, MCZ_FOOTER_SIZE);
    mcz_wr64(ft, off);
    mcz_wr64(ft + 8, blen);
    mcz_wr64(ft + 16, ilen);
    mcz_wr32(ft + 24, packed ? MCZ_CODEC_ZSTD : MCZ_CODEC_NONE);
    mcz_wr32(ft + 28, MCZ_FORMAT_VERSION);
    mcz_wr64(ft + 32, mcz_xxh64(body, blen));
    mcz_wr64(ft + 40, off + blen + MCZ_FOOTER_SIZE);
    mcz_wr64(ft + 48, mcz_xxh64(ft, 48));
    memcpy(ft + 56, MCZ_END_MAGIC, 8);
}

/* The index's sections back to back, each 8-byte aligned: 1..6 (required), then QPARAMS and
 * PARTS when there is something to say. */
static mcz_status build_index(packer *pk, buf *ix, const uint8_t *skel, size_t skel_len,
                              mcz_error *err)
{
    uint8_t h[MCZ_INDEX_HEADER_SIZE] = {0};
    memcpy(h, MCZ_INDEX_MAGIC, 8);
    const uint8_t *data[MCZ_SEC_MANDATORY + 2] = {pk->entries, pk->names.p, pk->dims.p,
                                                  pk->blocks.p, pk->segs.p, skel};
    size_t size[MCZ_SEC_MANDATORY + 2] = {pk->n * MCZ_ENTRY_SIZE, pk->names.n, pk->dims.n,
                                          pk->blocks.n, pk->segs.n, skel_len};
    uint32_t kind[MCZ_SEC_MANDATORY + 2] = {MCZ_SEC_TENSORS, MCZ_SEC_NAMES, MCZ_SEC_DIMS,
                                            MCZ_SEC_BLOCKS, MCZ_SEC_SEGMENTS, MCZ_SEC_SKELETON};
    int nsec = MCZ_SEC_MANDATORY;
    if (pk->qp.n)
        kind[nsec] = MCZ_SEC_QPARAMS, data[nsec] = pk->qp.p, size[nsec++] = pk->qp.n;
    if (pk->nparts)
        kind[nsec] = MCZ_SEC_PARTS, data[nsec] = pk->partsec.p, size[nsec++] = pk->partsec.n;
    mcz_wr32(h + 8, (uint32_t)pk->n);
    mcz_wr32(h + 12, (uint32_t)nsec);
    mcz_status s = mcz_buf_put(ix, h, sizeof h, err);
    for (int k = 0; k < nsec && !s; k++) {
        uint8_t sh[MCZ_SECTION_HEADER_SIZE], zero[8] = {0};
        mcz_wr32(sh, kind[k]);
        mcz_wr32(sh + 4, kind[k] <= MCZ_SEC_MANDATORY ? MCZ_SEC_REQUIRED : 0);
        mcz_wr64(sh + 8, size[k]);
        if (!(s = mcz_buf_put(ix, sh, sizeof sh, err)) && size[k])
            s = mcz_buf_put(ix, data[k], size[k], err);
        if (!s)
            s = mcz_buf_put(ix, zero, (8 - ix->n % 8) % 8, err);
    }
    if (!s && ix->n > MCZ_MAX_INDEX)
        FAIL(MCZ_ERR_LIMIT, "%s: index of %zu bytes beyond the format's cap", pk->path, ix->n);
    return s;
}

/* The index, zstd-compressed when that is smaller, aligned, then the footer. */
mcz_status mcz_write_index(packer *pk, const uint8_t *skel, size_t skel_len, mcz_error *err)
{
    buf ix = {0};
    uint8_t *z = NULL;
    mcz_status s = build_index(pk, &ix, skel, skel_len, err);
    size_t cap = s ? 0 : ZSTD_compressBound(ix.n);
    if (!s && !(z = malloc(cap)))
        s = NOMEM(err);
    if (!s) {
        /* a large graph at level 19 would take long for little: cap the level at 9 there */
        size_t zn = ZSTD_compress(z, cap, ix.p, ix.n,
                                  ix.n > ((size_t)16 << 20) && pk->level > 9 ? 9 : pk->level);
        bool packed = !ZSTD_isError(zn) && zn < ix.n;
        const uint8_t *body = packed ? z : ix.p;
        uint64_t blen = packed ? zn : ix.n;
        uint8_t ft[MCZ_FOOTER_SIZE];
        if (!(s = mcz_outfile_pad(pk->out, MCZ_ALIGN, err))) {
            uint64_t off = mcz_outfile_tell(pk->out);
            make_footer(ft, off, body, blen, ix.n, packed);
            if (!(s = mcz_outfile_write(pk->out, body, blen, err)))
                s = mcz_outfile_write(pk->out, ft, sizeof ft, err);
            pk->st.index_bytes = blen;
            pk->st.file_bytes = off + blen + MCZ_FOOTER_SIZE;
        }
    }
    free(z);
    free(ix.p);
    return s;
}
