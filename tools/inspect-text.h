/* inspect-text.h - mcz-inspect's text output (tools/inspect-text.c) and JSON output
 * (tools/inspect-json.c), both over the one report of inspect-report.h. */
#ifndef MCZ_INSPECT_TEXT_H
#define MCZ_INSPECT_TEXT_H

#include <stddef.h>

#include "inspect-report.h"

/* Text, on standard output. */
void inspect_text_summary(const inspect_report *r);
void inspect_text_tensors(const inspect_report *r);
void inspect_text_tensor(const inspect_report *r, size_t i, const inspect_detail *d);
void inspect_text_verify(const inspect_report *r); /* the "verify: ok" line, when ok */

/* JSON (docs/inspect.md), one object on standard output: the summary (with the tensor list
 * when `tensors`), one tensor, or the verification alone. */
void inspect_json_summary(const inspect_report *r, int tensors);
void inspect_json_tensor(const inspect_report *r, size_t i, const inspect_detail *d);
void inspect_json_verify(const inspect_report *r);

#endif
