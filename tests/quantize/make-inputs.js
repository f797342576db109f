#!/usr/bin/env node
'use strict';
// Fixed, realistic-looking inputs for the real models, as ONNX test_data_set folders
// (input_N.pb), so that output errors of quantized models are measured where the networks
// work rather than on uniform noise (on noise, PP-OCRv4 rec's 6625-way softmax is so flat
// that quantizing any single weight moves it by several per cent either way).
//
//   node make-inputs.js OUTDIR [BATCH]
// writes OUTDIR/{ppocr-det,ppocr-rec,ppocr-cls,silero-vad}/input_N.pb, BATCH (default 8)
// different samples in the batch dimension, so that a measured error is an average:
//   ppocr-det  x [B,3,160,320]  pages: dark text lines of glyph-like strokes on light,
//                               slightly textured paper; PP-OCR's det normalisation
//                               (ImageNet mean/std on [0,1] pixels)
//   ppocr-rec  x [B,3,48,320]   one text line each, normalised to [-1,1] as PP-OCR rec does
//   ppocr-cls  x [B,3,48,192]   the rec lines cropped to 192 columns, same normalisation
//   silero-vad input [B,512], sr 16000, h/c zeros [2,B,64]: voiced, speech-like signals
//                               (harmonics of a gliding pitch shaped by two formants)
// Everything comes from a seeded PRNG: the same bytes on every run and machine.

const fs = require('fs');
const path = require('path');

function rng(seed) { // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- TensorProto encoding (dims=1, data_type=2, name=8, raw_data=9) ----
function varint(n) {
  const out = [];
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}
function field(num, wt) { return varint((num << 3) | wt); }
function lenDelim(num, bytes) { return [...field(num, 2), ...varint(bytes.length), ...bytes]; }
function tensorProto(name, dataType, dims, raw) {
  const parts = [];
  for (const d of dims) parts.push(...field(1, 0), ...varint(d));
  parts.push(...field(2, 0), ...varint(dataType));
  parts.push(...lenDelim(8, [...Buffer.from(name, 'utf8')]));
  const head = Buffer.from(parts);
  const rawHead = Buffer.from([...field(9, 2), ...varint(raw.byteLength)]);
  return Buffer.concat([head, rawHead, Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)]);
}

// ---- a grey image of text: glyphs made of strokes ----
function textImage(h, w, lines, seed) {
  const r = rng(seed);
  const img = new Float32Array(h * w);
  for (let y = 0; y < h; y++) // light paper with a soft gradient and grain
    for (let x = 0; x < w; x++)
      img[y * w + x] = 0.92 - 0.06 * (y / h) + 0.03 * (r() - 0.5);
  const ink = (x, y, v) => {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    const i = y * w + x;
    img[i] = Math.min(img[i], v);
  };
  const stroke = (x0, y0, x1, y1, thick, v) => {
    const n = Math.ceil(Math.hypot(x1 - x0, y1 - y0)) + 1;
    for (let k = 0; k <= n; k++) {
      const x = x0 + ((x1 - x0) * k) / n, y = y0 + ((y1 - y0) * k) / n;
      for (let dy = -thick; dy <= thick; dy++)
        for (let dx = -thick; dx <= thick; dx++) ink(Math.round(x + dx), Math.round(y + dy), v);
    }
  };
  for (const ln of lines) {
    let x = ln.x;
    const gh = ln.height, top = ln.y, v = 0.08 + 0.1 * r();
    while (x < ln.x + ln.width - gh * 0.6) {
      const gw = gh * (0.45 + 0.25 * r()), thick = Math.max(0, Math.round(gh / 14));
      const nstrokes = 2 + Math.floor(r() * 3);
      for (let s = 0; s < nstrokes; s++) { // vertical, horizontal, diagonal and round-ish strokes
        const kind = Math.floor(r() * 4);
        const ax = x + r() * gw, ay = top + r() * gh;
        if (kind === 0) stroke(ax, top, ax, top + gh, thick, v);
        else if (kind === 1) stroke(x, ay, x + gw, ay, thick, v);
        else if (kind === 2) stroke(x, top + gh, x + gw, top, thick, v);
        else {
          const cx = x + gw / 2, cy = top + gh / 2, rx = gw / 2, ry = gh / 2;
          for (let t = 0; t < 24; t++) {
            const a0 = (t / 24) * 2 * Math.PI, a1 = ((t + 1) / 24) * 2 * Math.PI;
            stroke(cx + rx * Math.cos(a0), cy + ry * Math.sin(a0), cx + rx * Math.cos(a1),
              cy + ry * Math.sin(a1), thick, v);
          }
        }
      }
      x += gw + gh * (0.1 + 0.15 * r());
      if (r() < 0.15) x += gh * 0.5; // a space between words
    }
  }
  return img;
}

// grey [h*w] in [0,1] -> NCHW float32 with per-channel (v - mean) / std
function nchw(img, h, w, mean, std) {
  const out = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++)
    for (let i = 0; i < h * w; i++) out[c * h * w + i] = (img[i] - mean[c]) / std[c];
  return out;
}

function write(dir, files) {
  fs.mkdirSync(dir, { recursive: true });
  files.forEach((buf, i) => fs.writeFileSync(path.join(dir, `input_${i}.pb`), buf));
}

function concat(arrays) {
  const out = new Float32Array(arrays.reduce((a, x) => a + x.length, 0));
  let at = 0;
  for (const x of arrays) { out.set(x, at); at += x.length; }
  return out;
}

// A text line of `width` glyph-strokes in an h x w crop, its layout drawn from seed.
function lineImage(h, w, seed) {
  const r = rng(seed * 7919 + 1);
  const gh = Math.round(h * (0.5 + 0.25 * r()));
  const y = Math.round((h - gh) * (0.3 + 0.4 * r()));
  const x = Math.round(2 + 8 * r());
  return textImage(h, w, [{ x, y, width: Math.round(w * (0.75 + 0.23 * r())) - x, height: gh }], seed);
}

function pageImage(h, w, seed) {
  const r = rng(seed * 104729 + 3);
  const lines = [];
  let y = 6 + Math.round(10 * r());
  while (y < h - 16) {
    const gh = Math.round(12 + 14 * r()), x = Math.round(4 + 40 * r());
    if (y + gh > h - 2) break;
    lines.push({ x, y, width: Math.round((w - x) * (0.5 + 0.45 * r())), height: gh });
    y += gh + Math.round(8 + 18 * r());
  }
  return textImage(h, w, lines, seed);
}

function voiced(n, sr, seed) {
  const r = rng(seed);
  const f0base = 100 + 120 * r(), f1 = 500 + 400 * r(), f2 = 1000 + 800 * r();
  const amp = 0.1 + 0.3 * r(), x = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / sr, f0 = f0base * (1 + 0.15 * Math.sin(2 * Math.PI * 3 * t));
    phase += (2 * Math.PI * f0) / sr;
    let v = 0;
    for (let k = 1; k * f0 < sr / 2 && k <= 30; k++) { // formant-shaped harmonics
      const fk = k * f0;
      const g = Math.exp(-(((fk - f1) / 200) ** 2)) + 0.6 * Math.exp(-(((fk - f2) / 300) ** 2)) + 0.05;
      v += (g * Math.sin(k * phase)) / Math.sqrt(k);
    }
    x[i] = amp * v + 0.01 * (r() - 0.5);
  }
  return x;
}

function main() {
  const out = process.argv[2], N = Number(process.argv[3] || 8);
  if (!out || !(N >= 1)) {
    process.stderr.write('usage: make-inputs.js OUTDIR [BATCH]\n');
    process.exit(2);
  }
  const seeds = Array.from({ length: N }, (_, i) => 11 + i);
  { // det: pages of text lines of several sizes
    const h = 160, w = 320;
    const x = concat(seeds.map((s) => nchw(pageImage(h, w, s), h, w, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])));
    write(path.join(out, 'ppocr-det'), [tensorProto('x', 1, [N, 3, h, w], x)]);
  }
  { // rec: one line per crop, 48 x 320; cls: its first 192 columns
    const lines = seeds.map((s) => lineImage(48, 320, s + 100));
    const half = [0.5, 0.5, 0.5];
    write(path.join(out, 'ppocr-rec'),
      [tensorProto('x', 1, [N, 3, 48, 320], concat(lines.map((l) => nchw(l, 48, 320, half, half))))]);
    const crops = lines.map((l) => {
      const c = new Float32Array(48 * 192);
      for (let y = 0; y < 48; y++) for (let x = 0; x < 192; x++) c[y * 192 + x] = l[y * 320 + x];
      return nchw(c, 48, 192, half, half);
    });
    write(path.join(out, 'ppocr-cls'), [tensorProto('x', 1, [N, 3, 48, 192], concat(crops))]);
  }
  { // silero VAD: 32 ms of a voiced sound at 16 kHz per batch row, state zero
    const n = 512, sr = 16000;
    const x = concat(seeds.map((s) => voiced(n, sr, s)));
    write(path.join(out, 'silero-vad'), [tensorProto('input', 1, [N, n], x),
      tensorProto('sr', 7, [], new BigInt64Array([BigInt(sr)])),
      tensorProto('h', 1, [2, N, 64], new Float32Array(2 * N * 64)),
      tensorProto('c', 1, [2, N, 64], new Float32Array(2 * N * 64))]);
  }
}

main();
