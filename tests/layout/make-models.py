#!/usr/bin/python3
"""Write the layout-op test models (see CMakeLists.txt beside this file) into a folder.

Built with Debian's python3-onnx, independently of mcz:
  gpt.onnx     a decoder exported the way torch.onnx writes one: the token embedding read by a
               Gather and, through a Transpose, by the tied lm_head MatMul; a fused QKV weight
               sliced per projection; [out, in] weights behind Transposes; a weight behind an
               Unsqueeze; a position table read by a Gather; a weight whose channel axis a
               Reshape merges (it must stay float, with that reason); a big float constant
               added to activations (not a weight input: kept, with that reason)
  lstm-if.onnx an LSTM inside an If inside an If, its W and R sliced per gate and concatenated
               in another gate order (as some VAD exports do); W lives in the main graph, R in
               a Constant inside the inner branch
  nan.onnx     a MatMul weight holding an infinity (kept, with that reason)
usage: make-models.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)
D, V, S, P = 128, 512, 8, 32


def w(*shape, scale=0.05):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def init(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def i64(name, vals):
    return init(name, np.array(vals, dtype=np.int64))


def gpt():
    inits = [
        init('embed.weight', w(V, D, scale=0.02)),
        init('pos.weight', w(P, D, scale=0.02)),
        init('attn.qkv.weight', w(3 * D, D)),
        init('attn.o.weight', w(D, D)),
        init('mlp.up.weight', w(4 * D, D)),
        init('mlp.gate.weight', w(D, 4, D)),
        init('mlp.down.weight', w(4 * D, D)),
        init('proj2.weight', w(D, D)),
        init('extra.bias', w(S, D, scale=0.01)),
        init('scale', np.array(1.0 / np.sqrt(D), dtype=np.float32)),
        i64('q.starts', [0]), i64('q.ends', [D]),
        i64('k.starts', [D]), i64('k.ends', [2 * D]),
        i64('v.starts', [2 * D]), i64('v.ends', [3 * D]),
        i64('axis0', [0]), i64('gate.shape', [D, 4 * D]),
    ]
    N = helper.make_node
    nodes = [
        N('Gather', ['embed.weight', 'input_ids'], ['tok'], name='embed'),
        N('Gather', ['pos.weight', 'position_ids'], ['pos'], name='pos'),
        N('Add', ['tok', 'pos'], ['h0']),
        N('Add', ['h0', 'extra.bias'], ['h1'], name='add_extra'),
    ]
    for p in 'qkv':
        nodes += [
            N('Slice', ['attn.qkv.weight', p + '.starts', p + '.ends', 'axis0'], [p + '.w'],
              name=p + '_slice'),
            N('Transpose', [p + '.w'], [p + '.wt'], perm=[1, 0], name=p + '_t'),
            N('MatMul', ['h1', p + '.wt'], [p], name=p + '_proj'),
        ]
    nodes += [
        N('Transpose', ['k'], ['kt'], perm=[0, 2, 1]),
        N('MatMul', ['q', 'kt'], ['scores0']),
        N('Mul', ['scores0', 'scale'], ['scores']),
        N('Softmax', ['scores'], ['probs'], axis=-1),
        N('MatMul', ['probs', 'v'], ['att']),
        N('Transpose', ['attn.o.weight'], ['o.wt'], perm=[1, 0]),
        N('MatMul', ['att', 'o.wt'], ['o'], name='o_proj'),
        N('Add', ['h1', 'o'], ['h2']),
        N('Transpose', ['mlp.up.weight'], ['up.wt'], perm=[1, 0]),
        N('MatMul', ['h2', 'up.wt'], ['up'], name='up_proj'),
        N('Reshape', ['mlp.gate.weight', 'gate.shape'], ['gate.w']),
        N('MatMul', ['h2', 'gate.w'], ['gate0'], name='gate_proj'),
        N('Sigmoid', ['gate0'], ['gate']),
        N('Mul', ['up', 'gate'], ['act']),
        N('MatMul', ['act', 'mlp.down.weight'], ['down'], name='down_proj'),
        N('Add', ['h2', 'down'], ['h3']),
        N('Unsqueeze', ['proj2.weight', 'axis0'], ['proj2.w3'], name='proj2_unsq'),
        N('MatMul', ['h3', 'proj2.w3'], ['h4'], name='proj2'),
        N('Transpose', ['embed.weight'], ['head.wt'], perm=[1, 0], name='head_t'),
        N('MatMul', ['h4', 'head.wt'], ['logits'], name='lm_head'),
    ]
    g = helper.make_graph(
        nodes, 'gpt',
        [helper.make_tensor_value_info('input_ids', TensorProto.INT64, [1, S]),
         helper.make_tensor_value_info('position_ids', TensorProto.INT64, [1, S])],
        [helper.make_tensor_value_info('logits', TensorProto.FLOAT, [1, S, V])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)])


def lstm_if():
    H, I, T = 64, 32, 4
    N = helper.make_node

    def gates(src, name):  # stored gate order i, f, c, o -> ONNX's i, o, f, c
        ns, parts = [], {}
        for k, gname in enumerate('ifco'):
            ns.append(N('Slice', [src, 'g%d.starts' % k, 'g%d.ends' % k, 'axis1'],
                        [name + '.' + gname], name=name + '_slice_' + gname))
            parts[gname] = name + '.' + gname
        ns.append(N('Concat', [parts[c] for c in 'iofc'], [name], axis=1,
                    name=name + '_concat'))
        return ns

    r_const = N('Constant', [], ['lstm.R_full'], name='R_const',
                value=numpy_helper.from_array(w(1, 4 * H, H, scale=0.1), 'lstm.R_full'))
    inner_then = helper.make_graph(
        [r_const] + gates('lstm.W_full', 'W') + gates('lstm.R_full', 'R') +
        [N('LSTM', ['x', 'W', 'R'], ['Y'], hidden_size=H, name='lstm')],
        'inner_then', [], [helper.make_tensor_value_info('Y', TensorProto.FLOAT, [T, 1, 1, H])])
    zeros = np.zeros((T, 1, 1, H), dtype=np.float32)
    else_g = lambda name: helper.make_graph(
        [N('Constant', [], [name + '_y'], value=numpy_helper.from_array(zeros, name + '_z'))],
        name, [], [helper.make_tensor_value_info(name + '_y', TensorProto.FLOAT, [T, 1, 1, H])])
    outer_then = helper.make_graph(
        [N('If', ['cond'], ['Y_in'], then_branch=inner_then, else_branch=else_g('inner_else'),
           name='inner_if')],
        'outer_then', [], [helper.make_tensor_value_info('Y_in', TensorProto.FLOAT,
                                                         [T, 1, 1, H])])
    inits = [init('lstm.W_full', w(1, 4 * H, I, scale=0.1)),
             init('cond', np.array(True)), i64('axis1', [1])]
    for k in range(4):
        inits += [i64('g%d.starts' % k, [k * H]), i64('g%d.ends' % k, [(k + 1) * H])]
    g = helper.make_graph(
        [N('If', ['cond'], ['Y_out'], then_branch=outer_then, else_branch=else_g('outer_else'),
           name='outer_if')],
        'lstm_if', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [T, 1, I])],
        [helper.make_tensor_value_info('Y_out', TensorProto.FLOAT, [T, 1, 1, H])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)])


def nan_model():
    a = w(64, 64)
    a[3, 5] = np.inf
    g = helper.make_graph(
        [helper.make_node('MatMul', ['x', 'bad.weight'], ['y'])], 'nan',
        [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 64])],
        [init('bad.weight', a)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)])


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, m in (('gpt', gpt()), ('lstm-if', lstm_if()), ('nan', nan_model())):
        m.ir_version = 8
        onnx.checker.check_model(m)
        onnx.save(m, os.path.join(out, name + '.onnx'))


if __name__ == '__main__':
    main()
