/* progress.h - progress on stderr for work longer than about a second.
 *
 * When stderr is a terminal (and the process is in the terminal's foreground): one line
 * redrawn in place at most 10 times a second,
 *
 *     quantize [=========>          ]  12/40 tensors  35.2/120.0 MiB  12.3 MiB/s  ETA 0:07
 *
 * and left on screen in its final state when the work is done (if it lasted the delay: with
 * a delay of 0, always). Otherwise (a pipe, a file): a plain line every 5 seconds, and a
 * closing line if any was printed. Nothing at all is printed before the delay
 * (MCZ_PROGRESS_DELAY seconds in the environment, default 1, "off" for never; as git's
 * GIT_PROGRESS_DELAY) nor with `quiet`: short work prints nothing.
 *
 * progress_add may be called from any number of threads at once (atomic counters); the line
 * is drawn by a thread of its own, so rate and ETA move on during a long single item. Every
 * function accepts a NULL handle and then does nothing, so callers need no checks.
 */
#ifndef MCZ_PROGRESS_H
#define MCZ_PROGRESS_H

#include <stdint.h>

typedef struct progress progress;

/* Start reporting work of `total_items` items (tensors, unless progress_unit says otherwise)
 * and `total_bytes` bytes (0: unknown, then no byte figures and the ETA comes from items).
 * `label` (copied) starts the line, e.g. "quantize". Returns NULL when `quiet`, when
 * MCZ_PROGRESS_DELAY is "off", or when memory or a thread cannot be had: progress is never a
 * reason to fail. Free with progress_done. */
progress *progress_start(const char *label, uint64_t total_items, uint64_t total_bytes,
                         int quiet);

/* Name of the items ("tensors" by default, e.g. "parts", "blocks"); copied, at most 15 bytes
 * kept. Call before the work, from the thread that started it. */
void progress_unit(progress *p, const char *unit);

/* `items` more items and `bytes` more bytes are done. Thread-safe, lock-free. */
void progress_add(progress *p, uint64_t items, uint64_t bytes);

/* The same as a callback: ctx is the progress handle (or NULL). For libraries that take a
 * `void (*)(void *ctx, uint64_t items, uint64_t bytes)` hook. */
void progress_callback(void *ctx, uint64_t items, uint64_t bytes);

/* Print a message line on stderr without breaking the bar: the bar's line is cleared first
 * and redrawn afterwards. Thread-safe. A newline is added. */
void progress_message(progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Items and bytes added so far (for a tool's own summary). 0 for NULL. */
uint64_t progress_items(const progress *p);
uint64_t progress_bytes(const progress *p);

/* Stop: the drawing thread is joined, the final state is drawn (when anything was drawn at
 * all) and the handle is freed. Accepts NULL. */
void progress_done(progress *p);

#endif
