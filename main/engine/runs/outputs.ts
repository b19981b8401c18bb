// Stored per-example outputs of an evaluated model: logits on every forget, retain and test row (in
// that order; each part in ascending dataset storage order, the same rows for every model of a
// comparison), plus spatially averaged layer activations on a fixed seeded sample for CKA.
//
// Stored and exported as NPZ that numpy loads without pickle:
//   ids     <U{w}    example IDs (fixed-width unicode)
//   split   <U6      "forget" | "retain" | "test"
//   labels  int64    [N]
//   logits  float32  [N, C]
//   sample  int64    [M]      rows of the activation sample (indices into the arrays above)
//   act/<k>/<layer name>  float32 [M, dim]   (k = layer order; only in the stored copy, not needed by users)
// and as CSV (id, split, label, logit_0..logit_{C-1}).

import { zipSync, unzipSync } from 'fflate';
import type { Model } from '../onnx/ir';
import { cloneModel } from '../onnx/ir';
import type { ArrayDataset } from '../train/data';
import { exampleSize } from '../train/data';
import { evaluateModel } from '../train/evaluator';
import { openSession, ort, type SessionSettings } from '../train/session';
import { builderFor, mergeInto } from '../train/graph-utils';
import { defaultFeatureValue } from '../train/eval-graph';
import { inferShapes } from '../onnx/shape-infer';
import { readNpy, writeNpy, type NdArray } from '../io/npy';
import { Rng } from '../train/rng';
import { SPLIT, type LayerActivations, type ModelOutputs } from '../eval/types';
import { EngineError } from '../errors';
import { csvDocument } from '../data/csv-export';

export interface StoredOutputs extends ModelOutputs {
  ids: string[];
  /** rows of the activation sample */
  sample: Int32Array;
  activations: LayerActivations[];
}

const SPLIT_TEXT = ['forget', 'retain', 'test'] as const;

export interface EvalRows {
  forget: ArrayDataset;
  retain: ArrayDataset;
  test: ArrayDataset;
  ids: { forget: string[]; retain: string[]; test: string[] };
}

/** A seeded sample of rows for activations: up to `per` rows of each split. */
export function activationSample(counts: { forget: number; retain: number; test: number }, per: number, seed = 0): Int32Array {
  const rows: number[] = [];
  let offset = 0;
  for (const [k, n] of [[0, counts.forget], [1, counts.retain], [2, counts.test]] as const) {
    const perm = new Rng(seed, 9_000_000 + k).permutation(n);
    const take = Array.from(perm.subarray(0, Math.min(per, n))).sort((a, b) => a - b);
    for (const r of take) rows.push(offset + r);
    offset += n;
  }
  return Int32Array.from(rows);
}

/** Evaluate a model on every row and its activations on the sample. */
export async function computeOutputs(model: Model, rows: EvalRows, o: SessionSettings & { samplePerSplit?: number; signal?: AbortSignal; onProgress?: (fraction: number) => void } = {}): Promise<StoredOutputs> {
  const parts = [rows.forget, rows.retain, rows.test];
  const evals: (Awaited<ReturnType<typeof evaluateModel>> | null)[] = [];
  let done = 0;
  const total = parts.reduce((a, p) => a + p.n, 0);
  for (const p of parts) {
    evals.push(p.n ? await evaluateModel(model, p, { ...o, batchSize: 512, signal: o.signal }) : null);
    done += p.n;
    o.onProgress?.(done / Math.max(1, total));
  }
  const C = evals.find((e) => e)?.numClasses ?? 0;
  const n = total;
  const logits = new Float32Array(n * C);
  const labels = new Int32Array(n);
  const split = new Uint8Array(n);
  let r = 0;
  parts.forEach((p, k) => {
    const e = evals[k];
    if (e) logits.set(e.logits, r * C);
    for (let i = 0; i < p.n; i++) {
      labels[r + i] = Number(p.y[i]);
      split[r + i] = k;
    }
    r += p.n;
  });
  const sample = activationSample({ forget: rows.forget.n, retain: rows.retain.n, test: rows.test.n }, o.samplePerSplit ?? 200);
  const activations = await layerActivations(model, gatherRows(parts, sample), o);
  return { split, labels, logits, numClasses: C, n, ids: [...rows.ids.forget, ...rows.ids.retain, ...rows.ids.test], sample, activations };
}

function gatherRows(parts: ArrayDataset[], rows: Int32Array): ArrayDataset {
  const shape = parts[0].exampleShape;
  const per = exampleSize(parts[0]);
  const x = new Float32Array(rows.length * per);
  const y = new Int32Array(rows.length);
  const starts = [0, parts[0].n, parts[0].n + parts[1].n];
  rows.forEach((row, k) => {
    let p = 2;
    while (p > 0 && row < starts[p]) p--;
    const j = row - starts[p];
    x.set(parts[p].x.subarray(j * per, (j + 1) * per), k * per);
    y[k] = Number(parts[p].y[j]);
  });
  return { x, exampleShape: shape, y, n: rows.length };
}

const ACTIVATION_OPS = new Set(['Relu', 'Gelu', 'LeakyRelu', 'Sigmoid', 'Tanh']);

/**
 * Activations of every hidden layer (outputs of activation-function nodes, 4-D ones averaged over
 * their spatial dimensions), the penultimate features and the logits, on the given examples.
 */
export async function layerActivations(model: Model, ds: ArrayDataset, o: SessionSettings = {}): Promise<LayerActivations[]> {
  if (ds.n === 0) return [];
  const m = cloneModel(model);
  const g = m.graph;
  const input = g.inputs.find((v) => !g.initializers.some((t) => t.name === v.name));
  if (!input) throw new EngineError('invalid_argument', 'the model has no data input');
  const shapes = inferShapes(g, { [input.name]: [ds.n, ...ds.exampleShape] });
  const picked: string[] = [];
  for (const n of g.nodes) if (ACTIVATION_OPS.has(n.op) && n.outputs[0]) picked.push(n.outputs[0]);
  const feat = defaultFeatureValue(g, m.metadata);
  if (feat && !picked.includes(feat)) picked.push(feat);
  const logits = g.outputs[0].name;
  if (!picked.includes(logits)) picked.push(logits);
  const b = builderFor(g, 'lethe_act_');
  const outs: { name: string; layer: string }[] = [];
  for (const v of picked.slice(-12)) {
    const sh = shapes.get(v)?.shape;
    if (!sh) continue;
    let val = v;
    if (sh.length === 4) val = b.op('GlobalAveragePool', [v]);
    if (sh.length !== 2) val = b.op('Flatten', [val], { axis: 1 });
    const out = b.fresh('out');
    b.addNode('Identity', [val], [out]);
    outs.push({ name: out, layer: v });
  }
  mergeInto(g, b);
  g.outputs = outs.map((x) => ({ name: x.name, dtype: 'float32' as const, shape: null }));
  const s = await openSession(m, o);
  try {
    const res: LayerActivations[] = outs.map((x) => ({ layer: x.layer, dim: 0, data: new Float32Array(0) }));
    const per = exampleSize(ds);
    const bs = 256;
    for (let start = 0; start < ds.n; start += bs) {
      const nb = Math.min(bs, ds.n - start);
      const out = await s.session.run({ [input.name]: new ort.Tensor('float32', ds.x.slice(start * per, (start + nb) * per), [nb, ...ds.exampleShape]) });
      outs.forEach((x, k) => {
        const t = out[x.name];
        const dim = (t.data as Float32Array).length / nb;
        if (!res[k].dim) {
          res[k].dim = dim;
          res[k].data = new Float32Array(ds.n * dim);
        }
        res[k].data.set(t.data as Float32Array, start * dim);
      });
    }
    return res;
  } finally {
    await s.session.release();
  }
}

// ---------- NPZ with fixed-width unicode strings ----------

function unicodeNpy(strings: string[]): Uint8Array {
  const cps = strings.map((s) => Array.from(s, (ch) => ch.codePointAt(0)!));
  const w = Math.max(1, ...cps.map((c) => c.length));
  const header = `{'descr': '<U${w}', 'fortran_order': False, 'shape': (${strings.length},), }`;
  const total = 10 + header.length + 1;
  const pad = (64 - (total % 64)) % 64;
  const h = header + ' '.repeat(pad) + '\n';
  const out = new Uint8Array(10 + h.length + strings.length * w * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, h.length, true);
  for (let i = 0; i < h.length; i++) out[10 + i] = h.charCodeAt(i);
  const dv = new DataView(out.buffer, 10 + h.length);
  cps.forEach((c, i) => c.forEach((cp, j) => dv.setUint32((i * w + j) * 4, cp, true)));
  return out;
}

function readUnicodeNpy(bytes: Uint8Array, what: string): string[] {
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') throw new EngineError('invalid_argument', `${what}: not an NPY array`);
  const major = bytes[6];
  const hl = major === 1 ? bytes[8] | (bytes[9] << 8) : new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + hl));
  const m = /'descr':\s*'<U(\d+)'.*'shape':\s*\((\d+),?\)/.exec(header);
  if (!m) throw new EngineError('invalid_argument', `${what}: expected a 1-D fixed-width unicode array`);
  const w = Number(m[1]);
  const n = Number(m[2]);
  const body = bytes.subarray(start + hl);
  if (body.length !== n * w * 4) throw new EngineError('invalid_argument', `${what}: ${body.length} data bytes, header says ${n * w * 4}`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = '';
    for (let j = 0; j < w; j++) {
      const cp = dv.getUint32((i * w + j) * 4, true);
      if (cp === 0) break;
      s += String.fromCodePoint(cp);
    }
    out.push(s);
  }
  return out;
}

/** NPZ bytes (deterministic). `withActivations` false gives the user-facing export. */
export function encodeOutputs(o: StoredOutputs, withActivations = true): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = {};
  const put = (k: string, b: Uint8Array) => (files[`${k}.npy`] = [b, { level: 0 }]);
  put('ids', unicodeNpy(o.ids));
  put('split', unicodeNpy(Array.from(o.split, (s) => SPLIT_TEXT[s])));
  put('labels', writeNpy({ dtype: 'int64', shape: [o.n], data: BigInt64Array.from(o.labels, (v) => BigInt(v)) } as NdArray));
  put('logits', writeNpy({ dtype: 'float32', shape: [o.n, o.numClasses], data: o.logits }));
  if (withActivations) {
    put('sample', writeNpy({ dtype: 'int64', shape: [o.sample.length], data: BigInt64Array.from(o.sample, (v) => BigInt(v)) } as NdArray));
    o.activations.forEach((a, k) => put(`act/${k}/${a.layer.replace(/[^A-Za-z0-9._-]/g, '_')}`, writeNpy({ dtype: 'float32', shape: [a.data.length / a.dim, a.dim], data: a.data })));
  }
  return zipSync(files, { mtime: new Date(1980, 0, 2) });
}

export function decodeOutputs(bytes: Uint8Array): StoredOutputs {
  const files = unzipSync(bytes);
  const need = (k: string) => {
    const f = files[`${k}.npy`];
    if (!f) throw new EngineError('invalid_argument', `stored outputs lack '${k}'`);
    return f;
  };
  const ids = readUnicodeNpy(need('ids'), 'ids');
  const splitText = readUnicodeNpy(need('split'), 'split');
  const labels = readNpy(need('labels'));
  const logits = readNpy(need('logits'));
  const n = ids.length;
  const C = logits.shape[1] ?? 0;
  const split = Uint8Array.from(splitText, (s) => SPLIT[s as keyof typeof SPLIT] ?? 255);
  if (split.some((s) => s === 255)) throw new EngineError('invalid_argument', 'stored outputs: split must be forget, retain or test');
  const sample = files['sample.npy'] ? Int32Array.from(readNpy(files['sample.npy']).data as BigInt64Array, (v) => Number(v)) : new Int32Array(0);
  const acts: { k: number; layer: string; data: NdArray }[] = [];
  for (const [name, b] of Object.entries(files)) {
    const m = /^act\/(\d+)\/(.*)\.npy$/.exec(name);
    if (m) acts.push({ k: Number(m[1]), layer: m[2], data: readNpy(b) });
  }
  acts.sort((a, b) => a.k - b.k);
  return {
    ids,
    split,
    labels: Int32Array.from(labels.data as BigInt64Array, (v) => Number(v)),
    logits: logits.data as Float32Array,
    numClasses: C,
    n,
    sample,
    activations: acts.map((a) => ({ layer: a.layer, dim: a.data.shape[1], data: a.data.data as Float32Array })),
  };
}

/** CSV: id, split, label, logit_0..logit_{C-1} (engine/data/csv-export: RFC 4180, formula-like text neutralised). */
export function outputsCsv(o: StoredOutputs): string {
  const head = ['id', 'split', 'label', ...Array.from({ length: o.numClasses }, (_, k) => `logit_${k}`)];
  function* rows() {
    for (let i = 0; i < o.n; i++) yield [o.ids[i], SPLIT_TEXT[o.split[i]], o.labels[i], ...Array.from(o.logits.subarray(i * o.numClasses, (i + 1) * o.numClasses))];
  }
  return csvDocument(head, rows());
}
