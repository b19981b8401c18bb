// Chart and attack-simulation shapes shared by the engine (chart builders, attack statistics), the
// backend and the API contract. Defined here once; preload/api/unlearning.ts re-exports them.
// Types only: no runtime code and no imports.

export type ChartCell = string | number | null;

export interface ChartTable {
  columns: string[];
  rows: ChartCell[][];
}

/**
 * A chart: the ECharts option (plain JSON, no functions, so it crosses the API unchanged and the PDF
 * renders the very same object) plus its text alternative, the same data as a table.
 */
export interface ChartSpec {
  id: string;
  title: string;
  /** the ECharts option (no animation or colour theme: the caller adds those) */
  option: Record<string, unknown>;
  /** the text alternative: every number the chart draws */
  table: ChartTable;
  /** why the chart has nothing to draw (e.g. "needs N ≥ 3 seeds"), shown instead of an empty plot */
  empty?: string;
}

/** The per-example score a membership-inference attack thresholds. */
export type AttackFeature = 'confidence' | 'entropy' | 'logit-confidence';

/** forget vs test (does the model treat the forget set like seen data?) or retain vs test (the attack's own power) */
export type AttackPair = 'retain-vs-test' | 'forget-vs-test';

export interface AttackRocCurve {
  /** false-positive rate (test rows called members), sampled to at most ~300 points, increasing */
  fpr: number[];
  /** true-positive rate at the same thresholds */
  tpr: number[];
  /** area under the full (unsampled) curve */
  auc: number;
  /** TPR at FPR ≤ 1% and ≤ 0.1% (the largest TPR with FPR at most that), LiRA's low-FPR summary */
  tprAt1pct: number;
  tprAt01pct: number;
}

/** One model's score distributions (seed 0 run) on the three splits. */
export interface AttackModelData {
  key: string;
  label: string;
  role: 'original' | 'reference' | 'unlearned';
  /** rows per split */
  totals: { forget: number; retain: number; test: number };
  /** counts per histogram bin (bins from AttackData.edges), per split */
  counts: { forget: number[]; retain: number[]; test: number[] };
  /**
   * share of each split the attack calls "member" at threshold edges[i] (length = edges.length):
   * retain = TPR, test = FPR, forget = forget rows still looking like members
   */
  memberRate: { forget: number[]; retain: number[]; test: number[] };
  roc: Record<AttackPair, AttackRocCurve>;
}

export interface AttackData {
  comparisonId: string;
  feature: AttackFeature;
  /** e.g. "Confidence p_y" */
  featureName: string;
  /** the feature's definition (formula), shown with the charts */
  definition: string;
  unit: string;
  /** the rule: 'higher' = member when score ≥ threshold (confidence, φ); 'lower' = member when score ≤ threshold (entropy) */
  memberWhen: 'higher' | 'lower';
  /** histogram bin edges (shared by every model and split), bins.length + 1 values */
  edges: number[];
  /** rows whose score fell outside [edges[0], edges[last]] were clipped into the end bins */
  clipped: boolean;
  models: AttackModelData[];
  /** milliseconds the backend spent (reading stored outputs + computing) */
  computeMs: number;
}

/** A chart of a comparison the dashboard asks for; built by one engine function each. */
export type ComparisonChartRequest =
  | { kind: 'tradeoff'; y?: 'retain-accuracy' | 'test-accuracy' }
  | { kind: 'gaps' }
  | { kind: 'per-class'; a: string; b: string; split?: 'forget' | 'retain' | 'test' }
  | { kind: 'confusion'; model: string; split?: 'forget' | 'retain' | 'test' }
  | { kind: 'relearn' }
  | { kind: 'run-times' }
  | { kind: 'cka'; model: string; split?: 'all' | 'forget' | 'retain' | 'test' | 'train' }
  | { kind: 'epsilon' }
  | { kind: 'training-curve' }
  | { kind: 'unlearning-curves' }
  | { kind: 'attack-histogram'; model: string; feature: AttackFeature; threshold?: number }
  | { kind: 'attack-roc'; feature: AttackFeature; pair: AttackPair };
