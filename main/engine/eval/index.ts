// The evaluation suite: pure metric functions over stored per-example outputs.
export * from './types';
export { METRICS, computeMetrics, getMetric } from './registry';
export { meanCI, aggregateOverSeeds, studentTQuantile, studentTCdf, type MeanCI, type SeedAggregate } from './stats';
export { logitScaledConfidence, phiAll, validateInputs, splitAccuracy } from './util';
export { crossEntropyLoss, maxMargin, logitMargin, perExample, QUANTITIES, QUANTITY_DEFINITIONS, type QuantityName } from './quantities';
export { loadSvm, svcFitPredict, svcFitPredictAsync, setSvmConcurrency, svmBuildInUse } from './svm';
export { miaEfficacy, miaEfficacyAsync, miaFeatures, primeMiaEfficacy, knownMiaEfficacy, type MiaFeature } from './mia';
export { forgetScoreFromConfs, bucketPoints, type ForgetQuality } from './forget-quality';
export { binnedKl } from './klom';
export { linearCka } from './cka';
export { klomPerRow } from './metrics/klom';
export { lossMiaRows } from './metrics/loss-mia';
export { perClassAccuracy } from './metrics/per-class-accuracy';
