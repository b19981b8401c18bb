// Lethe's reverse-mode autodiff over ONNX graphs (run by onnxruntime-node).
//
//   buildBackward(graph, {loss, wrt, lossGrad?, opset?})  -> {graph, grads, unreachable}
//   lowerForTraining(graph, {bnMomentum?, dropout, batchNorm?}) -> {graph, runningStats, dropoutMasks}
//   gradCheck({graph, feeds, wrt, ...})                  -> numerical check of every derivative rule
//   GRAD_RULES                                            -> the registry (one rule per op)
//
// Restrictions: loss is a float scalar (shape [] or [1]); opset >= 13 in, and the returned graph must
// be run with opset >= 16 (MaxPool/Gather backward use ScatterElements/ScatterND with reduction='add');
// Conv/Pool backward need static spatial dims and static weight shapes; batch dims may be symbolic.
// wrt values that do not influence the loss get an explicit zero gradient and are listed in `unreachable`.

export { buildBackward, AutodiffError, NON_DIFFERENTIABLE_OPS, BACKWARD_MIN_OPSET } from './backward';
export type { BuildBackwardOptions, BackwardGraph } from './backward';
export { lowerForTraining } from './lower';
export type { LowerOptions, LoweredGraph, RunningStat, DropoutMask } from './lower';
export { gradCheck, graphToFloat64, prng } from './grad-check';
export type { GradCheckOptions, GradCheckResult, GradCheckTensor } from './grad-check';
export { GRAD_RULES, RULES_BY_OP } from './rules';
export type { GradRule, GradContext } from './types';
export { FORMULATION, setFormulation } from './formulation';
export type { Formulation } from './formulation';
