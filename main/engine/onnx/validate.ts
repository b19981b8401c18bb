// Structural validation of a decoded model, run before onnxruntime ever sees it: IR and opset ranges,
// supported operators (all offenders listed at once), SSA / topological well-formedness, declared
// dimensions and total sizes. Every failure is a ModelValidationError with a code and one sentence
// naming the node or tensor.

import { type Graph, type Model, type Tensor, type ValueInfo, bytesPerElement } from './ir';
import {
  DEFAULT_DOMAIN,
  IR_VERSION_RANGE,
  ML_DOMAIN,
  ML_OPSET_RANGE,
  OPSET_RANGE,
  OP_SINCE,
  isSupportedOp,
  normDomain,
} from './op-support';

export type ModelErrorCode =
  | 'too_large'
  | 'not_onnx'
  | 'truncated'
  | 'bad_dims'
  | 'unsupported_op'
  | 'external_data'
  | 'malformed_graph'
  | 'bad_type'
  | 'opset'
  | 'ir_version'
  | 'io'
  | 'internal';

export class ModelValidationError extends Error {
  constructor(
    readonly code: ModelErrorCode,
    message: string,
    /** Extra facts (e.g. every unsupported node), for logs and UI detail views. */
    readonly details: string[] = [],
    /** For not_onnx: the format recognised instead ('pytorch-pickle', 'safetensors', ...), if any. */
    readonly format?: string,
  ) {
    super(message);
    this.name = 'ModelValidationError';
  }
}

export interface ValidateOptions {
  /** Largest element count of any single tensor or declared shape (default 1e9). */
  maxElements?: number;
  /** Largest total bytes of initializers and constant tensors (default 2 GiB). */
  maxInitializerBytes?: number;
  /** Most nodes across all graphs (default 500,000). */
  maxNodes?: number;
  /** Deepest subgraph nesting (default 8). */
  maxDepth?: number;
  /** 'training' additionally requires the opset range in which Lethe builds training graphs. */
  purpose?: 'inference' | 'training';
}

export interface ValidationReport {
  /** Default-domain opset. */
  opset: number;
  irVersion: number;
  nodeCount: number;
  initializerBytes: number;
  /** Whether the model can be run for inference / turned into training graphs. */
  inference: boolean;
  training: boolean;
  /** Why training graphs cannot be built (null when they can). */
  trainingBlocker: string | null;
  warnings: string[];
}

export const VALIDATION_DEFAULTS = {
  maxElements: 1e9,
  maxInitializerBytes: 2 * 1024 ** 3,
  maxNodes: 500_000,
  maxDepth: 8,
} as const;

/** Quote a name from a (possibly hostile) file for an error message: bounded length, no control characters. */
export function q(name: string): string {
  let s = String(name).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (s.length > 80) s = `${s.slice(0, 77)}...`;
  return `'${s}'`;
}

function nodeLabel(graphPath: string, n: { name?: string; op: string }, i: number): string {
  const where = graphPath ? ` in ${graphPath}` : '';
  return n.name ? `node ${q(n.name)} (#${i}, ${q(n.op)})${where}` : `node #${i} (${q(n.op)})${where}`;
}

function checkDims(kind: string, name: string, dims: readonly (number | string | null)[], maxElements: number): number {
  let n = 1;
  for (const d of dims) {
    if (typeof d !== 'number') continue; // symbolic / unknown
    if (!Number.isSafeInteger(d) || d < 0) throw new ModelValidationError('bad_dims', `${kind} ${q(name)} has an invalid dimension ${d}.`);
    n *= d;
  }
  if (n > maxElements) {
    throw new ModelValidationError(
      'bad_dims',
      `${kind} ${q(name)} declares shape [${dims.join(', ')}] = ${n.toExponential(2)} elements, above the limit of ${maxElements.toExponential(0)}.`,
    );
  }
  return n;
}

function tensorBytes(kind: string, name: string, t: Tensor, maxElements: number): number {
  const n = checkDims(kind, name, t.dims, maxElements);
  if (t.data.length !== n) {
    throw new ModelValidationError(
      'bad_dims',
      `${kind} ${q(name)} has ${t.data.length} values but its shape [${t.dims.join(', ')}] needs ${n} (external data not loaded?).`,
    );
  }
  return n * bytesPerElement(t.dtype);
}

interface Ctx {
  opts: Required<Omit<ValidateOptions, 'purpose'>>;
  opset: number;
  mlOpset: number;
  unsupported: string[];
  tooNew: string[];
  nodeCount: number;
  initBytes: number;
  warnings: string[];
}

function addBytes(ctx: Ctx, n: number, what: string): void {
  ctx.initBytes += n;
  if (ctx.initBytes > ctx.opts.maxInitializerBytes) {
    throw new ModelValidationError(
      'too_large',
      `initializers and constants exceed the limit of ${ctx.opts.maxInitializerBytes} bytes (at ${what}).`,
    );
  }
}

function checkValueInfos(list: ValueInfo[] | undefined, kind: string, ctx: Ctx): void {
  for (const v of list ?? []) if (v.shape) checkDims(kind, v.name, v.shape, ctx.opts.maxElements);
}

/** Validate one graph; `outer` holds the names visible from enclosing graphs (for subgraphs). */
function validateGraph(g: Graph, outer: ReadonlySet<string>, path: string, depth: number, ctx: Ctx): void {
  if (depth > ctx.opts.maxDepth) {
    throw new ModelValidationError('malformed_graph', `subgraphs are nested deeper than ${ctx.opts.maxDepth} levels (${path}).`);
  }
  const gl = path ? ` in ${path}` : '';
  const defined = new Set<string>();
  const define = (name: string, what: string) => {
    if (defined.has(name) || outer.has(name)) {
      throw new ModelValidationError('malformed_graph', `${what} ${q(name)}${gl} is defined more than once (duplicate output name).`);
    }
    defined.add(name);
  };
  const initNames = new Set<string>();
  for (const t of g.initializers) {
    if (!t.name) throw new ModelValidationError('malformed_graph', `an initializer${gl} has no name.`);
    if (initNames.has(t.name)) throw new ModelValidationError('malformed_graph', `initializer ${q(t.name)}${gl} appears twice.`);
    initNames.add(t.name);
    addBytes(ctx, tensorBytes('initializer', t.name, t, ctx.opts.maxElements), `initializer ${q(t.name)}`);
  }
  for (const v of g.inputs) {
    if (!v.name) throw new ModelValidationError('malformed_graph', `a graph input${gl} has no name.`);
    // IR >= 4 allows an input to share its name with an initializer (the initializer is its default)
    if (initNames.has(v.name)) {
      if (depth === 0) ctx.warnings.push(`graph input ${q(v.name)} has an initializer default; it is treated as a weight.`);
      continue;
    }
    define(v.name, 'graph input');
  }
  for (const n of initNames) define(n, 'initializer');
  checkValueInfos(g.inputs, 'graph input', ctx);
  checkValueInfos(g.outputs, 'graph output', ctx);
  checkValueInfos(g.valueInfo, 'value', ctx);

  // names produced anywhere in this graph: to tell "missing" from "used before it is produced" (cycle / order)
  const producedLater = new Map<string, number>();
  g.nodes.forEach((n, i) => n.outputs.forEach((o) => o && !producedLater.has(o) && producedLater.set(o, i)));

  const visible = (name: string) => defined.has(name) || outer.has(name);
  g.nodes.forEach((n, i) => {
    ctx.nodeCount++;
    if (ctx.nodeCount > ctx.opts.maxNodes) {
      throw new ModelValidationError('too_large', `the model has more than ${ctx.opts.maxNodes} nodes.`);
    }
    const label = nodeLabel(path, n, i);
    const domain = normDomain(n.domain);
    if (typeof n.op !== 'string' || !n.op) throw new ModelValidationError('malformed_graph', `${label} has no operator type.`);
    if (!isSupportedOp(n.op, domain)) {
      ctx.unsupported.push(`unsupported operator ${q(n.op)} (domain ${q(domain || 'ai.onnx')}) at ${label}`);
    } else if (domain === DEFAULT_DOMAIN && (OP_SINCE[n.op] ?? 1) > ctx.opset) {
      ctx.tooNew.push(`operator ${q(n.op)} at ${label} needs opset ${OP_SINCE[n.op]} but the model imports opset ${ctx.opset}`);
    } else if (domain === ML_DOMAIN && !ctx.mlOpset) {
      ctx.tooNew.push(`${label} uses the ai.onnx.ml domain, which the model does not import`);
    }
    for (const inp of n.inputs) {
      if (!inp) continue; // omitted optional input
      if (visible(inp)) continue;
      const later = producedLater.get(inp);
      if (later !== undefined) {
        throw new ModelValidationError(
          'malformed_graph',
          `${label} reads ${q(inp)} before node #${later} produces it (the graph has a cycle or is not in topological order).`,
        );
      }
      throw new ModelValidationError('malformed_graph', `${label} reads ${q(inp)}, which no node, initializer or graph input produces.`);
    }
    for (const [attrName, a] of Object.entries(n.attrs)) {
      if (a.type === 'tensor') {
        addBytes(ctx, tensorBytes(`constant attribute ${q(attrName)} of`, n.name || `#${i}`, a.value, ctx.opts.maxElements), label);
      } else if (a.type === 'graph') {
        const inner = new Set<string>([...outer, ...defined]);
        validateGraph(a.value, inner, `${path ? `${path}/` : ''}${n.name || `#${i}`}.${attrName}`, depth + 1, ctx);
      }
    }
    for (const o of n.outputs) if (o) define(o, `output of ${label}:`);
  });
  if (!g.outputs.length) throw new ModelValidationError('malformed_graph', `graph${gl} has no outputs.`);
  for (const o of g.outputs) {
    if (!o.name) throw new ModelValidationError('malformed_graph', `a graph output${gl} has no name.`);
    if (!visible(o.name) && !initNames.has(o.name)) {
      throw new ModelValidationError('malformed_graph', `graph output ${q(o.name)}${gl} is not produced by any node, initializer or input.`);
    }
  }
}

/**
 * Validate a model structurally. Throws ModelValidationError; returns what the model can be used for.
 * Initializer data must be present (external data already inlined by load.ts).
 */
export function validateModel(model: Model, opts: ValidateOptions & { baseDir?: string } = {}): ValidationReport {
  const o = {
    maxElements: opts.maxElements ?? VALIDATION_DEFAULTS.maxElements,
    maxInitializerBytes: opts.maxInitializerBytes ?? VALIDATION_DEFAULTS.maxInitializerBytes,
    maxNodes: opts.maxNodes ?? VALIDATION_DEFAULTS.maxNodes,
    maxDepth: opts.maxDepth ?? VALIDATION_DEFAULTS.maxDepth,
  };
  const warnings: string[] = [];
  const ir = model.irVersion;
  if (!Number.isSafeInteger(ir) || ir < IR_VERSION_RANGE.min || ir > IR_VERSION_RANGE.max) {
    throw new ModelValidationError(
      'ir_version',
      `the model's IR version ${ir} is outside the supported range ${IR_VERSION_RANGE.min}..${IR_VERSION_RANGE.max}${ir === 0 ? ' (the field is missing: not an ONNX model, or a corrupt one)' : ''}.`,
    );
  }
  let opset = 0;
  let mlOpset = 0;
  const seen = new Set<string>();
  for (const imp of model.opsets) {
    const d = normDomain(imp.domain);
    if (seen.has(d)) throw new ModelValidationError('opset', `the model imports the opset of domain ${q(d || 'ai.onnx')} twice.`);
    seen.add(d);
    if (d === DEFAULT_DOMAIN) opset = imp.version;
    else if (d === ML_DOMAIN) mlOpset = imp.version;
    else warnings.push(`the model imports opset domain ${q(d)}, which Lethe does not support; any node using it is refused.`);
  }
  if (!opset) throw new ModelValidationError('opset', 'the model imports no default-domain (ai.onnx) opset.');
  if (opset < OPSET_RANGE.inference.min || opset > OPSET_RANGE.inference.max) {
    throw new ModelValidationError(
      'opset',
      `the model uses opset ${opset}; Lethe accepts opsets ${OPSET_RANGE.inference.min}..${OPSET_RANGE.inference.max} (re-export with torch.onnx.export(..., opset_version=17)).`,
    );
  }
  if (mlOpset && (mlOpset < ML_OPSET_RANGE.min || mlOpset > ML_OPSET_RANGE.max)) {
    throw new ModelValidationError('opset', `the model uses ai.onnx.ml opset ${mlOpset}; supported: ${ML_OPSET_RANGE.min}..${ML_OPSET_RANGE.max}.`);
  }
  const ctx: Ctx = { opts: o, opset, mlOpset, unsupported: [], tooNew: [], nodeCount: 0, initBytes: 0, warnings };
  validateGraph(model.graph, new Set(), '', 0, ctx);
  const listed = (items: string[]) => (items.length > 5 ? `${items.slice(0, 5).join('; ')}; and ${items.length - 5} more` : items.join('; '));
  if (ctx.unsupported.length) {
    throw new ModelValidationError(
      'unsupported_op',
      `${listed(ctx.unsupported)}.`,
      ctx.unsupported,
    );
  }
  if (ctx.tooNew.length) throw new ModelValidationError('opset', `${listed(ctx.tooNew)}.`, ctx.tooNew);
  const trainingOk = opset >= OPSET_RANGE.training.min && opset <= OPSET_RANGE.training.max;
  const trainingBlocker = trainingOk
    ? null
    : `training graphs need opset ${OPSET_RANGE.training.min}..${OPSET_RANGE.training.max}; this model uses opset ${opset}`;
  if (opts.purpose === 'training' && trainingBlocker) throw new ModelValidationError('opset', `${trainingBlocker}.`);
  if (trainingBlocker) warnings.push(`${trainingBlocker} (inference only).`);
  return {
    opset,
    irVersion: ir,
    nodeCount: ctx.nodeCount,
    initializerBytes: ctx.initBytes,
    inference: true,
    training: trainingOk,
    trainingBlocker,
    warnings,
  };
}
