/* mcz/prune.h - magnitude pruning of trained weights: unstructured (per weight or one global
 * threshold), N:M along the reduction axis, and whole output channels.
 *
 * The prunable weights are those mcz-quantize works on (mcz/roles.h: the weight inputs of
 * Conv, ConvTranspose, Gemm and MatMul, wherever they live) whose type is float, float16,
 * bfloat16 or double. Pruned weights keep their type, shape and place in the graph; chosen
 * elements become zero. See docs/prune.md for the exact rules (ties, existing zeros, the tail
 * of an N:M axis).
 *
 * Magnitudes are compared as float32 (|x| rounded to float32 for double weights); NaN counts
 * as larger than every number, so NaNs are never pruned before any finite value. Ties are
 * broken by position: of equal magnitudes, the element earlier in the weight (row-major) and,
 * for the global scope, the weight earlier in the weight table is zeroed first. Every result is
 * therefore the same whatever the thread count.
 */
#ifndef MCZ_PRUNE_H
#define MCZ_PRUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mcz/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mcz_prune_pattern {
    MCZ_PRUNE_UNSTRUCTURED = 0, /* the smallest magnitudes anywhere */
    MCZ_PRUNE_NM = 1,           /* N smallest in every M consecutive along the reduction axis */
    MCZ_PRUNE_CHANNEL = 2,      /* whole output channels with the smallest L2 norm */
} mcz_prune_pattern;

typedef enum mcz_prune_scope {
    MCZ_PRUNE_SCOPE_TENSOR = 0, /* each weight gets the target sparsity */
    MCZ_PRUNE_SCOPE_GLOBAL = 1, /* one threshold across all prunable weights (unstructured) */
} mcz_prune_scope;

#define MCZ_PRUNE_MAX_M 64 /* largest M of an N:M pattern */

typedef struct mcz_prune_params {
    double sparsity;           /* 0 <= F < 1: fraction of zeros wanted (ignored for N:M: N/M) */
    mcz_prune_pattern pattern;
    unsigned nm_n, nm_m;       /* N:M: 1 <= N < M <= MCZ_PRUNE_MAX_M */
    mcz_prune_scope scope;
    bool normalize;            /* global scope: compare |w| / RMS(weight), so layers of
                                  different scale compete fairly */
    uint64_t min_elements;     /* weights with fewer elements are left as they are */
    bool embeddings;           /* also prune embeddings (Gather tables, a tied head): off by
                                  default, the report says they were left */
    const char *const *exclude;/* glob patterns (fnmatch) on weight names and on the names of
                                  the nodes that consume them; each must match something */
    size_t nexclude;
    int threads;               /* <= 0: one per online CPU */
    mcz_progress_fn progress;     /* optional: called as weights finish (see model.h) */
    void *progress_ctx;
} mcz_prune_params;

/* Defaults: sparsity 0, unstructured, tensor scope, no normalisation, min_elements 0,
 * no exclusions, all cores. */
mcz_prune_params mcz_prune_default_params(void);

/* Set p->pattern (and nm_n/nm_m) from "unstructured", "channel" or "N:M" (e.g. "2:4").
 * Returns MCZ_ERR_ARG with a message on anything else. */
mcz_status mcz_prune_parse_pattern(const char *s, mcz_prune_params *p, mcz_error *err);

/* Name of a pattern as the CLI spells it ("unstructured", "2:4", "channel") into buf. */
const char *mcz_prune_pattern_str(const mcz_prune_params *p, char *buf, size_t cap);

/* What happened to one weight. */
typedef struct mcz_prune_result {
    size_t weight;          /* index in the model's weight table */
    const char *name;       /* weight name (owned by the model) */
    const char *op_type;    /* the consuming op ("Conv", ...), "" if none */
    int axis;               /* axis the pattern works along (N:M: reduction, channel: output
                               channel), -1 for unstructured */
    uint64_t count;         /* elements */
    uint64_t zeros_before;  /* elements that were already zero (either sign) */
    uint64_t zeros_after;   /* elements zero now */
    uint64_t target;        /* zeros wanted: tensor scope round(F * count); channel the
                               elements of round(F * channels) channels; N:M what the groups
                               ask for; global scope this weight's share (= zeros_after) */
    uint64_t channels, channels_zeroed; /* channel pattern: channels, and those all zero now */
    double threshold;       /* largest magnitude that became zero (channel: largest L2 norm of
                               a zeroed channel); 0 when nothing became zero */
    double rel_l2;          /* ||W_pruned - W|| / ||W||; 0 for an all-zero weight */
    bool changed;           /* some element became zero (the weight was replaced) */
    const char *skipped;    /* NULL when the weight was pruned, else why it was left as it
                               was (static string) */
} mcz_prune_result;

/* The report of one mcz_prune_model call. */
typedef struct mcz_prune_report {
    mcz_prune_result *w;    /* candidates in weight-table order: every weight that feeds a
                               supported op (pruned or skipped, with the reason) */
    size_t n;
    size_t pruned;          /* entries with skipped == NULL */
    uint64_t count;         /* elements of the pruned weights */
    uint64_t zeros_before, zeros_after, target;
    double rel_l2;          /* over all pruned weights together */
    double threshold;       /* global scope: the one threshold (in normalised units with
                               normalize), else the largest per-weight threshold */
    uint64_t bytes;         /* bytes of the pruned weights' values */
    double seconds;         /* wall time of the selection and zeroing */
} mcz_prune_report;

/* Prune the model's weights in place as `p` says and describe what was done. On success
 * *report (may be NULL if not wanted) is a new report the caller frees with
 * mcz_prune_report_free. Weights in which nothing becomes zero are not touched (sparsity 0
 * leaves the model byte for byte as it was). Errors: MCZ_ERR_ARG (bad parameters),
 * MCZ_ERR_NOT_FOUND (an --exclude pattern that matches nothing; the message suggests the
 * nearest names), MCZ_ERR_NOMEM, and whatever reading a weight's values gives. On error
 * weights may already have been pruned: discard the model. */
mcz_status mcz_prune_model(mcz_model *m, const mcz_prune_params *p, mcz_prune_report **report,
                           mcz_error *err);

/* Free a report. Accepts NULL. */
void mcz_prune_report_free(mcz_prune_report *r);

/* ---- the algorithms on plain float32 arrays (what mcz_prune_model runs per weight) ------ */

/* Zeros wanted out of `count` at sparsity F (0 <= F < 1): round(F * count), halves rounded up,
 * but at most count - 1: a weight (or, for the channel pattern, its channels) is never emptied
 * entirely. */
uint64_t mcz_prune_target(double sparsity, uint64_t count);

/* Per-array outcome of the functions below. */
typedef struct mcz_prune_stats {
    uint64_t zeros_before, zeros_after;
    uint64_t channels_zeroed; /* channel: channels all zero afterwards */
    double threshold;         /* largest magnitude (channel: L2 norm) zeroed, 0 if none */
    double rel_l2;            /* ||dv|| / ||v|| */
    double sumsq;             /* ||v||^2 before (double) */
} mcz_prune_stats;

/* Zero the `k` smallest magnitudes of v[0..n) (ties: lower index first; existing zeros are
 * the smallest, so they count towards k; when k or more are zero already nothing changes).
 * Selection, not a sort: for large arrays a sorted sample of 16,384 evenly spaced keys gives
 * two pivots bracketing rank k, one pass keeps the keys between them, and quickselect
 * (mcz_prune_select_u32) finds the k-th among those; a misleading sample falls back to
 * quickselect over all keys. O(n) expected, two passes over v. `scratch` holds n uint32
 * (NULL: allocated here). Returns MCZ_OK, or MCZ_ERR_NOMEM. */
mcz_status mcz_prune_unstructured_f32(float *v, uint64_t n, uint64_t k, uint32_t *scratch,
                                      mcz_prune_stats *st);

/* N:M: in every group of M consecutive elements along `axis` of the row-major array
 * v (shape dims[0..rank)), zero the N smallest magnitudes (ties: lower index first). A last
 * group shorter than M (the axis length is not a multiple of M) of length t is treated as
 * padded with M - t zeros, as hardware pads the reduction dimension: it gets
 * max(0, N - (M - t)) of its own elements zeroed. Returns MCZ_ERR_ARG on bad N, M or axis. */
mcz_status mcz_prune_nm_f32(float *v, int rank, const int64_t *dims, int axis, unsigned n,
                            unsigned m, mcz_prune_stats *st);

/* Channel: zero the `k` whole slices along `axis` (output channels) with the smallest L2
 * norm (ties: lower channel index first). Returns MCZ_ERR_ARG on a bad axis or k greater
 * than the channel count, MCZ_ERR_NOMEM. */
mcz_status mcz_prune_channel_f32(float *v, int rank, const int64_t *dims, int axis, uint64_t k,
                                 mcz_prune_stats *st);

/* The magnitude selection itself: the k-th smallest (1-based, 1 <= k <= n) of the uint32
 * keys a[0..n) (reordered), and how many keys are smaller than it. Quickselect (ninther
 * pivot, branchless partitions into < pivot, == pivot, > pivot); after 2 log2(n) + 8 rounds
 * without converging a two-pass radix selection (65,536-bin histograms) finishes in linear
 * time. */
uint32_t mcz_prune_select_u32(uint32_t *a, uint64_t n, uint64_t k, uint64_t *less);

#ifdef __cplusplus
}
#endif
#endif
