// Multi-layer perceptron: Flatten -> [Gemm -> ReLU (-> Dropout)] x hidden -> Gemm.
// Default: 784-256-128-10 on [N, 1, 28, 28] images (the reference workload of PERFORMANCE-NOTES.md).

import { type Model } from '../onnx/ir';
import { finishModel, startModel } from './common';
import { checkPosInt, checkProb, checkSeed } from './layers';

export interface MlpOptions {
  /** Per-example input shape without the batch dimension: [features] or [C, H, W] (flattened). Default [1, 28, 28]. */
  inputShape?: number[];
  /** Hidden layer widths. Default [256, 128]. */
  hidden?: number[];
  /** Number of classes. Default 10. */
  classes?: number;
  /** Dropout probability after each hidden ReLU (0 = no Dropout node). Default 0. */
  dropout?: number;
  seed?: number;
}

export function buildMlp(opts: MlpOptions = {}): Model {
  const inputShape = (opts.inputShape ?? [1, 28, 28]).map((d, i) => checkPosInt(`mlp inputShape[${i}]`, d));
  if (inputShape.length === 0) throw new Error('mlp inputShape must have at least one dimension');
  const hidden = (opts.hidden ?? [256, 128]).map((d, i) => checkPosInt(`mlp hidden[${i}]`, d));
  const classes = checkPosInt('mlp classes', opts.classes ?? 10);
  const dropout = checkProb('mlp dropout', opts.dropout ?? 0);
  const seed = checkSeed(opts.seed ?? 0);

  const { lb, x } = startModel(seed, inputShape);
  let h = lb.g.op('Flatten', [x], { axis: 1 }, 'flat');
  let width = inputShape.reduce((a, b) => a * b, 1);
  let features = h;
  hidden.forEach((w, i) => {
    h = lb.relu(lb.linear(h, `fc${i + 1}`, width, w), i === hidden.length - 1 ? 'features' : undefined);
    features = h; // before Dropout: features are read in evaluation
    h = lb.dropout(h, dropout);
    width = w;
  });
  const logits = lb.linear(h, `fc${hidden.length + 1}`, width, classes);
  return finishModel(lb, {
    arch: 'mlp',
    logits,
    classes,
    features,
    config: { inputShape, hidden, classes, dropout, seed },
  });
}
