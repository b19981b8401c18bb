import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import protobuf from 'protobufjs';
import { GraphBuilder } from '../../../main/engine/onnx/builder';
import { decodeModel, encodeModel, makeModel } from '../../../main/engine/onnx/codec';
import { ONNX_PROTO_TEXT } from '../../../main/engine/onnx/onnx-proto-text';
import { tensorF32, type Model } from '../../../main/engine/onnx/ir';
import { loadModelBytes, loadModelFile, ModelValidationError } from '../../../main/engine/onnx/load';
import { validateModel } from '../../../main/engine/onnx/validate';
import { saveModel } from '../../../main/engine/onnx/save';
import { SUPPORTED_OPS, isSupportedOp } from '../../../main/engine/onnx/op-support';
import { createSession } from '../../../main/engine/runtime/session';
import { ort } from '../../../main/engine/runtime/providers';

const MP = protobuf.parse(ONNX_PROTO_TEXT, { keepCase: true }).root.lookupType('onnx.ModelProto');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const mutate = (bytes: Uint8Array, f: (m: Any) => void) => {
  const m = MP.decode(bytes) as Any;
  f(m);
  return MP.encode(m).finish();
};

function mlp(opset = 17, meta: Record<string, string> = {}): Model {
  const b = new GraphBuilder();
  b.input('x', 'float32', ['N', 4]);
  b.initializer('w1', tensorF32([4, 3], Array.from({ length: 12 }, (_, i) => (i - 6) / 10)));
  b.initializer('b1', tensorF32([3], [0.1, -0.2, 0.3]));
  const h = b.op('Relu', [b.op('Gemm', ['x', 'w1', 'b1'])]);
  b.output(h, 'float32', ['N', 3]);
  return makeModel(b.toGraph('mlp'), opset, meta);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ModelValidationError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'loaded';
}

describe('loadModelBytes', () => {
  it('loads a valid model, records the SHA-256 of the exact bytes and what it can be used for', () => {
    const bytes = encodeModel(mlp());
    const r = loadModelBytes(bytes);
    expect(r.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(r.model.graph.nodes.map((n) => n.op)).toEqual(['Gemm', 'Relu']);
    expect(r.report).toMatchObject({ opset: 17, inference: true, training: true, trainingBlocker: null, nodeCount: 2 });
    expect(r.report.initializerBytes).toBe(15 * 4);
    const r21 = loadModelBytes(encodeModel(mlp(21)));
    expect(r21.report.training).toBe(false);
    expect(r21.report.trainingBlocker).toMatch(/need opset 13\.\.18; this model uses opset 21/);
    expect(r21.warnings.join(' ')).toMatch(/inference only/);
    expect(codeOf(() => validateModel(mlp(21), { purpose: 'training' }))).toMatch(/^opset:/);
    expect(codeOf(() => loadModelBytes(encodeModel(mlp(6))))).toMatch(/^opset: .*opset 6; Lethe accepts opsets 7\.\.21/);
    expect(codeOf(() => loadModelBytes(encodeModel(mlp(22))))).toMatch(/^opset:/);
  });

  it('lists every unsupported operator with its domain and node', () => {
    const bytes = mutate(encodeModel(mlp()), (m) => {
      m.graph.node[0].op_type = 'FusedGemm';
      m.graph.node[0].domain = 'com.microsoft';
      m.graph.node[0].name = 'fc1';
      m.graph.node[1].op_type = 'Swish';
    });
    let err: ModelValidationError | undefined;
    try {
      loadModelBytes(bytes);
    } catch (e) {
      err = e as ModelValidationError;
    }
    expect(err?.code).toBe('unsupported_op');
    expect(err?.message).toContain("unsupported operator 'FusedGemm' (domain 'com.microsoft') at node 'fc1'");
    expect(err?.message).toContain("unsupported operator 'Swish' (domain 'ai.onnx')");
    expect(err?.details).toHaveLength(2);
    expect(SUPPORTED_OPS.has('Conv') && isSupportedOp('TreeEnsembleClassifier', 'ai.onnx.ml') && !isSupportedOp('Conv', 'com.x')).toBe(true);
  });

  it('refuses ops newer than the imported opset', () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', ['N', 4]);
    b.output(b.op('Gelu', ['x']), 'float32', ['N', 4]);
    expect(codeOf(() => loadModelBytes(encodeModel(makeModel(b.toGraph(), 17))))).toMatch(/^opset: operator 'Gelu' .* needs opset 20 but the model imports opset 17/);
    expect(codeOf(() => loadModelBytes(encodeModel(makeModel(b.toGraph(), 20))))).toBe('loaded');
  });

  it('accepts ai.onnx.ml operators when the domain is imported, and the explicit ai.onnx domain name', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', ['N', 3]);
    b.addNode('Normalizer', ['x'], ['y'], { norm: 'L1' }, 'ai.onnx.ml');
    b.output(b.op('Relu', ['y']), 'float32', ['N', 3]);
    const m = makeModel(b.toGraph());
    expect(codeOf(() => loadModelBytes(encodeModel(m)))).toMatch(/^opset: .*ai\.onnx\.ml domain, which the model does not import/);
    m.opsets.push({ domain: 'ai.onnx.ml', version: 3 });
    m.graph.nodes[1].domain = 'ai.onnx';
    const r = loadModelBytes(encodeModel(m));
    const s = await createSession(encodeModel(r.model), { intraOpThreads: 1 });
    const O = ort();
    const out = await s.session.run({ x: new O.Tensor('float32', Float32Array.from([1, -1, 2]), [1, 3]) });
    expect([...(out[s.session.outputNames[0]].data as Float32Array)].map((v) => +v.toFixed(4))).toEqual([0.25, 0, 0.5]);
    await s.session.release();
    m.opsets[1].version = 9;
    expect(codeOf(() => loadModelBytes(encodeModel(m)))).toMatch(/^opset: .*ai\.onnx\.ml opset 9/);
  });

  it('classifies graph defects precisely', () => {
    const seed = encodeModel(mlp());
    const cases: [string, (m: Any) => void, RegExp][] = [
      ['missing input', (m) => (m.graph.node[1].input = ['nope']), /^malformed_graph: node .* reads 'nope', which no node, initializer or graph input produces/],
      ['cycle', (m) => (m.graph.node = [m.graph.node[1], m.graph.node[0]]), /before node #1 produces it .*cycle or is not in topological order/],
      ['duplicate output', (m) => (m.graph.node[1].output = [m.graph.node[0].output[0]]), /defined more than once/],
      ['dangling graph output', (m) => (m.graph.output[0].name = 'ghost'), /graph output 'ghost' is not produced/],
      ['negative dim', (m) => (m.graph.input[0].type.tensor_type.shape.dim[1] = { dim_value: -3 }), /^bad_dims: .*invalid dimension -3/],
      ['huge declared shape', (m) => (m.graph.output[0].type.tensor_type.shape.dim = [{ dim_value: 1e6 }, { dim_value: 1e7 }]), /^bad_dims: graph output .* above the limit/],
      ['undefined elem type', (m) => (m.graph.input[0].type.tensor_type.elem_type = 0), /^bad_type: .*unsupported element type 0/],
      ['string tensor', (m) => (m.graph.initializer[0].data_type = 8), /^bad_type: .*data type code 8/],
      ['raw_data mismatch', (m) => (m.graph.initializer[1].raw_data = new Uint8Array(5)), /^bad_dims: .*raw_data has 5 bytes, dims need 12/],
      ['ir version 0', (m) => (m.ir_version = 0), /^ir_version: .*field is missing/],
      ['no opset', (m) => (m.opset_import = []), /^opset: the model imports no default-domain/],
      ['sequence output', (m) => (m.graph.output[0].type = { sequence_type: { elem_type: { tensor_type: { elem_type: 1 } } } }), /^bad_type: .*sequence type/],
    ];
    for (const [name, f, re] of cases) expect(codeOf(() => loadModelBytes(mutate(seed, f))), name).toMatch(re);
  });

  it('names hostile strings safely in messages (bounded, control characters escaped)', () => {
    const bytes = mutate(encodeModel(mlp()), (m) => {
      m.graph.node[0].op_type = `Evil\u0007<script>${'x'.repeat(500)}`;
    });
    const msg = codeOf(() => loadModelBytes(bytes));
    expect(msg).toContain('\\u0007');
    expect(msg).not.toContain('\u0007');
    expect(msg.length).toBeLessThan(300);
  });

  it('inlines valid external data from the model folder so the session never opens a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lethe-ext-'));
    try {
      const model = mlp();
      const w1 = model.graph.initializers[0];
      writeFileSync(join(dir, 'weights.bin'), Buffer.concat([Buffer.alloc(16, 7), Buffer.from(w1.data.buffer, w1.data.byteOffset, w1.data.byteLength)]));
      const bytes = mutate(encodeModel(model), (m) => {
        const t = m.graph.initializer[0];
        t.raw_data = new Uint8Array(0);
        t.data_location = 1;
        t.external_data = [
          { key: 'location', value: 'weights.bin' },
          { key: 'offset', value: '16' },
          { key: 'length', value: '48' },
        ];
      });
      writeFileSync(join(dir, 'model.onnx'), bytes);
      expect(codeOf(() => loadModelBytes(bytes))).toMatch(/^external_data: .*loaded from bytes without a model folder/);
      const r = await loadModelFile(join(dir, 'model.onnx'));
      expect(r.externalData).toHaveLength(1);
      expect(r.externalData[0]).toMatchObject({ tensor: 'w1', location: 'weights.bin', offset: 16, length: 48 });
      expect([...r.model.graph.initializers[0].data]).toEqual([...w1.data]);
      const sessionBytes = encodeModel(r.model);
      expect(decodeModel(sessionBytes).externalData).toHaveLength(0);
      const s = await createSession(sessionBytes, { intraOpThreads: 1 });
      const O = ort();
      const out = await s.session.run({ x: new O.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [1, 4]) });
      // relu(x @ w1 + b1) computed by hand
      const w = [...w1.data] as number[];
      const want = [0, 1, 2].map((j) => Math.max(0, [1, 2, 3, 4].reduce((a, xi, i) => a + xi * w[i * 3 + j], 0) + [0.1, -0.2, 0.3][j]));
      const got = [...(out[s.session.outputNames[0]].data as Float32Array)];
      got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 5));
      await s.session.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('loadModelFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lethe-load-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports unreadable paths as io errors', async () => {
    await expect(loadModelFile(join(dir, 'missing.onnx'))).rejects.toMatchObject({ code: 'io', message: expect.stringMatching(/does not exist/) });
    await expect(loadModelFile(dir)).rejects.toMatchObject({ code: 'io' });
    writeFileSync(join(dir, 'big.onnx'), encodeModel(mlp()));
    await expect(loadModelFile(join(dir, 'big.onnx'), { maxBytes: 100 })).rejects.toMatchObject({ code: 'too_large' });
  });

  it('adds an export hint when an unrecognised file is named like a checkpoint', async () => {
    // a protocol-0 (text) pickle has no binary signature; its name still tells the user what to do
    writeFileSync(join(dir, 'old.pth'), '(dp0\nS\'w\'\np1\nI1\ns.');
    await expect(loadModelFile(join(dir, 'old.pth'))).rejects.toMatchObject({
      code: 'not_onnx',
      message: expect.stringMatching(/suggests a PyTorch checkpoint: export it to ONNX with torch\.onnx\.export/),
    });
  });

  it('hash-before-load: the loaded bytes always match the recorded SHA-256 while the file is replaced (20 + 20 rounds)', async () => {
    const path = join(dir, 'racy.onnx');
    const versions = new Map<string, string>();
    const versionBytes: Uint8Array[] = [];
    for (let v = 0; v < 6; v++) {
      const bytes = encodeModel(mlp(17, { version: String(v), pad: 'p'.repeat(v * 20_000) }));
      versions.set(createHash('sha256').update(bytes).digest('hex'), String(v));
      versionBytes.push(bytes);
    }
    await writeFile(path, versionBytes[0]);
    // (a) the file is swapped atomically (rename) all the time: a loader that hashed one read and decoded
    // another would pair a hash with the wrong model; every load must pair them right
    // (b) the file is rewritten in place: torn reads must be classified errors, never mis-hashed models
    for (const mode of ['rename', 'in-place'] as const) {
      let stop = false;
      const writer = (async () => {
        for (let i = 1; !stop; i++) {
          const bytes = versionBytes[i % versionBytes.length];
          if (mode === 'rename') {
            const tmp = `${path}.${i}.tmp`;
            await writeFile(tmp, bytes);
            await rename(tmp, path);
          } else {
            await writeFile(path, bytes);
          }
          await new Promise((r) => setImmediate(r));
        }
      })();
      let loaded = 0;
      for (let round = 0; round < 20; round++) {
        try {
          const r = await loadModelFile(path);
          loaded++;
          expect(versions.get(r.sha256)).toBe(r.model.metadata.version);
          expect(createHash('sha256').update(r.bytes).digest('hex')).toBe(r.sha256);
        } catch (e) {
          expect(e).toBeInstanceOf(ModelValidationError);
          expect(mode).toBe('in-place');
        }
      }
      stop = true;
      await writer;
      if (mode === 'rename') expect(loaded).toBe(20);
    }
  });
});

describe('saveModel', () => {
  it('writes atomically, validates first, and round-trips', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lethe-save-'));
    try {
      const path = join(dir, 'm.onnx');
      const saved = await saveModel(mlp(), path);
      expect(saved.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
      const r = await loadModelFile(path);
      expect(r.sha256).toBe(saved.sha256);
      expect(readdirSync(dir)).toEqual(['m.onnx']); // no temp files left
      const bad = mlp();
      bad.graph.nodes[1].inputs = ['ghost'];
      await expect(saveModel(bad, join(dir, 'bad.onnx'))).rejects.toMatchObject({ code: 'malformed_graph' });
      expect(readdirSync(dir)).toEqual(['m.onnx']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
