// Derivative rules for data-movement ops: Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Concat,
// Split, Slice, Pad, Expand, Gather.

import { DTYPE_CODE, attrInt, attrInts, getAttr } from '../../onnx/ir';
import { sliceRange } from '../../onnx/shape-infer';
import type { GradContext, GradRule } from '../types';

/** gradient of a pure reshape: reshape gy back to the input's shape */
function reshapeBack(op: string): GradRule {
  return { op, differentiable: [0], backward: (c) => [c.b.op('Reshape', [c.gy[0]!, c.shapeOf(c.node.inputs[0])])] };
}

/** Reshape target for [.., n, step, ..] -> [.., n*step, ..]: 0 copies a leading symbolic dim, -1 fills one later one */
function mergeTarget(c: GradContext, shape: (number | string | null)[], a: number, merged: number): number[] {
  let minusOne = false;
  return shape.map((v, j) => {
    if (j === a) return merged;
    if (typeof v === 'number') return v;
    if (j < a) return 0;
    if (minusOne) c.fail('backward of a strided Slice needs static dims after the sliced axis');
    minusOne = true;
    return -1;
  });
}

function normAxis(c: GradContext, a: number, rank: number): number {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= rank) c.fail(`axis ${a} out of range for rank ${rank}`);
  return r;
}

export const shapeRules: GradRule[] = [
  reshapeBack('Flatten'),
  reshapeBack('Reshape'),
  reshapeBack('Squeeze'),
  reshapeBack('Unsqueeze'),
  {
    op: 'Transpose',
    backward: (c) => {
      const rank = c.shape(c.node.inputs[0]).length;
      const perm = attrInts(c.node, 'perm', Array.from({ length: rank }, (_, i) => rank - 1 - i));
      const inv = new Array(rank);
      perm.forEach((p, i) => (inv[p] = i));
      return [c.b.op('Transpose', [c.gy[0]!], { perm: inv })];
    },
  },
  {
    op: 'Expand',
    differentiable: [0],
    backward: (c) => [c.unbroadcast(c.gy[0]!, c.node.inputs[0], c.node.outputs[0])],
  },
  {
    op: 'Concat',
    backward: (c) => {
      const ins = c.node.inputs;
      const rank = c.shape(ins[0]).length;
      const axis = normAxis(c, attrInt(c.node, 'axis', 0), rank);
      const dims = ins.map((x) => c.shape(x)[axis]);
      let split: string;
      if (dims.every((d) => typeof d === 'number')) split = c.i64(dims as number[]);
      else split = c.b.op('Concat', ins.map((x) => c.b.op('Slice', [c.b.op('Shape', [x]), c.i64([axis]), c.i64([axis + 1])])), { axis: 0 });
      const parts = c.b.opN('Split', [c.gy[0]!, split], ins.length, { axis }, 'concat_grad');
      return parts.map((p, i) => (c.needs[i] ? p : null));
    },
  },
  {
    op: 'Split',
    differentiable: [0],
    backward: (c) => {
      const X = c.node.inputs[0];
      const axis = normAxis(c, attrInt(c.node, 'axis', 0), c.shape(X).length);
      const parts = c.node.outputs.map((o, i) => c.gy[i] ?? c.zerosLike(o));
      return [c.b.op('Concat', parts, { axis })];
    },
  },
  {
    op: 'Slice',
    differentiable: [0],
    backward: (c) => {
      const b = c.b;
      const X = c.node.inputs[0];
      const sx = c.shape(X);
      const rank = sx.length;
      const starts = c.ints(c.node.inputs[1], 'Slice starts');
      const ends = c.ints(c.node.inputs[2], 'Slice ends');
      const axes = c.node.inputs[3] ? c.ints(c.node.inputs[3], 'Slice axes') : starts.map((_, i) => i);
      const steps = c.node.inputs[4] ? c.ints(c.node.inputs[4], 'Slice steps') : starts.map(() => 1);
      let g = c.gy[0]!;
      const padsB = new Array(rank).fill(0);
      const padsE = new Array(rank).fill(0);
      const gShape = [...c.shape(c.node.outputs[0])];
      axes.forEach((a0, i) => {
        const a = normAxis(c, a0, rank);
        const d = sx[a];
        if (typeof d !== 'number') c.fail(`backward needs a static size on sliced axis ${a}`);
        const st = steps[i];
        const [s0, e0] = sliceRange(starts[i], ends[i], st, d as number);
        const n = st > 0 ? Math.max(0, Math.ceil((e0 - s0) / st)) : Math.max(0, Math.ceil((s0 - e0) / -st));
        let first = s0;
        let step = st;
        if (st < 0) {
          // reversed slice: flip the gradient so it runs forward from the lowest selected index
          g = b.op('Slice', [g, c.i64([-1]), c.i64([-(2 ** 62)]), c.i64([a]), c.i64([-1])]);
          first = s0 + (n - 1) * st;
          step = -st;
        }
        if (n > 0 && step > 1) {
          // interleave step-1 zeros after each element: [.., n, ..] -> [.., n, step, ..] -> [.., n*step, ..]
          const u = b.op('Unsqueeze', [g, c.i64([a + 1])]);
          const pz = new Array(2 * (rank + 1)).fill(0);
          pz[rank + 1 + a + 1] = step - 1;
          const padded = b.op('Pad', [u, c.i64(pz)], { mode: 'constant' });
          g = b.op('Reshape', [padded, c.i64(mergeTarget(c, gShape, a, n * step))]);
          gShape[a] = n * step;
        }
        padsB[a] = first;
        padsE[a] = (d as number) - first - (gShape[a] as number);
      });
      if (padsB.some((p) => p) || padsE.some((p) => p)) g = b.op('Pad', [g, c.i64([...padsB, ...padsE])], { mode: 'constant' });
      return [g];
    },
  },
  {
    op: 'Pad',
    differentiable: [0],
    backward: (c) => {
      const mode = getAttr(c.node, 'mode', 'string') ?? 'constant';
      if (mode !== 'constant') c.fail(`Pad mode '${mode}' has no derivative rule (only 'constant')`);
      const X = c.node.inputs[0];
      const rank = c.shape(X).length;
      const pads = getAttr(c.node, 'pads', 'ints') ?? c.ints(c.node.inputs[1], 'Pad pads');
      const axes = c.node.inputs[3] ? c.ints(c.node.inputs[3], 'Pad axes').map((a) => normAxis(c, a, rank)) : Array.from({ length: rank }, (_, i) => i);
      const full = new Array(2 * rank).fill(0);
      axes.forEach((a, i) => {
        full[a] = -pads[i];
        full[a + rank] = -pads[i + axes.length];
      });
      // negative pads crop: the gradient of padding is cropping and vice versa
      return [c.b.op('Pad', [c.gy[0]!, c.i64(full)], { mode: 'constant' })];
    },
  },
  {
    // Embedding-style gather: rows of the gradient are added into a zero tensor (repeated indices add up).
    op: 'Gather',
    differentiable: [0],
    backward: (c) => {
      const b = c.b;
      const [D, I] = c.node.inputs;
      const sd = c.shape(D);
      const rank = sd.length;
      const axis = normAxis(c, attrInt(c.node, 'axis', 0), rank);
      const nI = c.shape(I).length;
      const dt = c.dtype(D);
      let g = c.gy[0]!;
      // move the index dims to the front: [I..., D[:axis], D[axis+1:]]
      if (axis > 0) {
        const perm = [
          ...Array.from({ length: nI }, (_, i) => axis + i),
          ...Array.from({ length: axis }, (_, i) => i),
          ...Array.from({ length: rank - axis - 1 }, (_, i) => axis + nI + i),
        ];
        g = b.op('Transpose', [g], { perm });
      }
      // shape of D with `axis` moved first, and its size along `axis`
      const movedPerm = [axis, ...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis)];
      const moved = movedPerm.map((i) => sd[i]);
      const staticMoved = moved.every((d) => typeof d === 'number');
      const movedShape = staticMoved ? c.i64(moved as number[]) : b.op('Gather', [c.shapeOf(D), c.i64(movedPerm)], { axis: 0 });
      const dAxis = typeof sd[axis] === 'number' ? c.i64([sd[axis] as number]) : b.op('Gather', [c.shapeOf(D), c.i64([axis])], { axis: 0 });
      const restShape = staticMoved ? c.i64([-1, ...(moved.slice(1) as number[])]) : b.op('Concat', [c.i64([-1]), b.op('Slice', [movedShape, c.i64([1]), c.i64([rank])])], { axis: 0 });
      const rows = b.op('Reshape', [g, restShape]); // [K, rest...]
      // negative indices count from the end
      const idx = b.op('Reshape', [b.op('Mod', [b.op('Cast', [I], { to: DTYPE_CODE.int64 }), dAxis]), c.i64([-1])]);
      let dense: string; // D with axis first
      if (c.opset >= 16) {
        const zeros = b.op('ConstantOfShape', [movedShape], {
          value: { type: 'tensor', value: dt === 'float64' ? { dtype: 'float64', dims: [1], data: new Float64Array(1) } : { dtype: 'float32', dims: [1], data: new Float32Array(1) } },
        });
        dense = b.op('ScatterND', [zeros, b.op('Unsqueeze', [idx, c.i64([1])]), rows], { reduction: 'add' });
      } else {
        // one-hot (Equal against a constant range) times the rows: exact sum over repeated indices
        if (!staticMoved) c.fail('backward at opset < 16 needs static data dims');
        const n = moved[0] as number;
        const restN = (moved.slice(1) as number[]).reduce((x, y) => x * y, 1);
        const range = c.b.constI64(Array.from({ length: n }, (_, i) => i), [n, 1]);
        const oh = b.op('Cast', [b.op('Equal', [range, b.op('Unsqueeze', [idx, c.i64([0])])])], { to: DTYPE_CODE[dt] });
        dense = b.op('Reshape', [b.op('MatMul', [oh, b.op('Reshape', [rows, c.i64([-1, restN])])]), movedShape]);
      }
      if (axis === 0) return [dense];
      const inv = new Array(rank);
      movedPerm.forEach((p, i) => (inv[p] = i));
      return [b.op('Transpose', [dense], { perm: inv })];
    },
  },
];
