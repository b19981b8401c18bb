// The contract between the backward sweep (backward.ts) and the per-op derivative rules (rules/*.ts).

import type { GraphBuilder } from '../onnx/builder';
import type { DType, Dim, Node } from '../onnx/ir';
import type { KnownValue, ValueType } from '../onnx/shape-infer';

export interface GradContext {
  readonly node: Node;
  readonly b: GraphBuilder;
  /** default-domain opset of the graph (>= 13) */
  readonly opset: number;
  /** upstream gradient of each output (null: no gradient flows into that output) */
  readonly gy: (string | null)[];
  /** which inputs need a gradient (false for integer inputs and for inputs not depending on wrt) */
  readonly needs: boolean[];

  type(name: string): ValueType;
  dtype(name: string): DType;
  /** static rank known; dims may be symbolic. Throws a clear error when the rank is unknown. */
  shape(name: string): Dim[];
  /** constant (or shape-derived) value of a small tensor, if known */
  known(name: string): KnownValue | undefined;
  /** integer values of a constant input; throws naming `what` if they are not known at build time */
  ints(name: string, what: string): number[];

  /** scalar constant with the float dtype of `like` */
  scalar(value: number, like: string): string;
  /** 1-D int64 constant */
  i64(values: number[] | bigint[]): string;
  /** runtime or constant shape of a forward value (constant when fully static; cached) */
  shapeOf(name: string): string;
  /** reduce `g` (shaped like `outName`) over the axes on which `inName` was broadcast */
  unbroadcast(g: string, inName: string, outName: string): string;
  /** ReduceSum with axes as an input tensor (opset >= 13) */
  reduceSum(x: string, axes: number[], keepdims: boolean): string;
  /** zeros shaped like a forward value */
  zerosLike(name: string): string;
  /** ask the forward node for an extra output (e.g. MaxPool Indices); returns its value name */
  forwardOutput(index: number, hint: string): string;
  /** the node producing a value (undefined for graph inputs / initializers) */
  producer(name: string): Node | undefined;
  /** how many nodes read a value (graph outputs count as a reader) */
  readers(name: string): number;
  /** whether a value depends differentiably on a wrt value (only such values can take a gradient) */
  isActive(name: string): boolean;
  /** contribute a gradient directly to another value (used for fusions such as Relu -> MaxPool) */
  addGrad(name: string, g: string): void;
  /** error naming the node */
  fail(message: string): never;
}

/** Gradients for each input: a value name, or null/undefined for none. */
export type GradResult = (string | null | undefined)[];

export interface GradRule {
  /** ONNX op type (default domain) */
  op: string;
  /** input positions through which a gradient can flow (default: all) */
  differentiable?: number[];
  backward(ctx: GradContext): GradResult;
}
