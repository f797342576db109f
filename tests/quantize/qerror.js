#!/usr/bin/env node
'use strict';
// Output error of quantized models against their float model, with explicit budgets.
//
//   node qerror.js --ref A.onnx [--inputs DIR | --dim NAME=V ... --fill NAME=V ... --normal]
//                  --case NAME=B.onnx[@BUDGET] ... [--not-worse NAME1:NAME2[@SLACK]] ...
//                  [--json-out FILE] [--label L]
//   node qerror.js --aggregate FILE... --not-worse NAME1:NAME2[@LIMIT]
//
// Every case runs on the same inputs as the reference (a test_data_set folder, or inputs made
// from the reference's metadata as compare.js makes them). Its error is the relative L2
// |a - b| / |a| of its worst output. A case fails above its budget; `--not-worse M:N@S`
// fails when error(M) > S * error(N) (S defaults to 1). --json-out writes
// {"label", "cases": {NAME: error}} for --aggregate, which checks that the geometric mean of
// error(M) / error(N) over the files is at most LIMIT (default 1).
// Exit 0 when everything holds, 1 when something fails, 2 on usage or load errors.

const fs = require('fs');
const lib = require('../ort/lib');

function usage(msg) {
  if (msg) process.stderr.write(`qerror.js: ${msg}\n`);
  process.stderr.write('usage: qerror.js --ref A.onnx [--inputs DIR] --case NAME=B.onnx[@BUDGET]... '
    + '[--not-worse M:N[@SLACK]]... [--json-out FILE]\n'
    + '       qerror.js --aggregate FILE... --not-worse M:N[@LIMIT]\n');
  process.exit(2);
}

function parse(argv) {
  const o = { cases: [], rel: [], dims: {}, fill: {}, dist: 'uniform', files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], next = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    if (a === '--ref') o.ref = next();
    else if (a === '--inputs') o.inputs = next();
    else if (a === '--normal') o.dist = 'normal';
    else if (a === '--json-out') o.jsonOut = next();
    else if (a === '--label') o.label = next();
    else if (a === '--aggregate') o.aggregate = true;
    else if (a === '--dim' || a === '--fill') {
      const m = /^([^=]+)=(.*)$/.exec(next());
      if (!m) usage(`${a} needs NAME=VALUE`);
      (a === '--dim' ? o.dims : o.fill)[m[1]] = a === '--dim' ? Number(m[2]) : m[2];
    } else if (a === '--case') {
      const m = /^([^=]+)=(.+?)(?:@([0-9.eE+-]+))?$/.exec(next());
      if (!m) usage('--case needs NAME=MODEL[@BUDGET]');
      o.cases.push({ name: m[1], file: m[2], budget: m[3] === undefined ? Infinity : Number(m[3]) });
    } else if (a === '--not-worse') {
      const m = /^([^:]+):([^@]+)(?:@([0-9.eE+-]+))?$/.exec(next());
      if (!m) usage('--not-worse needs M:N[@SLACK]');
      o.rel.push({ a: m[1], b: m[2], slack: m[3] === undefined ? 1 : Number(m[3]) });
    } else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else o.files.push(a);
  }
  return o;
}

// |a - b| / |a| as compare.js measures it (float16 decoded, NaN against NaN equal).
function relL2(a, b) {
  const d = lib.diff(a, b);
  return d.error ? Infinity : d.relL2;
}

function aggregate(o) {
  if (!o.files.length || !o.rel.length) usage('--aggregate needs files and --not-worse');
  const runs = o.files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  let ok = true;
  for (const r of o.rel) {
    const limit = r.slack;
    let logsum = 0, n = 0;
    for (const run of runs) {
      const ea = run.cases[r.a], eb = run.cases[r.b];
      if (ea === undefined || eb === undefined) usage(`${run.label}: no case ${r.a} or ${r.b}`);
      if (!(eb > 0)) continue;
      const ratio = ea / eb;
      logsum += Math.log(ratio);
      n++;
      process.stdout.write(`${run.label.padEnd(24)} ${r.a} ${ea.toPrecision(4)}  ${r.b} ${eb.toPrecision(4)}  ratio ${ratio.toFixed(3)}\n`);
    }
    const gm = n ? Math.exp(logsum / n) : 1;
    const pass = gm <= limit;
    ok = ok && pass;
    process.stdout.write(`geometric mean of ${r.a}/${r.b} over ${n} models: ${gm.toFixed(4)} (limit ${limit}) ${pass ? 'ok' : 'FAIL'}\n`);
  }
  process.exit(ok ? 0 : 1);
}

async function main() {
  const o = parse(process.argv.slice(2));
  if (o.aggregate) return aggregate(o);
  if (!o.ref || !o.cases.length) usage('--ref and at least one --case are needed');
  let refSession;
  try {
    refSession = await lib.load(o.ref, 1);
  } catch (e) {
    process.stderr.write(`qerror.js: ${o.ref}: ${e.message}\n`);
    process.exit(2);
  }
  let inputs;
  if (o.inputs) inputs = lib.byName(lib.readDataset(o.inputs, 'input'), refSession.inputNames, 'input');
  else inputs = lib.makeInputs(refSession.inputMetadata, { seed: 1, dims: o.dims, fill: o.fill, dist: o.dist });
  const ref = await lib.run(refSession, inputs);
  const results = {};
  let ok = true;
  for (const c of o.cases) {
    let out, err = 0, worst = '';
    try {
      const s = await lib.load(c.file, 1);
      out = await lib.run(s, inputs);
    } catch (e) {
      process.stdout.write(`${c.name.padEnd(14)} FAIL cannot run ${c.file}: ${e.message}\n`);
      ok = false;
      results[c.name] = Infinity;
      continue;
    }
    for (const name of Object.keys(ref)) {
      const e = out[name] ? relL2(ref[name], out[name]) : Infinity;
      if (e > err || !worst) { err = e; worst = name; }
    }
    const pass = err <= c.budget;
    ok = ok && pass;
    results[c.name] = err;
    process.stdout.write(`${c.name.padEnd(14)} rel L2 ${err.toPrecision(4).padStart(10)} (worst output ${worst})`
      + `  budget ${c.budget === Infinity ? '-' : c.budget}  ${pass ? 'ok' : 'FAIL'}\n`);
  }
  for (const r of o.rel) {
    const ea = results[r.a], eb = results[r.b];
    if (ea === undefined || eb === undefined) usage(`--not-worse ${r.a}:${r.b}: no such case`);
    const pass = ea <= r.slack * eb;
    ok = ok && pass;
    process.stdout.write(`${r.a} ${ea.toPrecision(4)} <= ${r.slack === 1 ? '' : `${r.slack} x `}${r.b} ${eb.toPrecision(4)}: ${pass ? 'ok' : 'FAIL'}\n`);
  }
  if (o.jsonOut)
    fs.writeFileSync(o.jsonOut, JSON.stringify({ label: o.label || o.ref, cases: results }) + '\n');
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  process.stderr.write(`qerror.js: ${e.stack || e.message}\n`);
  process.exit(2);
});
