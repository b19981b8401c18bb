// Chart option builders: one pure function per chart (comparison/run data in, ECharts option and its
// data table out). The UI dashboards and the PDF report share them.

export * from './types';
export { tradeoffChart } from './tradeoff';
export { gapsChart, GAP_METRICS } from './gaps';
export { perClassChart, perClassOf, type SplitName } from './per-class';
export { confusionChart } from './confusion';
export { relearnChart } from './relearn';
export { runTimesChart } from './run-times';
export { renderChartSvg } from './render';
export { attackHistogramChart, attackRocChart, thresholdMarkLine, THRESHOLD_SERIES_ID } from './attack';
export { epsilonChart } from './epsilon';
export { ckaChart, type CkaSplit } from './cka';
export { trainingCurveChart, unlearningCurvesChart } from './curves';
export { embeddingChart, CLASS_COLORS, FORGET_SYMBOL } from './embedding';
export { instanceChart } from './instance';
