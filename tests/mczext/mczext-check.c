/* mczext-check - checks of the writer's container features through the loader library.
 *
 *   mczext-check quant MODEL.onnx FILE.mcz   every DequantizeLinear weight of the QDQ model is
 *                                            a quantized tensor of the .mcz whose mcz_read_f32
 *                                            equals (code - zero point) x scale in float32,
 *                                            computed here from the ONNX model
 *   mczext-check same MODEL.onnx FILE.mcz    every tensor with a payload reads back as the
 *                                            model's bytes (pruned zeros stay exactly zero)
 *   mczext-check sparse FILE.mcz MIN         at least MIN tensors use the sparse encoding
 *   mczext-check parts FILE.mcz K            K partitions, tensor `part` non-decreasing, each
 *                                            part builds as ONNX
 * Exit 0 when the check holds, 1 otherwise (with the reason on stderr). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/load.h"
#include "mcz/model.h"
#include "mcz/qdq.h"

static int fail(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "mczext-check: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 1;
}

static float half_to_float(uint16_t h)
{
    uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 1023;
    float v;
    if (e == 0)
        v = ldexpf((float)m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexpf((float)(m | 1024), (int)e - 25);
    return s ? -v : v;
}

static float scale_at(const mcz_weight *w, const uint8_t *p, uint64_t i)
{
    if (w->dtype == MCZ_DT_FLOAT) {
        float f;
        memcpy(&f, p + 4 * i, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, p + 2 * i, 2);
    if (w->dtype == MCZ_DT_FLOAT16)
        return half_to_float(h);
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int code_at(int32_t dt, const uint8_t *p, uint64_t i)
{
    switch (dt) {
    case MCZ_DT_INT8: return (int8_t)p[i];
    case MCZ_DT_UINT8: return p[i];
    case MCZ_DT_UINT4: return (p[i / 2] >> (4 * (i % 2))) & 15;
    default: { /* INT4 */
        int v = (p[i / 2] >> (4 * (i % 2))) & 15;
        return v >= 8 ? v - 16 : v;
    }
    }
}

static int check_quant(const char *onnx, const char *path)
{
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx(onnx, &err);
    mcz_file *f = m ? mcz_open(path, &err) : NULL;
    if (!f)
        return fail("%s: %s", m ? path : onnx, err.msg);
    mcz_qdq_weight *q = NULL;
    size_t nq = 0;
    if (mcz_model_qdq_weights(m, &q, &nq, &err) || nq == 0)
        return fail("%s: no quantized weights (%s)", onnx, err.msg);
    int bad = 0;
    size_t checked = 0;
    for (size_t k = 0; k < nq && !bad; k++) {
        const mcz_weight *cw = mcz_model_weight(m, q[k].codes);
        const mcz_weight *sw = mcz_model_weight(m, q[k].scale);
        const mcz_weight *zw = q[k].zero_point >= 0 ? mcz_model_weight(m, (size_t)q[k].zero_point)
                                                    : NULL;
        const uint8_t *c = mcz_model_weight_data(m, q[k].codes, &err);
        const uint8_t *s = mcz_model_weight_data(m, q[k].scale, &err);
        const uint8_t *z = zw ? mcz_model_weight_data(m, (size_t)q[k].zero_point, &err) : NULL;
        long i = mcz_find(f, cw->name);
        const mcz_tensor_info *t = i >= 0 ? mcz_tensor(f, (size_t)i) : NULL;
        if (!t || !t->quant) {
            bad = fail("%s: '%s' is not a quantized tensor", path, cw->name);
            break;
        }
        uint64_t n = cw->count, D = 1, inner = 1, nb = 1;
        int ax = q[k].axis;
        uint32_t bs = q[k].block_size;
        if (ax >= 0) {
            D = (uint64_t)cw->dims[ax];
            for (int d = ax + 1; d < cw->rank; d++)
                inner *= (uint64_t)cw->dims[d];
            nb = bs ? (D + bs - 1) / bs : D;
        }
        float *got = malloc((n ? n : 1) * sizeof *got);
        if (!got || mcz_read_f32(f, (size_t)i, got, n, &err) != MCZ_OK) {
            bad = fail("%s: mcz_read_f32: %s", path, err.msg);
            free(got);
            break;
        }
        for (uint64_t e = 0; e < n; e++) {
            uint64_t sidx = 0;
            if (ax >= 0) {
                uint64_t o = e / (D * inner), a = e / inner % D, in = e % inner;
                sidx = bs ? (o * nb + a / bs) * inner + in : a;
            }
            int zp = z ? code_at(zw->dtype, z, sidx) : 0;
            float want = (float)(code_at(cw->dtype, c, e) - zp) * scale_at(sw, s, sidx);
            if (memcmp(&want, &got[e], 4) != 0) {
                char msg[160];
                snprintf(msg, sizeof msg, "element %llu: loader %.9g, DequantizeLinear %.9g",
                         (unsigned long long)e, (double)got[e], (double)want);
                bad = fail("'%s': %s", cw->name, msg);
                break;
            }
        }
        free(got);
        checked++;
    }
    if (!bad)
        printf("%s: %zu quantized tensors dequantize as DequantizeLinear does\n", path, checked);
    free(q);
    mcz_close(f);
    mcz_model_free(m);
    return bad;
}

static int check_same(const char *onnx, const char *path)
{
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx(onnx, &err);
    mcz_file *f = m ? mcz_open(path, &err) : NULL;
    if (!f)
        return fail("%s: %s", m ? path : onnx, err.msg);
    int bad = 0;
    size_t zeros = 0, n = 0;
    for (size_t w = 0; w < mcz_model_weight_count(m) && !bad; w++) {
        const mcz_weight *mw = mcz_model_weight(m, w);
        long i = mcz_find(f, mw->name);
        const mcz_tensor_info *t = i >= 0 ? mcz_tensor(f, (size_t)i) : NULL;
        if (!t || t->in_skeleton || !mw->nbytes)
            continue;
        const uint8_t *want = mcz_model_weight_data(m, w, &err);
        uint8_t *got = mcz_read_alloc(f, (size_t)i, &err);
        if (!got || t->raw_bytes != mw->nbytes || memcmp(got, want, mw->nbytes) != 0)
            bad = fail("%s: '%s' does not read back as the model has it", path, mw->name);
        int es = mw->dtype == MCZ_DT_FLOAT ? 4 : 0;
        for (uint64_t e = 0; es && got && e < mw->count; e++) {
            uint32_t u;
            memcpy(&u, got + 4 * e, 4);
            zeros += u == 0;
        }
        free(got);
        n++;
    }
    if (!bad)
        printf("%s: %zu tensors read back byte for byte (%zu float zeros)\n", path, n, zeros);
    mcz_close(f);
    mcz_model_free(m);
    return bad;
}

static int check_sparse(const char *path, long min)
{
    mcz_error err = {0};
    mcz_file *f = mcz_open(path, &err);
    if (!f)
        return fail("%s: %s", path, err.msg);
    long n = 0;
    uint64_t raw = 0;
    for (size_t i = 0; i < mcz_tensor_count(f); i++)
        if (mcz_tensor(f, i)->encoding == MCZ_ENC_SPARSE)
            n++, raw += mcz_tensor(f, i)->raw_bytes;
    mcz_close(f);
    printf("%s: %ld sparse tensors, %llu raw bytes\n", path, n, (unsigned long long)raw);
    return n >= min ? 0 : fail("%s: fewer sparse tensors than %s", path, "expected");
}

static int check_parts(const char *path, long k)
{
    mcz_error err = {0};
    mcz_file *f = mcz_open(path, &err);
    if (!f)
        return fail("%s: %s", path, err.msg);
    int bad = (long)mcz_part_count(f) != k ? fail("%s: not the expected %s parts", path, "K") : 0;
    for (size_t i = 1; i < mcz_tensor_count(f) && !bad; i++)
        if (mcz_tensor(f, i)->part < mcz_tensor(f, i - 1)->part)
            bad = fail("%s: tensor '%s' goes back to an earlier part", path,
                       mcz_tensor(f, i)->name);
    for (size_t p = 0; p < mcz_part_count(f) && !bad; p++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        if (mcz_build_part_onnx(f, p, 1, &buf, &len, &err) != MCZ_OK)
            bad = fail("%s: %s", path, err.msg);
        free(buf);
    }
    if (!bad)
        printf("%s: %ld parts, payloads grouped by part, each builds\n", path, k);
    mcz_close(f);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "quant") == 0)
        return check_quant(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "same") == 0)
        return check_same(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "sparse") == 0)
        return check_sparse(argv[2], atol(argv[3]));
    if (argc == 4 && strcmp(argv[1], "parts") == 0)
        return check_parts(argv[2], atol(argv[3]));
    fprintf(stderr, "usage: mczext-check quant|same MODEL.onnx FILE.mcz | sparse FILE.mcz MIN "
                    "| parts FILE.mcz K\n");
    return 2;
}
