/* weights - the weight table on real models, checked against an independent walk.
 *
 * usage: weights MODEL [--no-initializers] [--subgraph-weights] [--min-weights N]
 *
 * Loads MODEL with libcompress and, separately, with plain protobuf-c; walks the protobuf tree
 * itself (every initializer and Constant value, subgraphs included) and checks the weight
 * table holds the same tensors with the same byte totals. Then exports and re-imports,
 * expecting byte-identical output. Exit 0 when every check holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcz/model.h"
#include "onnx.pb-c.h"

typedef struct tally {
    size_t tensors, initializers, constants, in_subgraphs;
    unsigned long long bytes;
} tally;

static unsigned long long tensor_bytes(const Onnx__TensorProto *t)
{
    if (t->has_raw_data)
        return t->raw_data.len;
    return t->n_float_data * 4ull + t->n_double_data * 8ull + t->n_int64_data * 8ull;
}

static void walk(const Onnx__GraphProto *g, int depth, tally *t)
{
    for (size_t i = 0; i < g->n_initializer; i++) {
        t->tensors++;
        t->initializers++;
        t->in_subgraphs += depth > 0;
        t->bytes += tensor_bytes(g->initializer[i]);
    }
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        for (size_t a = 0; a < n->n_attribute; a++) {
            const Onnx__AttributeProto *at = n->attribute[a];
            if (strcmp(n->op_type, "Constant") == 0 && at->t && strcmp(at->name, "value") == 0) {
                t->tensors++;
                t->constants++;
                t->in_subgraphs += depth > 0;
                t->bytes += tensor_bytes(at->t);
            }
            if (at->g)
                walk(at->g, depth + 1, t);
            for (size_t k = 0; k < at->n_graphs; k++)
                walk(at->graphs[k], depth + 1, t);
        }
    }
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            printf("FAIL %s: ", path);                                                         \
            printf(__VA_ARGS__);                                                               \
            printf("\n");                                                                      \
            failures++;                                                                        \
        }                                                                                      \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: weights MODEL [--no-initializers] [--subgraph-weights] "
                        "[--min-weights N]\n");
        return 2;
    }
    const char *path = argv[1];
    int no_init = 0, subgraph = 0, failures = 0;
    long min_weights = 1;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--no-initializers") == 0)
            no_init = 1;
        else if (strcmp(argv[i], "--subgraph-weights") == 0)
            subgraph = 1;
        else if (strcmp(argv[i], "--min-weights") == 0 && i + 1 < argc)
            min_weights = atol(argv[++i]);
    }
    size_t len;
    unsigned char *orig = slurp(path, &len);
    if (!orig) {
        printf("FAIL %s: cannot read (run tests/fetch-models.sh)\n", path);
        return 1;
    }
    Onnx__ModelProto *p = onnx__model_proto__unpack(NULL, len, orig);
    if (!p || !p->graph) {
        printf("FAIL %s: protobuf-c cannot parse it\n", path);
        return 1;
    }
    tally ref = {0};
    walk(p->graph, 0, &ref);

    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx(path, &err);
    if (!m) {
        printf("FAIL %s\n", err.msg);
        return 1;
    }
    tally got = {0};
    size_t nw = mcz_model_weight_count(m);
    for (size_t i = 0; i < nw; i++) {
        const mcz_weight *w = mcz_model_weight(m, i);
        got.tensors++;
        got.initializers += w->kind == MCZ_WEIGHT_INITIALIZER;
        got.constants += w->kind == MCZ_WEIGHT_CONSTANT;
        got.in_subgraphs += w->depth > 0;
        got.bytes += w->nbytes;
        const void *d = mcz_model_weight_data(m, i, &err);
        CHECK(d != NULL, "weight '%s' has no data: %s", w->name, err.msg);
    }
    CHECK(got.tensors == ref.tensors, "table has %zu weights, the model %zu", got.tensors, ref.tensors);
    CHECK(got.initializers == ref.initializers, "initializers %zu vs %zu", got.initializers,
          ref.initializers);
    CHECK(got.constants == ref.constants, "constants %zu vs %zu", got.constants, ref.constants);
    CHECK(got.in_subgraphs == ref.in_subgraphs, "in subgraphs %zu vs %zu", got.in_subgraphs,
          ref.in_subgraphs);
    CHECK(got.bytes == ref.bytes, "weight bytes %llu vs %llu", got.bytes, ref.bytes);
    CHECK((long)got.tensors >= min_weights, "only %zu weights", got.tensors);
    if (no_init)
        CHECK(got.initializers == 0 && got.constants == got.tensors,
              "expected every weight in a Constant node");
    if (subgraph)
        CHECK(got.in_subgraphs > 0, "expected weights inside subgraphs");

    uint8_t *out = NULL;
    size_t out_len = 0;
    CHECK(mcz_model_serialize(m, &out, &out_len, &err) == MCZ_OK, "export: %s", err.msg);
    CHECK(out && out_len == len && memcmp(out, orig, len) == 0,
          "export is not byte-identical (%zu vs %zu bytes)", out_len, len);
    printf("%s %s: %zu weights (%zu initializers, %zu constants, %zu in subgraphs), %llu bytes%s\n",
           failures ? "FAIL" : "ok", path, got.tensors, got.initializers, got.constants,
           got.in_subgraphs, got.bytes, out_len == len ? ", export byte-identical" : "");
    free(out);
    mcz_model_free(m);
    onnx__model_proto__free_unpacked(p, NULL);
    free(orig);
    return failures ? 1 : 0;
}
