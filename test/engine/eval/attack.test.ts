// The dashboards' threshold attack: scores per split from stored logits, member shares at the shared
// bin edges, histograms with clipped end bins, and ROC curves (AUC, low-FPR TPR, log sampling).
import { describe, expect, it } from 'vitest';
import { ATTACK_FEATURES, attackEdges, attackScores, attackSummary, histogram, memberShare, rocCurve, splitScores } from '../../../main/engine/eval/attack';
import type { ModelOutputs } from '../../../main/engine/eval/types';

const f64 = (a: number[]) => Float64Array.from(a);

describe('attack simulation', () => {
  it('ROC: AUC is the share of (member, non-member) pairs ordered right; the entropy rule is reversed', () => {
    const r = rocCurve(f64([0.9, 0.8, 0.4]), f64([0.7, 0.3]), 'higher');
    expect(r.auc).toBeCloseTo(5 / 6, 12);
    expect(r.fpr[0]).toBe(0);
    expect(r.fpr.at(-1)).toBe(1);
    expect(r.tpr.at(-1)).toBe(1);
    // FPR ≤ 1% only at the start, where 2 of 3 members score above every non-member
    expect(r.tprAt1pct).toBeCloseTo(2 / 3, 12);
    const low = rocCurve(f64([0.1, 0.2, 0.6]), f64([0.3, 0.7]), 'lower');
    expect(low.auc).toBeCloseTo(5 / 6, 12);
    // ties count half (trapezoid through the joint step)
    expect(rocCurve(f64([1, 1]), f64([1, 1]), 'higher').auc).toBeCloseTo(0.5, 12);
  });

  it('ROC sampling keeps both ends and at most ~2 points per log step on 20,000 non-members', () => {
    const pos = Float64Array.from({ length: 20_000 }, (_, i) => Math.sin(i) + 0.3);
    const neg = Float64Array.from({ length: 20_000 }, (_, i) => Math.cos(i * 1.7));
    const r = rocCurve(pos, neg, 'higher', 100);
    expect(r.fpr.length).toBeLessThanOrEqual(202);
    expect(r.fpr.length).toBeGreaterThan(50);
    expect(r.fpr[0]).toBe(0);
    expect(r.fpr.at(-1)).toBe(1);
    for (let i = 1; i < r.fpr.length; i++) expect(r.fpr[i]).toBeGreaterThanOrEqual(r.fpr[i - 1]);
    expect(r.auc).toBeGreaterThan(0.5);
  });

  it('member shares are exact at thresholds (ties are members) and follow the rule direction', () => {
    const s = f64([0.1, 0.5, 0.5, 0.9]);
    expect(memberShare(s, 0.5, 'higher')).toBe(0.75);
    expect(memberShare(s, 0.5, 'lower')).toBe(0.75);
    expect(memberShare(s, 0.95, 'higher')).toBe(0);
    expect(memberShare(s, 0, 'lower')).toBe(0);
  });

  it('histograms clip outside values into the end bins; φ edges are whole nats around the pooled scores', () => {
    expect(histogram(f64([-5, 0, 0.49, 0.5, 1, 7]), [0, 0.5, 1])).toEqual([3, 3]);
    const { edges, clipped } = attackEdges('logit-confidence', 10, [f64(Array.from({ length: 1000 }, (_, i) => i / 100 - 2))]);
    expect(edges[0]).toBe(-2);
    expect(edges.at(-1)).toBe(8);
    expect(clipped).toBe(false);
    expect(attackEdges('entropy', 10, []).edges.at(-1)).toBeCloseTo(Math.log(10), 12);
  });

  it('scores per split from logits: confidence p_y, entropy, φ; summary rates agree with the histograms', () => {
    const m: ModelOutputs = {
      split: Uint8Array.from([0, 1, 1, 2, 2]),
      labels: Int32Array.from([0, 1, 0, 1, 0]),
      logits: Float32Array.from([3, 0, 0, 2, 1, 1, 0, 0, 0, 0]),
      numClasses: 2,
      n: 5,
    };
    const conf = attackScores(m, [0, 1, 3], 'confidence');
    expect(conf[0]).toBeCloseTo(1 / (1 + Math.exp(-3)), 12);
    expect(conf[1]).toBeCloseTo(1 / (1 + Math.exp(-2)), 12);
    expect(conf[2]).toBeCloseTo(0.5, 12);
    const phi = attackScores(m, [0], 'logit-confidence');
    expect(phi[0]).toBeCloseTo(3, 6);
    const ent = attackScores(m, [2], 'entropy');
    expect(ent[0]).toBeCloseTo(Math.log(2), 12);
    const s = splitScores(m, 'confidence');
    expect([s.forget.length, s.retain.length, s.test.length]).toEqual([1, 2, 2]);
    const edges = [0, 0.25, 0.5, 0.75, 1];
    const sum = attackSummary(s, edges, ATTACK_FEATURES.confidence.memberWhen);
    expect(sum.totals).toEqual({ forget: 1, retain: 2, test: 2 });
    expect(sum.memberRate.retain[0]).toBe(1);
    expect(sum.memberRate.forget.at(-1)).toBe(0);
    // at edge 0.5 every test row (p_y = 0.5) is called member
    expect(sum.memberRate.test[2]).toBe(1);
    expect(sum.counts.retain.reduce((a, b) => a + b, 0)).toBe(2);
  });
});
