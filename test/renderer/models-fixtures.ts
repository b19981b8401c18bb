// Shared fixtures of the Models page tests (test/renderer/models-*.test.ts).
import type { ArchitectureInfo, DatasetSummary, ModelDetail, ModelSummary } from '../../preload/api';
// the one recipe definition (what the backend serves as models.architectures' and models.recipe's defaults)
import { recipeFor } from '../../main/engine/train/recipe';

export const ARCHS: ArchitectureInfo[] = [
  { name: 'mlp', title: 'MLP', description: 'Multi-layer perceptron.', defaults: { inputShape: [1, 28, 28], classes: 10 }, recipe: recipeFor('mlp') },
  { name: 'cnn', title: 'Small CNN', description: 'Two conv stages.', defaults: { inputShape: [1, 28, 28], classes: 10 }, recipe: recipeFor('cnn') },
  { name: 'resnet18', title: 'ResNet-18 (CIFAR)', description: 'ResNet.', defaults: { inputShape: [3, 32, 32], classes: 10 }, recipe: recipeFor('resnet18') },
  { name: 'vit', title: 'Tiny ViT', description: 'ViT.', defaults: { inputShape: [3, 32, 32], classes: 10 }, recipe: recipeFor('vit') },
];

export function summary(over: Partial<ModelSummary> = {}): ModelSummary {
  return {
    id: 'fashion-cnn',
    name: 'fashion-cnn',
    source: 'builtin',
    arch: 'cnn',
    inputShape: [1, 28, 28],
    classes: 10,
    parameterCount: 421_642,
    sha256: 'ab'.repeat(32),
    sizeBytes: 1_690_000,
    createdAt: '2026-11-24T10:00:00.000Z',
    trained: false,
    testAccuracy: null,
    dataset: null,
    ...over,
  };
}

export function detail(over: Partial<ModelDetail> = {}): ModelDetail {
  return {
    ...summary(),
    archOptions: { inputShape: [1, 28, 28], classes: 10, seed: 0 },
    opset: 17,
    producer: 'lethe',
    inputs: [{ name: 'input', dtype: 'float32', shape: ['N', 1, 28, 28] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: ['N', 10] }],
    trainable: [
      { name: 'conv1.weight', dtype: 'float32', dims: [32, 1, 3, 3], elements: 288, reason: 'weight of Conv' },
      { name: 'conv1.bias', dtype: 'float32', dims: [32], elements: 32, reason: 'bias of Conv' },
    ],
    frozen: [{ name: 'shape_const', dtype: 'int64', dims: [2], elements: 2, reason: 'integer shape tensor' }],
    overrides: { trainable: [], frozen: [] },
    warnings: [],
    provenance: { kind: 'created', importedFrom: null, trainedFrom: null },
    training: null,
    unlearning: null,
    ...over,
  };
}

export function dataset(over: Partial<DatasetSummary> = {}): DatasetSummary {
  return {
    id: 'ds-1',
    name: 'Fashion-MNIST',
    kind: 'image',
    count: 70_000,
    classNames: Array.from({ length: 10 }, (_, i) => `c${i}`),
    sampleShape: [28, 28, 1],
    counts: { train: [], test: [], totals: { train: 60_000, test: 10_000, all: 70_000 } },
    splitOrigin: 'stratified',
    format: 'builtin',
    importedAt: '2026-11-24T10:00:00.000Z',
    ...over,
  };
}
