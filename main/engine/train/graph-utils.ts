// Small helpers shared by the training-graph builders.

import { listText } from '../util/list-text';
import { type Graph, type Model, type NamedTensor, defaultOpset } from '../onnx/ir';
import { GraphBuilder, type Attrs } from '../onnx/builder';

/** Every name used in a graph (values, initializers, inputs, outputs, node names). */
export function usedNames(g: Graph): Set<string> {
  const s = new Set<string>();
  for (const v of g.inputs) s.add(v.name);
  for (const v of g.outputs) s.add(v.name);
  for (const t of g.initializers) s.add(t.name);
  for (const n of g.nodes) {
    for (const x of n.inputs) if (x) s.add(x);
    for (const x of n.outputs) if (x) s.add(x);
    if (n.name) s.add(n.name);
  }
  return s;
}

/** A builder whose fresh names never collide with anything in `g`. */
export function builderFor(g: Graph, prefix = ''): GraphBuilder {
  return new GraphBuilder(prefix, usedNames(g));
}

/** Append a builder's nodes, initializers and inputs to a graph (in place). */
export function mergeInto(g: Graph, b: GraphBuilder): void {
  g.nodes.push(...b.nodes);
  g.initializers.push(...b.initializers);
  g.inputs.push(...b.inputs);
  g.outputs.push(...b.outputs);
}

/** Move the named initializers into the graph inputs (same name, dtype, shape). */
export function promoteToInputs(g: Graph, names: Iterable<string>): void {
  const want = new Set(names);
  const keep: NamedTensor[] = [];
  for (const t of g.initializers) {
    if (want.has(t.name)) {
      g.inputs.push({ name: t.name, dtype: t.dtype, shape: [...t.dims] });
      want.delete(t.name);
    } else keep.push(t);
  }
  if (want.size) throw new Error(`not initializers of the model: ${listText([...want], 10)}`);
  g.initializers = keep;
  // an initializer may also be listed as a graph input (IR < 4 style); drop the duplicate
  const seen = new Set<string>();
  g.inputs = g.inputs.filter((v) => (seen.has(v.name) ? false : (seen.add(v.name), true)));
}

/** Graph inputs that are data, i.e. not initializers. */
export function dataInputs(g: Graph): string[] {
  const init = new Set(g.initializers.map((t) => t.name));
  return g.inputs.filter((v) => !init.has(v.name)).map((v) => v.name);
}

/**
 * The default-domain opset a training/gradient graph runs at: the model's own, raised to 16 when lower
 * (backward graphs use ScatterElements with reduction='add', opset 16; ops used by opset 13-15 models
 * keep their semantics at 16).
 */
export function trainingOpset(m: Model): number {
  return Math.max(requireOpset(m), 16);
}

/** The model's opset list with the default domain set to `version`. */
export function withOpset(m: Model, version: number): Model['opsets'] {
  const out = m.opsets.map((o) => (o.domain === '' || o.domain === 'ai.onnx' ? { ...o, version } : { ...o }));
  if (!out.some((o) => o.domain === '' || o.domain === 'ai.onnx')) out.push({ domain: '', version });
  return out;
}

/** Require the default-domain opset Lethe's training graphs are written for. */
export function requireOpset(m: Model): number {
  const v = defaultOpset(m);
  if (v < 13) throw new Error(`model uses ONNX opset ${v}; training graphs need opset 13 or newer (re-export with opset_version >= 13)`);
  return v;
}

/**
 * Emit a Reduce* node over `axes`, using the axes attribute or input as the opset requires
 * (ReduceSum takes axes as an input from opset 13; the other reductions from opset 18).
 */
export function reduce(b: GraphBuilder, opset: number, op: string, x: string, axes: number[] | null, keepdims: 0 | 1, hint?: string): string {
  const axesAsInput = op === 'ReduceSum' ? opset >= 13 : opset >= 18;
  const attrs: Attrs = { keepdims };
  if (axes === null) return b.op(op, [x], attrs, hint);
  if (axesAsInput) return b.op(op, [x, b.constI64(axes)], attrs, hint);
  return b.op(op, [x], { ...attrs, axes }, hint);
}

/** Float32 initializers (candidate parameters) of a graph, by name. */
export function floatInitializers(g: Graph): Map<string, NamedTensor> {
  const m = new Map<string, NamedTensor>();
  for (const t of g.initializers) if (t.dtype === 'float32') m.set(t.name, t);
  return m;
}

/** Names of the first graph output (the logits by convention). */
export function defaultLogits(g: Graph): string {
  if (!g.outputs.length) throw new Error('the model has no outputs');
  return g.outputs[0].name;
}
