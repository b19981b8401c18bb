// Recognition of imported models (chiefly torch.onnx.export output, opset 13..17, exported in eval or
// training mode): which initializers are trainable parameters and which are buffers/constants, with a
// reason for each, plus normalisation of training-mode exports to inference form.
//
// What torch.onnx.export produces, and how it is classified here:
//   trainable  Conv/ConvTranspose weight and bias; Gemm B/C (nn.Linear on 2-D inputs); MatMul weight
//              (nn.Linear on 3-D inputs, stored transposed, sometimes behind a Transpose node) and the
//              Add that carries its bias; BatchNormalization / LayerNormalization / InstanceNormalization
//              scale and bias; Gather data (nn.Embedding tables); class tokens and position embeddings
//              (parameters Added to or Concatenated with activations, possibly behind Expand/Tile).
//   buffers    BatchNormalization running mean / variance; integer and bool constants (shape tensors,
//              indices, axes); scalars (epsilons, scale factors, Dropout ratios); non-finite masks;
//              constants folded by torch ('onnx::...' names) that are not consumed as a weight.
// Eval-mode exports with torch's default settings fold BatchNorm into the preceding Conv: the fused
// weights then carry names like 'onnx::Conv_123' and are still classified as trainable Conv weights.

import { type Graph, type Model, type NamedTensor, type Node, cloneModel, consumersOf, producersOf } from '../onnx/ir';
import { analyzeShapes, type ValueType } from '../onnx/shape-infer';
import { RULES_BY_OP } from '../autodiff/rules';
import { NON_DIFFERENTIABLE_OPS } from '../autodiff/backward';

export interface DetectOptions {
  /** Initializers to force trainable (must exist and be floating point). */
  trainable?: string[];
  /** Initializers to force frozen (treated as buffers). */
  frozen?: string[];
}

export interface TrainableReport {
  /** Trainable parameter names, in initializer order. */
  trainable: string[];
  /** Everything else: running statistics, constants, shape tensors, frozen parameters. */
  buffers: string[];
  /** Why each initializer was classified as it was. */
  reasons: Record<string, string>;
  /** Changes made to normalise a training-mode export (empty for an inference-form model). */
  normalized: string[];
}

const FLOAT_TYPES = new Set(['float32', 'float64', 'float16']);
/** Ops through which a parameter may flow to its real consumer (input 0 only). */
const PASSTHROUGH = new Set(['Identity', 'Transpose', 'Cast', 'Unsqueeze', 'Squeeze', 'Reshape', 'Expand', 'Tile', 'Flatten']);
/** Producers whose output, when an initializer is Added to it, makes that initializer a bias. */
const LINEAR_PRODUCERS = new Set(['MatMul', 'Gemm', 'Conv', 'ConvTranspose', 'Einsum']);
const NORM_OPS = new Set(['BatchNormalization', 'LayerNormalization', 'InstanceNormalization', 'GroupNormalization']);

interface Use {
  node: Node;
  index: number;
  via: string[];
}

function isFoldedName(name: string): boolean {
  // torch names the constants it creates or folds 'onnx::<Op>_<n>' (1.13+) or '<n>' / '_v_<n>' (older)
  return name.startsWith('onnx::') || /^_?v?_?\d+$/.test(name) || name.startsWith('Constant_');
}

function isScalarLike(t: NamedTensor): boolean {
  return t.dims.reduce((a, b) => a * b, 1) <= 1;
}

function hasNonFinite(t: NamedTensor): boolean {
  if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) return false;
  for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) return true;
  return false;
}

/** Values that depend on a runtime graph input (not only on initializers/constants). */
function activationValues(g: Graph): Set<string> {
  const inits = new Set(g.initializers.map((t) => t.name));
  const act = new Set<string>(g.inputs.filter((v) => !inits.has(v.name)).map((v) => v.name));
  // nodes are in topological order in valid ONNX; iterate to a fixed point anyway for robustness
  let changed = true;
  for (let pass = 0; changed && pass < 4; pass++) {
    changed = false;
    for (const n of g.nodes) {
      if (n.inputs.some((i) => i && act.has(i))) {
        for (const o of n.outputs) {
          if (o && !act.has(o)) {
            act.add(o);
            changed = true;
          }
        }
      }
    }
  }
  return act;
}


/** Final uses of a value, following pass-through ops on their data input. */
function finalUses(name: string, consumers: Map<string, { node: Node; index: number }[]>): Use[] {
  const out: Use[] = [];
  const visit = (v: string, via: string[], depth: number) => {
    for (const c of consumers.get(v) ?? []) {
      if (PASSTHROUGH.has(c.node.op) && c.index === 0 && depth < 8) {
        visit(c.node.outputs[0], [...via, c.node.op], depth + 1);
      } else {
        out.push({ node: c.node, index: c.index, via });
      }
    }
  };
  visit(name, [], 0);
  return out;
}

function nodeLabel(n: Node): string {
  return n.name ? `${n.op} '${n.name}'` : n.op;
}

/**
 * Normalise an imported model to the form Lethe trains from.
 *
 * 1. torch.onnx.export de-duplicates initializers with identical values (e.g. two freshly initialised
 *    LayerNorms) into one initializer plus `Identity` nodes named after the other parameters. Training
 *    that graph would tie parameters that are independent in PyTorch, so each such Identity is replaced
 *    by its own copy of the initializer under the parameter's name.
 * 2. Torch's training-mode export keeps BatchNormalization in training form (training_mode=1 with
 * running-statistics outputs, or the opset <= 13 five-output form) and Dropout with a constant
 * training_mode=true input. Lethe's training lowering works from the inference form, so convert:
 * BN keeps only Y and drops training_mode, Dropout loses its training_mode input and mask output.
 * Returns a new model and a list of the changes made.
 */
export function normalizeImportedModel(model: Model): { model: Model; changes: string[] } {
  const m = cloneModel(model);
  const g = m.graph;
  const changes: string[] = [];
  const consumers = consumersOf(g);
  const dropped = new Set<string>();
  /** training_mode inputs removed from Dropout nodes (their Constant producers may now be dead) */
  const droppedInputs = new Set<string>();

  const inits = new Map(g.initializers.map((t) => [t.name, t]));
  const graphOutputNames = new Set(g.outputs.map((o) => o.name));
  const untied: Node[] = [];
  for (const n of g.nodes) {
    if (n.op !== 'Identity' || n.inputs.length !== 1) continue;
    const src = inits.get(n.inputs[0]);
    const out = n.outputs[0];
    if (!src || !out || inits.has(out) || graphOutputNames.has(out) || !FLOAT_TYPES.has(src.dtype)) continue;
    const copy = { ...src, name: out, dims: [...src.dims], data: src.data.slice() };
    g.initializers.push(copy);
    inits.set(out, copy);
    untied.push(n);
  }
  if (untied.length > 0) {
    const drop = new Set(untied);
    g.nodes = g.nodes.filter((n) => !drop.has(n));
    changes.push(
      `untied ${untied.length} initializer(s) that the exporter had de-duplicated by value: ${untied.map((n) => `'${n.outputs[0]}' (was Identity of '${n.inputs[0]}')`).join(', ')}`,
    );
  }

  for (const n of g.nodes) {
    if (n.op === 'BatchNormalization') {
      const trainingAttr = n.attrs.training_mode;
      const isTraining = (trainingAttr?.type === 'int' && trainingAttr.value !== 0) || n.outputs.filter((o) => o).length > 1;
      if (!isTraining) continue;
      const extra = n.outputs.slice(1).filter((o) => o);
      for (const o of extra) {
        const used = consumers.get(o)?.length ?? 0;
        if (used > 0) throw new Error(`${nodeLabel(n)}: training-mode output '${o}' is used by other nodes; cannot convert to inference form`);
        dropped.add(o);
      }
      delete n.attrs.training_mode;
      n.outputs = [n.outputs[0]];
      changes.push(`${nodeLabel(n)}: training-mode BatchNormalization converted to inference form (running statistics '${n.inputs[3]}', '${n.inputs[4]}' kept as buffers)`);
    } else if (n.op === 'Dropout') {
      let changed = false;
      if (n.inputs.length >= 3 && n.inputs[2]) {
        droppedInputs.add(n.inputs[2]);
        n.inputs = n.inputs.slice(0, 2);
        changed = true;
      }
      if (n.outputs.length > 1 && n.outputs[1]) {
        const mask = n.outputs[1];
        if ((consumers.get(mask)?.length ?? 0) > 0) throw new Error(`${nodeLabel(n)}: Dropout mask '${mask}' is used by other nodes; cannot convert to inference form`);
        dropped.add(mask);
        n.outputs = [n.outputs[0]];
        changed = true;
      }
      if (changed) changes.push(`${nodeLabel(n)}: training-mode Dropout converted to inference form`);
    }
  }
  if (dropped.size > 0) {
    const before = g.outputs.length;
    g.outputs = g.outputs.filter((o) => !dropped.has(o.name));
    if (g.outputs.length !== before) changes.push(`removed ${before - g.outputs.length} training-only graph output(s)`);
    if (g.valueInfo) g.valueInfo = g.valueInfo.filter((v) => !dropped.has(v.name));
  }
  // initializers and Constant nodes feeding only the removed training_mode inputs are now dead
  const stillUsed = new Set(g.nodes.flatMap((n) => n.inputs));
  for (const o of g.outputs) stillUsed.add(o.name);
  if (droppedInputs.size > 0) g.nodes = g.nodes.filter((n) => !(n.op === 'Constant' && n.outputs.length === 1 && droppedInputs.has(n.outputs[0]) && !stillUsed.has(n.outputs[0])));
  const deadInits = g.initializers.filter((t) => !stillUsed.has(t.name) && t.dtype === 'bool');
  if (deadInits.length > 0) {
    const dead = new Set(deadInits.map((t) => t.name));
    g.initializers = g.initializers.filter((t) => !dead.has(t.name));
    g.inputs = g.inputs.filter((v) => !dead.has(v.name));
  }
  if (changes.length > 0) m.metadata = { ...m.metadata, 'lethe.normalized': changes.join('\n') };
  return { model: m, changes };
}

function classify(t: NamedTensor, uses: Use[], act: Set<string>, producers: Map<string, Node>): { trainable: boolean; reason: string } {
  if (!FLOAT_TYPES.has(t.dtype)) {
    const usedAs = uses.length > 0 ? ` used by ${[...new Set(uses.map((u) => u.node.op))].join(', ')}` : '';
    return { trainable: false, reason: `${t.dtype} constant${usedAs} (shape tensor, indices or axes)` };
  }
  if (uses.length === 0) return { trainable: false, reason: 'not consumed by any node' };

  const trainableReasons: string[] = [];
  const bufferReasons: string[] = [];
  const via = (u: Use) => (u.via.length > 0 ? ` via ${u.via.join('→')}` : '');
  for (const u of uses) {
    const { node: n, index: i } = u;
    const others = n.inputs.filter((x, j) => j !== i && x);
    const otherIsActivation = others.some((x) => act.has(x));
    switch (n.op) {
      case 'Conv':
      case 'ConvTranspose':
        if (i === 1) trainableReasons.push(`${nodeLabel(n)} weight${via(u)}`);
        else if (i === 2) trainableReasons.push(`${nodeLabel(n)} bias${via(u)}`);
        else bufferReasons.push(`${nodeLabel(n)} input ${i}`);
        continue;
      case 'Gemm':
        if (otherIsActivation || i === 2) trainableReasons.push(`${nodeLabel(n)} ${i === 2 ? 'bias (C)' : i === 1 ? 'weight (B)' : 'weight (A)'}${via(u)}`);
        else bufferReasons.push(`${nodeLabel(n)} on constants only`);
        continue;
      case 'MatMul':
        if (otherIsActivation && t.dims.length >= 2) trainableReasons.push(`${nodeLabel(n)} weight${via(u)}`);
        else bufferReasons.push(`${nodeLabel(n)} operand that does not multiply an activation`);
        continue;
      case 'BatchNormalization':
        if (i === 1) trainableReasons.push(`${nodeLabel(n)} scale (gamma)`);
        else if (i === 2) trainableReasons.push(`${nodeLabel(n)} bias (beta)`);
        else if (i === 3) bufferReasons.push(`${nodeLabel(n)} running mean`);
        else if (i === 4) bufferReasons.push(`${nodeLabel(n)} running variance`);
        else bufferReasons.push(`${nodeLabel(n)} input ${i}`);
        continue;
      case 'LayerNormalization':
      case 'InstanceNormalization':
      case 'GroupNormalization':
        if (i === 1) trainableReasons.push(`${nodeLabel(n)} scale`);
        else if (i === 2) trainableReasons.push(`${nodeLabel(n)} bias`);
        else bufferReasons.push(`${nodeLabel(n)} input ${i}`);
        continue;
      case 'Gather':
        if (i === 0 && t.dims.length >= 2 && otherIsActivation) trainableReasons.push(`${nodeLabel(n)} embedding table${via(u)}`);
        else if (i === 0 && t.dims.length >= 1 && !isFoldedName(t.name) && !isScalarLike(t)) trainableReasons.push(`${nodeLabel(n)} gathered parameter${via(u)}`);
        else bufferReasons.push(`${nodeLabel(n)} ${i === 0 ? 'constant data' : 'indices'}`);
        continue;
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Concat': {
        if (isScalarLike(t)) {
          bufferReasons.push(`scalar constant in ${nodeLabel(n)}`);
          continue;
        }
        if (hasNonFinite(t)) {
          bufferReasons.push(`non-finite mask in ${nodeLabel(n)}`);
          continue;
        }
        if (!otherIsActivation) {
          bufferReasons.push(`${nodeLabel(n)} on constants only`);
          continue;
        }
        // a bias added to a linear layer's output (nn.Linear on 3-D inputs exports MatMul + Add)
        const biasOf = n.op === 'Add' && u.via.length === 0 ? others.map((x) => producers.get(x)).find((p) => p && LINEAR_PRODUCERS.has(p.op)) : undefined;
        if (biasOf && t.dims.filter((d) => d > 1).length <= 1) {
          trainableReasons.push(`bias of ${nodeLabel(biasOf)} (${nodeLabel(n)})`);
          continue;
        }
        if (isFoldedName(t.name)) {
          bufferReasons.push(`constant folded by the exporter ('${t.name}') in ${nodeLabel(n)}`);
          continue;
        }
        const kind =
          n.op === 'Concat' ? 'token concatenated with activations (class token)' : n.op === 'Mul' ? 'learned scale of activations' : 'learned offset added to activations (position embedding)';
        trainableReasons.push(`${kind} in ${nodeLabel(n)}${via(u)}`);
        continue;
      }
      default:
        if (NORM_OPS.has(n.op)) continue;
        bufferReasons.push(`${nodeLabel(n)} input ${i}${via(u)}`);
    }
  }
  if (trainableReasons.length > 0) return { trainable: true, reason: [...new Set(trainableReasons)].join('; ') };
  return { trainable: false, reason: [...new Set(bufferReasons)].join('; ') || 'not consumed as a weight' };
}

/**
 * Decide which initializers of a model are trainable. The model is first normalised (training-mode
 * exports); `normalized` lists what that changed. Overrides win over detection and are recorded.
 */
export function detectTrainable(model: Model, opts: DetectOptions = {}): TrainableReport {
  const { model: m, changes } = normalizeImportedModel(model);
  const g = m.graph;
  const act = activationValues(g);
  const consumers = consumersOf(g);
  const producers = producersOf(g);
  const byName = new Map(g.initializers.map((t) => [t.name, t]));

  const forceTrain = new Set(opts.trainable ?? []);
  const forceFrozen = new Set(opts.frozen ?? []);
  for (const n of forceTrain) {
    if (forceFrozen.has(n)) throw new Error(`initializer '${n}' is listed both as trainable and as frozen`);
    const t = byName.get(n);
    if (!t) throw new Error(`trainable override '${n}' is not an initializer of the model`);
    if (!FLOAT_TYPES.has(t.dtype)) throw new Error(`trainable override '${n}' is ${t.dtype}; only floating-point initializers can be trained`);
  }
  for (const n of forceFrozen) if (!byName.has(n)) throw new Error(`frozen override '${n}' is not an initializer of the model`);

  const trainable: string[] = [];
  const buffers: string[] = [];
  const reasons: Record<string, string> = {};
  for (const t of g.initializers) {
    const c = classify(t, finalUses(t.name, consumers), act, producers);
    let isTrain = c.trainable;
    let reason = c.reason;
    if (forceTrain.has(t.name)) {
      isTrain = true;
      reason = `override: trainable (detected: ${c.trainable ? 'trainable' : 'buffer'}; ${c.reason})`;
    } else if (forceFrozen.has(t.name)) {
      isTrain = false;
      reason = `override: frozen (detected: ${c.trainable ? 'trainable' : 'buffer'}; ${c.reason})`;
    }
    (isTrain ? trainable : buffers).push(t.name);
    reasons[t.name] = reason;
  }
  return { trainable, buffers, reasons, normalized: changes };
}

/** Normalise an imported model and detect its trainable initializers in one step. */
export function prepareImportedModel(model: Model, opts: DetectOptions = {}): { model: Model; report: TrainableReport } {
  const { model: m } = normalizeImportedModel(model);
  const report = detectTrainable(model, opts);
  return { model: m, report };
}

/** Alias of normalizeImportedModel (the name used by the first version of this module). */
export const normalizeTrainingExport = normalizeImportedModel;

// ------------------------------------------------------------------------------------------------
// Import-time diagnostics: what would stop (or distort) training the model like the original.

export interface TrainingBlocker {
  /** op type ('domain.Op' for ops outside the default domain) */
  op: string;
  /** the nodes of that op on a parameter-to-output path */
  nodes: string[];
}

/**
 * Every op on a path from a trainable parameter to a graph output that has no derivative rule in
 * Lethe's autodiff registry (RULES_BY_OP), grouped by op and sorted by op name. Such a model can be
 * evaluated but not trained or differentiated. Run it on the normalised model (normalizeImportedModel).
 */
export function trainingBlockers(model: Model, params: string[]): TrainingBlocker[] {
  const g = model.graph;
  let types: Map<string, ValueType> | null = null;
  try {
    types = analyzeShapes(g).types;
  } catch {
    types = null; // without types every output of an active node counts as active (a superset)
  }
  const isFloat = (v: string) => {
    const t = types?.get(v);
    return !t || FLOAT_TYPES.has(t.dtype);
  };
  const foreign = (n: Node) => !!n.domain && n.domain !== 'ai.onnx';
  const opName = (n: Node) => (foreign(n) ? `${n.domain}.${n.op}` : n.op);
  // inputs through which a gradient would flow (all of them for an op without a rule)
  const diffInputs = (n: Node): number[] => {
    const rule = foreign(n) ? undefined : RULES_BY_OP.get(n.op);
    return rule?.differentiable ?? n.inputs.map((_, i) => i);
  };
  // forward: values that depend on a parameter
  const active = new Set(params);
  for (const n of g.nodes) {
    if (NON_DIFFERENTIABLE_OPS.has(n.op) && !foreign(n)) continue;
    if (!diffInputs(n).some((i) => n.inputs[i] && active.has(n.inputs[i]))) continue;
    for (const o of n.outputs) if (o && isFloat(o)) active.add(o);
  }
  // backward: values a graph output depends on, through active values only
  const reach = new Set(g.outputs.map((o) => o.name));
  const found = new Map<string, string[]>();
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (!n.outputs.some((o) => o && reach.has(o) && active.has(o))) continue;
    const ins = diffInputs(n).filter((j) => n.inputs[j] && active.has(n.inputs[j]));
    if (!ins.length) continue;
    if (foreign(n) || !RULES_BY_OP.has(n.op)) {
      const op = opName(n);
      const l = found.get(op) ?? [];
      l.push(n.name || n.outputs[0]);
      found.set(op, l);
    }
    for (const j of ins) reach.add(n.inputs[j]);
  }
  return [...found.entries()].map(([op, nodes]) => ({ op, nodes })).sort((a, b) => (a.op < b.op ? -1 : a.op > b.op ? 1 : 0));
}

/** The import warning for training blockers, or null when there are none. */
export function trainingBlockerWarning(blockers: TrainingBlocker[]): string | null {
  if (!blockers.length) return null;
  return `can be evaluated but not trained: no gradient rule for ${blockers.map((b) => b.op).join(', ')}`;
}

export const CONSTANT_FOLDING_WARNING =
  'exported with constant folding: BatchNorm was folded into the convolutions; re-export with do_constant_folding=False and training=TrainingMode.PRESERVE to train it like the original';

/**
 * True for a PyTorch export made with torch's defaults (eval mode, do_constant_folding=True): Conv
 * weights named like 'onnx::Conv_123' (BatchNorm folded in) and no BatchNormalization node left.
 * Such a model evaluates like the original but trains differently (no BatchNorm, no Dropout).
 */
export function looksConstantFolded(model: Model): boolean {
  if (!/^pytorch$/i.test(model.producerName.trim())) return false;
  const g = model.graph;
  if (g.nodes.some((n) => n.op === 'BatchNormalization')) return false;
  const inits = new Set(g.initializers.map((t) => t.name));
  return g.nodes.some((n) => n.op === 'Conv' && !!n.inputs[1] && inits.has(n.inputs[1]) && n.inputs[1].startsWith('onnx::Conv_'));
}

