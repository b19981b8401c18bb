// Lethe's reverse-mode autodiff over ONNX graphs (run by onnxruntime-node).
//
//   buildBackward(graph, {loss, wrt, lossGrad?, opset?})  -> {graph, grads, unreachable}
//   lowerForTraining(graph, {bnMomentum?, dropout, batchNorm?}) -> {graph, runningStats, dropoutMasks}
//   gradCheck({graph, feeds, wrt, ...})                  -> numerical check of every derivative rule
//   GRAD_RULES                                            -> the registry (one rule per op)
//
// Restrictions: loss is a float scalar (shape [] or [1]); wrt values must be float; opset >= 13 in, and
// the returned graph must be run with opset >= 16 (BACKWARD_MIN_OPSET: MaxPool/Gather backward use
// ScatterElements/ScatterND with reduction='add'); pass that run-time opset as `opts.opset`.
// Conv/Pool backward need static spatial dims and static weight shapes; batch dims may be symbolic
// ('N'), and unknown broadcast dims are resolved at run time. Integer/bool values get no gradient.
// wrt values that do not influence the loss get an explicit zero gradient and are listed in `unreachable`.
// Training-mode BatchNormalization / Dropout must be lowered first (lowerForTraining), else a clear error.
// The result graph = forward nodes (MaxPool may gain an Indices output) + backward nodes; inputs and
// initializers are kept (plus `lossGrad` and small constants); grad outputs are appended unless
// addGradOutputs: false. Formulation choices for hot kernels live in formulation.ts (FORMULATION).

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
