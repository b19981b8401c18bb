// Reverse-mode automatic differentiation over an ONNX graph.
//
// buildBackward() returns a new graph holding the forward nodes followed by backward nodes that compute
// dLoss/dw for each requested value w. Only nodes on a path from a `wrt` value to the loss are
// differentiated; gradients of a value read by several nodes are accumulated with one Sum node.

import { GraphBuilder } from '../onnx/builder';
import { type DType, type Dim, type Graph, type Node, type NamedTensor, cloneGraph, producersOf, tensorI64 } from '../onnx/ir';
import { type KnownValue, type ValueType, analyzeShapes, isStatic } from '../onnx/shape-infer';
import { RULES_BY_OP } from './rules';
import type { GradContext, GradRule } from './types';

export class AutodiffError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AutodiffError';
  }
}

export interface BuildBackwardOptions {
  /** name of the scalar float loss value */
  loss: string;
  /** values (initializers or graph inputs) to differentiate with respect to */
  wrt: string[];
  /** optional name of a new scalar graph input holding dLoss (seed); default: constant 1 */
  lossGrad?: string;
  /** default-domain opset of the model (default 17; must be >= 13) */
  opset?: number;
  /** append one graph output per gradient (default true) */
  addGradOutputs?: boolean;
  /** shapes for graph inputs, overriding the declared ones */
  shapeOverrides?: Record<string, Dim[]>;
}

export interface BackwardGraph {
  graph: Graph;
  /** grads[w] = value name of dLoss/dw (same dtype and shape as w) */
  grads: Record<string, string>;
  /** wrt values that do not influence the loss (their gradient is an explicit zero tensor) */
  unreachable: string[];
}

const FLOAT_TYPES = new Set<DType>(['float32', 'float64', 'float16']);

/** Ops whose outputs never carry a gradient (integer/bool results or piecewise constant). */
export const NON_DIFFERENTIABLE_OPS = new Set([
  'Shape', 'Size', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor',
  'ArgMax', 'ArgMin', 'NonZero', 'Range', 'ConstantOfShape', 'Constant', 'OneHot', 'Floor', 'Ceil', 'Round',
  'Sign', 'IsNaN', 'IsInf', 'RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Bernoulli',
  'EyeLike', 'Multinomial',
]);

/** The returned graph uses ScatterElements/ScatterND with reduction='add' (opset 16). */
export const BACKWARD_MIN_OPSET = 16;

/** Active nodes without a derivative rule whose outputs lead (through active values) to the loss, in graph order. */
function missingRules(nodes: Node[], active: Set<string>, loss: string): Node[] {
  const reach = new Set([loss]);
  const out: Node[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (!n.outputs.some((o) => o && active.has(o) && reach.has(o))) continue;
    const rule = RULES_BY_OP.get(n.op);
    const diffIdx = rule?.differentiable ?? n.inputs.map((_, j) => j);
    const ins = diffIdx.filter((j) => n.inputs[j] && active.has(n.inputs[j]));
    if (!ins.length) continue;
    if (!rule) out.push(n);
    for (const j of ins) reach.add(n.inputs[j]);
  }
  return out.reverse();
}

export function buildBackward(graph: Graph, opts: BuildBackwardOptions): BackwardGraph {
  const opset = opts.opset ?? 17;
  if (opset < 13) throw new AutodiffError(`autodiff needs opset >= 13 (got ${opset}); convert the model first`);
  const g = cloneGraph(graph);
  const { types, known } = analyzeShapes(g, opts.shapeOverrides);

  const lossType = types.get(opts.loss);
  if (!lossType) throw new AutodiffError(`loss '${opts.loss}' is not a value of the graph`);
  if (!FLOAT_TYPES.has(lossType.dtype)) throw new AutodiffError(`loss '${opts.loss}' must be a float tensor (it is ${lossType.dtype})`);
  if (lossType.shape && !(lossType.shape.length === 0 || (lossType.shape.length === 1 && lossType.shape[0] === 1))) {
    throw new AutodiffError(`loss '${opts.loss}' must be a scalar (its shape is [${lossType.shape.join(', ')}])`);
  }
  const producers = producersOf(g);
  const readers = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) readers.set(i, (readers.get(i) ?? 0) + 1);
  for (const o of g.outputs) readers.set(o.name, (readers.get(o.name) ?? 0) + 1);
  for (const w of opts.wrt) {
    const t = types.get(w);
    if (!t) throw new AutodiffError(`wrt value '${w}' is not a value of the graph`);
    if (!FLOAT_TYPES.has(t.dtype)) throw new AutodiffError(`cannot differentiate with respect to '${w}': it is ${t.dtype}, not float`);
  }

  // forward sweep: which values depend (differentiably) on wrt
  const active = new Set(opts.wrt);
  for (const n of g.nodes) {
    if (NON_DIFFERENTIABLE_OPS.has(n.op) || (n.domain && n.domain !== 'ai.onnx')) continue;
    const rule = RULES_BY_OP.get(n.op);
    const diffIdx = rule?.differentiable ?? n.inputs.map((_, i) => i);
    if (!diffIdx.some((i) => n.inputs[i] && active.has(n.inputs[i]))) continue;
    for (const o of n.outputs) if (o && FLOAT_TYPES.has(types.get(o)?.dtype ?? 'int64')) active.add(o);
  }

  const b = new GraphBuilder('grad_');
  b.reserve(allNames(g));
  const grads = new Map<string, string[]>();
  const addGrad = (name: string, gname: string) => {
    if (!active.has(name)) return;
    const list = grads.get(name);
    if (list) list.push(gname);
    else grads.set(name, [gname]);
  };
  const takeGrad = (name: string): string | null => {
    const list = grads.get(name);
    if (!list || list.length === 0) return null;
    let s = list[0];
    if (list.length > 1) {
      s = b.op('Sum', list, {}, 'grad_sum');
      grads.set(name, [s]);
    }
    // a gradient has its value's dtype and shape (rules may query it)
    const t = types.get(name);
    if (t && !types.has(s)) types.set(s, t);
    return s;
  };

  // seed
  if (opts.lossGrad) {
    b.input(opts.lossGrad, lossType.dtype, lossType.shape ?? []);
    addGrad(opts.loss, opts.lossGrad);
  } else {
    addGrad(opts.loss, b.constFill(lossType.dtype, (lossType.shape as number[] | null) ?? [], 1));
  }

  const shapeCache = new Map<string, string>();
  const fwdNodes = g.nodes;

  // every op without a rule between the parameters and the loss, reported together (not one at a time)
  const missing = missingRules(fwdNodes, active, opts.loss);
  if (missing.length) {
    const ops = [...new Set(missing.map((n) => n.op))].sort();
    const shown = missing.slice(0, 6).map((n) => `${n.op} node '${n.name || n.outputs[0]}'`);
    const more = missing.length > shown.length ? `, and ${missing.length - shown.length} more` : '';
    throw new AutodiffError(
      `no derivative rule for op${ops.length > 1 ? 's' : ''} ${ops.join(', ')} (${shown.join(', ')}${more}); ${ops.length > 1 ? 'they lie' : 'it lies'} between the parameters and the loss`,
    );
  }
  for (let ni = fwdNodes.length - 1; ni >= 0; ni--) {
    const node = fwdNodes[ni];
    if (!node.outputs.some((o) => o && active.has(o))) continue;
    const gy = node.outputs.map((o) => (o && active.has(o) ? takeGrad(o) : null));
    if (gy.every((x) => x === null)) continue;
    const rule: GradRule | undefined = RULES_BY_OP.get(node.op);
    const where = `${node.op} node '${node.name ?? node.outputs[0]}'`;
    if (!rule) throw new AutodiffError(`no derivative rule for op ${node.op} (${where}); it lies between the parameters and the loss`); // (missingRules reports these first)
    const diffIdx = new Set(rule.differentiable ?? node.inputs.map((_, i) => i));
    const needs = node.inputs.map((x, i) => !!x && diffIdx.has(i) && active.has(x));
    if (!needs.some(Boolean)) continue;
    const ctx = makeContext(node, gy, needs, where);
    const res = rule.backward(ctx);
    node.inputs.forEach((x, i) => {
      if (needs[i] && res[i]) addGrad(x, res[i]!);
    });
  }

  // collect
  const out: Record<string, string> = {};
  const unreachable: string[] = [];
  const usedNames = new Set<string>([...g.inputs.map((i) => i.name), ...g.initializers.map((t) => t.name), ...b.inputs.map((i) => i.name)]);
  const producedByB = new Set(b.nodes.flatMap((n) => n.outputs));
  const claimed = new Set<string>();
  for (const w of opts.wrt) {
    let gname = takeGrad(w);
    if (!gname) {
      unreachable.push(w);
      gname = zerosLike(w);
    }
    if (!producedByB.has(gname) || usedNames.has(gname) || claimed.has(gname) || g.outputs.some((o) => o.name === gname)) {
      gname = b.op('Identity', [gname], {}, `grad_${sanitize(w)}`);
    }
    claimed.add(gname);
    out[w] = gname;
  }

  const result: Graph = {
    ...g,
    nodes: [...g.nodes, ...b.nodes],
    inputs: [...g.inputs, ...b.inputs],
    initializers: [...g.initializers, ...b.initializers],
    outputs: [...g.outputs],
  };
  if (opts.addGradOutputs ?? true) {
    for (const w of opts.wrt) {
      const t = types.get(w)!;
      result.outputs.push({ name: out[w], dtype: t.dtype, shape: t.shape });
    }
  }
  return { graph: result, grads: out, unreachable };

  // ---------------------------------------------------------------- helpers (closures over the sweep state)
  function zerosLike(name: string): string {
    const t = types.get(name)!;
    if (isStatic(t.shape)) return b.constFill(t.dtype, t.shape, 0);
    return b.op('ConstantOfShape', [shapeOf(name)], { value: { type: 'tensor', value: zeroTensor(t.dtype) } }, 'zeros');
  }

  function shapeOf(name: string): string {
    const t = types.get(name);
    if (t && isStatic(t.shape)) return b.constI64(t.shape);
    let s = shapeCache.get(name);
    if (!s) {
      s = b.op('Shape', [name], {}, 'shape');
      shapeCache.set(name, s);
    }
    return s;
  }

  function makeContext(node: Node, gy: (string | null)[], needs: boolean[], where: string): GradContext {
    const fail = (message: string): never => {
      throw new AutodiffError(`${where}: ${message}`);
    };
    const type = (name: string): ValueType => {
      const t = types.get(name);
      if (!t) fail(`unknown value '${name}'`);
      return t!;
    };
    const shape = (name: string): Dim[] => {
      const s = type(name).shape;
      if (!s) fail(`the rank of '${name}' is unknown; give input shapes (shapeOverrides) so shape inference can resolve it`);
      return s!;
    };
    const reduceSum = (x: string, axes: number[], keepdims: boolean): string =>
      b.op('ReduceSum', [x, b.constI64(axes)], { keepdims: keepdims ? 1 : 0 }, 'rsum');
    const ctx: GradContext = {
      node,
      b,
      opset,
      gy,
      needs,
      type,
      dtype: (name) => type(name).dtype,
      shape,
      known: (name): KnownValue | undefined => known.get(name),
      ints: (name, what) => {
        const k = known.get(name);
        if (!k || !k.values.every((v) => typeof v === 'number')) fail(`${what} ('${name}') must be a constant known when the graph is built`);
        return k!.values as number[];
      },
      scalar: (value, like) => b.constFill(type(like).dtype, [], value),
      i64: (values) => b.constI64(values as number[]),
      shapeOf,
      reduceSum,
      zerosLike,
      unbroadcast: (gname, inName, outName) => unbroadcast(gname, inName, outName),
      forwardOutput: (index, hint) => {
        while (node.outputs.length <= index) node.outputs.push('');
        if (!node.outputs[index]) node.outputs[index] = b.fresh(hint);
        return node.outputs[index];
      },
      producer: (name) => producers.get(name),
      readers: (name) => readers.get(name) ?? 0,
      isActive: (name) => active.has(name),
      addGrad,
      fail,
    };
    return ctx;

    function unbroadcast(gname: string, inName: string, outName: string): string {
      const sIn = shape(inName);
      const sOut = shape(outName);
      const lead = sOut.length - sIn.length;
      if (lead < 0) fail(`'${inName}' has a higher rank than the result '${outName}'`);
      const axes: number[] = [];
      let dynamic = false;
      for (let i = 0; i < sOut.length; i++) {
        if (i < lead) {
          axes.push(i);
          continue;
        }
        const di = sIn[i - lead];
        const dO = sOut[i];
        if (di === dO && di !== null) continue;
        if (di === 1) axes.push(i);
        else if (di === null || dO === null) dynamic = true;
      }
      if (dynamic) return dynamicUnbroadcast(gname, inName, lead);
      if (axes.length === 0) return gname;
      const onlyLead = axes.every((a) => a < lead) && axes.length === lead;
      if (onlyLead) return reduceSum(gname, axes, false);
      const r = reduceSum(gname, axes, true);
      return b.op('Reshape', [r, shapeOf(inName)], {}, 'unbc');
    }

    // axes where the input's runtime dim is 1 and the output's is not, found at run time
    function dynamicUnbroadcast(gname: string, inName: string, lead: number): string {
      let sIn = shapeOf(inName);
      if (lead > 0) sIn = b.op('Concat', [b.constI64(new Array(lead).fill(1)), sIn], { axis: 0 });
      const sOut = b.op('Shape', [gname]);
      const one = b.constI64([1]);
      const mask = b.op('And', [b.op('Equal', [sIn, one]), b.op('Not', [b.op('Equal', [sOut, one])])]);
      const axes = b.op('Reshape', [b.op('NonZero', [mask]), b.constI64([-1])]);
      const r = b.op('ReduceSum', [gname, axes], { keepdims: 1, noop_with_empty_axes: 1 }, 'rsum');
      return b.op('Reshape', [r, shapeOf(inName)], {}, 'unbc');
    }
  }
}

function zeroTensor(dtype: DType) {
  if (dtype === 'int64') return tensorI64([1], [0]);
  const data = dtype === 'float64' ? new Float64Array(1) : dtype === 'float16' ? new Uint16Array(1) : new Float32Array(1);
  return { dtype, dims: [1], data };
}

function allNames(g: Graph): string[] {
  const names: string[] = [];
  for (const i of g.inputs) names.push(i.name);
  for (const t of g.initializers as NamedTensor[]) names.push(t.name);
  for (const n of g.nodes) {
    names.push(...n.outputs);
    if (n.name) names.push(n.name);
  }
  for (const o of g.outputs) names.push(o.name);
  return names;
}

function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9_.]/g, '_');
}
