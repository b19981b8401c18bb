// Tiny Vision Transformer (Dosovitskiy et al. 2021, pre-norm blocks as in timm / torchvision):
// patch embedding (Conv k = stride = patch) -> class token + learned position embedding ->
// depth x [x + MHSA(LN(x)); x + MLP(LN(x))] -> LN -> class token -> Gemm head.
// Attention is written with MatMul/Softmax/Reshape/Transpose, GELU with Erf, LayerNormalization is
// the opset-17 op. Linear layers inside blocks act on [N, T, D] and use MatMul with weights stored
// [in, out] (the layout torch.onnx.export emits for nn.Linear on 3-D inputs); the head is a Gemm with
// PyTorch's [out, in] layout.

import { type Model } from '../onnx/ir';
import { finishModel, startModel } from './common';
import { type LayerBuilder, checkPosInt, checkProb, checkSeed } from './layers';
import { fillTensor } from './init';

export interface VitTinyOptions {
  /** [C, H, W]; default [3, 32, 32]. H and W must be multiples of `patch`. */
  inputShape?: number[];
  patch?: number;
  /** Embedding width D. Default 192 (ViT-Ti). */
  dim?: number;
  /** Number of transformer blocks. Default 6. */
  depth?: number;
  /** Attention heads; must divide `dim`. Default 3. */
  heads?: number;
  /** MLP hidden width = mlpRatio * dim. Default 4. */
  mlpRatio?: number;
  classes?: number;
  /** Dropout after attention/MLP projections and on the embeddings (0 = none). Default 0. */
  dropout?: number;
  seed?: number;
}

const LN_EPS = 1e-6;

function attention(lb: LayerBuilder, x: string, name: string, dim: number, heads: number): string {
  const g = lb.g;
  const hd = dim / heads;
  const split = g.constI64([0, 0, heads, hd]);
  const q = g.op('Transpose', [g.op('Reshape', [lb.linearMatMul(x, `${name}.q`, dim, dim), split])], { perm: [0, 2, 1, 3] }, 'q');
  const kT = g.op('Transpose', [g.op('Reshape', [lb.linearMatMul(x, `${name}.k`, dim, dim), split])], { perm: [0, 2, 3, 1] }, 'kT');
  const v = g.op('Transpose', [g.op('Reshape', [lb.linearMatMul(x, `${name}.v`, dim, dim), split])], { perm: [0, 2, 1, 3] }, 'v');
  const scores = g.op('Mul', [g.op('MatMul', [q, kT]), g.constF(1 / Math.sqrt(hd))], {}, 'scores');
  const attn = g.op('Softmax', [scores], { axis: -1 }, 'attn');
  const ctx = g.op('Transpose', [g.op('MatMul', [attn, v])], { perm: [0, 2, 1, 3] }, 'ctx');
  const merged = g.op('Reshape', [ctx, g.constI64([0, 0, dim])], {}, 'ctx_merged');
  return lb.linearMatMul(merged, `${name}.proj`, dim, dim);
}

export function buildVitTiny(opts: VitTinyOptions = {}): Model {
  const inputShape = opts.inputShape ?? [3, 32, 32];
  if (inputShape.length !== 3) throw new Error(`vit inputShape must be [C, H, W], got [${inputShape.join(', ')}]`);
  inputShape.forEach((d, i) => checkPosInt(`vit inputShape[${i}]`, d));
  const patch = checkPosInt('vit patch', opts.patch ?? 4);
  const dim = checkPosInt('vit dim', opts.dim ?? 192);
  const depth = checkPosInt('vit depth', opts.depth ?? 6);
  const heads = checkPosInt('vit heads', opts.heads ?? 3);
  const mlpRatio = checkPosInt('vit mlpRatio', opts.mlpRatio ?? 4);
  const classes = checkPosInt('vit classes', opts.classes ?? 10);
  const dropout = checkProb('vit dropout', opts.dropout ?? 0);
  const seed = checkSeed(opts.seed ?? 0);
  const [c, h, w] = inputShape;
  if (h % patch !== 0 || w % patch !== 0) throw new Error(`vit input ${h}x${w} is not divisible by patch ${patch}`);
  if (dim % heads !== 0) throw new Error(`vit dim ${dim} is not divisible by heads ${heads}`);
  const nPatches = (h / patch) * (w / patch);
  const tokens = nPatches + 1;
  const hidden = dim * mlpRatio;

  const { lb, x } = startModel(seed, inputShape);
  const g = lb.g;
  const emb = lb.conv(x, 'patch_embed.proj', { inC: c, outC: dim, k: patch, stride: patch });
  const seq = g.op('Transpose', [g.op('Reshape', [emb, g.constI64([0, dim, nPatches])])], { perm: [0, 2, 1] }, 'patches');
  // class token broadcast to the batch: (first patch * 0) + cls uses only Slice/Mul/Add (all with
  // derivative rules), instead of Expand on a runtime shape
  const cls = g.initializer('cls_token', fillTensor([1, 1, dim], 0));
  const first = g.op('Slice', [seq, g.constI64([0]), g.constI64([1]), g.constI64([1])], {}, 'first_patch');
  const clsB = g.op('Add', [g.op('Mul', [first, g.constF(0)]), cls], {}, 'cls_batch');
  const pos = g.initializer('pos_embed', lb.init.truncNormal('pos_embed', [1, tokens, dim], 0.02));
  let t = g.op('Add', [g.op('Concat', [clsB, seq], { axis: 1 }), pos], {}, 'embedded');
  t = lb.dropout(t, dropout);

  for (let i = 0; i < depth; i++) {
    const name = `blocks.${i}`;
    const a = lb.dropout(attention(lb, lb.layerNorm(t, `${name}.norm1`, dim, LN_EPS), `${name}.attn`, dim, heads), dropout);
    t = g.op('Add', [t, a], {}, `${name.replace('.', '_')}_res1`);
    let m = lb.linearMatMul(lb.layerNorm(t, `${name}.norm2`, dim, LN_EPS), `${name}.mlp.fc1`, dim, hidden);
    m = lb.dropout(lb.linearMatMul(lb.gelu(m), `${name}.mlp.fc2`, hidden, dim), dropout);
    t = g.op('Add', [t, m], {}, `${name.replace('.', '_')}_res2`);
  }
  t = lb.layerNorm(t, 'norm', dim, LN_EPS);
  // class token: Slice + Squeeze rather than Gather, so the backward pass needs no static batch size
  const clsOut = g.op('Slice', [t, g.constI64([0]), g.constI64([1]), g.constI64([1])], {}, 'cls_out');
  const features = g.op('Squeeze', [clsOut, g.constI64([1])], {}, 'features');
  const logits = lb.linear(features, 'head', dim, classes);
  return finishModel(lb, {
    arch: 'vit',
    logits,
    classes,
    features,
    config: { inputShape, patch, dim, depth, heads, mlpRatio, classes, dropout, seed },
  });
}
