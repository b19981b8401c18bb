// Built-in architectures and imported-model recognition.
//
// Every builder returns an opset-17 Model with input 'input' ([N, ...]) float32, output 'logits'
// [N, classes], weights as initializers named like PyTorch's state_dict and initialised with a seeded
// PyTorch-default scheme (init.ts), BatchNormalization/Dropout in inference form (training lowering
// applies), and metadata: 'lethe.arch', 'lethe.config' (JSON of the resolved options) and
// 'lethe.features' (the value name of the penultimate features [N, F]).

import { type Model } from '../onnx/ir';
import { buildMlp, type MlpOptions } from './mlp';
import { buildSmallCnn, type SmallCnnOptions } from './cnn';
import { buildResnet18Cifar, type Resnet18CifarOptions } from './resnet';
import { buildVitTiny, type VitTinyOptions } from './vit';

export { buildMlp, buildSmallCnn, buildResnet18Cifar, buildVitTiny };
export type { MlpOptions, SmallCnnOptions, Resnet18CifarOptions, VitTinyOptions };
export { FEATURES_KEY, ARCH_KEY, CONFIG_KEY, INPUT_NAME, OUTPUT_NAME } from './common';
export { detectTrainable, normalizeImportedModel, normalizeTrainingExport, prepareImportedModel, type TrainableReport, type DetectOptions } from './import';
export { Rng, TorchInit } from './init';

export const ARCHITECTURES = ['mlp', 'cnn', 'resnet18', 'vit'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export type ArchOptions = MlpOptions & SmallCnnOptions & Resnet18CifarOptions & VitTinyOptions;

/** Build a built-in architecture by name (for the CLI and the UI). */
export function buildArchitecture(arch: string, opts: Record<string, unknown> = {}): Model {
  switch (arch) {
    case 'mlp':
      return buildMlp(opts as MlpOptions);
    case 'cnn':
      return buildSmallCnn(opts as SmallCnnOptions);
    case 'resnet18':
      return buildResnet18Cifar(opts as Resnet18CifarOptions);
    case 'vit':
      return buildVitTiny(opts as VitTinyOptions);
    default:
      throw new Error(`unknown architecture '${arch}' (expected one of: ${ARCHITECTURES.join(', ')})`);
  }
}
