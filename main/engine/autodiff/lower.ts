// Training-mode lowering: rewrite BatchNormalization and Dropout into standard ops with training
// semantics so that buildBackward can differentiate them and the trainer can update running statistics.
//
// BatchNormalization: batch mean and BIASED variance over (N, spatial) normalise the batch (as PyTorch's
// forward); running statistics are updated like PyTorch with the UNBIASED batch variance:
//   running = running * (1 - m) + batch * m,  m = PyTorch momentum = 1 - ONNX momentum attribute.
// Dropout: y = x * mask / (1 - ratio) with the 0/1 mask a new graph input of x's dtype and shape, so the
// trainer seeds it; 'identity' removes dropout (evaluation).

import { GraphBuilder } from '../onnx/builder';
import { DTYPE_CODE, type DType, type Graph, type Node, attrFloat, cloneGraph, getAttr } from '../onnx/ir';
import { analyzeShapes, isStatic } from '../onnx/shape-infer';
import { AutodiffError } from './backward';
import { BN_TRAIN_MARK } from './formulation';

export interface LowerOptions {
  /** PyTorch-convention momentum (weight of the batch statistic, e.g. 0.1); default: 1 - the node's ONNX momentum attribute (0.9 -> 0.1) */
  bnMomentum?: number;
  dropout: 'mask-inputs' | 'identity';
  /** 'train' (default): batch statistics; 'eval': keep BatchNormalization nodes in inference form (frozen statistics) */
  batchNorm?: 'train' | 'eval';
}

export interface RunningStat {
  /** running statistic read by the graph (initializer or input), e.g. 'bn1.running_mean' */
  name: string;
  /** value holding its updated version after this batch */
  updated: string;
}

export interface DropoutMask {
  /** new graph input (0/1 values, dtype and shape of `shapeOf`) */
  input: string;
  /** the value whose shape the mask has */
  shapeOf: string;
  ratio: number;
}

export interface LoweredGraph {
  graph: Graph;
  runningStats: RunningStat[];
  dropoutMasks: DropoutMask[];
}

export function lowerForTraining(graph: Graph, opts: LowerOptions): LoweredGraph {
  const g = cloneGraph(graph);
  const { types, known } = analyzeShapes(g);
  const names: string[] = [...g.inputs.map((i) => i.name), ...g.initializers.map((t) => t.name)];
  for (const n of g.nodes) names.push(...n.outputs, n.name ?? '');
  for (const o of g.outputs) names.push(o.name);
  const b = new GraphBuilder('', names);
  const runningStats: RunningStat[] = [];
  const dropoutMasks: DropoutMask[] = [];
  const newNodes: Node[] = [];

  for (const node of g.nodes) {
    const where = `${node.op} node '${node.name ?? node.outputs[0]}'`;
    if (node.op === 'BatchNormalization' && (opts.batchNorm ?? 'train') === 'train') {
      const start = b.nodes.length;
      lowerBatchNorm(node, where);
      newNodes.push(...b.nodes.slice(start));
    } else if (node.op === 'Dropout') {
      const start = b.nodes.length;
      lowerDropout(node, where);
      newNodes.push(...b.nodes.slice(start));
    } else newNodes.push(node);
  }

  const out: Graph = {
    ...g,
    nodes: newNodes,
    inputs: [...g.inputs, ...b.inputs],
    initializers: [...g.initializers, ...b.initializers],
  };
  return { graph: out, runningStats, dropoutMasks };

  function dtypeOf(name: string, where: string): DType {
    const t = types.get(name);
    if (!t) throw new AutodiffError(`${where}: unknown value '${name}'`);
    return t.dtype;
  }

  function lowerBatchNorm(node: Node, where: string): void {
    const [X, scale, bias, rMean, rVar] = node.inputs;
    const tx = types.get(X);
    if (!tx?.shape) throw new AutodiffError(`${where}: the rank of '${X}' is unknown`);
    const rank = tx.shape.length;
    if (rank < 2) throw new AutodiffError(`${where}: input must have rank >= 2`);
    const dt = tx.dtype;
    const C = tx.shape[1];
    if (typeof C !== 'number') throw new AutodiffError(`${where}: the channel dim must be static`);
    const eps = attrFloat(node, 'epsilon', 1e-5);
    const m = opts.bnMomentum ?? 1 - attrFloat(node, 'momentum', 0.9);
    if (!(m >= 0 && m <= 1)) throw new AutodiffError(`${where}: momentum ${m} must be in [0, 1]`);
    const axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
    const sc = (v: number) => b.constFill(dt, [], v);
    const axesC = b.constI64(axes);
    const chan = b.constI64(Array.from({ length: rank - 2 }, (_, i) => i + 1));
    // 1/n and n/(n-1), n = elements per channel (constant when static, from Size(X) otherwise)
    let invN: string;
    let bessel: string;
    const red = axes.map((a) => tx.shape![a]);
    if (isStatic(red)) {
      const n = red.reduce((a, c) => a * c, 1);
      if (n < 2) throw new AutodiffError(`${where}: batch statistics need more than one value per channel (got ${n})`);
      invN = sc(1 / n);
      bessel = sc(n / (n - 1));
    } else {
      const nF = b.op('Div', [b.op('Cast', [b.op('Size', [X])], { to: DTYPE_CODE[dt] }), sc(C)], {}, 'bn_n');
      invN = b.op('Reciprocal', [nF]);
      bessel = b.op('Div', [nF, b.op('Sub', [nF, sc(1)])]);
    }
    const mean = b.op('Mul', [b.op('ReduceSum', [X, axesC], { keepdims: 1 }), invN], {}, 'bn_mean');
    const xmu = b.op('Sub', [X, mean], {}, 'bn_xmu');
    const varB = b.op('Mul', [b.op('ReduceSum', [b.op('Mul', [xmu, xmu]), axesC], { keepdims: 1 }), invN], {}, 'bn_var');
    const inv = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [varB, sc(eps)])])], {}, 'bn_invstd');
    const k = b.op('Mul', [inv, b.op('Unsqueeze', [scale, chan])]);
    const out = b.addNode('Add', [b.op('Mul', [xmu, k]), b.op('Unsqueeze', [bias, chan])], [node.outputs[0]]);
    // marks the output node for the fused BatchNorm backward (rules/norm.ts, fusedBatchNormGrad)
    out.name = b.fresh(BN_TRAIN_MARK);

    // running statistics (not on the loss path, so backward ignores them)
    const statDt = dtypeOf(rMean, where);
    const toStat = (v: string) => (statDt === dt ? v : b.op('Cast', [v], { to: DTYPE_CODE[statDt] }));
    const flat = b.constI64([C]);
    const bm = toStat(b.op('Reshape', [mean, flat]));
    const bv = toStat(b.op('Reshape', [b.op('Mul', [varB, bessel]), flat]));
    const keep = b.constFill(statDt, [], 1 - m);
    const take = b.constFill(statDt, [], m);
    const upd = (running: string, batch: string, outName: string | undefined, hint: string): string => {
      const name = outName || b.fresh(hint);
      b.addNode('Add', [b.op('Mul', [running, keep]), b.op('Mul', [batch, take])], [name]);
      return name;
    };
    runningStats.push({ name: rMean, updated: upd(rMean, bm, node.outputs[1], `${rMean}_updated`) });
    runningStats.push({ name: rVar, updated: upd(rVar, bv, node.outputs[2], `${rVar}_updated`) });
  }

  function lowerDropout(node: Node, where: string): void {
    // lowering means training semantics whatever the node's training_mode input says
    const [X, ratioIn] = node.inputs;
    let ratio = getAttr(node, 'ratio', 'float') ?? 0.5;
    if (ratioIn) {
      const k = known.get(ratioIn);
      if (!k || typeof k.values[0] !== 'number') throw new AutodiffError(`${where}: the dropout ratio must be a constant`);
      ratio = k.values[0] as number;
    }
    if (!(ratio >= 0 && ratio < 1)) throw new AutodiffError(`${where}: dropout ratio ${ratio} must be in [0, 1)`);
    const Y = node.outputs[0];
    const maskOut = node.outputs[1];
    if (opts.dropout === 'identity' || ratio === 0) {
      b.addNode('Identity', [X], [Y]);
      if (maskOut) b.addNode('ConstantOfShape', [b.op('Shape', [X])], [maskOut], { value: { type: 'tensor', value: { dtype: 'bool', dims: [1], data: new Uint8Array([1]) } } });
      return;
    }
    const t = types.get(X);
    if (!t?.shape) throw new AutodiffError(`${where}: the shape of '${X}' is unknown`);
    const mask = b.fresh(`dropout_mask_${Y}`);
    b.input(mask, t.dtype, [...t.shape]);
    b.addNode('Mul', [b.op('Mul', [X, mask]), b.constFill(t.dtype, [], 1 / (1 - ratio))], [Y]);
    if (maskOut) b.addNode('Cast', [mask], [maskOut], { to: DTYPE_CODE.bool });
    dropoutMasks.push({ input: mask, shapeOf: X, ratio });
  }
}
