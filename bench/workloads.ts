// The reference workloads of ../shared/docs/PERFORMANCE-NOTES.md, built with Lethe's architectures.
// The PyTorch side (torch_bench.py) rebuilds the same models from the 'lethe.arch'/'lethe.config'
// metadata with test/parity/py/lethe_models.py.

import { type Model } from '../main/engine/onnx/ir';
import { buildMlp, buildResnet18Cifar, buildSmallCnn } from '../main/engine/models';

export interface Workload {
  name: string;
  label: string;
  batch: number;
  build: () => Model;
  /** goals from issue 10 (training speed): Lethe / PyTorch samples/s, forward and training */
  goals: { forward: number; train: number | null };
}

export const WORKLOADS: Workload[] = [
  { name: 'mlp', label: 'MLP 784-256-128-10', batch: 128, build: () => buildMlp({ seed: 0 }), goals: { forward: 1.5, train: 1.0 } },
  { name: 'cnn', label: 'small CNN 1x28x28', batch: 128, build: () => buildSmallCnn({ seed: 0 }), goals: { forward: 1.5, train: 1.2 } },
  { name: 'resnet18', label: 'ResNet-18-CIFAR', batch: 64, build: () => buildResnet18Cifar({ seed: 0 }), goals: { forward: 1.5, train: 1.0 } },
];

export function torchSpec(w: Workload, m: Model): { name: string; arch: string; config: unknown; batch: number } {
  return { name: w.name, arch: m.metadata['lethe.arch'], config: JSON.parse(m.metadata['lethe.config']), batch: w.batch };
}
