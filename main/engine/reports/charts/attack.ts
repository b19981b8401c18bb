import type { AttackData, AttackPair } from '../contract-types';
import { axis, baseOption, round, type ChartSpec } from './types';

const SPLITS = [
  { key: 'retain', name: 'Members (retain set)' },
  { key: 'test', name: 'Non-members (test set)' },
  { key: 'forget', name: 'Forget set' },
] as const;

/** The id of the series that carries the threshold marker (the dashboard moves it with its slider). */
export const THRESHOLD_SERIES_ID = 'retain';

function modelOf(data: AttackData, key: string) {
  const m = data.models.find((x) => x.key === key || x.label === key);
  if (!m) throw new Error(`the attack data has no model '${key}' (have: ${data.models.map((x) => x.key).join(', ')})`);
  return m;
}

function fmtEdge(v: number): number {
  return round(v, 4) ?? v;
}

/**
 * Score histograms of one model: the share of each split's rows per bin (retain = members, test =
 * non-members, the forget set), as step lines on the shared bins, with the attack threshold marked
 * at edges[thresholdIndex] and the resulting TPR / FPR / forget share in the subtitle.
 */
export function attackHistogramChart(data: AttackData, key: string, thresholdIndex?: number): ChartSpec {
  const m = modelOf(data, key);
  const B = data.edges.length - 1;
  const ti = Math.min(B, Math.max(0, thresholdIndex ?? Math.round(B / 2)));
  const t = data.edges[ti];
  const title = `Attack scores: ${data.featureName} under ${m.label}`;
  const pct = (c: number[], total: number) => c.map((v) => (total ? round((100 * v) / total, 3) : null));
  const shares = { retain: pct(m.counts.retain, m.totals.retain), test: pct(m.counts.test, m.totals.test), forget: pct(m.counts.forget, m.totals.forget) };
  const rule = data.memberWhen === 'higher' ? '≥' : '≤';
  const rates = `TPR ${(100 * m.memberRate.retain[ti]).toFixed(1)}%, FPR ${(100 * m.memberRate.test[ti]).toFixed(1)}%, forget called member ${(100 * m.memberRate.forget[ti]).toFixed(1)}%`;
  const unit = data.unit === 'probability' ? 'probability' : data.unit;
  const option = {
    ...baseOption(title, `member when score ${rule} ${fmtEdge(t)}: ${rates}`),
    legend: { bottom: 0, itemGap: 30 },
    tooltip: { trigger: 'axis' },
    xAxis: axis(`${data.featureName} (${unit}${data.clipped ? ', end bins hold clipped values' : ''})`, { type: 'value', min: fmtEdge(data.edges[0]), max: fmtEdge(data.edges[B]) }),
    yAxis: axis('Share of the split’s examples (%)', { type: 'value', min: 0, nameGap: 45 }),
    series: SPLITS.map((s) => ({
      id: s.key,
      type: 'line',
      name: s.name,
      step: 'end',
      showSymbol: false,
      lineStyle: { width: 1.5 },
      areaStyle: { opacity: 0.12 },
      data: [...data.edges.slice(0, B).map((e, i) => [fmtEdge(e), shares[s.key][i]]), [fmtEdge(data.edges[B]), shares[s.key][B - 1]]],
      ...(s.key === THRESHOLD_SERIES_ID ? { markLine: thresholdMarkLine(t) } : {}),
    })),
  };
  const rows = data.edges.slice(0, B).map((e, i) => [fmtEdge(e), fmtEdge(data.edges[i + 1]), m.counts.retain[i], shares.retain[i], m.counts.test[i], shares.test[i], m.counts.forget[i], shares.forget[i]]);
  return {
    id: `attack-histogram-${data.feature}-${m.key}`,
    title,
    option,
    table: { columns: ['bin from', 'bin to', 'retain rows', 'retain (%)', 'test rows', 'test (%)', 'forget rows', 'forget (%)'], rows },
  };
}

/** The threshold marker: a dashed vertical line at x = t (the same object the dashboard's slider moves). */
export function thresholdMarkLine(t: number): Record<string, unknown> {
  return { silent: true, symbol: 'none', animation: false, lineStyle: { type: 'dashed', width: 2 }, label: { formatter: 'threshold', position: 'end' }, data: [{ xAxis: fmtEdge(t) }] };
}

const PAIR_TEXT: Record<AttackPair, { title: string; pos: string }> = {
  'retain-vs-test': { title: 'members (retain) vs non-members (test)', pos: 'retain' },
  'forget-vs-test': { title: 'forget set vs non-members (test)', pos: 'forget' },
};

/**
 * ROC curves of the threshold attack on log–log axes (LiRA style), one line per model, for one
 * pair of splits; points with a zero rate cannot be drawn on a log axis and are left out (the table keeps them).
 */
export function attackRocChart(data: AttackData, pair: AttackPair): ChartSpec {
  const p = PAIR_TEXT[pair];
  const title = `ROC of the ${data.featureName} attack: ${p.title}`;
  const nNeg = Math.max(1, ...data.models.map((m) => m.totals.test));
  const minPct = Math.pow(10, Math.floor(Math.log10(100 / nNeg)));
  const rows = data.models.flatMap((m) => {
    const r = m.roc[pair];
    return [[m.label, m.role, round(r.auc, 4), round(100 * r.tprAt1pct, 3), round(100 * r.tprAt01pct, 3), r.fpr.length]];
  });
  const option = {
    ...baseOption(title, 'log scale on both axes; the dashed diagonal is a random guess'),
    legend: { bottom: 0, type: 'scroll', itemGap: 30 },
    tooltip: { trigger: 'item' },
    xAxis: axis('False-positive rate (%, log scale)', { type: 'log', min: minPct, max: 100, logBase: 10 }),
    yAxis: axis(`TPR: ${p.pos} rows called member (%, log)`, { type: 'log', min: minPct, max: 100, logBase: 10, nameGap: 50 }),
    series: [
      ...data.models.map((m) => ({
        type: 'line',
        name: m.label,
        showSymbol: false,
        sampling: 'lttb',
        lineStyle: { width: 1.5 },
        data: m.roc[pair].fpr.map((f, i) => [round(100 * f, 5), round(100 * m.roc[pair].tpr[i], 5)]).filter((d) => (d[0] ?? 0) > 0 && (d[1] ?? 0) > 0),
      })),
      { type: 'line', name: 'chance', showSymbol: false, silent: true, lineStyle: { type: 'dashed', width: 1, color: '#888888' }, itemStyle: { color: '#888888' }, data: [[minPct, minPct], [100, 100]] },
    ],
  };
  return {
    id: `attack-roc-${data.feature}-${pair}`,
    title,
    option,
    table: { columns: ['model', 'role', 'AUC', 'TPR at FPR ≤ 1% (%)', 'TPR at FPR ≤ 0.1% (%)', 'curve points drawn'], rows },
  };
}
