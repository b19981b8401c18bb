// ResNet-18, CIFAR variant (He et al. 2016; the variant used throughout the unlearning literature):
// 3x3 stride-1 stem without max-pool, four stages of two BasicBlocks (64, 128, 256, 512 channels),
// 1x1 stride-2 convolution + BN shortcuts where the shape changes, GlobalAveragePool, Flatten, Gemm.
// BatchNormalization nodes are in inference form; training lowering switches them to batch statistics.

import { type Model } from '../onnx/ir';
import { finishModel, startModel } from './common';
import { type LayerBuilder, checkPosInt, checkSeed } from './layers';

export interface Resnet18CifarOptions {
  /** [C, H, W]; default [3, 32, 32]. */
  inputShape?: number[];
  classes?: number;
  /** Channels of the first stage; later stages double it. Default 64 (ResNet-18); smaller for quick tests. */
  width?: number;
  /** BasicBlocks per stage. Default [2, 2, 2, 2] (ResNet-18). */
  blocks?: number[];
  seed?: number;
}

function basicBlock(lb: LayerBuilder, x: string, name: string, inC: number, outC: number, stride: number): string {
  let t = lb.conv(x, `${name}.conv1`, { inC, outC, k: 3, stride, pad: 1, bias: false });
  t = lb.relu(lb.batchNorm(t, `${name}.bn1`, outC));
  t = lb.conv(t, `${name}.conv2`, { inC: outC, outC, k: 3, pad: 1, bias: false });
  t = lb.batchNorm(t, `${name}.bn2`, outC);
  let shortcut = x;
  if (stride !== 1 || inC !== outC) {
    shortcut = lb.conv(x, `${name}.downsample.0`, { inC, outC, k: 1, stride, bias: false });
    shortcut = lb.batchNorm(shortcut, `${name}.downsample.1`, outC);
  }
  return lb.relu(lb.g.op('Add', [t, shortcut], {}, `${name.replace(/\./g, '_')}_sum`));
}

export function buildResnet18Cifar(opts: Resnet18CifarOptions = {}): Model {
  const inputShape = opts.inputShape ?? [3, 32, 32];
  if (inputShape.length !== 3) throw new Error(`resnet18 inputShape must be [C, H, W], got [${inputShape.join(', ')}]`);
  inputShape.forEach((d, i) => checkPosInt(`resnet18 inputShape[${i}]`, d));
  const classes = checkPosInt('resnet18 classes', opts.classes ?? 10);
  const width = checkPosInt('resnet18 width', opts.width ?? 64);
  const blocks = (opts.blocks ?? [2, 2, 2, 2]).map((b, i) => checkPosInt(`resnet18 blocks[${i}]`, b));
  if (blocks.length === 0) throw new Error('resnet18 blocks must list at least one stage');
  const seed = checkSeed(opts.seed ?? 0);

  const { lb, x } = startModel(seed, inputShape);
  let t = lb.conv(x, 'conv1', { inC: inputShape[0], outC: width, k: 3, pad: 1, bias: false });
  t = lb.relu(lb.batchNorm(t, 'bn1', width));
  let c = width;
  blocks.forEach((n, s) => {
    const outC = width * 2 ** s;
    for (let b = 0; b < n; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      t = basicBlock(lb, t, `layer${s + 1}.${b}`, c, outC, stride);
      c = outC;
    }
  });
  t = lb.g.op('GlobalAveragePool', [t], {}, 'avgpool');
  const features = lb.g.op('Flatten', [t], { axis: 1 }, 'features');
  const logits = lb.linear(features, 'fc', c, classes);
  return finishModel(lb, {
    arch: 'resnet18',
    logits,
    classes,
    features,
    config: { inputShape, classes, width, blocks, seed },
  });
}
