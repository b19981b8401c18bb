// Graph passes over a finished training step that remove memory passes without changing what is computed
// (beyond float rounding order), measured in docs/benchmarks.md:
//
// - fuseMomentumIntoGemm: SGD momentum `buf' = Mul(buf, m) + g` where the gradient g is the output of a
//   Gemm (or of a Reshape of one) read by nothing else becomes that Gemm with C = buf and beta = m, so
//   the weight-gradient GEMM writes the new momentum buffer directly (two elementwise passes over the
//   weight and one temporary fewer). Gemm computes alpha*A'B' + beta*C.
// - inlineOutputIdentities: `y = Identity(x)` where y is a graph output and x is computed by a node of
//   the graph becomes that node writing y (other readers of x read y): ORT keeps such Identities as
//   copies when x has another reader (e.g. the new momentum buffer, also read by the parameter update).

import { type Graph, type Node, type NamedTensor, consumersOf, numel, producersOf } from '../onnx/ir';
import { inferShapes } from '../onnx/shape-infer';

function scalarOf(t: NamedTensor | undefined): number | null {
  if (!t || (t.dtype !== 'float32' && t.dtype !== 'float64') || numel(t.dims) !== 1) return null;
  return Number((t.data as Float32Array | Float64Array)[0]);
}

/**
 * Fuse `Add(Mul(state, m), g)` (either operand order) into the Gemm that computes g. `states` are the
 * momentum-buffer inputs of the step (only their updates are touched). Returns how many were fused.
 */
export function fuseMomentumIntoGemm(g: Graph, states: ReadonlySet<string>): number {
  const cons = consumersOf(g);
  const prod = producersOf(g);
  const outputs = new Set(g.outputs.map((v) => v.name));
  const inits = new Map(g.initializers.map((t) => [t.name, t]));
  const only = (name: string, reader: Node) => !outputs.has(name) && (cons.get(name) ?? []).length === 1 && cons.get(name)![0].node === reader;
  const drop = new Set<Node>();
  const added: Node[] = [];
  let shapes: ReturnType<typeof inferShapes> | null = null;
  let fused = 0;
  for (const add of g.nodes) {
    if (add.op !== 'Add' || add.inputs.length !== 2 || (add.domain ?? '') !== '') continue;
    for (const side of [0, 1]) {
      const mul = prod.get(add.inputs[side]);
      const gradName = add.inputs[1 - side];
      if (!mul || mul.op !== 'Mul' || !states.has(mul.inputs[0]) || !only(mul.outputs[0], add)) continue;
      const m = scalarOf(inits.get(mul.inputs[1]));
      if (m === null) continue;
      let gemm = prod.get(gradName);
      let reshape: Node | null = null;
      if (gemm?.op === 'Reshape') {
        reshape = gemm;
        gemm = prod.get(reshape.inputs[0]);
        if (!gemm || !only(reshape.inputs[0], reshape)) continue;
      }
      if (!gemm || gemm.op !== 'Gemm' || (gemm.domain ?? '') !== '' || (gemm.inputs.length > 2 && gemm.inputs[2])) continue;
      if (!only(gradName, add)) continue;
      const state = mul.inputs[0];
      let c = state;
      if (reshape) {
        shapes ??= inferShapes(g);
        const s = shapes.get(gemm.outputs[0])?.shape;
        if (!s || s.length !== 2 || !s.every((d) => typeof d === 'number')) continue;
        const shapeName = `${gemm.outputs[0]}__c_shape`;
        g.initializers.push({ name: shapeName, dtype: 'int64', dims: [2], data: BigInt64Array.from(s.map((d) => BigInt(d))) });
        c = `${gemm.outputs[0]}__c`;
        added.push({ op: 'Reshape', inputs: [state, shapeName], outputs: [c], attrs: {}, name: `${c}_reshape` });
      }
      gemm.inputs = [gemm.inputs[0], gemm.inputs[1], c];
      gemm.attrs = { ...gemm.attrs, beta: { type: 'float', value: m } };
      if (reshape) {
        // the Gemm keeps its output; the Reshape now writes the new buffer
        reshape.outputs = [add.outputs[0]];
      } else gemm.outputs = [add.outputs[0]];
      drop.add(mul);
      drop.add(add);
      fused++;
      break;
    }
  }
  if (fused) {
    // keep topological order: a Reshape of a state input may go first
    g.nodes = [...added, ...g.nodes.filter((n) => !drop.has(n))];
  }
  return fused;
}

/** Let the producers of Identity-copied graph outputs write the output directly. Returns how many. */
export function inlineOutputIdentities(g: Graph): number {
  const outputs = new Set(g.outputs.map((v) => v.name));
  const inputs = new Set([...g.inputs.map((v) => v.name), ...g.initializers.map((t) => t.name)]);
  const prod = producersOf(g);
  const drop = new Set<Node>();
  const rename = new Map<string, string>();
  for (const n of g.nodes) {
    if (n.op !== 'Identity' || (n.domain ?? '') !== '' || !outputs.has(n.outputs[0])) continue;
    const x = n.inputs[0];
    if (inputs.has(x) || outputs.has(x) || rename.has(x)) continue;
    const p = prod.get(x);
    if (!p) continue;
    rename.set(x, n.outputs[0]);
    drop.add(n);
  }
  if (!rename.size) return 0;
  g.nodes = g.nodes.filter((n) => !drop.has(n));
  for (const n of g.nodes) {
    n.inputs = n.inputs.map((x) => rename.get(x) ?? x);
    n.outputs = n.outputs.map((y) => rename.get(y) ?? y);
  }
  return rename.size;
}
