// The training-step passes of fuse-update.ts: what they fuse, and that the fused step computes the same
// weights as the unfused one (float rounding order aside) on architectures whose weight gradients come
// from a Gemm directly (MLP) or through a Reshape (convolutions under 'unfold-gemm' / 'unfold-tall').
import { afterEach, describe, expect, it } from 'vitest';
import { setFormulation, lowerForTraining, type Formulation } from '../../../main/engine/autodiff';
import { buildTrainStep } from '../../../main/engine/train';
import { fuseMomentumIntoGemm, inlineOutputIdentities } from '../../../main/engine/train/fuse-update';
import { buildMlp, buildSmallCnn, detectTrainable } from '../../../main/engine/models';
import type { Model } from '../../../main/engine/onnx/ir';
import { weightsAfterSteps } from './helpers';

let restore: Formulation | null = null;
afterEach(() => {
  if (restore) setFormulation(restore);
  restore = null;
});

function stepGraph(m: Model, optimizer = { kind: 'sgd' as const, momentum: 0.9 }) {
  return buildTrainStep(m, { trainable: detectTrainable(m).trainable, optimizer, lower: lowerForTraining });
}
const count = (m: Model, pred: (op: string, inputs: string[], beta: number) => boolean) =>
  m.graph.nodes.filter((n) => pred(n.op, n.inputs, n.attrs.beta?.type === 'float' ? n.attrs.beta.value : 1)).length;
/** Gemms that write a momentum buffer (C = the buffer, beta = the momentum 0.9) */
const momentumGemm = (op: string, ins: string[], beta: number) => op === 'Gemm' && ins.length === 3 && Math.abs(beta - 0.9) < 1e-7;

const trainWeights = (m: Model, f: Partial<Formulation>, steps: number, batch: number) => weightsAfterSteps(m, f, { steps, batch, dataSeed: 7 });

describe('training-step fusion passes', () => {
  it('MLP, SGD momentum: every weight gradient Gemm writes the new buffer; no Identity copies remain', () => {
    restore = setFormulation({ fuseUpdate: false });
    const plain = stepGraph(buildMlp({ seed: 0 })).model;
    setFormulation({ fuseUpdate: true });
    const fused = stepGraph(buildMlp({ seed: 0 })).model;
    expect(count(plain, momentumGemm)).toBe(0);
    expect(count(fused, momentumGemm)).toBe(3); // the three weight matrices (biases come from ReduceSum)
    expect(count(plain, (op) => op === 'Identity')).toBeGreaterThan(0);
    expect(count(fused, (op) => op === 'Identity')).toBe(0);
    // every declared output is still produced by exactly one node
    const produced = new Map<string, number>();
    for (const n of fused.graph.nodes) for (const o of n.outputs) produced.set(o, (produced.get(o) ?? 0) + 1);
    for (const o of fused.graph.outputs) expect(produced.get(o.name), o.name).toBe(1);
  });

  it('leaves the update alone where it is not a plain momentum of a Gemm gradient (weight decay, Nesterov, Adam)', () => {
    restore = setFormulation({ fuseUpdate: true });
    for (const optimizer of [
      { kind: 'sgd', momentum: 0.9, weightDecay: 1e-3 },
      { kind: 'sgd', momentum: 0.9, nesterov: true },
      { kind: 'adam' },
    ] as const) {
      const g = stepGraph(buildMlp({ seed: 0 }), optimizer as never).model;
      expect(count(g, (op, ins) => op === 'Gemm' && ins.length === 3 && !ins[2].endsWith('.bias')), JSON.stringify(optimizer)).toBe(0);
    }
  });

  it('the passes are idempotent and report what they did', () => {
    restore = setFormulation({ fuseUpdate: false });
    const st = stepGraph(buildMlp({ seed: 0 }));
    const g = st.model.graph;
    const states = new Set(st.params.flatMap((p) => p.state.map((s) => s.input)));
    expect(fuseMomentumIntoGemm(g, states)).toBe(3);
    expect(fuseMomentumIntoGemm(g, states)).toBe(0);
    expect(inlineOutputIdentities(g)).toBeGreaterThan(0);
    expect(inlineOutputIdentities(g)).toBe(0);
  });

  for (const convWeightGrad of ['unfold-gemm', 'unfold-tall'] as const) {
    it(`small CNN (${convWeightGrad}, Reshape between Gemm and buffer): 3 fused steps give the unfused weights`, async () => {
      const m = buildSmallCnn({ seed: 3 });
      const a = await trainWeights(m, { convWeightGrad, fuseUpdate: false }, 3, 16);
      const b = await trainWeights(m, { convWeightGrad, fuseUpdate: true }, 3, 16);
      let worst = 0;
      for (const k of Object.keys(a)) {
        for (let i = 0; i < a[k].length; i++) worst = Math.max(worst, Math.abs(a[k][i] - b[k][i]) / Math.max(1e-3, Math.abs(a[k][i])));
      }
      console.log(`${convWeightGrad}: worst relative weight difference fused vs unfused after 3 steps ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-4);
      restore = setFormulation({ convWeightGrad, fuseUpdate: true });
      const g = stepGraph(m).model;
      // both convolutions and both fully connected layers
      expect(count(g, momentumGemm)).toBe(4);
    });
  }
});
