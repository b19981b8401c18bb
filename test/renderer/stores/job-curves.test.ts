// Live curves: the jobs store accumulates loss / held-out retain / forget accuracy from progress
// events (bounded), and the chart's option and text alternative are built from them.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { createFakeApi, makeJob, type FakeApi } from '../fake-api';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { useJobsStore, CURVE_POINTS_KEPT } = await import('../../../renderer/src/stores/jobs');
const { jobCurvesOption, jobCurvesSummary, presentSeries, JOB_CURVES_TITLE, epochFrame, trainingCurvePoints } = await import('../../../renderer/src/charts/job-curves');

const COLORS = { text: '#111', muted: '#666', border: '#ddd', series: ['#00f', '#0a0', '#a00'] };

beforeEach(() => {
  setActivePinia(createPinia());
  api = createFakeApi({ 'jobs.list': () => [makeJob({ id: 'u', kind: 'unlearn.run', title: 'SalUn' })] });
});

describe('job curves in the jobs store', () => {
  it('keeps a point per progress event that carries a loss or an accuracy, with x = progress in %', async () => {
    const store = useJobsStore();
    await store.connect();
    api.emit('jobs.event', { type: 'progress', id: 'u', progress: { step: 0, total: 1000, fraction: 0, message: 'loading the data' } });
    api.emit('jobs.event', { type: 'progress', id: 'u', progress: { step: 100, total: 1000, fraction: 0.1, loss: 2.3 } });
    api.emit('jobs.event', { type: 'progress', id: 'u', progress: { step: 200, total: 1000, fraction: 0.2, retainAccuracy: 88.5 } });
    api.emit('jobs.event', { type: 'progress', id: 'u', progress: { step: 300, total: 1000, fraction: 0.3, loss: 1.1, forgetAccuracy: 40, retainAccuracy: null } });
    api.emit('jobs.event', { type: 'progress', id: 'u', progress: { step: 400, total: null, fraction: null, loss: Number.NaN } });
    expect(store.curves.u).toEqual([
      { x: 10, step: 100, loss: 2.3 },
      { x: 20, step: 200, retainAccuracy: 88.5 },
      { x: 30, step: 300, loss: 1.1, forgetAccuracy: 40 },
    ]);
    expect(store.byId.u.progress?.step).toBe(400);
  });

  it('uses the step when no fraction is known', async () => {
    const store = useJobsStore();
    await store.connect();
    api.emit('jobs.event', { type: 'progress', id: 'u', progress: { step: 17, total: null, fraction: null, loss: 0.5 } });
    expect(store.curves.u).toEqual([{ x: 17, step: 17, loss: 0.5 }]);
  });

  it(`keeps the last ${CURVE_POINTS_KEPT} points`, async () => {
    const store = useJobsStore();
    await store.connect();
    const n = CURVE_POINTS_KEPT + 250;
    for (let i = 0; i < n; i++) api.emit('jobs.event', { type: 'progress', id: 'u', progress: { step: i, total: n, fraction: i / n, loss: i } });
    expect(store.curves.u).toHaveLength(CURVE_POINTS_KEPT);
    expect(store.curves.u[0].loss).toBe(250);
    expect(store.curves.u.at(-1)!.loss).toBe(n - 1);
  });
});

describe('job curves chart option', () => {
  const pts = [
    { x: 10, step: 100, loss: 2.3 },
    { x: 20, step: 200, retainAccuracy: 88.5 },
    { x: 30, step: 300, loss: 1.1, retainAccuracy: 86 },
  ];

  it('has a title, named axes with units, a series per present quantity and an aria description', () => {
    const o = jobCurvesOption(pts, COLORS) as {
      title: { text: string };
      xAxis: { name: string };
      yAxis: { name: string }[];
      series: { name: string; yAxisIndex: number; data: number[][] }[];
      aria: { enabled: boolean; label: { description: string } };
      animation: boolean;
    };
    expect(o.title.text).toBe(JOB_CURVES_TITLE);
    expect(o.xAxis.name).toBe('Progress of the job (%)');
    expect(o.yAxis.map((a) => a.name)).toEqual(['Loss (nats)', 'Accuracy (%)']);
    expect(o.series.map((s) => [s.name, s.yAxisIndex])).toEqual([
      ['Loss', 0],
      ['Held-out retain accuracy (%)', 1],
    ]);
    expect(o.series[0].data).toEqual([
      [10, 2.3],
      [30, 1.1],
    ]);
    expect(o.series[1].data).toEqual([
      [20, 88.5],
      [30, 86],
    ]);
    expect(o.aria.enabled).toBe(true);
    expect(o.aria.label.description).toBe(jobCurvesSummary(pts));
    expect(o.animation).toBe(false);
  });

  it('draws only the loss axis when no accuracy was reported, and says so in words', () => {
    const only = [{ x: 5, step: 5, loss: 0.7 }];
    const o = jobCurvesOption(only, COLORS) as { yAxis: unknown[] };
    expect(o.yAxis).toHaveLength(1);
    expect(presentSeries(only).map((s) => s.key)).toEqual(['loss']);
    expect(jobCurvesSummary(only)).toBe(`${JOB_CURVES_TITLE}: loss 0.700.`);
    expect(jobCurvesSummary(pts)).toBe(`${JOB_CURVES_TITLE}: loss from 2.300 to 1.100 over 2 points; held-out retain accuracy from 88.5% to 86.0% over 2 points.`);
    expect(jobCurvesSummary([])).toMatch(/no values reported yet/);
  });
});

describe('training curves (issue 9, point 11)', () => {
  it('a training job\'s test accuracy (after each epoch) is a point of its live curves', async () => {
    const store = useJobsStore();
    await store.connect();
    api.emit('jobs.event', { type: 'progress', id: 'u', progress: { step: 50, total: 100, fraction: 0.5, testAccuracy: 81.25, message: 'epoch 1: test accuracy 81.25%' } });
    expect(store.curves.u).toEqual([{ x: 50, step: 50, testAccuracy: 81.25 }]);
  });

  it('a trained model\'s per-epoch curves: the same builder with an epoch axis', () => {
    const pts = trainingCurvePoints({ epochLosses: [1.5, 0.9, 0.6], epochTestAccuracies: [null, 0.8, 0.85], testAccuracy: 0.85 });
    expect(pts).toEqual([
      { x: 1, step: 1, loss: 1.5 },
      { x: 2, step: 2, loss: 0.9, testAccuracy: 80 },
      { x: 3, step: 3, loss: 0.6, testAccuracy: 85 },
    ]);
    // records made before per-epoch accuracy: the final accuracy sits on the last epoch
    expect(trainingCurvePoints({ epochLosses: [1, 0.5], testAccuracy: 0.7 }).at(-1)).toEqual({ x: 2, step: 2, loss: 0.5, testAccuracy: 70 });
    const frame = epochFrame(3);
    const o = jobCurvesOption(pts, { ...COLORS, series: [...COLORS.series, '#a60'] }, frame) as { title: { text: string }; xAxis: { name: string; min: number; max: number }; series: { name: string; color: string }[] };
    expect(o.title.text).toBe('Training loss and test accuracy per epoch');
    expect([o.xAxis.name, o.xAxis.min, o.xAxis.max]).toEqual(['Epoch', 1, 3]);
    expect(o.series.map((s) => [s.name, s.color])).toEqual([
      ['Loss', '#00f'],
      ['Test accuracy (%)', '#a60'],
    ]);
    expect(jobCurvesSummary(pts, frame.title)).toBe('Training loss and test accuracy per epoch: loss from 1.500 to 0.600 over 3 points; test accuracy from 80.0% to 85.0% over 2 points.');
  });
});
