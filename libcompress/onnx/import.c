/* import.c - ONNX file -> mcz_model, keeping about one copy of the weights.
 *
 * The file is memory-mapped. Before protobuf-c sees it, onnxwire replaces every large
 * raw_data by a 16-byte marker, so protobuf-c parses (and copies) only the small skeleton;
 * the markers are then swapped for pointers into the mapping. External data files are mapped
 * too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "onnx/model_impl.h"

#define MARKER_CHUNK 1024

typedef struct strip_ctx {
    const uint8_t **spans; /* by ordinal: the original raw_data (NULL if left in place) */
    size_t *lens;
    size_t n, cap, capl;
    /* markers in fixed chunks: pointers handed to onnxwire must not move until it returns */
    uint8_t (**chunks)[MCZ_MARKER_LEN];
    size_t nchunks, capchunks;
} strip_ctx;

static mcz_status strip_cb(void *vctx, uint64_t ordinal, const uint8_t *raw, size_t len,
                           const uint8_t **out, size_t *out_len, mcz_error *err)
{
    strip_ctx *c = vctx;
    if (len < MCZ_MARKER_LEN)
        return MCZ_OK; /* small: leave it to protobuf-c */
    mcz_status s;
    if ((s = mcz_grow((void **)&c->spans, &c->cap, ordinal + 1, sizeof *c->spans, err)) ||
        (s = mcz_grow((void **)&c->lens, &c->capl, ordinal + 1, sizeof *c->lens, err)))
        return s;
    size_t chunk = (size_t)(ordinal / MARKER_CHUNK);
    while (c->nchunks <= chunk) {
        if ((s = mcz_grow((void **)&c->chunks, &c->capchunks, c->nchunks + 1, sizeof *c->chunks,
                          err)))
            return s;
        if (!(c->chunks[c->nchunks] = malloc(MARKER_CHUNK * MCZ_MARKER_LEN)))
            return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        c->nchunks++;
    }
    for (size_t k = c->n; k < ordinal; k++)
        c->spans[k] = NULL;
    c->spans[ordinal] = raw;
    c->lens[ordinal] = len;
    c->n = ordinal + 1;
    uint8_t *mk = c->chunks[chunk][ordinal % MARKER_CHUNK];
    mcz_marker_make(ordinal, mk);
    *out = mk;
    *out_len = MCZ_MARKER_LEN;
    return MCZ_OK;
}

typedef struct restore_ctx {
    mcz_model *m;
    strip_ctx *strip;
    uint8_t *used;
} restore_ctx;

static mcz_status restore_tensor(restore_ctx *r, Onnx__TensorProto *t, mcz_error *err)
{
    uint64_t idx;
    if (!t || !t->has_raw_data || !mcz_marker_parse(t->raw_data.data, t->raw_data.len, &idx))
        return MCZ_OK;
    if (idx >= r->strip->n || !r->strip->spans[idx] || r->used[idx])
        return mcz_seterr(err, MCZ_ERR_FORMAT, "%s: tensor '%s': inconsistent raw_data", r->m->path,
                          t->name ? t->name : "");
    r->used[idx] = 1;
    mcz_status s = mcz_model_note_foreign(r->m, t, err); /* before the swap: see mcz_model_free */
    if (s)
        return s;
    free(t->raw_data.data);
    t->raw_data.data = (uint8_t *)r->strip->spans[idx];
    t->raw_data.len = r->strip->lens[idx];
    return MCZ_OK;
}

static mcz_status restore_graph(restore_ctx *r, Onnx__GraphProto *g, mcz_error *err)
{
    mcz_status s;
    for (size_t i = 0; i < g->n_initializer; i++)
        if ((s = restore_tensor(r, g->initializer[i], err)))
            return s;
    for (size_t i = 0; i < g->n_node; i++) {
        Onnx__NodeProto *n = g->node[i];
        for (size_t a = 0; a < n->n_attribute; a++) {
            Onnx__AttributeProto *at = n->attribute[a];
            if ((s = restore_tensor(r, at->t, err)))
                return s;
            for (size_t k = 0; k < at->n_tensors; k++)
                if ((s = restore_tensor(r, at->tensors[k], err)))
                    return s;
            if (at->g && (s = restore_graph(r, at->g, err)))
                return s;
            for (size_t k = 0; k < at->n_graphs; k++)
                if (at->graphs[k] && (s = restore_graph(r, at->graphs[k], err)))
                    return s;
        }
    }
    return MCZ_OK;
}

/* protobuf-c recurses once per nested message and has no depth limit: check the nesting of
 * every message-typed field (by the generated descriptors) before handing it the bytes. */

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int i = 0; i < 10 && *p < end; i++) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

static mcz_status check_nesting(const mcz_model *m, const ProtobufCMessageDescriptor *d,
                                const uint8_t *p, const uint8_t *end, int depth,
                                mcz_error *err)
{
    if (depth > MCZ_ONNX_MAX_NESTING)
        return mcz_seterr(err, MCZ_ERR_LIMIT, "%s: messages nested deeper than %d", m->path,
                          MCZ_ONNX_MAX_NESTING);
    while (p < end) {
        uint64_t tag, v;
        if (varint(&p, end, &tag) != 0)
            return MCZ_OK; /* malformed: protobuf-c reports it */
        switch (tag & 7) {
        case 0:
            if (varint(&p, end, &v) != 0)
                return MCZ_OK;
            break;
        case 1:
            if (end - p < 8)
                return MCZ_OK;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return MCZ_OK;
            p += 4;
            break;
        case 2: {
            if (varint(&p, end, &v) != 0 || v > (uint64_t)(end - p))
                return MCZ_OK;
            const ProtobufCFieldDescriptor *f =
                tag >> 3 <= UINT32_MAX
                    ? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3))
                    : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                mcz_status s = check_nesting(m, f->descriptor, p, p + v, depth + 1, err);
                if (s)
                    return s;
            }
            p += v;
            break;
        }
        default:
            return MCZ_OK;
        }
    }
    return MCZ_OK;
}

/* Parse `buf` (owned by the caller, alive as long as the model) into m->proto. */
static mcz_status parse(mcz_model *m, const uint8_t *buf, size_t len, mcz_error *err)
{
    strip_ctx sc = {0};
    uint8_t *small = NULL, *used = NULL;
    size_t small_len = 0;
    mcz_status s = mcz_onnxwire_rewrite(buf, len, strip_cb, &sc, &small, &small_len, m->path, err);
    if (s)
        goto out;
    if ((s = check_nesting(m, &onnx__model_proto__descriptor, small, small + small_len, 0, err)))
        goto out;
    m->proto = onnx__model_proto__unpack(NULL, small_len, small);
    if (!m->proto) {
        s = mcz_seterr(err, MCZ_ERR_FORMAT, "%s: not a valid ONNX model (protobuf parse failed)",
                       m->path);
        goto out;
    }
    if (!(used = calloc(sc.n ? sc.n : 1, 1))) {
        s = mcz_seterr(err, MCZ_ERR_NOMEM, "%s: out of memory", m->path);
        goto out;
    }
    restore_ctx rc = {m, &sc, used};
    if (m->proto->graph)
        s = restore_graph(&rc, m->proto->graph, err);
out:
    free(used);
    free(small);
    free(sc.spans);
    free(sc.lens);
    for (size_t i = 0; i < sc.nchunks; i++)
        free(sc.chunks[i]);
    free(sc.chunks);
    return s;
}

static mcz_model *model_new(const char *path, mcz_error *err)
{
    mcz_model *m = calloc(1, sizeof *m);
    if (!m || !(m->path = mcz_strdup(path))) {
        free(m);
        mcz_seterr(err, MCZ_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    return m;
}

mcz_model *mcz_model_load_onnx(const char *path, mcz_error *err)
{
    mcz_model *m = model_new(path, err);
    if (!m)
        return NULL;
    const char *slash = strrchr(path, '/');
    m->dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : mcz_strdup(".");
    if (!m->dir) {
        mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (mcz_map_file(path, path, &m->map, &m->maplen, err))
        goto fail;
    if (m->maplen == 0) {
        mcz_seterr(err, MCZ_ERR_FORMAT, "%s: empty file, not an ONNX model", path);
        goto fail;
    }
    madvise(m->map, m->maplen, MADV_SEQUENTIAL);
    if (parse(m, m->map, m->maplen, err) || mcz_model_build_table(m, err))
        goto fail;
    return m;
fail:
    mcz_model_free(m);
    return NULL;
}

mcz_model *mcz_model_load_onnx_buffer(void *buf, size_t len, const char *name, mcz_error *err)
{
    mcz_model *m = model_new(name, err);
    if (!m) {
        free(buf);
        return NULL;
    }
    m->ownbuf = buf;
    if (len == 0) {
        mcz_seterr(err, MCZ_ERR_FORMAT, "%s: empty buffer, not an ONNX model", name);
        goto fail;
    }
    if (parse(m, buf, len, err) || mcz_model_build_table(m, err))
        goto fail;
    return m;
fail:
    mcz_model_free(m);
    return NULL;
}

void mcz_model_free(mcz_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nforeign; i++) {
        m->foreign[i]->raw_data.data = NULL;
        m->foreign[i]->raw_data.len = 0;
    }
    if (m->proto)
        onnx__model_proto__free_unpacked(m->proto, NULL);
    for (size_t i = 0; i < m->nw; i++) {
        free(m->w[i].owned);
        free(m->w[i].graph_path);
    }
    free(m->w);
    for (size_t i = 0; i < m->next; i++) {
        if (m->ext[i].addr)
            munmap(m->ext[i].addr, m->ext[i].len);
        free(m->ext[i].location);
    }
    free(m->ext);
    if (m->map)
        munmap(m->map, m->maplen);
    free(m->ownbuf);
    free(m->foreign);
    free(m->dir);
    free(m->path);
    free(m);
}
