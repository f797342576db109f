/* onnxwire.h - rewrite the weight payloads of a serialized ONNX model without protobuf-c.
 *
 * Internal to mcz (the loader and libcompress share it; not installed). It walks the
 * protobuf wire format of a ModelProto along the paths where tensors live:
 *   ModelProto.graph -> GraphProto.{initializer, node} -> NodeProto.attribute
 *   -> AttributeProto.{t, tensors, g, graphs} -> (GraphProto again, at any depth)
 * and lets a callback replace the `raw_data` field of every TensorProto it reaches, recomputing
 * every enclosing length. Everything else is copied byte for byte.
 *
 * Two uses: import replaces each large raw_data by a 16-byte marker (so protobuf-c parses a
 * small message and the weights stay in the mapped file), and the loader replaces markers by
 * the decoded payloads to rebuild a runnable model in memory.
 */
#ifndef MCZ_ONNXWIRE_H
#define MCZ_ONNXWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "mcz/load.h"
#include "mczerr.h"

/* A marker stands in for a payload: "MCZ\x01WGT\x00" then the payload's index (u64 LE). */
#define MCZ_MARKER_LEN 16
#define MCZ_MARKER_MAGIC "MCZ\x01WGT" /* and its NUL: 8 bytes */
void mcz_marker_make(uint64_t index, uint8_t out[MCZ_MARKER_LEN]);
/* 1 and *index if (p, len) is a marker, else 0. */
int mcz_marker_parse(const uint8_t *p, size_t len, uint64_t *index);

/* Called for every TensorProto.raw_data reached, in wire order; `ordinal` counts them from 0.
 * Set *out and *out_len to the replacement (or leave them as given: the original bytes). The
 * replacement must stay valid until mcz_onnxwire_rewrite returns; the callback is called
 * exactly once per raw_data field. Return MCZ_OK or an error (filling err). */
typedef mcz_status (*mcz_raw_fn)(void *ctx, uint64_t ordinal, const uint8_t *raw, size_t len,
                                 const uint8_t **out, size_t *out_len, mcz_error *err);

/* For a rewrite that cares about markers only (the loader's build, unpack's streaming, the
 * container's index, export's count): `fn` is called for each raw_data that is a marker,
 * with the index it names; every other raw_data stays as it is. Pass mcz_marker_dispatch as
 * the mcz_raw_fn and a mcz_marker_cb as its ctx. */
typedef mcz_status (*mcz_marker_fn)(void *ctx, uint64_t index, const uint8_t *raw, size_t len,
                                    const uint8_t **out, size_t *out_len, mcz_error *err);
typedef struct mcz_marker_cb {
    mcz_marker_fn fn;
    void *ctx;
} mcz_marker_cb;
mcz_status mcz_marker_dispatch(void *cb, uint64_t ordinal, const uint8_t *raw, size_t len,
                               const uint8_t **out, size_t *out_len, mcz_error *err);

/* Rewrite `in` (a serialized ModelProto). On success *out is a malloc'd buffer of *out_len
 * bytes that the caller frees. Malformed wire data (truncation, bad varints, lengths past the
 * end, group wire types) gives MCZ_ERR_FORMAT naming the byte offset; nesting deeper than a
 * cap gives MCZ_ERR_LIMIT. `what` names the input in messages. */
mcz_status mcz_onnxwire_rewrite(const uint8_t *in, size_t in_len, mcz_raw_fn fn, void *ctx,
                                uint8_t **out, size_t *out_len, const char *what,
                                mcz_error *err);

/* Receives the rewritten bytes in order; returns MCZ_OK or an error (filling err). */
typedef mcz_status (*mcz_wire_sink)(void *ctx, const void *data, size_t len, mcz_error *err);

/* The same rewrite, streamed: the output goes to `sink` piece by piece (payloads are passed
 * straight from the callback's replacement, never copied into a whole-model buffer).
 * *out_len (if not NULL) gets the total written. */
mcz_status mcz_onnxwire_stream(const uint8_t *in, size_t in_len, mcz_raw_fn fn, void *ctx,
                               mcz_wire_sink sink, void *sink_ctx, uint64_t *out_len,
                               const char *what, mcz_error *err);

#endif
