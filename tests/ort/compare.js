#!/usr/bin/env node
'use strict';
// Run two ONNX models on the same inputs with ONNX Runtime and measure how far B's outputs are
// from A's (A is the reference). See README.md beside this file.

const fs = require('fs');
const path = require('path');
const { fork } = require('child_process');
const lib = require('./lib');

const USAGE = `usage: compare.js A.onnx B.onnx [options]
       compare.js --list FILE [options]      (lines: A<TAB>B[<TAB>DATASET_DIR])
options:
  --inputs DIR        inputs from an ONNX test_data_set folder (input_N.pb) instead of generated
  --seed N            seed of the generated inputs (default 1)
  --dim NAME=V        size of a symbolic dim (default: 1 for a first/batch dim, 32 otherwise)
  --fill NAME=V       input NAME filled with the constant V instead of random values
  --normal            generated floats from a standard normal (default: uniform in [-1,1])
  --max-abs X         pass if every output's max |a-b| <= X
  --max-rel-l2 X      pass if every output's |a-b|/|a| <= X
  --min-cos X         pass if every output's cosine similarity >= X
                      (no threshold given: --max-abs 0, i.e. identical outputs)
  --threads N         ONNX Runtime intra-op threads per session (default 1)
  --json              JSON instead of text (batch: one object per line, then a summary)
batch only:
  -j N                pairs run at once, each in its own process (default 1)
  --timeout S         seconds one pair may take (default 600)
exit: 0 all within thresholds, 1 a difference (or B fails to run), 2 usage error, a model that
fails to load, or A that ONNX Runtime cannot run; batch: 1 if any pair FAILs (SKIPs are counted).`;

function usage(msg) {
  if (msg) process.stderr.write(`compare.js: ${msg}\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { files: [], seed: 1, dims: {}, fill: {}, dist: 'uniform', threads: 1, jobs: 1, timeout: 600 };
  const num = (flag, v) => {
    const x = Number(v);
    if (v === undefined || v === '' || Number.isNaN(x)) usage(`${flag} needs a number`);
    return x;
  };
  const pair = (flag, v, into, isNum) => {
    const m = /^([^=]+)=(.*)$/.exec(v || '');
    if (!m) usage(`${flag} needs NAME=VALUE`);
    into[m[1]] = isNum ? num(flag, m[2]) : m[2];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], next = () => argv[++i];
    if (a === '--help' || a === '-h') { process.stdout.write(`${USAGE}\n`); process.exit(0); }
    else if (a === '--inputs') o.inputs = next();
    else if (a === '--list') o.list = next();
    else if (a === '--seed') o.seed = num(a, next());
    else if (a === '--dim') pair(a, next(), o.dims, true);
    else if (a === '--fill') pair(a, next(), o.fill, false);
    else if (a === '--normal') o.dist = 'normal';
    else if (a === '--max-abs') o.maxAbs = num(a, next());
    else if (a === '--max-rel-l2') o.maxRelL2 = num(a, next());
    else if (a === '--min-cos') o.minCos = num(a, next());
    else if (a === '--threads') o.threads = num(a, next());
    else if (a === '-j' || a === '--jobs') o.jobs = num(a, next());
    else if (a === '--timeout') o.timeout = num(a, next());
    else if (a === '--json') o.json = true;
    else if (a === '--worker') o.worker = true;
    else if (a.startsWith('-') && a !== '-') usage(`unknown option ${a}`);
    else o.files.push(a);
  }
  if (o.maxAbs === undefined && o.maxRelL2 === undefined && o.minCos === undefined) o.maxAbs = 0;
  return o;
}

function within(d, o) {
  return !d.error && !(d.maxAbs > o.maxAbs) && !(d.relL2 > o.maxRelL2) && !(d.cos < o.minCos);
}

const short = (e) => String((e && e.message) || e).split('\n')[0].trim();

// Compare one pair. status: ok | FAIL | SKIP (A itself unusable). `phase` reports progress so
// that a batch parent knows whose fault a crash was.
async function comparePair(a, b, dataset, o, phase = () => {}) {
  const r = { a, b, status: 'ok', reason: '', outputs: [], inputs: [] };
  const skip = (why) => Object.assign(r, { status: 'SKIP', reason: why });
  const fail = (why, loadB) => Object.assign(r, { status: 'FAIL', reason: why, loadB: !!loadB });
  let sa = null, sb = null;
  try {
    phase('A');
    try { sa = await lib.load(a, o.threads); } catch (e) { return skip(`A: cannot load: ${short(e)}`); }
    let inputs;
    try {
      const bad = sa.inputMetadata.find((m) => !m.isTensor);
      if (bad) return skip(`A: input ${bad.name} is not a tensor (sequence/map/optional)`);
      inputs = dataset
        ? lib.byName(lib.readDataset(dataset, 'input'), sa.inputNames, 'input')
        : lib.makeInputs(sa.inputMetadata, o);
    } catch (e) { return skip(`inputs: ${short(e)}`); }
    r.inputs = Object.values(inputs).map((t) => `${t.name} ${t.type}[${t.dims}]`);
    let ra;
    try { ra = await lib.run(sa, inputs); } catch (e) { return skip(`A: cannot run: ${short(e)}`); }
    phase('B');
    try { sb = await lib.load(b, o.threads); } catch (e) { return fail(`B: cannot load: ${short(e)}`, true); }
    let rb;
    try { rb = await lib.run(sb, inputs); } catch (e) { return fail(`B: cannot run: ${short(e)}`); }
    for (const name of Object.keys(ra)) {
      const d = rb[name] ? lib.diff(ra[name], rb[name]) : { shape: ra[name].dims, error: 'missing in B' };
      r.outputs.push({ name, ...d, pass: within(d, o) });
    }
    const bad = r.outputs.filter((x) => !x.pass);
    if (bad.length) {
      // A difference means nothing if A does not even agree with itself (random ops).
      phase('A');
      let again;
      try { again = await lib.run(sa, inputs); } catch (e) { return skip(`A: cannot run twice: ${short(e)}`); }
      const moving = Object.keys(ra).find((n) => {
        const d = lib.diff(ra[n], again[n]);
        return d.error || d.maxAbs > 0;
      });
      if (moving) return skip(`A is not deterministic: output ${moving} changes between two runs`);
      fail(bad.map((x) => `${x.name}: ${x.error || describe(x)}`).join('; '));
    }
    return r;
  } finally {
    for (const s of [sa, sb]) if (s) await s.release().catch(() => {});
  }
}

function describe(x) {
  return `max_abs=${lib.fmt(x.maxAbs)} rel_l2=${lib.fmt(x.relL2)} cos=${lib.fmtCos(x.cos)}`;
}

function worst(outputs) {
  const ok = outputs.filter((x) => !x.error);
  return {
    maxAbs: Math.max(0, ...ok.map((x) => x.maxAbs)),
    relL2: Math.max(0, ...ok.map((x) => x.relL2)),
    cos: Math.min(1, ...ok.map((x) => x.cos)),
  };
}

// ---- one pair ----

async function single(o) {
  if (o.files.length !== 2) usage('needs two models (or --list FILE)');
  const [a, b] = o.files;
  let r;
  try {
    r = await comparePair(a, b, o.inputs, o);
  } catch (e) {
    process.stderr.write(`compare.js: ${short(e)}\n`);
    process.exit(2);
  }
  const say = (line) => process.stdout.write(`${line}\n`);
  if (o.json) {
    say(lib.toJSON(r));
  } else {
    say(`A: ${a}\nB: ${b}`);
    say(`inputs: ${r.inputs.join(', ') || '-'} ${o.inputs ? `(from ${o.inputs})` : `(seed ${o.seed})`}`);
    const w = Math.max(6, ...r.outputs.map((x) => x.name.length));
    const row = (name, shape, figs, verdict) =>
      say(`${name.padEnd(w)}  ${shape.padEnd(16)} ${figs.map((v) => v.padEnd(10)).join(' ')} ${verdict}`.trimEnd());
    if (r.outputs.length) row('output', 'shape', ['max_abs', 'rel_l2', 'cosine'], '');
    for (const x of r.outputs) {
      const figs = x.error ? [x.error] : [lib.fmt(x.maxAbs), lib.fmt(x.relL2), lib.fmtCos(x.cos)];
      row(x.name, `[${x.shape || ''}]`, figs, x.pass ? 'ok' : 'FAIL');
    }
  }
  if (r.status === 'SKIP' || r.loadB) {
    const who = r.status === 'SKIP' ? a : b;
    process.stderr.write(`compare.js: ${who}: ${r.reason}\n`);
    process.exit(2);
  }
  const thr = [['max-abs', o.maxAbs], ['max-rel-l2', o.maxRelL2], ['min-cos', o.minCos]]
    .filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`).join(', ');
  if (!o.json) say(r.status === 'ok' ? `compare: ok (${thr})` : `compare: FAIL (${thr}): ${r.reason}`);
  process.exit(r.status === 'ok' ? 0 : 1);
}

// ---- batch: a pool of worker processes, so that a crash or a hang costs one pair, not the run ----

function readList(file) {
  let text;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) { usage(`--list ${file}: ${short(e)}`); }
  const pairs = [];
  text.split('\n').forEach((l, i) => {
    l = l.replace(/\r$/, '');
    if (!l.trim() || l.startsWith('#')) return;
    const c = l.split('\t');
    if (c.length < 2 || c.length > 3 || !c[0] || !c[1]) usage(`${file}:${i + 1}: expected A<TAB>B[<TAB>DATASET_DIR]`);
    pairs.push({ a: c[0], b: c[1], dataset: c[2] || undefined });
  });
  return pairs;
}

function worker() {
  let opts = null;
  process.on('message', async (m) => {
    if (m.opts) { opts = m.opts; return; }
    let r;
    try {
      r = await comparePair(m.a, m.b, m.dataset, opts, (p) => process.send({ phase: p }));
    } catch (e) {
      r = { a: m.a, b: m.b, status: 'FAIL', reason: `harness: ${short(e)}`, outputs: [] };
    }
    process.send({ result: r });
  });
  process.on('disconnect', () => process.exit(0));
}

function runInWorker(slot, pair, o) {
  return new Promise((resolve) => {
    if (!slot.child) {
      // 'advanced' serialization keeps Infinity and NaN (JSON would turn them into null).
      slot.child = fork(__filename, ['--worker'],
        { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
      slot.child.stderr.on('data', (d) => { slot.stderr = (slot.stderr + d).slice(-2000); });
      slot.child.send({ opts: o });
    }
    const child = slot.child;
    let phase = 'A';
    slot.stderr = '';
    const done = (r) => {
      clearTimeout(timer);
      child.removeListener('message', onMsg);
      child.removeListener('exit', onExit);
      resolve(r);
    };
    const crashed = (why) => {
      slot.child = null;
      const last = slot.stderr.trim().split('\n').pop();
      const reason = `${phase}: ${why}${last ? ` (${last.slice(0, 200)})` : ''}`;
      done({ ...pair, outputs: [], status: phase === 'A' ? 'SKIP' : 'FAIL', reason });
    };
    const onMsg = (m) => { if (m.phase) phase = m.phase; else if (m.result) done(m.result); };
    const onExit = (code, sig) => crashed(`onnxruntime process died (${sig || `exit ${code}`})`);
    const timer = setTimeout(() => {
      child.removeListener('exit', onExit);
      child.kill('SIGKILL');
      crashed(`timed out after ${o.timeout} s`);
    }, o.timeout * 1000);
    child.on('message', onMsg);
    child.on('exit', onExit);
    child.send(pair);
  });
}

function line(r) {
  const name = r.a === r.b ? r.a : `${r.a} vs ${r.b}`;
  if (r.status === 'ok') {
    const w = worst(r.outputs);
    return `ok   ${name}  max_abs=${lib.fmt(w.maxAbs)} rel_l2=${lib.fmt(w.relL2)} cos=${lib.fmtCos(w.cos)}`;
  }
  return `${r.status.padEnd(4)} ${name}  ${r.reason}`;
}

async function batch(o) {
  if (o.files.length) usage('--list takes no model arguments');
  const pairs = readList(o.list);
  const t0 = Date.now();
  const results = new Array(pairs.length);
  let next = 0, printed = 0;
  const flush = () => { // print in list order
    while (printed < pairs.length && results[printed]) {
      const r = results[printed++];
      process.stdout.write(`${o.json ? lib.toJSON({ ...r, inputs: undefined }) : line(r)}\n`);
    }
  };
  const jobs = Math.max(1, Math.min(o.jobs, pairs.length));
  const slots = Array.from({ length: jobs }, () => ({ child: null, stderr: '' }));
  await Promise.all(slots.map(async (slot) => {
    while (next < pairs.length) {
      const i = next++;
      results[i] = await runInWorker(slot, pairs[i], o);
      flush();
    }
    if (slot.child) slot.child.disconnect();
  }));
  const count = (s) => results.filter((r) => r.status === s).length;
  const ok = count('ok'), failed = count('FAIL'), skipped = count('SKIP');
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (o.json) {
    const summary = { pairs: pairs.length, ok, failed, skipped, seconds: Number(secs) };
    process.stdout.write(`${lib.toJSON({ summary })}\n`);
  } else {
    // Skips grouped by reason (paths and names taken out), so none passes unnoticed.
    const why = {};
    for (const r of results.filter((x) => x.status === 'SKIP')) {
      const k = r.reason.split(r.a).join('MODEL').replace(/input \S+ is/, 'input * is')
        .replace(/\s+/g, ' ').slice(0, 120);
      why[k] = (why[k] || 0) + 1;
    }
    for (const [k, n] of Object.entries(why).sort((x, y) => y[1] - x[1])) {
      process.stdout.write(`skipped ${String(n).padStart(4)}: ${k}\n`);
    }
    process.stdout.write(`compare: ${ok} passed, ${failed} failed, ${skipped} skipped`
      + ` (${pairs.length} pairs, ${secs} s)\n`);
  }
  process.exit(failed ? 1 : 0);
}

if (require.main === module) {
  const o = parseArgs(process.argv.slice(2));
  if (o.worker) worker();
  else {
    try { lib.ort(); } catch (e) { process.stderr.write(`compare.js: ${short(e)}\n`); process.exit(2); }
    (o.list ? batch(o) : single(o)).catch((e) => {
      process.stderr.write(`compare.js: ${e.stack || e}\n`);
      process.exit(2);
    });
  }
}

module.exports = { comparePair };
