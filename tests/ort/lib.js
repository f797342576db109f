'use strict';
// Shared pieces of the ONNX Runtime harness: finding onnxruntime-node in the cache, decoding
// TensorProto files (input_N.pb / output_N.pb), making seeded inputs, running a model, and
// measuring how far two sets of outputs are apart.

const fs = require('fs');
const os = require('os');
const path = require('path');

function cacheDir() {
  return process.env.MCZ_CACHE || path.join(os.homedir(), '.cache', 'mcz');
}

let ortModule = null;
function ort() {
  if (!ortModule) {
    const p = path.join(cacheDir(), 'ort', 'node_modules', 'onnxruntime-node');
    try {
      ortModule = require(p);
    } catch (e) {
      throw new Error(`onnxruntime-node is not in ${p} (run scripts/ort-setup.sh): ${e.message}`);
    }
    ortModule.env.logLevel = 'fatal';
  }
  return ortModule;
}

// ---- TensorProto decoding (no protobuf library: the wire format is small) ----

class Reader {
  constructor(buf) {
    this.b = buf;
    this.p = 0;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  eof() { return this.p >= this.b.length; }
  need(n) { if (this.p + n > this.b.length) throw new Error(`truncated protobuf at byte ${this.p}`); }
  varint() { // as a BigInt: int64 fields need all 64 bits
    let r = 0n, s = 0n;
    for (;;) {
      this.need(1);
      const c = this.b[this.p++];
      r |= BigInt(c & 0x7f) << s;
      if (!(c & 0x80)) return r;
      s += 7n;
      if (s > 63n) throw new Error(`bad varint at byte ${this.p}`);
    }
  }
  small() { return Number(this.varint()); }
  bytes() {
    const n = this.small();
    this.need(n);
    const v = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return v;
  }
  f32() { this.need(4); const v = this.dv.getFloat32(this.p, true); this.p += 4; return v; }
  f64() { this.need(8); const v = this.dv.getFloat64(this.p, true); this.p += 8; return v; }
  skip(wt) {
    if (wt === 0) this.varint();
    else if (wt === 1) { this.need(8); this.p += 8; }
    else if (wt === 2) this.bytes();
    else if (wt === 5) { this.need(4); this.p += 4; }
    else throw new Error(`bad wire type ${wt} at byte ${this.p}`);
  }
}

// A repeated scalar field, packed (wire type 2) or not.
function repeated(r, wt, out, one) {
  if (wt !== 2) { out.push(one(r)); return; }
  const sub = new Reader(r.bytes());
  while (!sub.eof()) out.push(one(sub));
}

const DATA_TYPES = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64',
  8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64',
  14: 'complex64', 15: 'complex128', 16: 'bfloat16', 17: 'float8e4m3fn', 18: 'float8e4m3fnuz',
  19: 'float8e5m2', 20: 'float8e5m2fnuz', 21: 'uint4', 22: 'int4', 23: 'float4e2m1',
};
const ARRAYS = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, int8: Int8Array,
  uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array,
  uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array, bool: Uint8Array,
  int4: Int8Array, uint4: Uint8Array,
};

const i64 = (r) => BigInt.asIntN(64, r.varint());
const u64 = (r) => BigInt.asUintN(64, r.varint());
const i32 = (r) => Number(BigInt.asIntN(32, r.varint()));

function decodeTensorProto(buf) {
  const r = new Reader(buf);
  const t = { name: '', dims: [], dataType: 0, raw: null, external: false,
    floats: [], int32s: [], strings: [], int64s: [], doubles: [], uint64s: [] };
  while (!r.eof()) {
    const key = r.small(), f = key >>> 3, wt = key & 7;
    if (f === 1) repeated(r, wt, t.dims, (x) => Number(i64(x)));
    else if (f === 2) t.dataType = r.small();
    else if (f === 4) repeated(r, wt, t.floats, (x) => x.f32());
    else if (f === 5) repeated(r, wt, t.int32s, i32);
    else if (f === 6) t.strings.push(Buffer.from(r.bytes()).toString('utf8'));
    else if (f === 7) repeated(r, wt, t.int64s, i64);
    else if (f === 8) t.name = Buffer.from(r.bytes()).toString('utf8');
    else if (f === 9) t.raw = r.bytes();
    else if (f === 10) repeated(r, wt, t.doubles, (x) => x.f64());
    else if (f === 11) repeated(r, wt, t.uint64s, u64);
    else if (f === 14) t.external = r.small() === 1;
    else r.skip(wt);
  }
  const type = DATA_TYPES[t.dataType];
  if (!type) throw new Error(`unknown data_type ${t.dataType}`);
  if (t.external) throw new Error('external data in a TensorProto file is not supported');
  const n = t.dims.reduce((a, d) => a * d, 1);
  let data;
  if (type === 'string') {
    data = t.strings;
  } else {
    const A = ARRAYS[type];
    if (!A) throw new Error(`data type ${type} is not supported by onnxruntime-node`);
    const packed4 = type === 'int4' || type === 'uint4';
    const len = packed4 ? Math.ceil(n / 2) : n;
    if (t.raw) {
      if (t.raw.byteLength !== len * A.BYTES_PER_ELEMENT)
        throw new Error(`raw_data has ${t.raw.byteLength} bytes, ${type}[${t.dims}] needs ${len * A.BYTES_PER_ELEMENT}`);
      data = new A(t.raw.buffer.slice(t.raw.byteOffset, t.raw.byteOffset + t.raw.byteLength));
    } else {
      const src = { float32: t.floats, float64: t.doubles, int64: t.int64s, uint64: t.uint64s,
        uint32: t.uint64s.map(Number) }[type] || t.int32s;
      if (src.length !== len) throw new Error(`${type}[${t.dims}] has ${src.length} values, needs ${len}`);
      data = A.from(src);
    }
  }
  if (data.length !== (type === 'int4' || type === 'uint4' ? Math.ceil(n / 2) : n))
    throw new Error(`${type}[${t.dims}] has ${data.length} values`);
  return { name: t.name, type, dims: t.dims, data };
}

// input_0.pb, input_1.pb, ... (or output_N.pb) of an ONNX test_data_set folder, in order.
function readDataset(dir, prefix) {
  const files = fs.readdirSync(dir)
    .map((f) => ({ f, m: new RegExp(`^${prefix}_(\\d+)\\.pb$`).exec(f) }))
    .filter((x) => x.m)
    .sort((a, b) => a.m[1] - b.m[1]);
  return files.map(({ f }) => {
    try {
      return decodeTensorProto(fs.readFileSync(path.join(dir, f)));
    } catch (e) {
      throw new Error(`${path.join(dir, f)}: ${e.message}`);
    }
  });
}

// Tensors from a dataset keyed by the model's input (or output) names: by the name stored in the
// file when the model has it, by position otherwise.
function byName(tensors, names, what) {
  const out = {};
  tensors.forEach((t, i) => {
    const name = names.includes(t.name) ? t.name : names[i];
    if (name === undefined) throw new Error(`${what}_${i}.pb (${t.name || 'no name'}) matches no ${what} of the model`);
    out[name] = t;
  });
  return out;
}

// ---- seeded inputs ----

function prng(seed) { // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const f32buf = new Float32Array(1), u32buf = new Uint32Array(f32buf.buffer);
function toHalf(x) { // float -> IEEE half bits, round to nearest even
  f32buf[0] = x;
  const u = u32buf[0], sign = (u >>> 16) & 0x8000, e = (u >>> 23) & 0xff, m = u & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  let he = e - 127 + 15;
  if (he >= 0x1f) return sign | 0x7c00;
  if (he <= 0) {
    if (he < -10) return sign;
    const mm = m | 0x800000, shift = 14 - he;
    let h = mm >>> shift;
    const rem = mm & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (he << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}
function fromHalf(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

// Concrete dims for an input: symbolic or unknown dims get overrides[name], else 1 for a first
// (batch-like) dim and `other` for the rest. A symbolic name keeps one value across inputs.
function resolveDims(shape, overrides, chosen, other) {
  return shape.map((d, i) => {
    if (typeof d === 'number' && d >= 0) return d;
    const name = typeof d === 'string' && d !== '' ? d : null;
    if (name !== null && name in overrides) return overrides[name];
    if (name !== null && name in chosen) return chosen[name];
    const v = i === 0 || /batch/i.test(name || '') ? 1 : other;
    if (name !== null) chosen[name] = v;
    return v;
  });
}

// One tensor per tensor input of `meta` (session.inputMetadata), from a seeded PRNG: floats
// uniform in [-1,1] (or standard normal), 8-bit ints over their range, other ints in [0,4),
// bools 0/1. fill[name] = a constant for that input instead.
function makeInputs(meta, { seed = 1, dims = {}, fill = {}, dist = 'uniform', other = 32 } = {}) {
  const rnd = prng(seed), chosen = {}, out = {};
  const uni = () => rnd() * 2 - 1;
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const fl = dist === 'normal' ? normal : uni;
  for (const m of meta) {
    if (!m.isTensor) throw new Error(`input ${m.name} is not a tensor (sequence, map or optional)`);
    const shape = resolveDims(m.shape, dims, chosen, other);
    const n = shape.reduce((a, d) => a * d, 1);
    const type = m.type;
    const c = fill[m.name];
    let data;
    if (type === 'string') {
      data = Array.from({ length: n }, () => (c !== undefined ? String(c) : Math.floor(rnd() * 1e6).toString(36)));
    } else {
      const A = ARRAYS[type];
      if (!A) throw new Error(`input ${m.name} has type ${type}, which the harness cannot make`);
      const len = type === 'int4' || type === 'uint4' ? Math.ceil(n / 2) : n;
      data = new A(len);
      const gen = {
        float32: fl, float64: fl, float16: () => toHalf(fl()),
        uint8: () => Math.floor(rnd() * 256), int8: () => Math.floor(rnd() * 256) - 128,
        bool: () => (rnd() < 0.5 ? 0 : 1), int4: () => Math.floor(rnd() * 256) - 128,
        uint4: () => Math.floor(rnd() * 256),
        int64: () => BigInt(Math.floor(rnd() * 4)), uint64: () => BigInt(Math.floor(rnd() * 4)),
      }[type] || (() => Math.floor(rnd() * 4));
      for (let i = 0; i < len; i++) {
        if (c === undefined) data[i] = gen();
        else if (type === 'float16') data[i] = toHalf(Number(c));
        else data[i] = data instanceof BigInt64Array || data instanceof BigUint64Array ? BigInt(c) : Number(c);
      }
    }
    out[m.name] = { name: m.name, type, dims: shape, data };
  }
  return out;
}

// ---- running ----

async function load(file, threads = 1) {
  if (!fs.existsSync(file)) throw new Error('no such file');
  return ort().InferenceSession.create(file, {
    logSeverityLevel: 4, intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
  });
}

// Run `session` on the plain tensors `inputs` (those it takes); returns plain tensors by name.
async function run(session, inputs) {
  const O = ort(), feeds = {};
  for (const name of session.inputNames) {
    const t = inputs[name];
    if (!t) throw new Error(`no value for input ${name}`);
    feeds[name] = new O.Tensor(t.type, t.data, t.dims);
  }
  const res = await session.run(feeds);
  const out = {};
  for (const [name, v] of Object.entries(res)) {
    if (!v || v.data === undefined) throw new Error(`output ${name} is not a tensor`);
    out[name] = { name, type: v.type, dims: Array.from(v.dims), data: v.data };
    if (typeof v.dispose === 'function' && v.location !== 'cpu') v.dispose();
  }
  return out;
}

// ---- comparing ----

function numbers(t) {
  return t.type === 'float16' ? Float64Array.from(t.data, fromHalf) : t.data;
}

// How far `b` is from the reference `a`: max abs diff, relative L2 (|a-b|/|a|), cosine.
// Equal values (NaN with NaN, inf with the same inf) count as no difference; other non-finite
// differences are infinite. `bad` counts elements outside atol + rtol*|a| when those are given.
function diff(a, b, { rtol, atol } = {}) {
  const res = { shape: a.dims, maxAbs: 0, relL2: 0, cos: 1, bad: 0, error: null };
  if (a.type !== b.type) return { ...res, error: `type ${a.type} vs ${b.type}` };
  if (a.dims.join() !== b.dims.join()) return { ...res, error: `shape [${a.dims}] vs [${b.dims}]` };
  const x = numbers(a), y = numbers(b), n = x.length;
  if (a.type === 'string') {
    for (let i = 0; i < n; i++) if (x[i] !== y[i]) res.bad++;
    return res.bad ? { ...res, maxAbs: Infinity, relL2: Infinity, cos: 0 } : res;
  }
  const big = typeof x[0] === 'bigint';
  let d2 = 0, a2 = 0, b2 = 0, ab = 0;
  for (let i = 0; i < n; i++) {
    const p = x[i], q = y[i];
    if (p === q || (p !== p && q !== q)) {
      const v = Number(p);
      if (Number.isFinite(v)) { a2 += v * v; b2 += v * v; ab += v * v; }
      continue;
    }
    const pn = Number(p), qn = Number(q);
    let d = Math.abs(big ? Number(p - q) : pn - qn);
    if (!(d <= Infinity)) d = Infinity; // NaN against a number
    if (d > res.maxAbs) res.maxAbs = d;
    d2 += d * d;
    if (Number.isFinite(pn)) a2 += pn * pn;
    if (Number.isFinite(qn)) b2 += qn * qn;
    if (Number.isFinite(pn) && Number.isFinite(qn)) ab += pn * qn;
    if (atol !== undefined && !(d <= atol + (rtol || 0) * Math.abs(pn))) res.bad++;
  }
  res.relL2 = a2 > 0 ? Math.sqrt(d2) / Math.sqrt(a2) : d2 > 0 ? Infinity : 0;
  if (res.maxAbs === 0) res.cos = 1; // identical: no rounding noise in the figure
  else res.cos = a2 > 0 && b2 > 0 ? Math.max(-1, Math.min(1, ab / (Math.sqrt(a2) * Math.sqrt(b2)))) : 0;
  if (!Number.isFinite(res.relL2)) res.cos = Math.min(res.cos, 0); // a NaN/inf mismatch: not similar
  return res;
}

function fmt(v) {
  if (v === 0 || v === 1) return String(v);
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(4) : v.toExponential(2);
}
// Cosine similarity: enough digits that 0.9999996 does not print as 1.
const fmtCos = (v) => (v === 1 || !Number.isFinite(v) ? String(v) : v.toFixed(7));

// JSON without losing Infinity/NaN silently: they become strings.
function toJSON(v) {
  return JSON.stringify(v, (k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
}

module.exports = {
  cacheDir, ort, decodeTensorProto, readDataset, byName, makeInputs, load, run, diff, fmt, fmtCos, toJSON,
  toHalf, fromHalf,
};
