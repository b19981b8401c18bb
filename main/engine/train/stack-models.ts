// N copies of one small architecture stacked into ONE model whose layers each serve all N members at
// once (the 'grouped' layout of multi-trainer.ts): convolutions become one grouped Conv (group = N·g),
// fully connected layers one batched MatMul over a leading member axis. Each member keeps its own
// weights; stacked parameters are the members' tensors concatenated in member order, so member i's
// values are a contiguous slice of each stacked parameter (StackedModel.parts).
//
// Supported ops (what buildSmallCnn and buildMlp produce): Conv, MaxPool, AveragePool, Relu, Sigmoid,
// Tanh, LeakyRelu, Identity, Flatten (axis 1), Gemm (transA 0, alpha = beta = 1). Every initializer must
// be a float32 parameter of a Conv or Gemm. Anything else is refused with the op named.
//
// Value layouts inside the stacked graph (B = per-member batch, C = one member's channels):
//   input   [N, B, ...example]              the members' batches one after another (the data input)
//   'C'     [B, N·C, H, W]                  channel-stacked (Conv, pooling, activations)
//   'M'     [N, B, F]                       member-stacked (after Flatten; Gemm, activations)
// Output `logits` is [N·B, classes] in member order (member i's rows are i·B .. i·B+B−1), so labels
// [N·B] are the members' label vectors concatenated.

import { type Graph, type Model, type NamedTensor, attrFloat, attrInt, numel } from '../onnx/ir';
import { GraphBuilder } from '../onnx/builder';
import { inferShapes } from '../onnx/shape-infer';

export interface StackedPart {
  member: number;
  /** the member's initializer name */
  name: string;
  dims: number[];
  /** offset (in elements) of the member's values in the stacked parameter */
  offset: number;
  length: number;
}

export interface StackedModel {
  model: Model;
  members: number;
  /** stacked parameter name -> the members' slices (member order) */
  parts: Map<string, StackedPart[]>;
  /** one member's example shape (without batch) */
  exampleShape: number[];
  classes: number;
}

const UNARY = new Set(['Relu', 'Sigmoid', 'Tanh', 'LeakyRelu', 'Identity']);
const POOL = new Set(['MaxPool', 'AveragePool']);

function sameArchitecture(a: Graph, b: Graph, i: number): void {
  const sig = (g: Graph) =>
    JSON.stringify({
      n: g.nodes.map((n) => [n.op, n.domain ?? '', n.inputs, n.outputs, n.attrs]),
      i: g.inputs,
      o: g.outputs,
      w: g.initializers.map((t) => [t.name, t.dtype, t.dims]),
    });
  if (sig(a) !== sig(b)) throw new Error(`member ${i} does not have member 0's architecture (same nodes, names and shapes are required to stack models)`);
}

/** Stack N same-architecture models into one (see the header); throws on unsupported graphs. */
export function stackModels(models: Model[]): StackedModel {
  const N = models.length;
  if (N < 1) throw new Error('stacking needs at least one model');
  const g0 = models[0].graph;
  models.forEach((m, i) => i > 0 && sameArchitecture(g0, m.graph, i));
  const inits = new Map(g0.initializers.map((t) => [t.name, t]));
  const data = g0.inputs.filter((v) => !inits.has(v.name));
  if (data.length !== 1) throw new Error(`stacking needs models with one data input, this one has ${data.length}`);
  const inp = data[0];
  const ex = inp.shape?.slice(1) ?? [];
  if (!inp.shape || ex.some((d) => typeof d !== 'number')) throw new Error(`stacking needs a fixed example shape, the input is [${inp.shape?.join(', ') ?? '?'}]`);
  const exampleShape = ex as number[];
  if (g0.outputs.length < 1) throw new Error('the model has no outputs');
  const types = inferShapes(g0, { [inp.name]: [1, ...exampleShape] });
  const shapeOf = (v: string): number[] => {
    const s = types.get(v)?.shape;
    if (!s || s.some((d) => typeof d !== 'number')) throw new Error(`cannot determine the shape of '${v}'`);
    return s as number[];
  };
  for (const t of g0.initializers) if (t.dtype !== 'float32') throw new Error(`stacking supports float32 parameters only ('${t.name}' is ${t.dtype})`);

  const b = new GraphBuilder('', [inp.name, ...g0.nodes.flatMap((n) => [...n.inputs, ...n.outputs]), ...g0.initializers.map((t) => t.name)]);
  b.input(inp.name, 'float32', [N, 'B', ...exampleShape]);
  const parts = new Map<string, StackedPart[]>();
  const stackParam = (name: string, dims: number[]): string => {
    if (parts.has(name)) throw new Error(`parameter '${name}' is used by more than one node; stacking needs one use per parameter`);
    const per = numel(inits.get(name)!.dims);
    const d = new Float32Array(per * N);
    const ps: StackedPart[] = models.map((m, i) => {
      const t = m.graph.initializers.find((x) => x.name === name) as NamedTensor;
      d.set(t.data as Float32Array, i * per);
      return { member: i, name, dims: [...t.dims], offset: i * per, length: per };
    });
    parts.set(name, ps);
    b.initializer(name, { dtype: 'float32', dims, data: d });
    return name;
  };
  const param = (name: string, node: string) => {
    if (!inits.has(name)) throw new Error(`${node}: '${name}' must be an initializer (a parameter) to stack the model`);
    return inits.get(name)!;
  };

  type Layout = 'I' | 'C' | 'M';
  const vals = new Map<string, { v: string; layout: Layout }>([[inp.name, { v: inp.name, layout: exampleShape.length === 1 ? 'M' : 'I' }]]);
  const get = (n: string) => {
    const x = vals.get(n);
    if (!x) throw new Error(`stacking: value '${n}' is not produced by a supported node`);
    return x;
  };
  const toC = (n: string): string => {
    const x = get(n);
    if (x.layout === 'C') return x.v;
    if (x.layout === 'M') throw new Error(`stacking: '${n}' is flat ([N, B, F]) where a channel layout is needed`);
    const [c, ...sp] = exampleShape;
    const perm = [1, 0, ...exampleShape.map((_, k) => k + 2)];
    return b.op('Reshape', [b.op('Transpose', [x.v], { perm }, 'stk_bn'), b.constI64([-1, N * c, ...sp])], {}, 'stk_channels');
  };
  for (const n of g0.nodes) {
    if (n.domain && n.domain !== 'ai.onnx') throw new Error(`stacking does not support ${n.domain}.${n.op}`);
    const out = n.outputs[0];
    const what = `${n.op} node '${n.name ?? out}'`;
    if (n.op === 'Conv') {
      const w = param(n.inputs[1], what);
      const x = toC(n.inputs[0]);
      const ins = [x, stackParam(w.name, [N * w.dims[0], ...w.dims.slice(1)])];
      if (n.inputs[2]) ins.push(stackParam(param(n.inputs[2], what).name, [N * w.dims[0]]));
      if (n.attrs.auto_pad && n.attrs.auto_pad.type === 'string' && n.attrs.auto_pad.value !== 'NOTSET') throw new Error(`${what}: auto_pad is not supported for stacking`);
      const attrs = { ...n.attrs, group: { type: 'int' as const, value: N * attrInt(n, 'group', 1) } };
      const y = b.fresh('stk_conv');
      b.nodes.push({ op: 'Conv', inputs: ins, outputs: [y], attrs, name: b.fresh('n_Conv') });
      vals.set(out, { v: y, layout: 'C' });
    } else if (POOL.has(n.op)) {
      if (n.outputs.length > 1 && n.outputs[1]) throw new Error(`${what}: the indices output is not supported for stacking`);
      const y = b.fresh('stk_pool');
      b.nodes.push({ op: n.op, inputs: [toC(n.inputs[0])], outputs: [y], attrs: { ...n.attrs }, name: b.fresh(`n_${n.op}`) });
      vals.set(out, { v: y, layout: 'C' });
    } else if (UNARY.has(n.op)) {
      const x = get(n.inputs[0]);
      const y = b.fresh('stk_act');
      b.nodes.push({ op: n.op, inputs: [x.v], outputs: [y], attrs: { ...n.attrs }, name: b.fresh(`n_${n.op}`) });
      vals.set(out, { v: y, layout: x.layout });
    } else if (n.op === 'Flatten') {
      if (attrInt(n, 'axis', 1) !== 1) throw new Error(`${what}: only Flatten with axis 1 is supported for stacking`);
      const x = get(n.inputs[0]);
      let y = x.v;
      if (x.layout === 'I') y = b.op('Reshape', [x.v, b.constI64([N, -1, numel(exampleShape)])], {}, 'stk_flat');
      else if (x.layout === 'C') {
        const [, c, ...sp] = shapeOf(n.inputs[0]);
        const r = b.op('Reshape', [x.v, b.constI64([-1, N, c * numel(sp)])], {}, 'stk_flat_bn');
        y = b.op('Transpose', [r], { perm: [1, 0, 2] }, 'stk_flat');
      }
      vals.set(out, { v: y, layout: 'M' });
    } else if (n.op === 'Gemm') {
      if (attrInt(n, 'transA', 0) !== 0 || attrFloat(n, 'alpha', 1) !== 1 || attrFloat(n, 'beta', 1) !== 1) throw new Error(`${what}: only Gemm with transA 0 and alpha = beta = 1 is supported for stacking`);
      const x = get(n.inputs[0]);
      if (x.layout !== 'M') throw new Error(`${what}: its input is not flat (Flatten it first)`);
      const w = param(n.inputs[1], what);
      const transB = attrInt(n, 'transB', 0) === 1;
      const ws = stackParam(w.name, [N, ...w.dims]);
      const wt = transB ? b.op('Transpose', [ws], { perm: [0, 2, 1] }, 'stk_wt') : ws;
      let y = b.op('MatMul', [x.v, wt], {}, 'stk_mm');
      if (n.inputs[2]) {
        const bias = param(n.inputs[2], what);
        const outF = transB ? w.dims[0] : w.dims[1];
        if (numel(bias.dims) !== outF) throw new Error(`${what}: only a bias of shape [${outF}] is supported for stacking`);
        y = b.op('Add', [y, stackParam(bias.name, [N, 1, outF])], {}, 'stk_fc');
      }
      vals.set(out, { v: y, layout: 'M' });
    } else {
      throw new Error(`stacking does not support ${what} (supported: Conv, MaxPool, AveragePool, Relu, Sigmoid, Tanh, LeakyRelu, Identity, Flatten, Gemm)`);
    }
    for (const o of n.outputs.slice(1)) if (o) throw new Error(`${what}: extra outputs are not supported for stacking`);
  }
  for (const t of g0.initializers) if (!parts.has(t.name)) throw new Error(`initializer '${t.name}' is not a Conv or Gemm parameter; stacking cannot place it`);
  const lo = g0.outputs[0];
  const z = get(lo.name);
  if (z.layout !== 'M') throw new Error(`the model's output '${lo.name}' is not [N, classes]`);
  const zs = shapeOf(lo.name);
  if (zs.length !== 2) throw new Error(`the model's output '${lo.name}' must be [N, classes], got [${zs.join(', ')}]`);
  const classes = zs[1];
  b.addNode('Reshape', [z.v, b.constI64([-1, classes])], [lo.name]);
  b.output(lo.name, 'float32', ['NB', classes]);
  const m0 = models[0];
  return {
    // the members' feature value has no stacked counterpart: its metadata entry is dropped
    model: { ...m0, graph: b.toGraph(`${g0.name || 'model'}_x${N}`), metadata: { ...Object.fromEntries(Object.entries(m0.metadata).filter(([k]) => k !== 'lethe.features')), 'lethe.stacked': String(N) } },
    members: N,
    parts,
    exampleShape,
    classes,
  };
}
