// Floating-point operations of one forward pass, counted from the graph (multiply-adds of Conv, Gemm and
// MatMul as 2 FLOPs each; other ops ignored). The trainer sizes its steps per run by it
// (train/unroll.ts autoStepsPerRun); the benchmark reads throughputs against the machine's compute
// ceiling with it (bench/peak-gemm.ts). Shapes come from shape inference at the given batch size.
import { type Model, attrInt } from './ir';
import { inferShapes } from './shape-infer';

export function forwardFlops(model: Model, batch: number): number {
  const g = model.graph;
  const init = new Set(g.initializers.map((t) => t.name));
  const data = g.inputs.find((v) => !init.has(v.name));
  if (!data?.shape) throw new Error('forwardFlops: the model has no data input with a shape');
  const types = inferShapes(g, { [data.name]: [batch, ...data.shape.slice(1)] });
  const dims = (name: string): number[] => {
    const s = types.get(name)?.shape;
    if (!s || !s.every((d) => typeof d === 'number')) throw new Error(`forwardFlops: the shape of '${name}' is not static`);
    return s as number[];
  };
  const prod = (a: number[]) => a.reduce((x, y) => x * y, 1);
  let flops = 0;
  for (const n of g.nodes) {
    if (n.op === 'Conv') {
      const w = dims(n.inputs[1]); // [M, C/group, k...]
      flops += 2 * prod(dims(n.outputs[0])) * prod(w.slice(1));
    } else if (n.op === 'Gemm') {
      const a = dims(n.inputs[0]);
      const k = attrInt(n, 'transA', 0) ? a[0] : a[1];
      flops += 2 * prod(dims(n.outputs[0])) * k;
    } else if (n.op === 'MatMul') {
      const a = dims(n.inputs[0]);
      flops += 2 * prod(dims(n.outputs[0])) * a[a.length - 1];
    }
  }
  return flops;
}
