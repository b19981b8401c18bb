// Formulation choices for the hot backward kernels, kept in one place so they can be tuned and measured
// (see docs PERFORMANCE-NOTES.md: formulations changed training speed by ~1.7x on this machine kind).

export interface Formulation {
  /**
   * Conv weight gradient:
   * - 'per-offset': unfold (Pad + strided Slice) and one Gemm/MatMul per kernel offset, then stack;
   * - 'im2col': the same slices concatenated into one column matrix and a single Gemm/MatMul;
   * - 'unfold-conv': the column matrix made by ONE depthwise Conv with one-hot kernels (handles pads,
   *   strides and dilations itself), then a batched MatMul per sample summed over the batch;
   * - 'unfold-gemm': the same column matrix, batch moved next to the positions (two Transposes) and ONE
   *   Gemm contracting over batch and positions together (grouped convolutions keep 'unfold-conv');
   * - 'unfold-tall': for 2-D ungrouped convolutions, the batch stacked into one tall image per channel so
   *   the one-hot Conv writes the column matrix already as [C*KK, positions] for ONE Gemm (no transpose
   *   of the columns); other convolutions as 'unfold-conv';
   * - 'shift-gemm': for 2-D ungrouped stride-1 convolutions, no column matrix: one Gemm per kernel offset
   *   on contiguous shifted slices of the padded input flattened over (batch, rows, columns); others as
   *   'unfold-gemm';
   * - 'auto': per convolution, 'unfold-gemm' where the output channels outnumber the output positions
   *   (the per-example partial gradients of 'unfold-conv' would outweigh the column matrix), else
   *   'unfold-conv' (rules/conv.ts autoUnfoldGemm).
   */
  convWeightGrad: 'per-offset' | 'im2col' | 'unfold-conv' | 'unfold-gemm' | 'unfold-tall' | 'shift-gemm' | 'auto';
  /**
   * Conv input gradient:
   * - 'conv-transpose': ConvTranspose of the output gradient with the forward weights;
   * - 'conv': stride-1 convolutions as an ordinary Conv of the output gradient with the weights flipped
   *   and channel-transposed (ORT's Conv kernel is faster than its ConvTranspose); strided ones keep
   *   ConvTranspose;
   * - 'conv-dilated': as 'conv', and strided ones as a Conv on the zero-dilated output gradient.
   */
  convInputGrad: 'conv-transpose' | 'conv' | 'conv-dilated';
  /** ReLU backward: 'greater-cast-mul' (gy * Cast(y > 0)) or 'where' (Where(y > 0, gy, 0)) */
  reluGrad: 'greater-cast-mul' | 'where';
  /**
   * MaxPool backward (both exact with ties):
   * - 'indices-scatter': Indices output + ScatterElements(add) (asking for Indices slows MaxPool's kernel);
   * - 'indices-unpool': Indices + MaxUnpool where windows do not overlap (indices unique), else scatter;
   * - 'window-argmax': for non-overlapping 2-D windows, ArgMax per window + one-hot (others fall back to scatter);
   * - 'window-compare': for non-overlapping 2-D windows, compare the input with the upsampled pooled output
   *   and pick each window's first maximum by a MaxPool over per-position weights (no Indices output, so
   *   the forward MaxPool keeps its fast kernel; other geometries fall back to unpool/scatter).
   */
  maxPoolGrad: 'indices-scatter' | 'indices-unpool' | 'window-argmax' | 'window-compare';
  /**
   * Backward of a lowered training-mode BatchNormalization: 'fused' (one closed-form expression, two
   * reductions: dx = (gy - mean(gy) - xhat * mean(gy * xhat)) * scale * invstd) or 'generic' (the
   * derivative rules of the lowered ops, node by node).
   */
  batchNormGrad: 'fused' | 'generic';
  /**
   * Training-step passes (main/engine/train/fuse-update.ts): SGD momentum fused into the weight-gradient
   * Gemm (C = buffer, beta = momentum) and graph outputs written by their producers instead of Identity copies.
   */
  fuseUpdate: boolean;
  /** MaxPool directly after a ReLU read only by it: apply the ReLU mask on the pooled tensor before scattering */
  fuseReluMaxPool: boolean;
  /**
   * The batched unfold of 'unfold-conv' / 'auto' for ungrouped convolutions, done in slices of input
   * channels so one slice's column matrix holds at most this many bytes per example (0 = one column
   * matrix for all channels). Each weight-gradient entry is the same sums either way; only the peak
   * memory changes (ResNet-18's 32x32 layers: 144 MiB per column matrix at batch 64).
   */
  unfoldChunkBytes: number;
}

export const FORMULATION: Formulation = {
  convWeightGrad: 'auto',
  convInputGrad: 'conv',
  reluGrad: 'greater-cast-mul',
  maxPoolGrad: 'indices-unpool',
  fuseReluMaxPool: true,
  batchNormGrad: 'fused',
  fuseUpdate: true,
  unfoldChunkBytes: 768 * 1024,
};

/** Change formulation choices (benchmarks and tests); returns the previous settings. */
export function setFormulation(f: Partial<Formulation>): Formulation {
  const prev = { ...FORMULATION };
  Object.assign(FORMULATION, f);
  return prev;
}

/** Name prefix of the final Add of a training-mode BatchNormalization lowered by lowerForTraining (rules/norm.ts fuses its backward). */
export const BN_TRAIN_MARK = 'lethe_bn_train_out';
