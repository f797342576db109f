/* pack.c - the .mcz writer (docs/format.md): mcz_pack, its options, its memory and the order
 * of its phases. The header; the table ordered and the whole skeleton's markers rewritten to
 * table positions (index.c); the tensor entries, QPARAMS and PARTS (index.c); every payload
 * through a bounded window of blocks (window.c, encoding with encode.c); the index and
 * footer (index.c). The writer's structures: pack_impl.h. */
#include <stdlib.h>
#include <string.h>

#include "container/pack_impl.h"

const mcz_weight *mcz_pack_weight(const packer *pk, size_t i)
{
    return mcz_model_weight(pk->m, pk->perm[i]);
}

const uint8_t *mcz_pack_weight_data(const packer *pk, size_t i, mcz_error *err)
{
    return mcz_model_weight_data(pk->m, pk->perm[i], err);
}

/* Everything after the output is open: header, table, payloads, index. */
static mcz_status pack_all(packer *pk, mcz_error *err)
{
    uint8_t *skel = NULL, *orig = NULL;
    size_t skel_len = 0, orig_len;
    mcz_status s;
    /* the table order, then the whole model's skeleton, its markers pointing at table
     * positions (this also says which weights have a payload) */
    if ((s = mcz_write_header(pk, err)) || (s = mcz_order_table(pk, err)) ||
        (s = mcz_model_serialize_skeleton(pk->m, &orig, &orig_len, err)) ||
        (s = mcz_rewrite_skeleton(pk, orig, orig_len, &skel, &skel_len, err)))
        goto done;
    /* the entries and what only depends on them */
    for (size_t i = 0; i < pk->n && !s; i++)
        s = mcz_describe_tensor(pk, i, err);
    if (s || (s = mcz_build_qparams(pk, err)) || (pk->nparts && (s = mcz_build_parts(pk, err))))
        goto done;
    /* the payloads, then the index */
    pk->st.skeleton_bytes = skel_len;
    if (!(s = mcz_write_windows(pk, err)))
        s = mcz_write_index(pk, skel, skel_len, err);
done:
    free(orig);
    free(skel);
    return s;
}

/* The packer for opts (a copy: defaults filled), its per-tensor arrays allocated. */
static mcz_status packer_init(packer *pk, mcz_model *m, const char *path,
                              const mcz_pack_opts *o, mcz_error *err)
{
    pk->m = m;
    pk->path = path;
    pk->progress = o->progress;
    pk->progress_ctx = o->progress_ctx;
    pk->nparts = o->parts ? o->nparts : 0;
    pk->parts = o->parts;
    pk->no_sparse = o->no_sparse;
    pk->n = mcz_model_weight_count(m);
    pk->level = o->level > 0 ? (o->level > ZSTD_maxCLevel() ? ZSTD_maxCLevel() : o->level)
                             : MCZ_PACK_DEFAULT_LEVEL;
    pk->threads = (int)mcz_thread_count(o->threads, MCZ_THREADS_MAX);
    if (pk->n > MCZ_MAX_TENSORS)
        FAIL(MCZ_ERR_LIMIT, "%s: %zu weights, the format holds %u", path, pk->n,
             MCZ_MAX_TENSORS);
    if (pk->nparts > MCZ_MAX_PARTS)
        FAIL(MCZ_ERR_LIMIT, "%s: %zu parts, the format holds %u", path, pk->nparts,
             MCZ_MAX_PARTS);
    /* the dedup table: open addressing, at most half full */
    size_t dcap = 16;
    while (dcap < 2 * pk->n)
        dcap *= 2;
    pk->dmask = dcap - 1;
    pk->dmap = calloc(dcap, sizeof *pk->dmap);
    size_t n1 = pk->n ? pk->n : 1;
    pk->entries = calloc(n1, MCZ_ENTRY_SIZE);
    pk->wt = calloc(n1, sizeof *pk->wt);
    pk->wr = calloc(n1, sizeof *pk->wr);
    pk->hash = calloc(n1, sizeof *pk->hash);
    pk->marked = calloc(n1, 1);
    pk->perm = calloc(n1, sizeof *pk->perm);
    pk->inv = calloc(n1, sizeof *pk->inv);
    pk->plist = calloc(n1, sizeof *pk->plist);
    pk->owner = calloc(n1, sizeof *pk->owner);
    pk->seen = calloc(n1, sizeof *pk->seen);
    pk->mk = calloc(n1, MCZ_MARKER_LEN);
    if (!pk->entries || !pk->wt || !pk->wr || !pk->hash || !pk->dmap || !pk->marked ||
        !pk->perm || !pk->inv || !pk->plist || !pk->owner || !pk->seen || !pk->mk)
        return NOMEM(err);
    return mcz_encoders_init(pk, err);
}

static void packer_free(packer *pk)
{
    mcz_encoders_free(pk);
    free(pk->perm);
    free(pk->inv);
    free(pk->plist);
    free(pk->owner);
    free(pk->seen);
    free(pk->mk);
    free(pk->qp.p);
    free(pk->partsec.p);
    free(pk->jobs);
    free(pk->entries);
    free(pk->wt);
    free(pk->wr);
    free(pk->hash);
    free(pk->marked);
    free(pk->dmap);
    free(pk->names.p);
    free(pk->dims.p);
    free(pk->blocks.p);
    free(pk->segs.p);
    free(pk);
}

/* The totals by encoding, from the written entries (tensors kept in the skeleton aside). */
static void count_encodings(packer *pk)
{
    pk->st.tensors = pk->n;
    pk->st.parts = pk->nparts;
    for (size_t i = 0; i < pk->n; i++) {
        const uint8_t *e = pk->entries + i * MCZ_ENTRY_SIZE;
        uint32_t enc = mcz_rd32(e + MCZ_E_ENCODING);
        if (mcz_rd32(e + MCZ_E_FLAGS) & MCZ_TF_IN_SKELETON)
            continue;
        uint64_t raw = mcz_rd64(e + MCZ_E_RAW);
        pk->st.raw_bytes += raw;
        pk->st.count_by_encoding[enc]++;
        pk->st.raw_by_encoding[enc] += raw;
        pk->st.stored_by_encoding[enc] += mcz_rd64(e + MCZ_E_STORED);
    }
}

mcz_status mcz_pack(mcz_model *m, const char *path, const mcz_pack_opts *opts,
                    mcz_pack_stats *stats, mcz_error *err)
{
    mcz_pack_opts o = opts ? *opts : (mcz_pack_opts){0};
    packer *pk = calloc(1, sizeof *pk);
    if (!pk)
        return NOMEM(err);
    mcz_status s = packer_init(pk, m, path, &o, err);
    /* written to a temporary file, renamed over the destination only when complete */
    if (!s && !(pk->out = mcz_outfile_open(path, o.force, err)))
        s = err ? err->code : MCZ_ERR_IO;
    if (!s)
        s = pack_all(pk, err);
    if (!s)
        s = mcz_outfile_commit(pk->out, err);
    else
        mcz_outfile_abort(pk->out);
    if (!s) {
        count_encodings(pk);
        if (stats)
            *stats = pk->st;
    }
    packer_free(pk);
    return s;
}
