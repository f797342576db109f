/* inspect-html.h - mcz-inspect --html: one self-contained HTML report of a model or an .mcz
 * (inline CSS and SVG only: no script, no external resource), rendered from the report of
 * inspect-report.h. docs/inspect-html.md. */
#ifndef MCZ_INSPECT_HTML_H
#define MCZ_INSPECT_HTML_H

#include "inspect-report.h"

/* Elements above which sparsity is estimated from evenly spaced samples, not every value. */
#define INSPECT_HTML_SAMPLE_CAP INSPECT_SAMPLE_CAP

/* Write the report of the ONNX model or .mcz container at `path` to `out` ("-" for standard
 * output), atomically, replacing an existing file only when `force`. Returns a tool exit
 * status (TOOL_OK, TOOL_FAIL), having printed any error. */
int inspect_html(const char *path, const char *out, int force);

#endif
