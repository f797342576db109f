/* export.c - mcz_model -> ONNX without a second copy of the weights.
 *
 * protobuf-c packs every nested message into a temporary buffer before appending it to its
 * parent, so packing the whole tree would hold the weights twice or more. Instead protobuf-c
 * packs a skeleton whose raw_data fields hold 16-byte markers, and onnxwire streams that
 * skeleton to the output with every marker replaced by the weight's bytes, straight from
 * their mapping. The markers carry a random tag drawn per export, so no tensor of the input
 * can pose as one. */
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/model_impl.h"
#include "mcz/outfile.h"

#define PROTOBUF_LIMIT ((uint64_t)2 << 30) /* protobuf messages must stay below 2 GiB */
#define EXTERNAL_ALIGN 64
#define SKELETON_INLINE_MAX 65536 /* typed-field weights up to this stay in the skeleton */

/* What a tensor held before export changed it (restored afterwards). */
typedef struct saved {
    Onnx__TensorProto *t;
    Onnx__TensorProto copy; /* a shallow copy of the struct */
} saved;

typedef struct exporter {
    mcz_model *m;
    saved *sv;
    size_t nsv;
    /* storage for the external_data entries and strings we point tensors at */
    Onnx__StringStringEntryProto *entries; /* 3 per external tensor */
    Onnx__StringStringEntryProto **entry_ptrs;
    char (*numbers)[2][24];
    uint8_t (*markers)[MCZ_MARKER_LEN];
    uint8_t tag[8]; /* first half of every marker of this export */
} exporter;

static void exporter_restore(exporter *x)
{
    for (size_t i = x->nsv; i-- > 0;)
        *x->sv[i].t = x->sv[i].copy;
    free(x->sv);
    free(x->entries);
    free(x->entry_ptrs);
    free(x->numbers);
    free(x->markers);
    memset(x, 0, sizeof *x);
}

static mcz_status exporter_init(exporter *x, mcz_model *m, mcz_error *err)
{
    memset(x, 0, sizeof *x);
    x->m = m;
    size_t n = m->nw ? m->nw : 1;
    x->sv = calloc(n, sizeof *x->sv);
    x->entries = calloc(n * 3, sizeof *x->entries);
    x->entry_ptrs = calloc(n * 3, sizeof *x->entry_ptrs);
    x->numbers = calloc(n, sizeof *x->numbers);
    x->markers = calloc(n, sizeof *x->markers);
    if (!x->sv || !x->entries || !x->entry_ptrs || !x->numbers || !x->markers) {
        exporter_restore(x);
        return mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    }
    if (getrandom(x->tag, sizeof x->tag, GRND_NONBLOCK) != (ssize_t)sizeof x->tag) {
        uint64_t v = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)x;
        memcpy(x->tag, &v, sizeof x->tag);
    }
    return MCZ_OK;
}


/* Does weight i go out as raw bytes (rather than the typed field it came in)? */
static int goes_raw(const mcz_model *m, size_t i)
{
    return m->w[i].t->has_raw_data || m->w[i].pub.external;
}

static mcz_status payload_cb(void *vctx, uint64_t ordinal, const uint8_t *raw, size_t len,
                             const uint8_t **out, size_t *out_len, mcz_error *err)
{
    (void)ordinal;
    exporter *x = vctx;
    if (len != MCZ_MARKER_LEN || memcmp(raw, x->tag, 8) != 0)
        return MCZ_OK;
    uint64_t i = 0;
    for (int k = 0; k < 8; k++)
        i |= (uint64_t)raw[8 + k] << (8 * k);
    if (i >= x->m->nw)
        return mcz_seterr(err, MCZ_ERR_FORMAT, "%s: internal error: bad export marker", x->m->path);
    const uint8_t *d = mcz_model_weight_data(x->m, (size_t)i, err);
    if (!d)
        return err ? err->code : MCZ_ERR_NOMEM;
    *out = d;
    *out_len = x->m->w[i].pub.nbytes;
    return MCZ_OK;
}

static Onnx__TensorProto *save_tensor(exporter *x, size_t i)
{
    Onnx__TensorProto *t = x->m->w[i].t;
    x->sv[x->nsv].t = t;
    x->sv[x->nsv].copy = *t;
    x->nsv++;
    return t;
}

static void clear_values(Onnx__TensorProto *t)
{
    t->n_float_data = t->n_int32_data = t->n_int64_data = t->n_double_data = 0;
    t->n_uint64_data = 0;
    t->has_raw_data = 0;
    t->raw_data.len = 0;
    t->raw_data.data = NULL;
    t->has_data_location = 0;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT;
    t->n_external_data = 0;
    t->external_data = NULL;
}

/* Point weight i at inline raw bytes. */
static void set_inline(exporter *x, size_t i, const uint8_t *data, size_t len)
{
    Onnx__TensorProto *t = save_tensor(x, i);
    clear_values(t);
    t->has_raw_data = 1;
    t->raw_data.data = (uint8_t *)data;
    t->raw_data.len = len;
}

/* Let weight i's raw_data be a marker that the stream replaces with its bytes. */
static void set_marker(exporter *x, size_t i)
{
    memcpy(x->markers[i], x->tag, 8);
    for (int k = 0; k < 8; k++)
        x->markers[i][8 + k] = (uint8_t)((uint64_t)i >> (8 * k));
    set_inline(x, i, x->markers[i], MCZ_MARKER_LEN);
}

static void set_external(exporter *x, size_t i, const char *location, uint64_t off, uint64_t len)
{
    Onnx__TensorProto *t = save_tensor(x, i);
    clear_values(t);
    Onnx__StringStringEntryProto *e = &x->entries[3 * i];
    Onnx__StringStringEntryProto **ep = &x->entry_ptrs[3 * i];
    snprintf(x->numbers[i][0], sizeof x->numbers[i][0], "%llu", (unsigned long long)off);
    snprintf(x->numbers[i][1], sizeof x->numbers[i][1], "%llu", (unsigned long long)len);
    const char *keys[3] = {"location", "offset", "length"};
    const char *vals[3] = {location, x->numbers[i][0], x->numbers[i][1]};
    for (int k = 0; k < 3; k++) {
        onnx__string_string_entry_proto__init(&e[k]);
        e[k].key = (char *)keys[k];
        e[k].value = (char *)vals[k];
        ep[k] = &e[k];
    }
    t->external_data = ep;
    t->n_external_data = 3;
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
}

static mcz_status pack_to_memory(mcz_model *m, uint8_t **out, size_t *out_len, mcz_error *err);

static mcz_status outfile_sink(void *ctx, const void *data, size_t len, mcz_error *err)
{
    return mcz_outfile_write(ctx, data, len, err);
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

mcz_status mcz_model_save_onnx(mcz_model *m, const char *path, const mcz_save_opts *opts,
                               mcz_error *err)
{
    mcz_save_opts o = opts ? *opts : (mcz_save_opts){0};
    uint64_t min_bytes = o.external_min_bytes ? o.external_min_bytes : 1024;
    uint64_t total = 0;
    int any_external = 0;
    for (size_t i = 0; i < m->nw; i++) {
        total += m->w[i].pub.nbytes;
        any_external |= m->w[i].pub.external;
    }
    /* which weights go to external data */
    int mode = o.external_data;
    if (mode == 0 && total >= PROTOBUF_LIMIT - (64u << 20))
        mode = 1;
    if (mode == -1 && total >= PROTOBUF_LIMIT)
        return mcz_seterr(err, MCZ_ERR_LIMIT,
                          "%s: weights total %llu bytes, over protobuf's 2 GiB: use external data",
                          path, (unsigned long long)total);
    int keep_external = mode == 0 && any_external;
    int use_external = mode == 1 || keep_external;
    if (use_external && strcmp(path, "-") == 0)
        return mcz_seterr(err, MCZ_ERR_ARG,
                          "-: a model with external data cannot be written to standard output");

    exporter x;
    mcz_status s = exporter_init(&x, m, err);
    if (s)
        return s;
    mcz_outfile *data_out = NULL, *model_out = NULL;
    char *data_path = NULL;
    const char *location = NULL;
    uint8_t *skel = NULL;
    size_t skel_len = 0;
    if (use_external) {
        size_t n = strlen(path);
        if (!(data_path = malloc(n + 6))) {
            s = mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
            goto out;
        }
        snprintf(data_path, n + 6, "%s.data", path);
        location = base_name(data_path);
    }
    for (size_t i = 0; i < m->nw; i++) {
        wentry *e = &m->w[i];
        int ext = use_external && e->pub.dtype != MCZ_DT_STRING &&
                  (keep_external ? e->pub.external : e->pub.nbytes >= min_bytes);
        if (ext) {
            const uint8_t *d = mcz_model_weight_data(m, i, err);
            if (!d) {
                s = err ? err->code : MCZ_ERR_NOMEM;
                goto out;
            }
            /* opened with the first external weight: no stray empty data file */
            if (!data_out && !(data_out = mcz_outfile_open(data_path, o.force, err))) {
                s = err ? err->code : MCZ_ERR_IO;
                goto out;
            }
            if ((s = mcz_outfile_pad(data_out, EXTERNAL_ALIGN, err)))
                goto out;
            uint64_t off = mcz_outfile_tell(data_out);
            if ((s = mcz_outfile_write(data_out, d, e->pub.nbytes, err)))
                goto out;
            set_external(&x, i, location, off, e->pub.nbytes);
        } else if (goes_raw(m, i)) {
            set_marker(&x, i);
        }
    }
    if ((s = pack_to_memory(m, &skel, &skel_len, err)))
        goto out;
    if (!(model_out = mcz_outfile_open(path, o.force, err))) {
        s = err ? err->code : MCZ_ERR_IO;
        goto out;
    }
    uint64_t written = 0;
    if ((s = mcz_onnxwire_stream(skel, skel_len, payload_cb, &x, outfile_sink, model_out,
                                 &written, path, err)))
        goto out;
    if (written >= PROTOBUF_LIMIT) {
        s = mcz_seterr(err, MCZ_ERR_LIMIT,
                       "%s: model is %llu bytes, over protobuf's 2 GiB: use external data", path,
                       (unsigned long long)written);
        goto out;
    }
    if (data_out) {
        s = mcz_outfile_commit(data_out, err);
        data_out = NULL;
        if (s)
            goto out;
    }
    s = mcz_outfile_commit(model_out, err);
    model_out = NULL;
out:
    mcz_outfile_abort(model_out);
    mcz_outfile_abort(data_out);
    exporter_restore(&x);
    free(data_path);
    free(skel);
    return s;
}

static mcz_status pack_to_memory(mcz_model *m, uint8_t **out, size_t *out_len, mcz_error *err)
{
    size_t size = onnx__model_proto__get_packed_size(m->proto);
    if (size >= PROTOBUF_LIMIT)
        return mcz_seterr(err, MCZ_ERR_LIMIT, "%s: model is %zu bytes, over protobuf's 2 GiB",
                          m->path, size);
    uint8_t *b = malloc(size ? size : 1);
    if (!b)
        return mcz_seterr(err, MCZ_ERR_NOMEM, "%s: out of memory for %zu bytes", m->path, size);
    *out_len = onnx__model_proto__pack(m->proto, b);
    *out = b;
    return MCZ_OK;
}

mcz_status mcz_model_serialize(mcz_model *m, uint8_t **out, size_t *out_len, mcz_error *err)
{
    exporter x;
    uint8_t *skel = NULL;
    size_t skel_len = 0;
    mcz_status s = exporter_init(&x, m, err);
    if (s)
        return s;
    for (size_t i = 0; i < m->nw; i++)
        if (goes_raw(m, i))
            set_marker(&x, i);
    s = pack_to_memory(m, &skel, &skel_len, err);
    if (s == MCZ_OK)
        s = mcz_onnxwire_rewrite(skel, skel_len, payload_cb, &x, out, out_len, m->path, err);
    exporter_restore(&x);
    if (s == MCZ_OK && *out_len >= PROTOBUF_LIMIT) {
        free(*out);
        *out = NULL;
        s = mcz_seterr(err, MCZ_ERR_LIMIT, "%s: model is %zu bytes, over protobuf's 2 GiB",
                       m->path, *out_len);
    }
    free(skel);
    return s;
}

typedef struct marker_count {
    size_t nw, found;
    unsigned char *seen;
    int bad;
} marker_count;

static mcz_status count_markers(void *vctx, uint64_t idx, const uint8_t *raw, size_t len,
                                const uint8_t **out, size_t *out_len, mcz_error *err)
{
    (void)raw, (void)len, (void)out, (void)out_len, (void)err;
    marker_count *c = vctx;
    if (idx >= c->nw || c->seen[idx])
        c->bad = 1;
    else
        c->seen[idx] = 1;
    c->found++;
    return MCZ_OK;
}

mcz_status mcz_model_serialize_skeleton(mcz_model *m, uint8_t **out, size_t *out_len,
                                        mcz_error *err)
{
    exporter x;
    mcz_status s = exporter_init(&x, m, err);
    if (s)
        return s;
    size_t expect = 0;
    for (size_t i = 0; i < m->nw; i++) {
        /* strings, and small weights held in typed fields (or holding nothing), stay in the
         * skeleton as the model had them, so unpacking gives back the very same bytes */
        if (m->w[i].pub.dtype == MCZ_DT_STRING ||
            (!goes_raw(m, i) && m->w[i].pub.nbytes <= SKELETON_INLINE_MAX))
            continue;
        mcz_marker_make(i, x.markers[i]);
        set_inline(&x, i, x.markers[i], MCZ_MARKER_LEN);
        expect++;
    }
    s = pack_to_memory(m, out, out_len, err);
    exporter_restore(&x);
    if (s)
        return s;
    /* A tensor that is not a weight could hold bytes that read as a marker; a reader would
     * then put a weight's values there. Refuse unless the markers are exactly ours. */
    marker_count c = {m->nw, 0, calloc(m->nw ? m->nw : 1, 1), 0};
    uint8_t *copy = NULL;
    size_t copy_len = 0;
    if (!c.seen) {
        s = mcz_seterr(err, MCZ_ERR_NOMEM, "out of memory");
    } else if ((s = mcz_onnxwire_rewrite(*out, *out_len, mcz_marker_dispatch,
                                         &(mcz_marker_cb){count_markers, &c}, &copy,
                                         &copy_len, m->path, err)) == MCZ_OK &&
               (c.bad || c.found != expect)) {
        s = mcz_seterr(err, MCZ_ERR_FORMAT,
                       "%s: a tensor of the model holds bytes that read as an mcz weight marker",
                       m->path);
    }
    free(copy);
    free(c.seen);
    if (s) {
        free(*out);
        *out = NULL;
        *out_len = 0;
    }
    return s;
}
