// Small CNN for 1x28x28 inputs (the reference workload of PERFORMANCE-NOTES.md):
// conv3x3 32 -> ReLU -> maxpool2 -> conv3x3 64 -> ReLU -> maxpool2 -> fc 128 -> ReLU -> fc 10.
// Convolutions are padded ('same'), so the flattened size is 64 * 7 * 7 = 3136 for 28x28.

import { type Model } from '../onnx/ir';
import { finishModel, startModel } from './common';
import { checkPosInt, checkProb, checkSeed } from './layers';

export interface SmallCnnOptions {
  /** [C, H, W]; default [1, 28, 28]. H and W must be divisible by 2^(number of conv stages). */
  inputShape?: number[];
  /** Output channels of each conv stage. Default [32, 64]. */
  channels?: number[];
  /** Width of the hidden fully connected layer. Default 128. */
  hidden?: number;
  classes?: number;
  /** Dropout before the last layer (0 = none). Default 0. */
  dropout?: number;
  seed?: number;
}

export function buildSmallCnn(opts: SmallCnnOptions = {}): Model {
  const inputShape = opts.inputShape ?? [1, 28, 28];
  if (inputShape.length !== 3) throw new Error(`cnn inputShape must be [C, H, W], got [${inputShape.join(', ')}]`);
  inputShape.forEach((d, i) => checkPosInt(`cnn inputShape[${i}]`, d));
  const channels = (opts.channels ?? [32, 64]).map((c, i) => checkPosInt(`cnn channels[${i}]`, c));
  if (channels.length === 0) throw new Error('cnn channels must list at least one conv stage');
  const hidden = checkPosInt('cnn hidden', opts.hidden ?? 128);
  const classes = checkPosInt('cnn classes', opts.classes ?? 10);
  const dropout = checkProb('cnn dropout', opts.dropout ?? 0);
  const seed = checkSeed(opts.seed ?? 0);
  let [c, h, w] = inputShape;
  const div = 2 ** channels.length;
  if (h % div !== 0 || w % div !== 0) {
    throw new Error(`cnn input ${h}x${w} must be divisible by ${div} (one 2x2 max-pool per conv stage)`);
  }

  const { lb, x } = startModel(seed, inputShape);
  let t = x;
  channels.forEach((oc, i) => {
    t = lb.relu(lb.conv(t, `conv${i + 1}`, { inC: c, outC: oc, k: 3, pad: 1 }));
    t = lb.g.op('MaxPool', [t], { kernel_shape: [2, 2], strides: [2, 2] }, 'pool');
    c = oc;
    h /= 2;
    w /= 2;
  });
  t = lb.g.op('Flatten', [t], { axis: 1 }, 'flat');
  const features = lb.relu(lb.linear(t, 'fc1', c * h * w, hidden), 'features');
  t = lb.dropout(features, dropout);
  const logits = lb.linear(t, 'fc2', hidden, classes);
  return finishModel(lb, {
    arch: 'cnn',
    logits,
    classes,
    features,
    config: { inputShape, channels, hidden, classes, dropout, seed },
  });
}
