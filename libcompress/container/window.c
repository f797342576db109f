/* window.c - the payload: tensors in table order through a window of blocks.
 *
 * Tensors are encoded in windows of at most WINDOW_BYTES of raw weights (smaller for a small
 * model): the blocks of a window are compressed in parallel (encode.c), then written in table
 * order, so memory stays bounded and the output does not depend on the thread count. A tensor
 * larger than the window is alone in it and streamed: its encoding is chosen from the
 * candidates of its first blocks, and the rest is encoded with that one alone, a window's
 * worth at a time. Identical tensors (same dtype and bytes, found by the checksums of their
 * blocks) share one payload. */
#include <stdlib.h>
#include <string.h>

#include "container/pack_impl.h"
#include "onnx/model_impl.h" /* mcz_model_release_pages */

/* An earlier identical tensor (same dtype and bytes), or -1; registers tensor i otherwise.
 * Its hash comes from the checksums of its blocks, computed in parallel by the first pass. */
static long find_dup(packer *pk, size_t i, const uint8_t *src, uint64_t raw, const bjob *jobs,
                     uint64_t nblocks)
{
    const mcz_weight *w = mcz_pack_weight(pk, i);
    uint64_t h = (uint64_t)w->dtype;
    for (uint64_t b = 0; b < nblocks; b++)
        h = mcz_xxh64_seed(&jobs[b].raw_xxh, 8, h);
    pk->hash[i] = h;
    size_t s = (size_t)h & pk->dmask;
    for (; pk->dmap[s]; s = (s + 1) & pk->dmask) {
        size_t o = pk->dmap[s] - 1;
        const mcz_weight *ow = mcz_pack_weight(pk, o);
        if (pk->hash[o] == h && ow->dtype == w->dtype && ow->nbytes == raw &&
            memcmp(mcz_pack_weight_data(pk, o, NULL), src, raw) == 0)
            return (long)o;
    }
    pk->dmap[s] = i + 1;
    return -1;
}

/* Start tensor t's payload (its encoding chosen): aligned, at *off. */
static mcz_status begin_payload(packer *pk, const wtensor *t, uint64_t *off, mcz_error *err)
{
    written *wr = &pk->wr[t->idx];
    wr->first_block = pk->blocks.n / MCZ_BLOCK_ENTRY_SIZE;
    wr->first_seg = pk->segs.n / 4;
    /* raw payloads of 64 bytes or more are used in place: 64-byte aligned; others: 8 */
    mcz_status s = mcz_outfile_pad(pk->out, t->enc == MCZ_ENC_RAW && t->raw >= MCZ_ALIGN
                                                ? MCZ_ALIGN : 8, err);
    *off = mcz_outfile_tell(pk->out);
    return s;
}

/* Write blocks [b0, b1) of tensor t in its chosen encoding (their jobs are done), adding their
 * stored bytes to *stored. */
static mcz_status write_blocks(packer *pk, const wtensor *t, uint64_t b0, uint64_t b1,
                               uint64_t *stored, mcz_error *err)
{
    const bjob *jobs = pk->jobs + t->first_job;
    mcz_status s = MCZ_OK;
    for (uint64_t b = b0; b < b1 && !s; b++) {
        const cand *c = t->enc == MCZ_ENC_PLANES || t->zlit ? &jobs[b].planes
                        : t->enc == MCZ_ENC_SPARSE          ? &jobs[b].sparse
                                                            : &jobs[b].plain;
        cand rc;
        if (t->enc == MCZ_ENC_RAW) {
            uint64_t left = t->raw - b * BLOCK_SIZE, n = left < BLOCK_SIZE ? left : BLOCK_SIZE;
            rc = (cand){(uint8_t *)t->src + b * BLOCK_SIZE, {(uint32_t)n}, n, jobs[b].raw_xxh};
            c = &rc;
        }
        for (unsigned k = 0; k < t->P && !s; k++)
            s = mcz_buf_put32(&pk->segs, c->seg[k], err);
        if (!s && !(s = mcz_buf_put64(&pk->blocks, c->xxh, err)))
            s = mcz_buf_put64(&pk->blocks, jobs[b].raw_xxh, err);
        if (!s)
            s = mcz_outfile_write(pk->out, c->data, c->len, err);
        *stored += c->len;
    }
    return s;
}

/* Tensor t's table entry, its payload written. */
static void end_payload(packer *pk, const wtensor *t, uint64_t off, uint64_t stored)
{
    uint8_t *e = pk->entries + t->idx * MCZ_ENTRY_SIZE;
    written *wr = &pk->wr[t->idx];
    wr->nblocks = t->nblocks;
    wr->nsegs = t->nblocks * t->P;
    mcz_wr32(e + MCZ_E_ENCODING, (uint32_t)t->enc);
    mcz_wr64(e + MCZ_E_DATA_OFFSET, off);
    mcz_wr64(e + MCZ_E_STORED, stored);
    mcz_wr64(e + MCZ_E_RAW, t->raw);
    mcz_wr32(e + MCZ_E_BLOCK_SIZE, t->raw ? BLOCK_SIZE : 0);
    e[MCZ_E_PLANES] = (uint8_t)t->P;
    e[MCZ_E_TRANSFORM] = (uint8_t)(t->enc == MCZ_ENC_PLANES ||
                                           (t->enc == MCZ_ENC_SPARSE && t->es > 1)
                                       ? t->tf : 0);
    pk->st.stored_bytes += stored;
}

/* A duplicate: the entry and block records of the earlier tensor, no payload of its own. */
static mcz_status write_dup(packer *pk, const wtensor *t, mcz_error *err)
{
    uint8_t *e = pk->entries + t->idx * MCZ_ENTRY_SIZE;
    written *wr = &pk->wr[t->idx];
    const uint8_t *o = pk->entries + (size_t)t->dup_of * MCZ_ENTRY_SIZE;
    const written *ow = &pk->wr[t->dup_of];
    mcz_status s;
    wr->first_block = pk->blocks.n / MCZ_BLOCK_ENTRY_SIZE;
    wr->first_seg = pk->segs.n / 4;
    memcpy(e + MCZ_E_ENCODING, o + MCZ_E_ENCODING, MCZ_E_FLAGS - MCZ_E_ENCODING);
    wr->nblocks = ow->nblocks;
    wr->nsegs = ow->nsegs;
    pk->st.deduplicated++;
    if ((s = mcz_buf_put_again(&pk->blocks, ow->first_block * MCZ_BLOCK_ENTRY_SIZE,
                               ow->nblocks * MCZ_BLOCK_ENTRY_SIZE, err)))
        return s;
    return mcz_buf_put_again(&pk->segs, ow->first_seg * 4, ow->nsegs * 4, err);
}

/* Write tensor t of the window (its jobs are done): choose, write, record. */
static mcz_status write_tensor(packer *pk, wtensor *t, mcz_error *err)
{
    if (t->dup_of >= 0)
        return write_dup(pk, t, err);
    mcz_choose_encoding(t, pk->jobs + t->first_job, t->nblocks, t->raw);
    uint64_t off, stored = 0;
    mcz_status s = begin_payload(pk, t, &off, err);
    if (!s)
        s = write_blocks(pk, t, 0, t->nblocks, &stored, err);
    if (!s)
        end_payload(pk, t, off, stored);
    return s;
}

/* Tensor t, alone in its window and larger than S blocks, streamed: its encoding is chosen
 * from all candidates of its first S blocks, then the others are encoded with that one alone,
 * S blocks at a time, each written and freed before the next, so that no more than a window's
 * blocks are held whatever the tensor's size. The checksums of all blocks come first: an
 * identical earlier tensor is found before anything is encoded. */
static mcz_status write_big(packer *pk, wtensor *t, uint64_t S, mcz_error *err)
{
    size_t j0 = t->first_job, jn = j0 + t->nblocks;
    mcz_status s;
    /* checksums, dedup */
    pk->pass = PASS_HASH;
    if ((s = mcz_encode_jobs(pk, j0, jn, err)))
        return s;
    t->dup_of = find_dup(pk, t->idx, t->src, t->raw, pk->jobs + j0, t->nblocks);
    if (t->dup_of >= 0)
        return write_dup(pk, t, err);
    /* every candidate of the sample, the encoding chosen from it */
    pk->pass = PASS_ALL;
    if ((s = mcz_encode_jobs(pk, j0, j0 + S, err)))
        return s;
    if (mcz_redo_plain(pk, t, pk->jobs + j0, S)) {
        t->level = pk->level;
        pk->pass = PASS_REDO;
        if ((s = mcz_encode_jobs(pk, j0, j0 + S, err)))
            return s;
    }
    mcz_choose_encoding(t, pk->jobs + j0, S, S * BLOCK_SIZE < t->raw ? S * BLOCK_SIZE : t->raw);
    /* the rest with that encoding, S blocks at a time */
    uint64_t off, stored = 0;
    if ((s = begin_payload(pk, t, &off, err)))
        return s;
    pk->pass = PASS_ONE; /* plain zstd at the level its sample had */
    for (uint64_t b0 = 0; b0 < t->nblocks && !s; b0 += S) {
        uint64_t b1 = b0 + S < t->nblocks ? b0 + S : t->nblocks;
        /* raw needs nothing more than the checksums */
        if (b0 && t->enc != MCZ_ENC_RAW && (s = mcz_encode_jobs(pk, j0 + b0, j0 + b1, err)))
            break;
        s = write_blocks(pk, t, b0, b1, &stored, err);
        mcz_free_cands(pk, j0 + b0, j0 + b1);
        uint64_t end = b1 * BLOCK_SIZE < t->raw ? b1 * BLOCK_SIZE : t->raw;
        mcz_model_release_pages(pk->m, t->src + b0 * BLOCK_SIZE, end - b0 * BLOCK_SIZE);
    }
    if (!s)
        end_payload(pk, t, off, stored);
    return s;
}

/* The window's tensors [i0, i1) and their block jobs. A tensor the skeleton keeps (no marker:
 * strings...) is flagged so and gets no jobs. */
static mcz_status prepare_window(packer *pk, size_t i0, size_t i1, mcz_error *err)
{
    size_t nj = 0;
    pk->nwt = 0;
    for (size_t i = i0; i < i1; i++) {
        const mcz_weight *w = mcz_pack_weight(pk, i);
        wtensor *t = &pk->wt[pk->nwt++];
        *t = (wtensor){.idx = i, .dup_of = -1, .first_job = nj};
        if (!pk->marked[i]) {
            mcz_wr32(pk->entries + i * MCZ_ENTRY_SIZE + MCZ_E_FLAGS, MCZ_TF_IN_SKELETON);
            t->dup_of = -2;
            continue;
        }
        if (!(t->src = mcz_pack_weight_data(pk, i, err)) && w->nbytes)
            return err ? err->code : MCZ_ERR_FORMAT;
        t->raw = w->nbytes;
        t->E = mcz_plane_count(w->dtype, &t->tf);
        int es = mcz_elem_size(w->dtype);
        t->es = es > 0 ? (unsigned)es : 0;
        t->lit = t->E <= 1 && pk->level > PROBE_LEVEL; /* int8/int4 codes, bytes */
        t->level = (t->E > 1 || t->lit) && pk->level > PROBE_LEVEL ? PROBE_LEVEL : pk->level;
        t->sparse = !pk->no_sparse && (t->es == 1 || t->es == 2 || t->es == 4 || t->es == 8);
        t->nblocks = (t->raw + BLOCK_SIZE - 1) / BLOCK_SIZE;
        for (uint64_t b = 0; b < t->nblocks; b++)
            pk->jobs[nj++] = (bjob){.t = pk->nwt - 1, .b = b};
    }
    pk->njobs = nj;
    return MCZ_OK;
}

/* Tensors [i0, i1) of at most `window` bytes, or one larger tensor: prepare, encode in
 * parallel, write in order. */
static mcz_status do_window(packer *pk, size_t i0, size_t i1, uint64_t window, mcz_error *err)
{
    mcz_status s = prepare_window(pk, i0, i1, err);
    if (s)
        return s;
    /* a tensor larger than the window is alone in it: streamed, a window's blocks at a time
     * (at least 4: work for the threads) */
    wtensor *t0 = &pk->wt[0];
    if (pk->nwt == 1 && t0->dup_of != -2 && t0->raw > window) {
        uint64_t S = window / BLOCK_SIZE > 4 ? window / BLOCK_SIZE : 4;
        s = write_big(pk, t0, S < t0->nblocks ? S : t0->nblocks, err); /* releases its pages */
        if (!s && pk->progress)
            pk->progress(pk->progress_ctx, 1, t0->raw);
        return s;
    }
    /* every candidate of every block */
    pk->pass = PASS_ALL;
    if ((s = mcz_encode_jobs(pk, 0, pk->njobs, err)))
        return s;
    /* duplicates, in table order (an identical tensor was encoded for nothing: rare) */
    for (size_t k = 0; k < pk->nwt; k++) {
        wtensor *t = &pk->wt[k];
        if (t->dup_of != -2 && t->raw)
            t->dup_of = find_dup(pk, t->idx, t->src, t->raw, pk->jobs + t->first_job,
                                 t->nblocks);
    }
    /* plain zstd again at the requested level where it came close */
    bool again = false;
    for (size_t k = 0; k < pk->nwt; k++) {
        wtensor *t = &pk->wt[k];
        bool redo = mcz_redo_plain(pk, t, pk->jobs + t->first_job, t->nblocks);
        t->level = redo ? pk->level : 0;
        again |= redo;
    }
    pk->pass = PASS_REDO;
    if (again && (s = mcz_encode_jobs(pk, 0, pk->njobs, err)))
        return s;
    /* write, in table order */
    for (size_t k = 0; k < pk->nwt && !s; k++)
        if (pk->wt[k].dup_of != -2) {
            s = write_tensor(pk, &pk->wt[k], err);
            /* written: its pages of the mapped input need not stay resident */
            mcz_model_release_pages(pk->m, pk->wt[k].src, pk->wt[k].raw);
            if (!s && pk->progress)
                pk->progress(pk->progress_ctx, 1, pk->wt[k].raw);
        }
    return s;
}

mcz_status mcz_write_windows(packer *pk, mcz_error *err)
{
    /* jobs: the most blocks of one tensor, or of a window */
    size_t maxjobs = 1;
    uint64_t total = 0;
    for (size_t i = 0; i < pk->n; i++) {
        uint64_t nbytes = mcz_pack_weight(pk, i)->nbytes;
        size_t nb = (size_t)((nbytes + BLOCK_SIZE - 1) / BLOCK_SIZE);
        maxjobs = nb > maxjobs ? nb : maxjobs;
        total += nbytes;
    }
    maxjobs += WINDOW_BYTES / BLOCK_SIZE + WINDOW_TENSORS + 1;
    if (!(pk->jobs = calloc(maxjobs, sizeof *pk->jobs)))
        return NOMEM(err);
    /* a small model in smaller windows: fewer candidate encodings held at once */
    uint64_t window = total / 8 < WINDOW_BYTES / 4 ? WINDOW_BYTES / 4
                      : total / 8 > WINDOW_BYTES   ? WINDOW_BYTES
                                                   : total / 8;
    mcz_status s = MCZ_OK;
    for (size_t i0 = 0; i0 < pk->n && !s;) {
        size_t i1 = i0;
        uint64_t bytes = 0;
        while (i1 < pk->n && (i1 == i0 || (i1 - i0 < WINDOW_TENSORS &&
                              bytes + mcz_pack_weight(pk, i1)->nbytes <= window)))
            bytes += mcz_pack_weight(pk, i1++)->nbytes;
        s = do_window(pk, i0, i1, window, err);
        mcz_free_cands(pk, 0, pk->njobs);
        pk->njobs = 0;
        i0 = i1;
    }
    return s;
}
