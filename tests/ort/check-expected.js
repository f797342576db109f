#!/usr/bin/env node
'use strict';
// Run a model with ONNX Runtime on an ONNX test_data_set folder (input_N.pb) and compare with the
// reference outputs there (output_N.pb): |got - expected| <= atol + rtol * |expected|.

const fs = require('fs');
const path = require('path');
const lib = require('./lib');

const USAGE = `usage: check-expected.js MODEL.onnx DATASET_DIR [--rtol X] [--atol X] [--threads N] [--json]
  DATASET_DIR holds input_N.pb and output_N.pb, or is a folder of test_data_set_* folders.
  defaults: --rtol 1e-3 --atol 1e-7 (those of ONNX's backend tests); NaN matches NaN.
exit: 0 all outputs within tolerance, 1 a mismatch, 2 usage error or the model cannot load or run.`;

function usage(msg) {
  if (msg) process.stderr.write(`check-expected.js: ${msg}\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { files: [], rtol: 1e-3, atol: 1e-7, threads: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => { const x = Number(argv[++i]); if (argv[i] === undefined || Number.isNaN(x)) usage(`${a} needs a number`); return x; };
    if (a === '--help' || a === '-h') { process.stdout.write(`${USAGE}\n`); process.exit(0); }
    else if (a === '--rtol') o.rtol = num();
    else if (a === '--atol') o.atol = num();
    else if (a === '--threads') o.threads = num();
    else if (a === '--json') o.json = true;
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else o.files.push(a);
  }
  if (o.files.length !== 2) usage('needs MODEL.onnx and DATASET_DIR');
  return o;
}

function datasets(dir) {
  const subs = fs.readdirSync(dir).filter((f) => /^test_data_set_\d+$/.test(f)).sort();
  return subs.length ? subs.map((s) => path.join(dir, s)) : [dir];
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const [model, dir] = o.files;
  const die = (msg) => { process.stderr.write(`check-expected.js: ${msg}\n`); process.exit(2); };
  let sets, session;
  try { sets = datasets(dir); } catch (e) { die(`${dir}: ${e.message}`); }
  try { session = await lib.load(model, o.threads); } catch (e) { die(`${model}: cannot load: ${e.message}`); }
  const report = [];
  let failed = 0;
  for (const set of sets) {
    let inputs, expected, got;
    try {
      inputs = lib.byName(lib.readDataset(set, 'input'), session.inputNames, 'input');
      expected = lib.byName(lib.readDataset(set, 'output'), session.outputNames, 'output');
    } catch (e) { die(e.message); }
    try { got = await lib.run(session, inputs); } catch (e) { die(`${model}: cannot run on ${set}: ${e.message.split('\n')[0]}`); }
    for (const [name, want] of Object.entries(expected)) {
      const d = got[name] ? lib.diff(want, got[name], o) : { error: 'not produced by the model' };
      const pass = !d.error && d.bad === 0;
      if (!pass) failed++;
      report.push({ dataset: set, name, shape: want.dims, maxAbs: d.maxAbs, bad: d.bad, error: d.error, pass });
      if (!o.json) {
        const what = d.error || `max_abs=${lib.fmt(d.maxAbs)} out_of_tolerance=${d.bad}/${want.data.length}`;
        process.stdout.write(`${pass ? 'ok  ' : 'FAIL'} ${path.basename(set)} ${name} [${want.dims}] ${what}\n`);
      }
    }
  }
  await session.release();
  if (o.json) process.stdout.write(`${lib.toJSON({ model, rtol: o.rtol, atol: o.atol, pass: !failed, outputs: report })}\n`);
  else process.stdout.write(`check-expected: ${report.length - failed} passed, ${failed} failed (rtol ${o.rtol}, atol ${o.atol})\n`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { process.stderr.write(`check-expected.js: ${e.stack || e}\n`); process.exit(2); });
