// The autodiff functions the training graphs are built with (E2's engine/autodiff). Kept behind these
// types so a caller (or a test) can pass its own implementation explicitly.

import type { Graph } from '../onnx/ir';
import { buildBackward } from '../autodiff/backward';
import { lowerForTraining } from '../autodiff/lower';

export type BackwardFn = (
  graph: Graph,
  opts: { loss: string; wrt: string[]; lossGrad?: string; opset?: number },
) => { graph: Graph; grads: Record<string, string> };

export interface LoweredGraph {
  graph: Graph;
  runningStats: { name: string; updated: string }[];
  dropoutMasks: { input: string; shapeOf: string; ratio: number }[];
}

export type LowerFn = (graph: Graph, opts: { bnMomentum?: number; dropout: 'mask-inputs' | 'identity' }) => LoweredGraph;

let defaultBackward: BackwardFn | null = (g, o) => buildBackward(g, { ...o, addGradOutputs: false });
let defaultLower: LowerFn | null = (g, o) => lowerForTraining(g, o);

export function setAutodiff(fns: { backward?: BackwardFn; lower?: LowerFn }): void {
  if (fns.backward) defaultBackward = fns.backward;
  if (fns.lower) defaultLower = fns.lower;
}

export function getBackward(explicit?: BackwardFn): BackwardFn {
  const f = explicit ?? defaultBackward;
  if (!f) throw new Error('no reverse-mode autodiff available (engine/autodiff not loaded)');
  return f;
}

export function getLower(explicit?: LowerFn): LowerFn {
  const f = explicit ?? defaultLower;
  if (!f) throw new Error('no training-mode lowering available (engine/autodiff not loaded)');
  return f;
}
