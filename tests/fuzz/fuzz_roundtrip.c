/* fuzz_roundtrip - pack -> load on tensors generated from the fuzz bytes: a tiny ONNX model
 * (a few float / float16 / bfloat16 / int8 / uint8 initializers, shapes and values taken from
 * the input) is built with protobuf-c, imported, packed with mcz_pack to a temporary file,
 * opened with the loader and every tensor compared byte for byte with what went in (NaN
 * payloads and -0 included); mcz_verify must pass and the model rebuilt from the container
 * must hold the same bytes. Any difference aborts (a finding). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcz/load.h"
#include "mcz/model.h"
#include "mcz/pack.h"
#include "onnx.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RT_MAX_TENSORS 4
#define RT_MAX_ELEMS 65536

typedef struct reader {
    const uint8_t *p;
    size_t n, pos;
} reader;

static uint8_t next(reader *r)
{
    return r->pos < r->n ? r->p[r->pos++] : 0;
}

static void fail(const char *what, const char *name, const mcz_error *err)
{
    fprintf(stderr, "fuzz_roundtrip: %s (%s): %s\n", what, name ? name : "-",
            err && err->msg[0] ? err->msg : "");
    abort();
}

typedef struct gen {
    Onnx__TensorProto t;
    int64_t dims[4];
    char name[80];
    uint8_t *raw;
    size_t raw_len;
} gen;

static const int32_t rt_dtypes[] = {1, 10, 16, 3, 2}; /* float, float16, bfloat16, int8, uint8 */
static const size_t rt_sizes[] = {4, 2, 2, 1, 1};

/* Tensor k from the reader: dtype, rank, dims, name, then values (the remaining bytes, cycled
 * with a twist so that long tensors are neither all-equal nor incompressible). */
static int make_tensor(reader *r, int k, gen *g)
{
    uint8_t sel = next(r);
    size_t di = sel % 5;
    int rank = (sel >> 3) % 4;
    uint64_t count = 1;
    for (int d = 0; d < rank; d++) {
        uint8_t b = next(r);
        g->dims[d] = b < 240 ? b % 48 : (int64_t)(b - 240) * 64; /* mostly small, some wide */
        count *= (uint64_t)g->dims[d];
    }
    if (count > RT_MAX_ELEMS)
        return 0;
    size_t nlen = next(r) % 48;
    int off = snprintf(g->name, sizeof g->name, "w%d", k);
    for (size_t i = 0; i < nlen; i++)
        g->name[off + i] = (char)(0x21 + next(r) % 94);
    g->name[off + nlen] = '\0';
    g->raw_len = (size_t)count * rt_sizes[di];
    g->raw = malloc(g->raw_len ? g->raw_len : 1);
    if (!g->raw)
        return 0;
    size_t start = r->pos;
    size_t avail = r->n > start ? r->n - start : 0;
    for (size_t i = 0; i < g->raw_len; i++)
        g->raw[i] = avail ? (uint8_t)(r->p[start + i % avail] + (i / avail) * 7) : (uint8_t)i;
    r->pos += g->raw_len < avail ? g->raw_len : avail;
    onnx__tensor_proto__init(&g->t);
    g->t.name = g->name;
    g->t.has_data_type = 1;
    g->t.data_type = rt_dtypes[di];
    g->t.n_dims = (size_t)rank;
    g->t.dims = rank ? g->dims : NULL;
    g->t.has_raw_data = 1;
    g->t.raw_data.data = g->raw;
    g->t.raw_data.len = g->raw_len;
    return 1;
}

static void check_container(const char *path, gen *gs, int n)
{
    mcz_error err = {0};
    mcz_file *f = mcz_open(path, &err);
    if (!f)
        fail("open", path, &err);
    if (mcz_tensor_count(f) != (size_t)n)
        fail("tensor count", path, NULL);
    for (int k = 0; k < n; k++) {
        long i = mcz_find(f, gs[k].name);
        if (i < 0)
            fail("tensor missing", gs[k].name, NULL);
        const mcz_tensor_info *t = mcz_tensor(f, (size_t)i);
        if (t->dtype != gs[k].t.data_type || (size_t)t->rank != gs[k].t.n_dims ||
            t->raw_bytes != gs[k].raw_len)
            fail("table entry differs", gs[k].name, NULL);
        for (int d = 0; d < t->rank; d++)
            if (t->dims[d] != gs[k].dims[d])
                fail("dims differ", gs[k].name, NULL);
        uint8_t *got = mcz_read_alloc(f, (size_t)i, &err);
        if (!got)
            fail("read", gs[k].name, &err);
        if (gs[k].raw_len && memcmp(got, gs[k].raw, gs[k].raw_len) != 0)
            fail("values differ", gs[k].name, NULL);
        free(got);
    }
    long bad = 0;
    if (mcz_verify(f, 1, &bad, &err) != MCZ_OK)
        fail("verify", path, &err);
    mcz_close(f);

    mcz_model *m = mcz_model_load_mcz(path, 1, &err);
    if (!m)
        fail("load as model", path, &err);
    for (int k = 0; k < n; k++) {
        long i = mcz_model_find_weight(m, gs[k].name);
        if (i < 0)
            fail("weight missing after load", gs[k].name, NULL);
        const void *d = mcz_model_weight_data(m, (size_t)i, &err);
        if (mcz_model_weight(m, (size_t)i)->nbytes != gs[k].raw_len ||
            (gs[k].raw_len && (!d || memcmp(d, gs[k].raw, gs[k].raw_len) != 0)))
            fail("weight differs after load", gs[k].name, &err);
    }
    mcz_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size, 0};
    uint8_t head = next(&r);
    int want = 1 + head % RT_MAX_TENSORS;
    int level = 1 + (head >> 2) % 5;
    gen gs[RT_MAX_TENSORS];
    Onnx__TensorProto *inits[RT_MAX_TENSORS];
    int n = 0;
    while (n < want && make_tensor(&r, n, &gs[n])) {
        inits[n] = &gs[n].t;
        n++;
    }
    Onnx__GraphProto g;
    onnx__graph_proto__init(&g);
    g.name = (char *)"fuzz";
    g.n_initializer = (size_t)n;
    g.initializer = inits;
    Onnx__OperatorSetIdProto opset;
    onnx__operator_set_id_proto__init(&opset);
    opset.domain = (char *)"";
    opset.has_version = 1;
    opset.version = 17;
    Onnx__OperatorSetIdProto *opsets[1] = {&opset};
    Onnx__ModelProto mp;
    onnx__model_proto__init(&mp);
    mp.has_ir_version = 1;
    mp.ir_version = 8;
    mp.producer_name = (char *)"fuzz_roundtrip";
    mp.graph = &g;
    mp.n_opset_import = 1;
    mp.opset_import = opsets;

    size_t len = onnx__model_proto__get_packed_size(&mp);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        abort();
    onnx__model_proto__pack(&mp, buf);
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx_buffer(buf, len, "fuzz_roundtrip", &err); /* owns buf */
    if (!m)
        fail("import of a well-formed model", NULL, &err);
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz-roundtrip-%ld.mcz", (long)getpid());
    mcz_pack_opts po = {0};
    po.level = level;
    po.threads = 1 + (head >> 5) % 2;
    po.force = 1;
    if (mcz_pack(m, path, &po, NULL, &err) != MCZ_OK)
        fail("pack", path, &err);
    mcz_model_free(m);
    check_container(path, gs, n);
    unlink(path);
    for (int k = 0; k < n; k++)
        free(gs[k].raw);
    return 0;
}
