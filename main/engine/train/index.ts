// Lethe's training engine: training-step graphs, gradient graphs, evaluation graphs, baking, and the
// Trainer. Everything runs under plain Node with onnxruntime-node InferenceSessions.
//
//   buildTrainStep(model, {trainable, optimizer, masked?, loss?, logits?, dropout?, bnMomentum?})
//       -> TrainStepGraph: one graph = forward + cross-entropy + backward + optimizer update.
//          Inputs: data input(s), STEP_IO.labels (int64 [N]), STEP_IO.weights (float [N], if
//          loss.exampleWeights), STEP_IO.lr, STEP_IO.step (float scalars), each trainable param (its
//          own name), its state `${p}__${slot}`, its mask `${p}__mask`, running stats, dropout masks.
//          Outputs: STEP_IO.loss, STEP_IO.losses, `${p}__new`, `${p}__${slot}__new`, `${stat}__new`.
//   buildGradGraph(model, {params, transform: 'none'|'square'|'abs', loss?, mode?, paramsAsInputs?})
//       -> loss, per-example losses and `${p}__grad` (gradient, squared gradient or |gradient|).
//   buildEvalGraph(model, {logits?, features?, withLabels?})
//       -> per-example logits, losses, logitMargins (logit_y - logsumexp others), pred, correct, features.
//   bakeInference(model, weights) -> inference Model with the weights as initializers.
//   evaluateModel(model, dataset, {batchSize, provider, threads, features}) -> EvaluationResult.
//   Trainer.create(options) -> trainer.fit(dataset, {epochs, signal, onStep, onEpoch, evalData,
//       onCheckpoint, checkpointEvery}); trainer.trainStep(...) / trainStepWith(...) for custom loops; checkpoint()/restore();
//       inferenceModel(); weights(); evaluate().
//   Loss terms (loss-terms.ts; LossSettings.terms = {kl?: {temperature}, npo?: {beta}, l1?: true}):
//       loss = Σ wCE_i·CE_i + Σ wKL_i·T²·KL(softmax(t_i/T) ‖ softmax(z_i/T)) + Σ wNPO_i·(2/β)·softplus(β·(log p(y_i|x_i) − ref_i))
//            + λ·Σ_p Σ|θ_p|, reduction 'sum'; extra inputs STEP_IO.teacherLogits [N, C], klWeights [N], refLogp [N],
//       npoWeights [N], l1 (scalar); CE weights = STEP_IO.weights; outputs STEP_IO.klLosses / npoLosses [N].
//       Trainer: trainStepWith({x, y, nb, exampleShape, ceWeights, teacherLogits, klWeights, refLogp, npoWeights, l1, lr})
//       and trainer.logits(x, nb, exampleShape) (eval-mode logits of the current weights, one reused session).
//   buildInputGradGraph / InputGradientRunner / inputGradients(model, x, y, nb, exampleShape, opts)
//       -> dLoss/dx [N, ...] (CE summed: row i = example i's own gradient) and the logits (FGSM, UNSIR).
//   perExampleGradients(model, ds, {params, indices, labels?}) -> n x P Float32Array + parameter layout;
//   expectedFisherDiagonal(model, ds, {params, indices}) -> Golatkar's Σ_y p(y|x)·g_y² diagonal (for fisherNoise).
//   weight-edits.ts: listLayers / lastLayers(model, k) (CF-k, EU-k), reinitializeParams(model, names, seed),
//       ssdDampen (SSD), fisherNoise (Fisher forgetting): pure functions over Float32Array maps.
//   encodeCheckpoint/decodeCheckpoint: binary checkpoint files.
//   lrAt/lrForStep: learning-rate schedules (constant, step, multistep, cosine, + linear warm-up).
//   Rng (xoshiro128** seeded by SplitMix32), STREAM: the documented random streams.
//   MultiTrainer.create({models, optimizer, lr, layout: 'prefixed'|'grouped', threads, interOpThreads})
//       -> trainStep(batches (one per member), nb, lr?) trains N models in ONE graph (buildMultiTrainStep;
//       stackModels for the grouped layout); weights(i), optimizerState(i, slot), memberModel(i).

export { buildTrainStep, STEP_IO, suffix, type TrainStepGraph, type TrainStepOptions, type LossSettings, type ParamIO } from './train-step';
export { buildGradGraph, type GradGraph, type GradGraphOptions } from './grad-graph';
export { buildEvalGraph, defaultFeatureValue, EVAL_IO, type EvalGraph, type EvalGraphOptions } from './eval-graph';
export { bakeInference, type WeightMap } from './bake';
export { evaluateModel, EvalRunner, type EvaluationResult, type EvaluateOptions, type EvalRunnerOptions, type EvalBatch } from './evaluator';
export { Trainer, TrainingCancelledError, type StepBatch, type StepResult, type TrainerOptions, type FitOptions, type FitResult, type StepInfo, type EpochInfo } from './trainer';
export { encodeCheckpoint, decodeCheckpoint, type TrainerCheckpoint } from './checkpoint';
export { lrAt, lrForStep, validateSchedule, type ScheduleSpec, type LrScheduleOptions } from './schedules';
export { resolveOptimizer, validateOptimizer, stateSlots, type OptimizerSpec, type OptimizerKind } from './optimizers';
export { emitCrossEntropy, type CrossEntropyOptions } from './loss';
export { Rng, STREAM, type RngState } from './rng';
export { makeDataset, validateDataset, gatherBatch, type ArrayDataset } from './data';
export { openSession, type ProviderName, type SessionSettings } from './session';
export { setAutodiff, type BackwardFn, type LowerFn } from './deps';
export { computeGradients, type GradientResult } from './gradients';
export { emitLoss, hasTerms, validateTerms, TERM_IO, type LossTerms } from './loss-terms';
export { buildInputGradGraph, inputGradients, InputGradientRunner, INPUT_GRAD_IO, type InputGradGraph, type InputGradGraphOptions, type InputGradBatch, type InputGradResult } from './input-grad';
export { perExampleGradients, expectedFisherDiagonal, type PerExampleOptions, type PerExampleResult, type ParamSlice, type ExpectedFisherOptions, type ExpectedFisherResult } from './per-example';
export { listLayers, lastLayers, reinitializeParams, ssdDampen, fisherNoise, type LayerInfo, type ParamMap, type SsdOptions, type EditResult, type FisherNoiseOptions, type FisherNoiseResult } from './weight-edits';
export { MultiTrainer, buildMultiTrainStep, memberPrefix, type MultiTrainerOptions, type MultiTrainStepGraph, type MultiTrainStepOptions, type MultiLayout, type MultiSlot, type MemberBatch } from './multi-trainer';
export { stackModels, type StackedModel, type StackedPart } from './stack-models';
