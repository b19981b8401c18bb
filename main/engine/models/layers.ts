// Layer helpers shared by the built-in architectures. Parameter names follow PyTorch's state_dict
// naming ('layer1.0.conv1.weight', 'bn1.running_mean', ...) so a model built here maps one-to-one onto
// the same model written in PyTorch (the parity tests rely on it).

import { GraphBuilder, f } from '../onnx/builder';
import { type Tensor } from '../onnx/ir';
import { TorchInit, fillTensor } from './init';

export class LayerBuilder {
  readonly g = new GraphBuilder();
  readonly init: TorchInit;

  constructor(seed: number) {
    this.init = new TorchInit(seed);
  }

  private param(name: string, t: Tensor): string {
    return this.g.initializer(name, t);
  }

  /** y = x W^T + b with W [out, in] (PyTorch layout), as one Gemm. x must be 2-D. */
  linear(x: string, name: string, inF: number, outF: number, bias = true): string {
    const w = this.param(`${name}.weight`, this.init.weight(`${name}.weight`, [outF, inF]));
    const inputs = [x, w];
    if (bias) inputs.push(this.param(`${name}.bias`, this.init.bias(`${name}.bias`, outF, inF)));
    return this.g.op('Gemm', inputs, { transB: 1 }, name.replace(/\./g, '_'));
  }

  /**
   * y = x W + b with W stored [in, out] for MatMul on rank-3 activations (the layout torch.onnx.export
   * produces for nn.Linear on 3-D inputs). Values are drawn exactly as for the PyTorch layout and
   * transposed, so the distribution matches nn.Linear.
   */
  linearMatMul(x: string, name: string, inF: number, outF: number): string {
    const wt = this.init.weight(`${name}.weight`, [outF, inF]).data as Float32Array;
    const w = new Float32Array(inF * outF);
    for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) w[i * outF + o] = wt[o * inF + i];
    const wName = this.param(`${name}.weight`, { dtype: 'float32', dims: [inF, outF], data: w });
    const bName = this.param(`${name}.bias`, this.init.bias(`${name}.bias`, outF, inF));
    const hint = name.replace(/\./g, '_');
    const mm = this.g.op('MatMul', [x, wName], {}, `${hint}_mm`);
    return this.g.op('Add', [mm, bName], {}, hint);
  }

  conv(
    x: string,
    name: string,
    o: { inC: number; outC: number; k: number; stride?: number; pad?: number; groups?: number; bias?: boolean },
  ): string {
    const groups = o.groups ?? 1;
    const dims = [o.outC, o.inC / groups, o.k, o.k];
    const w = this.param(`${name}.weight`, this.init.weight(`${name}.weight`, dims));
    const inputs = [x, w];
    if (o.bias ?? true) inputs.push(this.param(`${name}.bias`, this.init.bias(`${name}.bias`, o.outC, (o.inC / groups) * o.k * o.k)));
    const pad = o.pad ?? 0;
    const stride = o.stride ?? 1;
    return this.g.op(
      'Conv',
      inputs,
      { kernel_shape: [o.k, o.k], strides: [stride, stride], pads: [pad, pad, pad, pad], dilations: [1, 1], group: groups },
      name.replace(/\./g, '_'),
    );
  }

  /** BatchNormalization in inference form (running statistics); training lowering turns it into batch statistics. */
  batchNorm(x: string, name: string, c: number, eps = 1e-5, momentum = 0.1): string {
    const scale = this.param(`${name}.weight`, fillTensor([c], 1));
    const bias = this.param(`${name}.bias`, fillTensor([c], 0));
    const mean = this.param(`${name}.running_mean`, fillTensor([c], 0));
    const v = this.param(`${name}.running_var`, fillTensor([c], 1));
    // ONNX momentum is the weight of the OLD running value: PyTorch momentum 0.1 == ONNX 0.9
    return this.g.op('BatchNormalization', [x, scale, bias, mean, v], { epsilon: f(eps), momentum: f(1 - momentum) }, name.replace(/\./g, '_'));
  }

  layerNorm(x: string, name: string, d: number, eps: number): string {
    const scale = this.param(`${name}.weight`, fillTensor([d], 1));
    const bias = this.param(`${name}.bias`, fillTensor([d], 0));
    return this.g.op('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: f(eps) }, name.replace(/\./g, '_'));
  }

  relu(x: string, hint?: string): string {
    return this.g.op('Relu', [x], {}, hint);
  }

  /** Exact GELU, 0.5 x (1 + erf(x / sqrt 2)), from standard ops (ONNX Gelu only exists from opset 20). */
  gelu(x: string): string {
    const g = this.g;
    const scaled = g.op('Div', [x, g.constF(Math.SQRT2)]);
    const erf = g.op('Erf', [scaled]);
    const onePlus = g.op('Add', [erf, g.constF(1)]);
    const half = g.op('Mul', [x, g.constF(0.5)]);
    return g.op('Mul', [half, onePlus], {}, 'gelu');
  }

  /** Dropout in inference form (ratio as an input constant); nothing is emitted for p = 0. */
  dropout(x: string, p: number): string {
    if (p <= 0) return x;
    return this.g.op('Dropout', [x, this.g.constF(p)], {}, 'dropout');
  }
}

// ---------- option checks: bad configurations fail with a message naming the option ----------

export function checkPosInt(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`${what} must be a positive integer, got ${String(v)}`);
  return v;
}

export function checkProb(what: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new Error(`${what} must be a number in [0, 1), got ${String(v)}`);
  return v;
}

export function checkSeed(v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`seed must be a non-negative integer, got ${String(v)}`);
  return v;
}
