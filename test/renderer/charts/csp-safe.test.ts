// Every chart of the app draws its tooltip inside the chart: ECharts' HTML tooltip writes inline style
// attributes, which the app's Content Security Policy refuses on every hover.
import { describe, expect, it } from 'vitest';
import { cspSafeOption } from '../../../renderer/src/charts/echarts';

describe('cspSafeOption', () => {
  it('sets renderMode richText on a tooltip object or every tooltip of a list, leaving the rest alone', () => {
    const o = { title: { text: 't' }, tooltip: { trigger: 'axis' as const }, series: [] };
    const safe = cspSafeOption(o);
    expect(safe.tooltip).toEqual({ trigger: 'axis', renderMode: 'richText' });
    expect(safe.title).toBe(o.title);
    expect(o.tooltip).toEqual({ trigger: 'axis' });
    expect(cspSafeOption({ tooltip: [{ trigger: 'item' }, { trigger: 'axis' }] }).tooltip).toEqual([
      { trigger: 'item', renderMode: 'richText' },
      { trigger: 'axis', renderMode: 'richText' },
    ]);
    const none = { series: [] };
    expect(cspSafeOption(none)).toBe(none);
  });
});
