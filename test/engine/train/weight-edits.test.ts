// Weight-space edits: layer listing and "last k layers" (CF-k / EU-k), re-initialisation drawn like the
// built-in architectures (reproduces their initial weights exactly with the same seed), SSD dampening
// and Fisher-forgetting noise against direct transcriptions of the public formulas.

import { describe, expect, it } from 'vitest';
import { buildMlp, buildResnet18Cifar, buildSmallCnn, buildVitTiny, detectTrainable } from '../../../main/engine/models';
import type { Model } from '../../../main/engine/onnx/ir';
import { fisherNoise, lastLayers, listLayers, reinitializeParams, ssdDampen } from '../../../main/engine/train';
import { Rng } from '../../../main/engine/train/rng';

const floatInits = (m: Model) => m.graph.initializers.filter((t) => t.dtype === 'float32');

describe('layers and re-initialisation', () => {
  it('lists the small CNN’s layers in order and picks the last k', () => {
    const m = buildSmallCnn({ seed: 1 });
    const layers = listLayers(m);
    expect(layers.map((l) => [l.op, l.kind, l.params])).toEqual([
      ['Conv', 'conv', ['conv1.weight', 'conv1.bias']],
      ['Conv', 'conv', ['conv2.weight', 'conv2.bias']],
      ['Gemm', 'linear', ['fc1.weight', 'fc1.bias']],
      ['Gemm', 'linear', ['fc2.weight', 'fc2.bias']],
    ]);
    expect(layers.map((l) => l.fanIn)).toEqual([9, 32 * 9, 64 * 7 * 7, 128]);
    expect(lastLayers(m, 1).params).toEqual(['fc2.weight', 'fc2.bias']);
    expect(lastLayers(m, 3).params).toEqual(['conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(() => lastLayers(m, 5)).toThrow(/k must be an integer from 1 to 4/);
  });

  it('ResNet-18: the last 2 layers include the BatchNorm layers between them (and their statistics); the ViT finds MatMul biases', () => {
    const r = buildResnet18Cifar({ seed: 1 });
    const last = lastLayers(r, 2);
    expect(last.layers.map((l) => l.op)).toEqual(['Conv', 'BatchNormalization', 'Gemm']);
    expect(last.params).toEqual(['layer4.1.conv2.weight', 'layer4.1.bn2.weight', 'layer4.1.bn2.bias', 'fc.weight', 'fc.bias']);
    expect(last.buffers).toEqual(['layer4.1.bn2.running_mean', 'layer4.1.bn2.running_var']);
    // every trainable parameter of the built-ins belongs to a listed layer
    const v = buildVitTiny({ seed: 1, dim: 16, depth: 1, heads: 2 });
    const inLayers = new Set(listLayers(v).flatMap((l) => l.params));
    expect(detectTrainable(v).trainable.filter((p) => !inLayers.has(p))).toEqual(['cls_token', 'pos_embed']);
    const q = listLayers(v).find((l) => l.weight === 'blocks.0.attn.q.weight')!;
    expect([q.op, q.bias, q.transposed, q.fanIn]).toEqual(['MatMul', 'blocks.0.attn.q.bias', true, 16]);
  });

  it('re-initialising every parameter of a built-in model with its own seed reproduces its initial weights exactly', () => {
    const models: [Model, number][] = [
      [buildMlp({ seed: 7 }), 7],
      [buildSmallCnn({ seed: 8 }), 8],
      [buildResnet18Cifar({ seed: 9 }), 9],
      [buildVitTiny({ seed: 10, dim: 16, depth: 2, heads: 2 }), 10],
    ];
    for (const [m, seed] of models) {
      const params = new Set([...detectTrainable(m).trainable, ...listLayers(m).flatMap((l) => l.buffers)]);
      const inits = floatInits(m).filter((t) => params.has(t.name));
      expect(inits.length).toBe(params.size);
      const fresh = reinitializeParams(m, inits.map((t) => t.name), seed);
      for (const t of inits) expect(Buffer.from(fresh[t.name].buffer).equals(Buffer.from((t.data as Float32Array).buffer)), `${m.metadata['lethe.arch']} ${t.name}`).toBe(true);
    }
  });

  it('is seeded, deterministic, independent per name, and leaves the model untouched', () => {
    const m = buildSmallCnn({ seed: 1 });
    const names = ['fc2.weight', 'fc2.bias'];
    const before = new Float32Array(floatInits(m).find((t) => t.name === 'fc2.weight')!.data as Float32Array);
    const a = reinitializeParams(m, names, 42);
    const b = reinitializeParams(m, names, 42);
    const only = reinitializeParams(m, ['fc2.bias'], 42);
    const c = reinitializeParams(m, names, 43);
    expect(Array.from(a['fc2.weight'])).toEqual(Array.from(b['fc2.weight']));
    expect(Array.from(only['fc2.bias'])).toEqual(Array.from(a['fc2.bias']));
    expect(Array.from(c['fc2.weight'])).not.toEqual(Array.from(a['fc2.weight']));
    expect(Math.max(...Array.from(a['fc2.weight'], Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(128));
    expect(Array.from(floatInits(m).find((t) => t.name === 'fc2.weight')!.data as Float32Array)).toEqual(Array.from(before));
    expect(() => reinitializeParams(m, ['nope'], 1)).toThrow(/'nope' is not a float32 initializer/);
  });
});

describe('SSD dampening', () => {
  it('dampens exactly the entries with I_f > α·I_D by min((λ·I_D/I_f)^e, 1) and counts them', () => {
    const rng = new Rng(3);
    const n = 200;
    const w = Float32Array.from({ length: n }, () => rng.nextFloat() * 2 - 1);
    const fi = Float32Array.from({ length: n }, () => rng.nextFloat() ** 3);
    const di = Float32Array.from({ length: n }, () => rng.nextFloat() ** 3 / 5);
    for (const [alpha, lambda, exponent] of [
      [10, 1, 1],
      [1, 2, 1],
      [0.5, 0.3, 2],
    ]) {
      const r = ssdDampen({ weights: { p: w, q: new Float32Array([5]) }, forgetImportance: { p: fi }, retainImportance: { p: di }, alpha, lambda, exponent });
      let sel = 0;
      let changed = 0;
      for (let i = 0; i < n; i++) {
        // the public modify_weight, transcribed
        const selected = fi[i] > di[i] * alpha;
        const want = selected ? w[i] * Math.min(Math.pow((di[i] * lambda) / fi[i], exponent), 1) : w[i];
        expect(r.weights.p[i]).toBeCloseTo(want, 6);
        if (!selected) expect(r.weights.p[i]).toBe(w[i]);
        sel += selected ? 1 : 0;
        changed += r.weights.p[i] !== w[i] ? 1 : 0;
      }
      expect(r.selected).toBe(sel);
      expect(r.changed).toBe(changed);
      expect(sel).toBeGreaterThan(0);
      expect(r.weights.q[0]).toBe(5); // no importances: copied unchanged
      expect(r.weights.p).not.toBe(w);
    }
    expect(() => ssdDampen({ weights: { p: w }, forgetImportance: { p: fi }, retainImportance: {}, alpha: 1, lambda: 1 })).toThrow(/no retain importance/);
  });
});

describe('Fisher-forgetting noise', () => {
  it('follows get_mean_var: clamps, mean over dim 1, ×10 for the classifier and rank-1 tensors, forgotten class row', () => {
    const C = 4;
    const rng = new Rng(9);
    const rnd = (n: number, s = 1) => Float32Array.from({ length: n }, () => rng.nextFloat() * s);
    const weights = { conv: rnd(3 * 2 * 2), head: rnd(C * 3), bias: rnd(C), bn: rnd(3) };
    const dims = { conv: [3, 2, 2], head: [C, 3], bias: [C], bn: [3] };
    const fisher = { conv: rnd(12, 1e-2), head: rnd(12, 1e-4), bias: Float32Array.from([0, 1, 2, 3]), bn: rnd(3, 10) };
    const alpha = 1e-6;
    const r = fisherNoise({ weights, dims, fisher, alpha, seed: 5, numClasses: C, forgetClass: 2 });
    // reference variance, transcribed from the public code
    const refVar = (name: keyof typeof weights) => {
      const d = dims[name];
      const cls = d[0] === C;
      let v = Array.from(fisher[name], (f) => Math.min(1 / (f + 1e-8), 1e3)).map((x) => alpha * (cls ? Math.min(x, 1e2) : x));
      if (d.length > 1) {
        const inner = d.slice(2).reduce((a, b) => a * b, 1);
        v = v.map((_, i) => {
          const a = Math.floor(i / (d[1] * inner));
          const c = i % inner;
          let s = 0;
          for (let b = 0; b < d[1]; b++) s += v[(a * d[1] + b) * inner + c];
          return s / d[1];
        });
      }
      const rowLen = weights[name].length / d[0];
      if (cls) for (let i = 2 * rowLen; i < 3 * rowLen; i++) v[i] = 1e-4;
      if (cls || d.length === 1) v = v.map((x) => x * 10);
      return v;
    };
    for (const name of Object.keys(weights) as (keyof typeof weights)[]) {
      const v = refVar(name);
      v.forEach((x, i) => expect(r.std[name][i]).toBeCloseTo(Math.sqrt(x), 7));
    }
    // forgotten class: mean 0 (noise only); other rows keep their mean
    const rowLen = 3;
    for (let i = 2 * rowLen; i < 3 * rowLen; i++) expect(Math.abs(r.weights.head[i])).toBeLessThan(6 * Math.sqrt(1e-3));
    expect(r.weights.head[0]).not.toBe(weights.head[0]);
    // seeded and deterministic
    const again = fisherNoise({ weights, dims, fisher, alpha, seed: 5, numClasses: C, forgetClass: 2 });
    expect(Array.from(again.weights.conv)).toEqual(Array.from(r.weights.conv));
    const other = fisherNoise({ weights, dims, fisher, alpha, seed: 6, numClasses: C, forgetClass: 2 });
    expect(Array.from(other.weights.conv)).not.toEqual(Array.from(r.weights.conv));
    // the noise is N(0, var): standardised residuals of a large tensor have mean ~0 and variance ~1
    const big = 20000;
    const z = fisherNoise({ weights: { b: new Float32Array(big) }, dims: { b: [big] }, fisher: { b: new Float32Array(big).fill(1) }, alpha: 1, seed: 1, numClasses: C });
    let m = 0;
    let s2 = 0;
    for (let i = 0; i < big; i++) {
      const u = z.weights.b[i] / z.std.b[i];
      m += u / big;
      s2 += (u * u) / big;
    }
    expect(Math.abs(m)).toBeLessThan(0.05);
    expect(Math.abs(s2 - 1)).toBeLessThan(0.05);
    expect(() => fisherNoise({ weights, dims, fisher, alpha, seed: 1, numClasses: C, forgetClass: 4 })).toThrow(/forgetClass must be an integer in \[0, 4\)/);
  });
});
