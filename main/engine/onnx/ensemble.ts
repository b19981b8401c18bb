// Combining several classifiers that share one data input into ONE inference graph (SISA's ensemble
// of shard models). Each member's graph is copied in with every name (initializers, values, nodes)
// prefixed, so all members' weights live side by side as initializers; the data input is shared.
//
// Aggregation: mean of the members' softmax probabilities, output as its logarithm,
//   logits = log( (1/S) Σ_k softmax(z_k) ) = logsumexp_k( log_softmax(z_k) ) − log S,
// computed stably (the max over members is subtracted before the exponential, so a class every
// member gives probability ~0 gets a large negative logit instead of −∞). softmax(logits) is then
// exactly the mean probability, argmax(logits) is the mean-probability vote, and cross-entropy,
// margins and confidences computed from these logits are those of the averaged prediction.
// Optionally the members' feature values are concatenated (axis 1) into one feature output.

import { type Graph, type Model, type Node, defaultOpset } from './ir';
import { GraphBuilder } from './builder';

export interface CombineOptions {
  /** name prefix of member i (default `m${i}/`) */
  prefix?: (i: number) => string;
  /** member i's feature value (unprefixed), concatenated into `features`; null/undefined = none */
  features?: (i: number) => string | null | undefined;
  /** metadata of the combined model */
  metadata?: Record<string, string>;
  /** graph name */
  name?: string;
}

/**
 * Copy `src`'s initializers and nodes into `into` with every name (values, initializers, node names)
 * prefixed by `prefix`, except the names `shared` accepts (values the copies have in common, such as
 * one data input; '' = an absent optional input always stays ''). Returns the renaming, for the
 * caller's inputs and outputs. Nodes with subgraph attributes are refused (`what` names the source in
 * the error). Initializer data is shared with `src`, not copied.
 */
export function copyPrefixed(into: Graph, src: Graph, prefix: string, shared: (name: string) => boolean, what: string): (name: string) => string {
  const ren = (n: string) => (n === '' || shared(n) ? n : prefix + n);
  for (const t of src.initializers) into.initializers.push({ ...t, name: ren(t.name), dims: [...t.dims] });
  for (const n of src.nodes) {
    for (const a of Object.values(n.attrs)) if (a.type === 'graph') throw new Error(`${what} has a node with a subgraph (${n.op}); such models cannot be combined`);
    const node: Node = { ...n, inputs: n.inputs.map(ren), outputs: n.outputs.map(ren), attrs: { ...n.attrs } };
    if (n.name) node.name = prefix + n.name;
    into.nodes.push(node);
  }
  return ren;
}

const LOGITS = 'logits';
const FEATURES = 'features';

/** One model whose output `logits` is log of the mean of the members' softmax probabilities. */
export function combineMeanSoftmax(members: Model[], o: CombineOptions = {}): Model {
  if (!members.length) throw new Error('an ensemble needs at least one member model');
  const prefix = o.prefix ?? ((i: number) => `m${i}/`);
  const first = members[0].graph;
  const initNames0 = new Set(first.initializers.map((t) => t.name));
  const data = first.inputs.filter((v) => !initNames0.has(v.name));
  if (data.length !== 1) throw new Error(`ensemble members need exactly one data input, the first has ${data.length}`);
  const input = data[0];
  const opset = Math.max(...members.map((m) => defaultOpset(m)));
  if (opset < 13) throw new Error(`ensemble members must use ONNX opset 13 or newer (got ${opset})`);
  const g: Graph = { name: o.name ?? 'ensemble', nodes: [], inputs: [{ ...input, shape: input.shape ? [...input.shape] : null }], outputs: [], initializers: [] };
  const logits: string[] = [];
  const feats: string[] = [];
  let classes: number | string | null = null;
  members.forEach((m, i) => {
    const mg = m.graph;
    const inits = new Set(mg.initializers.map((t) => t.name));
    const din = mg.inputs.filter((v) => !inits.has(v.name));
    if (din.length !== 1 || din[0].name !== input.name || din[0].dtype !== input.dtype || JSON.stringify(din[0].shape) !== JSON.stringify(input.shape)) {
      throw new Error(`ensemble member ${i} does not have the same single data input as member 0 ('${input.name}')`);
    }
    if (!mg.outputs.length) throw new Error(`ensemble member ${i} has no outputs`);
    const ren = copyPrefixed(g, mg, prefix(i), (n) => n === input.name, `ensemble member ${i}`);
    const out = mg.outputs[0];
    const c = out.shape?.[1] ?? null;
    if (i === 0) classes = c;
    else if (typeof c === 'number' && typeof classes === 'number' && c !== classes) throw new Error(`ensemble member ${i} has ${c} classes, member 0 has ${classes}`);
    logits.push(ren(out.name));
    const f = o.features?.(i);
    if (f) feats.push(ren(f));
  });
  const used = new Set<string>([input.name, ...g.initializers.map((t) => t.name), ...g.nodes.flatMap((n) => [...n.inputs, ...n.outputs, n.name ?? ''])]);
  for (const n of [LOGITS, FEATURES]) if (used.has(n)) throw new Error(`an ensemble member already uses the name '${n}' after prefixing`);
  const b = new GraphBuilder('ens_', used);
  b.reserve([LOGITS, FEATURES]);
  const ls = logits.map((z) => b.op('LogSoftmax', [z], { axis: 1 }, 'logp'));
  const mx = ls.length === 1 ? ls[0] : b.op('Max', ls, {}, 'logp_max');
  const ex = ls.map((l) => b.op('Exp', [b.op('Sub', [l, mx], {}, 'shifted')], {}, 'p_rel'));
  const sum = ex.length === 1 ? ex[0] : b.op('Sum', ex, {}, 'p_rel_sum');
  const lse = b.op('Add', [b.op('Log', [sum], {}, 'log_sum'), mx], {}, 'lse');
  b.addNode('Sub', [lse, b.constF(Math.log(members.length))], [LOGITS]);
  const outputs: Graph['outputs'] = [{ name: LOGITS, dtype: 'float32', shape: ['N', classes] }];
  if (feats.length === members.length && feats.length > 0) {
    if (feats.length === 1) b.addNode('Identity', [feats[0]], [FEATURES]);
    else b.addNode('Concat', feats, [FEATURES], { axis: 1 });
  }
  g.nodes.push(...b.nodes);
  g.initializers.push(...b.initializers);
  g.outputs = outputs;
  const hasFeatures = feats.length === members.length && feats.length > 0;
  return {
    irVersion: Math.max(...members.map((m) => m.irVersion)),
    opsets: [{ domain: '', version: opset }, ...members[0].opsets.filter((x) => x.domain !== '' && x.domain !== 'ai.onnx').map((x) => ({ ...x }))],
    producerName: members[0].producerName,
    producerVersion: members[0].producerVersion,
    graph: g,
    metadata: { ...(o.metadata ?? {}), ...(hasFeatures ? { 'lethe.features': FEATURES } : {}) },
  };
}
