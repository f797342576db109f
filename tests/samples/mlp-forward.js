#!/usr/bin/env node
'use strict';
// The forward pass computed by samples/mlp-forward from the loader's weights equals ONNX
// Runtime's on the original model. usage: mlp-forward.js MODEL.onnx VALUE < mlp-forward-output
const fs = require('fs');
const lib = require('../ort/lib');

async function main() {
  const [model, value] = process.argv.slice(2);
  const ours = fs.readFileSync(0, 'utf8').trim().split('\n').map(Number);
  const ort = lib.ort();
  const s = await ort.InferenceSession.create(model);
  const meta = s.inputMetadata ? s.inputMetadata[0] : null;
  const width = meta && meta.shape ? Number(meta.shape[1]) : NaN;
  if (!(width > 0)) throw new Error('cannot read the input width of ' + model);
  const x = new ort.Tensor('float32', new Float32Array(width).fill(Number(value)), [1, width]);
  const out = await s.run({ [s.inputNames[0]]: x });
  const y = out[s.outputNames[0]].data;
  if (y.length !== ours.length) throw new Error(`ORT gives ${y.length} outputs, mlp-forward ${ours.length}`);
  let maxAbs = 0, maxRef = 0;
  for (let i = 0; i < y.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(y[i] - ours[i]));
    maxRef = Math.max(maxRef, Math.abs(y[i]));
  }
  const tol = 1e-5 * Math.max(1, maxRef);
  console.log(`mlp-forward vs ONNX Runtime: ${y.length} outputs, max abs diff ${maxAbs.toExponential(2)} (tolerance ${tol.toExponential(2)})`);
  process.exit(maxAbs <= tol ? 0 : 1);
}
main().catch((e) => { console.error('mlp-forward.js: ' + e.message); process.exit(2); });
