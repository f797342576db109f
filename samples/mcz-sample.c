/* mcz-sample - generate a deterministic sample ONNX model whose weights look like trained ones.
 *
 *   mcz-sample FAMILY --size SIZE -o OUT.onnx [--dtype float32|float16|bfloat16]
 *              [--weights initializer|constant|if|external] [--seed N] [-f] [-q]
 *
 * See docs/sample-models.md. Exit status: 0 success, 1 failure, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

/* Largest model protobuf can hold; a bigger one gets external data. */
#ifndef SAMPLE_INLINE_LIMIT
#define SAMPLE_INLINE_LIMIT 2147483647ull
#endif

#define MAX_SIZE (1ull << 40)

static const char usage_text[] =
    "Usage: mcz-sample FAMILY --size SIZE -o OUT.onnx [options]\n"
    "Generate a deterministic sample ONNX model whose weights look like trained ones.\n"
    "\n"
    "FAMILY is one of:\n"
    "  mlp          x [N, in] -> (Gemm | MatMul+Add, Relu) x 6 -> y [N, out]\n"
    "  cnn          x [N, 3, 32, 32] -> Conv/BatchNormalization/Relu blocks, MaxPool,\n"
    "               GlobalAveragePool, Flatten, Gemm -> y [N, 10]\n"
    "  transformer  x [N, S, d_model] -> pre-LayerNorm decoder layers (causal attention,\n"
    "               tanh-GELU MLP) -> y [N, S, d_model]\n"
    "\n"
    "Options:\n"
    "  -s, --size SIZE        bytes of weights to aim at, with an optional suffix K, M or G\n"
    "                         (powers of 1024), e.g. 512K, 1M, 2.2G; dimensions are chosen\n"
    "                         to land close to it\n"
    "  -o, --output OUT.onnx  the model to write, or - for standard output\n"
    "      --dtype TYPE       float32 (default), float16 or bfloat16 (bfloat16 weights are\n"
    "                         Cast to float, which ONNX Runtime's CPU provider needs)\n"
    "      --weights WHERE    where weights live: initializer (default), constant (Constant\n"
    "                         nodes), if (inside the branches of an If), external (external\n"
    "                         data in OUT.onnx.data)\n"
    "      --seed N           seed of the weight values (default 0)\n"
    "  -f, --force            overwrite existing output files\n"
    "  -q, --quiet            print nothing but errors\n"
    "  -h, --help             show this help\n"
    "      --version          show the version\n"
    "\n"
    "Weights over 2 GiB always go to external data. The same arguments give the same bytes.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fputs("mcz-sample: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'mcz-sample --help' for more information.\n", stderr);
    return 2;
}

/* "1M", "2.2G", "4096" -> bytes; 0 on error. */
static uint64_t parse_size(const char *s)
{
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || errno || !(v > 0))
        return 0;
    double mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1024.0; end++; break;
    case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
    case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
    default: break;
    }
    if (mul > 1 && *end == 'i')
        end++;
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end)
        return 0;
    v *= mul;
    if (v < 1 || v > (double)MAX_SIZE)
        return 0;
    return (uint64_t)llround(v);
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* "1.00 GiB" */
static const char *human(uint64_t n, char *buf, size_t len)
{
    static const char *unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%llu bytes", (unsigned long long)n);
    else
        snprintf(buf, len, "%.2f %s", v, unit[u]);
    return buf;
}

int main(int argc, char **argv)
{
    enum { OPT_DTYPE = 256, OPT_WEIGHTS, OPT_SEED, OPT_VERSION };
    static const struct option longopts[] = {
        {"size", required_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'},
        {"dtype", required_argument, NULL, OPT_DTYPE},
        {"weights", required_argument, NULL, OPT_WEIGHTS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"force", no_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    static const char *const dtype_names[] = {"float32", "float16", "bfloat16"};
    static const char *const placement_names[] = {"initializer", "constant", "if", "external"};

    const char *size_arg = NULL, *out_path = NULL;
    sample_dtype dtype = SAMPLE_FLOAT32;
    sample_placement placement = SAMPLE_INITIALIZER;
    uint64_t seed = 0, target = 0;
    bool force = false, quiet = false;

    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":s:o:fqh", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            size_arg = optarg;
            target = parse_size(optarg);
            if (!target)
                return usage_error("--size: '%s' is not a size (e.g. 512K, 1M, 2.2G)", optarg);
            break;
        case 'o':
            out_path = optarg;
            break;
        case OPT_DTYPE: {
            size_t i = 0;
            while (i < 3 && strcmp(optarg, dtype_names[i]) != 0)
                i++;
            if (i == 3)
                return usage_error("--dtype: '%s' is not float32, float16 or bfloat16", optarg);
            dtype = (sample_dtype)i;
            break;
        }
        case OPT_WEIGHTS: {
            size_t i = 0;
            while (i < 4 && strcmp(optarg, placement_names[i]) != 0)
                i++;
            if (i == 4)
                return usage_error(
                    "--weights: '%s' is not initializer, constant, if or external", optarg);
            placement = (sample_placement)i;
            break;
        }
        case OPT_SEED:
            if (parse_u64(optarg, &seed) != 0)
                return usage_error("--seed: '%s' is not a number from 0 to 2^64-1", optarg);
            break;
        case 'f':
            force = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case OPT_VERSION:
            printf("mcz-sample %s\n", MCZ_SAMPLE_VERSION);
            return 0;
        case ':':
            return usage_error("%s needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return usage_error("%s", "no FAMILY given (mlp, cnn or transformer)");
    if (optind + 1 < argc)
        return usage_error("unexpected argument '%s'", argv[optind + 1]);
    const char *family_name = argv[optind];
    const sample_family *const families[] = {&sample_family_mlp, &sample_family_cnn,
                                             &sample_family_transformer};
    const sample_family *fam = NULL;
    for (size_t i = 0; i < 3; i++)
        if (strcmp(family_name, families[i]->name) == 0)
            fam = families[i];
    if (!fam)
        return usage_error("'%s' is not a family (mlp, cnn or transformer)", family_name);
    if (!size_arg)
        return usage_error("%s", "--size is required");
    if (!out_path)
        return usage_error("%s", "-o OUT.onnx is required (- for standard output)");
    if (placement == SAMPLE_EXTERNAL && strcmp(out_path, "-") == 0)
        return usage_error("%s", "--weights external needs an output file, not -");

    /* dimensions */
    unsigned es = dtype == SAMPLE_FLOAT32 ? 4 : 2;
    _Alignas(16) unsigned char cfg[SAMPLE_CFG_BYTES];
    memset(cfg, 0, sizeof cfg);
    uint64_t planned = fam->plan(target, es, cfg);
    char config[160], hb[32], ht[32];
    fam->describe(cfg, config, sizeof config);
    if (!planned) {
        fprintf(stderr, "mcz-sample: no %s fits --size %s\n", fam->name, size_arg);
        return 1;
    }
    if (!quiet && fabs((double)planned - (double)target) > 0.1 * (double)target)
        fprintf(stderr, "mcz-sample: warning: the %s closest to --size %s has %s of weights\n",
                fam->name, size_arg, human(planned, hb, sizeof hb));

    /* the graph */
    char doc[512], seed_str[24], target_str[24];
    snprintf(seed_str, sizeof seed_str, "%llu", (unsigned long long)seed);
    snprintf(target_str, sizeof target_str, "%llu", (unsigned long long)target);
    snprintf(doc, sizeof doc, "mcz-sample %s --size %s --dtype %s --weights %s --seed %s: %s",
             fam->name, size_arg, dtype_names[dtype], placement_names[placement], seed_str,
             config);
    const char *meta[] = {
        "mcz.sample.family", fam->name,
        "mcz.sample.config", config,
        "mcz.sample.dtype", dtype_names[dtype],
        "mcz.sample.weights", placement_names[placement],
        "mcz.sample.seed", seed_str,
        "mcz.sample.size", target_str,
        NULL,
    };
    sample_model m;
    sample_model_init(&m, dtype, placement, seed);
    sample_model_build(&m, fam, cfg, doc, meta);
    uint64_t weight_bytes = sample_model_weight_bytes(&m);

    /* too big for one protobuf message: external data */
    if (!m.external) {
        sample_model_make_lazy(&m);
        if (sample_packed_size(&m) > SAMPLE_INLINE_LIMIT) {
            if (strcmp(out_path, "-") == 0) {
                fprintf(stderr,
                        "mcz-sample: -: %s of weights need external data (over 2 GiB), which "
                        "cannot go to standard output\n",
                        human(weight_bytes, hb, sizeof hb));
                sample_model_free(&m);
                return 1;
            }
            m.external = true;
            for (size_t i = 0; i < m.model->n_metadata_props; i++)
                if (strcmp(m.model->metadata_props[i]->key, "mcz.sample.weights") == 0)
                    m.model->metadata_props[i]->value =
                        sample_strf(&m, "%s (external data)", placement_names[placement]);
            if (!quiet)
                fprintf(stderr, "mcz-sample: %s of weights is over 2 GiB: writing them to %s.data\n",
                        human(weight_bytes, hb, sizeof hb), out_path);
        }
    }

    sample_output out = {.path = out_path, .force = force};
    int rc = sample_write(&m, &out);
    if (rc == 0 && !quiet)
        fprintf(stderr, "mcz-sample: wrote %s: %s %s, %s, %zu weights, %s (target %s)%s\n",
                out_path, fam->name, config, dtype_names[dtype], m.nw,
                human(weight_bytes, hb, sizeof hb), human(target, ht, sizeof ht),
                m.external ? ", external data" : "");
    sample_model_free(&m);
    return rc;
}
