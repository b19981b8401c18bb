// The instance drill-down of a comparison: one example's label and, under every model of the
// comparison (seed 0 of each entry), its predicted probabilities, loss and attack scores, all read
// from the models' stored per-example outputs (no inference). Also the forget examples whose
// true-class confidence changed most from the original to a model, to pick from.
//
// Every number is one of the engine's per-example definitions: cross-entropy (eval/quantities.ts),
// the attack scores confidence, entropy and logit-scaled confidence φ (eval/attack.ts, the attack
// simulation's own, with their definitions) and SVC_MIA's m-entropy (eval/mia.ts miaFeatures).

import { ApiError } from '../../../preload/api/common';
import type { Workspace } from '../workspace/types';
import type { StoredOutputs } from '../../engine/runs/outputs';
import type { ChangedExamples, ExampleData, ExampleModelData } from '../../engine/eval/contract-types';
import { crossEntropyLoss, QUANTITY_DEFINITIONS } from '../../engine/eval/quantities';
import { miaFeatures } from '../../engine/eval/mia';
import { rowsOf, softmaxRow } from '../../engine/eval/util';
import { ATTACK_FEATURES, attackScores } from '../../engine/eval/attack';
import { SPLIT_NAMES } from '../../engine/eval/types';
import { instanceChart } from '../../engine/reports/charts/instance';
import type { ChartSpec } from '../../engine/reports/charts/types';
import { getComparison } from './comparisons';
import { cachedRunOutputs, entryModels } from './embedding';

/** One-line definitions shown next to the numbers (the formulas of the engine functions that compute them). */
export const EXAMPLE_DEFINITIONS: ExampleData['definitions'] = {
  loss: QUANTITY_DEFINITIONS.crossEntropyLoss,
  confidence: ATTACK_FEATURES.confidence.definition,
  entropy: ATTACK_FEATURES.entropy.definition,
  mEntropy: 'm-entropy as SVC_MIA.py computes it over the example’s split: −Σ_k q_k log p_k, q_k = 1 − p_k for the split’s classes, p_k otherwise',
  logitConfidence: ATTACK_FEATURES['logit-confidence'].definition,
};

const rowIndex = new WeakMap<StoredOutputs, Map<string, number>>();

function rowOf(o: StoredOutputs, exampleId: string): number | undefined {
  let m = rowIndex.get(o);
  if (!m) {
    m = new Map(o.ids.map((id, i) => [id, i]));
    rowIndex.set(o, m);
  }
  return m.get(exampleId);
}

function exampleUnder(o: StoredOutputs, row: number): Omit<ExampleModelData, 'key' | 'label' | 'role'> {
  const p = softmaxRow(o, row);
  const y = o.labels[row];
  let predicted = 0;
  for (let k = 1; k < o.numClasses; k++) if (o.logits[row * o.numClasses + k] > o.logits[row * o.numClasses + predicted]) predicted = k;
  const splitRows = rowsOf(o, SPLIT_NAMES[o.split[row]]);
  const mEntropy = miaFeatures(o, splitRows, 'm-entropy')[splitRows.indexOf(row)];
  return {
    probabilities: Array.from(p),
    predicted,
    loss: crossEntropyLoss(o.logits, o.numClasses, row, y),
    scores: {
      confidence: attackScores(o, [row], 'confidence')[0],
      entropy: attackScores(o, [row], 'entropy')[0],
      mEntropy,
      logitConfidence: attackScores(o, [row], 'logit-confidence')[0],
    },
  };
}

/** comparisons.example: one example under every model of the comparison, with its chart. */
export async function comparisonExample(ws: Workspace, a: { id: string; exampleId: string }): Promise<ExampleData & { chart: ChartSpec }> {
  const cmp = (await getComparison(ws, a.id)).data;
  const models: ExampleModelData[] = [];
  let first: { o: StoredOutputs; row: number } | null = null;
  for (const m of entryModels(cmp)) {
    const o = await cachedRunOutputs(ws, m.runId);
    const row = rowOf(o, a.exampleId);
    if (row === undefined) throw new ApiError('not_found', `Example '${a.exampleId}' is not among the forget, retain and test examples of comparison '${a.id}'.`);
    first ??= { o, row };
    models.push({ key: m.key, label: m.label, role: m.role, ...exampleUnder(o, row) });
  }
  if (!first) throw new ApiError('invalid_argument', 'The comparison has no models.');
  const label = first.o.labels[first.row];
  const data: ExampleData = {
    comparisonId: a.id,
    exampleId: a.exampleId,
    datasetId: cmp.refs.dataset.id,
    split: SPLIT_NAMES[first.o.split[first.row]],
    label,
    className: cmp.classNames[label] ?? String(label),
    classNames: cmp.classNames,
    models,
    definitions: EXAMPLE_DEFINITIONS,
  };
  return { ...data, chart: instanceChart(data) };
}

/**
 * comparisons.changedExamples: the forget examples whose true-class confidence p_y changed most
 * (largest |change|, then by id) from the original to the model `key` (default: the first unlearned
 * model, else the retrain reference).
 */
export async function changedExamples(ws: Workspace, a: { id: string; key?: string; limit?: number }): Promise<ChangedExamples> {
  const cmp = (await getComparison(ws, a.id)).data;
  const models = entryModels(cmp);
  const orig = models.find((m) => m.role === 'original');
  if (!orig) throw new ApiError('invalid_argument', `Comparison '${a.id}' has no original model.`);
  const target = a.key !== undefined ? models.find((m) => m.key === a.key) : (models.find((m) => m.role === 'unlearned') ?? models.find((m) => m.role === 'reference'));
  if (!target) throw new ApiError('not_found', a.key !== undefined ? `Comparison '${a.id}' has no model '${a.key}' (it has ${models.map((m) => m.key).join(', ')}).` : `Comparison '${a.id}' has no model to compare with the original.`);
  const oo = await cachedRunOutputs(ws, orig.runId);
  const ot = await cachedRunOutputs(ws, target.runId);
  const rows = rowsOf(oo, 'forget');
  const before = attackScores(oo, rows, 'confidence');
  const tRows = rows.map((r) => rowOf(ot, oo.ids[r]) ?? -1);
  if (tRows.some((r) => r < 0)) throw new ApiError('conflict', `The stored outputs of ${target.label} do not cover the same forget examples as the original's.`);
  const after = attackScores(ot, tRows, 'confidence');
  const list = rows.map((r, i) => ({ exampleId: oo.ids[r], label: oo.labels[r], className: cmp.classNames[oo.labels[r]] ?? String(oo.labels[r]), original: before[i], model: after[i], change: after[i] - before[i] }));
  list.sort((x, y) => Math.abs(y.change) - Math.abs(x.change) || (x.exampleId < y.exampleId ? -1 : x.exampleId > y.exampleId ? 1 : 0));
  return { comparisonId: a.id, key: target.key, label: target.label, examples: list.slice(0, a.limit ?? 20) };
}
