#!/usr/bin/env node
'use strict';
// run-parts.js - do the parts of a partition folder compute what the whole model computes?
//
//   node tests/partition/run-parts.js MODEL.onnx DIR [--seed N] [--dim NAME=V] [--fill NAME=V]
//                                     [--max-abs X] [--threads N] [--json]
//                                     [--expect-parts N] [--max-part-bytes N]
//
// Reads DIR/manifest.json (the mcz-partition format of DESIGN.md), makes seeded inputs from the
// whole model's input metadata (tests/ort/lib.js, as compare.js does), runs the whole model,
// then runs the parts in manifest order in ONNX Runtime, each fed from the model's inputs and
// the outputs of earlier parts, and compares the model's outputs. Twice:
//   - with ONNX Runtime's graph optimizations off: every node runs the same kernel in the parts
//     as in the whole, so the outputs must be identical (max abs diff 0);
//   - with its default optimizations (what a deployment runs): fusions cannot cross a part
//     boundary, so kernels may differ; the outputs must agree within --max-abs (default 1e-6)
//     times the output's largest magnitude when that is over 1 (float rounding scales with it),
//     or within what the optimizations change in the whole model itself (whole optimized vs
//     whole unoptimized), if that is more: quantized models run other kernels (integer
//     MatMul/Conv) once optimized, and those differ by far more than 1e-6.
// float16 outputs are allowed 2 float16 ulps at both levels (see compareAt). It also checks the manifest against the models: the format and version, the
// model's inputs and outputs, each part's inputs and outputs as ONNX Runtime sees them, that a
// part only takes what is available when it runs, and that no tensor is made twice.
// --expect-parts N and --max-part-bytes N also check the manifest: that many parts, each with
// at most that many weight bytes.
// Exit: 0 identical (within --max-abs), 1 a difference or a broken manifest/part, 2 usage or a
// whole model ONNX Runtime cannot run.

const fs = require('fs');
const path = require('path');
const lib = require('../ort/lib.js');

function usage(msg) {
  if (msg) process.stderr.write(`run-parts: ${msg}\n`);
  process.stderr.write('usage: run-parts.js MODEL.onnx DIR [--seed N] [--dim NAME=V] [--fill NAME=V] ' +
    '[--max-abs X] [--threads N] [--json]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { files: [], seed: 1, dims: {}, fill: {}, maxAbs: 1e-6, threads: 1, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    const kv = (s) => {
      const m = /^([^=]+)=(.*)$/.exec(s);
      if (!m) usage(`${a} wants NAME=VALUE, not ${s}`);
      return m;
    };
    if (a === '--seed') o.seed = Number(next());
    else if (a === '--dim') { const m = kv(next()); o.dims[m[1]] = Number(m[2]); }
    else if (a === '--fill') { const m = kv(next()); o.fill[m[1]] = m[2]; }
    else if (a === '--max-abs') o.maxAbs = Number(next());
    else if (a === '--threads') o.threads = Number(next());
    else if (a === '--json') o.json = true;
    else if (a === '--expect-parts') o.expectParts = Number(next());
    else if (a === '--max-part-bytes') o.maxPartBytes = Number(next());
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else o.files.push(a);
  }
  if (o.files.length !== 2) usage('give the whole model and the partition folder');
  if (!(o.maxAbs >= 0)) usage('--max-abs wants a number >= 0');
  return o;
}

const sameSet = (a, b) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
const list = (a) => `[${a.join(', ')}]`;

function readManifest(dir) {
  const file = path.join(dir, 'manifest.json');
  let m;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${e.message}`);
  }
  const bad = (why) => { throw new Error(`${file}: ${why}`); };
  if (m.format !== 'mcz-partition') bad(`format is ${JSON.stringify(m.format)}, not "mcz-partition"`);
  if (m.version !== 1) bad(`version ${m.version}, not 1`);
  for (const k of ['inputs', 'outputs', 'parts'])
    if (!Array.isArray(m[k])) bad(`no "${k}" array`);
  if (!m.parts.length) bad('no parts');
  m.parts.forEach((p, i) => {
    if (p.file !== `part-${String(i).padStart(3, '0')}.onnx`) bad(`part ${i} is ${JSON.stringify(p.file)}`);
    for (const k of ['inputs', 'outputs'])
      if (!Array.isArray(p[k])) bad(`part ${i} has no "${k}" array`);
    for (const k of ['weight_bytes', 'nodes'])
      if (!Number.isInteger(p[k]) || p[k] < 0) bad(`part ${i}: "${k}" is not a count`);
    if (!p.outputs.length) bad(`part ${i} gives nothing`);
  });
  return m;
}

// The largest magnitude of a tensor's finite values, at least 1.
function magnitude(t) {
  let m = 1;
  if (t.type === 'string') return m;
  for (const v of t.data) {
    const x = Math.abs(t.type === 'float16' ? lib.fromHalf(v) : Number(v));
    if (Number.isFinite(x) && x > m) m = x;
  }
  return m;
}

// A session at graph optimization level `level` ('disabled' or 'all').
async function load(file, level, threads) {
  if (!fs.existsSync(file)) throw new Error('no such file');
  return lib.ort().InferenceSession.create(file, {
    logSeverityLevel: 4, intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: level,
  });
}

// Run the whole model and the parts at one optimization level; returns the result record.
async function compareAt(level, maxAbs, o, man, plain) {
  const [modelFile, dir] = o.files;
  const res = { level, maxAbs, parts: [], outputs: [], status: 'ok', reason: '' };
  let whole;
  try {
    whole = await load(modelFile, level, o.threads);
  } catch (e) {
    process.stderr.write(`run-parts: ${modelFile}: cannot load: ${e.message.split('\n')[0]}\n`);
    process.exit(2);
  }
  const inputs = lib.makeInputs(whole.inputMetadata, { seed: o.seed, dims: o.dims, fill: o.fill });
  let ref;
  try {
    ref = await lib.run(whole, inputs);
  } catch (e) {
    process.stderr.write(`run-parts: ${modelFile}: cannot run: ${e.message.split('\n')[0]}\n`);
    process.exit(2);
  }
  const wholeIn = whole.inputNames, wholeOut = whole.outputNames;
  await whole.release().catch(() => {});
  res.ref = ref;
  try {
    if (!sameSet(man.inputs, wholeIn)) throw new Error(`manifest inputs ${list(man.inputs)}, the model's are ${list(wholeIn)}`);
    if (!sameSet(man.outputs, wholeOut)) throw new Error(`manifest outputs ${list(man.outputs)}, the model's are ${list(wholeOut)}`);
    const env = Object.assign({}, inputs); // name -> tensor available so far
    const madeBy = {};
    for (const n of man.inputs) madeBy[n] = 'the model inputs';
    for (const p of man.parts) {
      const file = path.join(dir, p.file);
      let s;
      try {
        s = await load(file, level, o.threads);
      } catch (e) {
        throw new Error(`${p.file}: ONNX Runtime cannot load it: ${e.message.split('\n')[0]}`);
      }
      try {
        if (!sameSet(s.inputNames, p.inputs)) throw new Error(`${p.file}: inputs ${list(s.inputNames)}, the manifest says ${list(p.inputs)}`);
        if (!sameSet(s.outputNames, p.outputs)) throw new Error(`${p.file}: outputs ${list(s.outputNames)}, the manifest says ${list(p.outputs)}`);
        for (const n of p.inputs)
          if (!(n in env)) throw new Error(`${p.file} takes ${n}, which neither the model inputs nor an earlier part give`);
        for (const n of p.outputs)
          if (n in madeBy) throw new Error(`${p.file} gives ${n}, which ${madeBy[n]} already gave`);
        const t0 = process.hrtime.bigint();
        const out = await lib.run(s, env);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        for (const [n, t] of Object.entries(out)) {
          env[n] = t;
          madeBy[n] = p.file;
        }
        res.parts.push({ file: p.file, inputs: p.inputs.length, outputs: p.outputs.length, ms });
      } finally {
        await s.release().catch(() => {});
      }
    }
    // what crosses each cut at these input sizes: tensors made by parts <= j, taken by parts > j
    const partOf = {};
    man.parts.forEach((p, i) => p.outputs.forEach((n) => { partOf[n] = i; }));
    res.cuts = man.parts.slice(1).map(() => ({ tensors: 0, bytes: 0 }));
    for (const [n, i] of Object.entries(partOf)) {
      let last = -1;
      man.parts.forEach((p, k) => { if (p.inputs.includes(n)) last = k; });
      const t = env[n];
      const bytes = t && t.data && t.data.byteLength !== undefined ? t.data.byteLength : 0;
      for (let j = i; j < last; j++) {
        res.cuts[j].tensors++;
        res.cuts[j].bytes += bytes;
      }
    }
    for (const n of wholeOut) {
      if (!(n in env)) { res.outputs.push({ name: n, error: 'no part gives it' }); continue; }
      const d = lib.diff(ref[n], env[n]);
      // float16: ONNX Runtime runs float16 ops it has no float16 kernel for in float32 and
      // drops the Casts between them, so inside the whole model a tensor may stay float32
      // where a part boundary rounds it to float16: allow 2 float16 ulps at the magnitude.
      const tol = ref[n].type === 'float16' ? Math.max(maxAbs, 2 ** -9) : maxAbs;
      const own = plain && plain[n] ? lib.diff(plain[n], ref[n]).maxAbs : 0;
      res.outputs.push({ name: n, shape: ref[n].dims, maxAbs: d.maxAbs, error: d.error,
        tol: Math.max(tol * magnitude(ref[n]), own), own });
    }
    const bad = res.outputs.filter((x) => x.error || !(x.maxAbs <= x.tol));
    if (bad.length) {
      res.status = 'FAIL';
      res.reason = bad.map((x) => `${x.name}: ${x.error || `max abs diff ${lib.fmt(x.maxAbs)} > ${lib.fmt(x.tol)}`}`).join('; ');
    }
  } catch (e) {
    res.status = 'FAIL';
    res.reason = e.message.split('\n')[0];
  }
  return res;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const dir = o.files[1];
  let man;
  try {
    man = readManifest(dir);
  } catch (e) {
    process.stdout.write(`FAIL ${dir}: ${e.message}\n`);
    process.exit(1);
  }
  const bad = [];
  if (o.expectParts !== undefined && man.parts.length !== o.expectParts)
    bad.push(`${man.parts.length} parts, expected ${o.expectParts}`);
  if (o.maxPartBytes !== undefined)
    man.parts.forEach((p) => {
      if (p.weight_bytes > o.maxPartBytes) bad.push(`${p.file} holds ${p.weight_bytes} bytes of weights, over ${o.maxPartBytes}`);
    });
  if (bad.length) {
    process.stdout.write(`FAIL ${dir}: ${bad.join('; ')}\n`);
    process.exit(1);
  }
  const exact = await compareAt('disabled', 0, o, man);
  const runs = [exact, await compareAt('all', o.maxAbs, o, man, exact.ref)];
  for (const r of runs) delete r.ref;
  const ok = runs.every((r) => r.status === 'ok');
  if (o.json) {
    process.stdout.write(lib.toJSON({ model: o.files[0], dir, status: ok ? 'ok' : 'FAIL', runs }) + '\n');
  } else {
    for (const r of runs) {
      process.stdout.write(`optimizations ${r.level} (max abs ${r.maxAbs}):\n`);
      for (const p of r.parts) process.stdout.write(`  ${p.file}: ${p.inputs} in, ${p.outputs} out, ${p.ms.toFixed(1)} ms\n`);
      (r.cuts || []).forEach((c, j) => process.stdout.write(`  cut ${j}|${j + 1}: ${c.tensors} tensors, ${c.bytes} bytes\n`));
      for (const x of r.outputs)
        process.stdout.write(`  ${x.name} [${x.shape || ''}]: ${x.error || `max abs diff ${lib.fmt(x.maxAbs)} (allowed ${lib.fmt(x.tol)}${x.own ? `; the optimizations alone change the whole model by ${lib.fmt(x.own)}` : ''})`}\n`);
      if (r.status !== 'ok') process.stdout.write(`  FAIL: ${r.reason}\n`);
    }
    process.stdout.write(`${ok ? 'ok' : 'FAIL'} ${dir}: ${man.parts.length} parts\n`);
  }
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  process.stderr.write(`run-parts: ${e.stack || e}\n`);
  process.exit(2);
});
