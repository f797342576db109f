/* baseline.c - the plain protobuf-c way to float32 weights (mcz/baseline.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench-baseline.h"
#include "mcz/quant.h"
#include "onnx.pb-c.h"

struct mcz_baseline {
    Onnx__ModelProto *proto;
    float **w;
    size_t n, cap;
    mcz_baseline_stats st;
};

static void fail(mcz_error *err, mcz_status code, const char *path, const char *what)
{
    if (!err)
        return;
    err->code = code;
    snprintf(err->msg, sizeof err->msg, "%s: %s", path, what);
}

/* Convert one tensor; 0 on success, 1 when skipped, -1 out of memory. */
static int convert(mcz_baseline *b, const Onnx__TensorProto *t)
{
    uint64_t count = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0)
            return 1;
        count *= (uint64_t)t->dims[i];
    }
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return 1;
    int dt = t->data_type;
    size_t esz = dt == 1 ? 4 : dt == 10 || dt == 16 ? 2 : dt == 11 ? 8 : 0;
    if (!esz)
        return 1;
    int raw = t->has_raw_data && t->raw_data.len > 0;
    size_t have = raw ? t->raw_data.len / esz
                      : dt == 1 ? t->n_float_data : dt == 11 ? t->n_double_data : t->n_int32_data;
    if (have != count)
        return 1;
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        float **w = realloc(b->w, cap * sizeof *w);
        if (!w)
            return -1;
        b->w = w;
        b->cap = cap;
    }
    float *out = malloc(count ? count * sizeof(float) : 1);
    if (!out)
        return -1;
    const uint8_t *p = raw ? t->raw_data.data : NULL;
    for (uint64_t i = 0; i < count; i++) {
        if (dt == 1) {
            if (p)
                memcpy(&out[i], p + 4 * i, 4);
            else
                out[i] = t->float_data[i];
        } else if (dt == 11) {
            double d;
            if (p)
                memcpy(&d, p + 8 * i, 8);
            else
                d = t->double_data[i];
            out[i] = (float)d;
        } else {
            uint16_t h;
            if (p)
                memcpy(&h, p + 2 * i, 2);
            else
                h = (uint16_t)t->int32_data[i];
            if (dt == 10) {
                out[i] = mcz_f16_to_f32(h);
            } else {
                uint32_t bits = (uint32_t)h << 16;
                memcpy(&out[i], &bits, 4);
            }
        }
    }
    b->w[b->n++] = out;
    b->st.weights++;
    b->st.f32_bytes += count * sizeof(float);
    return 0;
}

static int walk(mcz_baseline *b, const Onnx__GraphProto *g)
{
    for (size_t i = 0; i < g->n_initializer; i++) {
        int r = convert(b, g->initializer[i]);
        if (r < 0)
            return -1;
        b->st.skipped += (uint64_t)r;
    }
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *nd = g->node[i];
        int constant = nd->op_type && strcmp(nd->op_type, "Constant") == 0;
        for (size_t a = 0; a < nd->n_attribute; a++) {
            const Onnx__AttributeProto *at = nd->attribute[a];
            if (constant && at->t && at->name && strcmp(at->name, "value") == 0) {
                int r = convert(b, at->t);
                if (r < 0)
                    return -1;
                b->st.skipped += (uint64_t)r;
            }
            if (at->g && walk(b, at->g) < 0)
                return -1;
            for (size_t k = 0; k < at->n_graphs; k++)
                if (walk(b, at->graphs[k]) < 0)
                    return -1;
        }
    }
    return 0;
}

mcz_baseline *mcz_baseline_load(const char *path, mcz_baseline_stats *st, mcz_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        fail(err, MCZ_ERR_IO, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    size_t len = (size_t)sb.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    size_t got = 0;
    while (buf && got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got != len) {
        fail(err, buf ? MCZ_ERR_IO : MCZ_ERR_NOMEM, path, buf ? "short read" : "out of memory");
        free(buf);
        return NULL;
    }
    mcz_baseline *b = calloc(1, sizeof *b);
    if (!b) {
        free(buf);
        fail(err, MCZ_ERR_NOMEM, path, "out of memory");
        return NULL;
    }
    b->st.file_bytes = len;
    b->proto = onnx__model_proto__unpack(NULL, len, buf);
    free(buf);
    if (!b->proto) {
        fail(err, MCZ_ERR_FORMAT, path, "not an ONNX model (protobuf-c cannot parse it)");
        mcz_baseline_free(b);
        return NULL;
    }
    if (b->proto->graph && walk(b, b->proto->graph) < 0) {
        fail(err, MCZ_ERR_NOMEM, path, "out of memory");
        mcz_baseline_free(b);
        return NULL;
    }
    if (st)
        *st = b->st;
    return b;
}

void mcz_baseline_free(mcz_baseline *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        free(b->w[i]);
    free(b->w);
    if (b->proto)
        onnx__model_proto__free_unpacked(b->proto, NULL);
    free(b);
}
