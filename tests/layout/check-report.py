#!/usr/bin/python3
"""Check an mcz-quantize or mcz-prune JSON report against the model, walked independently.

usage: check-report.py MODEL.onnx REPORT.json MIN_ELEMENTS [NAME=STATUS[:REASON]]...
                       [--qdq OUT.onnx [--unfused NODE,...]]

- every floating-point tensor of MODEL (initializers and Constant values, in every graph and
  subgraph) with at least MIN_ELEMENTS elements has a row in the report;
- each NAME=STATUS (quantized, kept, pruned) holds, and REASON is part of a kept row's reason;
- --qdq OUT.onnx: every MatMul/Gemm whose weight input comes from a DequantizeLinear through
  layout ops reads it directly or through Identity nodes only (where ONNX Runtime fuses the
  two), except the nodes named by --unfused (said in docs/quantize.md: a tied head, which the
  embedding's Gather shares; a weight sliced before its Transpose; a weight behind an
  Unsqueeze).
"""
import json
import sys

import onnx
from onnx import TensorProto

LAYOUT = {'Identity', 'Transpose', 'Slice', 'Split', 'Concat', 'Reshape', 'Squeeze',
          'Unsqueeze', 'Flatten', 'Cast'}
FLOATS = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.DOUBLE}


def graphs(g):
    yield g
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from graphs(a.g)
            for sg in a.graphs:
                yield from graphs(sg)


def float_tensors(model, min_elements):
    out = []
    for g in graphs(model.graph):
        ts = list(g.initializer)
        for n in g.node:
            if n.op_type == 'Constant':
                for a in n.attribute:
                    if a.name == 'value':
                        t = onnx.TensorProto()
                        t.CopyFrom(a.t)
                        if not t.name:
                            t.name = n.output[0]
                        ts.append(t)
        for t in ts:
            count = 1
            for d in t.dims:
                count *= d
            if t.data_type in FLOATS and count >= min_elements and count > 0:
                out.append(t.name)
    return out


def check_qdq(path):
    m = onnx.load(path)
    bad = []
    for g in graphs(m.graph):
        producer = {o: n for n in g.node for o in n.output}
        for n in g.node:
            if n.op_type not in ('MatMul', 'Gemm') or len(n.input) < 2:
                continue
            src, chain = producer.get(n.input[1]), []
            while src is not None and src.op_type in LAYOUT:
                chain.append(src.op_type)
                src = producer.get(src.input[0]) if src.input else None
            if src is None or src.op_type != 'DequantizeLinear':
                continue
            others = [c for c in chain if c != 'Identity']
            if others:
                bad.append((n.name or n.output[0], ' -> '.join(reversed(chain))))
    return bad


def main():
    args = sys.argv[1:]
    opts = {}
    for flag in ('--qdq', '--unfused'):
        if flag in args:
            i = args.index(flag)
            opts[flag] = args[i + 1]
            del args[i:i + 2]
    if len(args) < 3:
        sys.exit(__doc__)
    model, report, min_elements = onnx.load(args[0]), json.load(open(args[1])), int(args[2])
    rows = {w['name']: w for w in report['weights']}
    fails = []
    for name in float_tensors(model, min_elements):
        if name not in rows:
            fails.append('%s: a float tensor of >= %d elements missing from the report' %
                         (name, min_elements))
    for e in args[3:]:
        name, want = e.split('=', 1)
        status, _, reason = want.partition(':')
        w = rows.get(name)
        if w is None:
            fails.append('%s: no row' % name)
            continue
        # mcz-quantize: "status" and "reason"; mcz-prune: "pruned" and "skipped"
        got = w.get('status') or ('pruned' if w.get('pruned') else 'kept')
        why = w.get('reason') or w.get('skipped') or ''
        if got != status:
            fails.append('%s: status %s, expected %s (%s)' % (name, got, status, why))
        elif reason and reason not in why:
            fails.append('%s: reason "%s" lacks "%s"' % (name, why, reason))
    if '--qdq' in opts:
        unfused = set(opts.get('--unfused', '').split(','))
        for node, chain in check_qdq(opts['--qdq']):
            if node in unfused:
                print('unfused, as expected: %s (DequantizeLinear -> %s)' % (node, chain))
            else:
                fails.append('%s reads its DequantizeLinear through %s' % (node, chain))
    for f in fails:
        print('FAIL', f)
    print('%d rows, %d checks, %s' % (len(rows), len(args) - 3, 'FAIL' if fails else 'ok'))
    sys.exit(1 if fails else 0)


if __name__ == '__main__':
    main()
