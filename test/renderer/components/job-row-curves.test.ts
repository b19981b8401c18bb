// A running job's row in the Jobs panel shows its live curves (expanded by default while it runs):
// a chart with a text alternative (summary and data table) that follows progress events; cancel stays.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createFakeApi, flush, makeJob, type FakeApi } from '../fake-api';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { default: JobRow } = await import('../../../renderer/src/components/JobRow.vue');
const { useJobsStore } = await import('../../../renderer/src/stores/jobs');

const job = makeJob({ id: 'u', kind: 'unlearn.run', title: 'Unlearn: SalUn', state: 'running', progress: { step: 0, total: 1000, fraction: 0 } });

beforeEach(() => {
  api = createFakeApi({ 'jobs.list': () => [job] });
});

describe('JobRow live curves', () => {
  it('shows a chart of loss and held-out retain accuracy with a text alternative, and keeps cancel', async () => {
    const pinia = createPinia();
    setActivePinia(pinia);
    const store = useJobsStore();
    await store.connect();
    const w = mount(JobRow, { props: { job: store.byId.u }, global: { plugins: [pinia] }, attachTo: document.body });
    // no points yet: no curves button, no chart
    expect(w.find('[data-action="curves"]').exists()).toBe(false);
    api.emit('jobs.event', { type: 'progress', id: 'u', progress: { step: 100, total: 1000, fraction: 0.1, loss: 2.1 } });
    api.emit('jobs.event', { type: 'progress', id: 'u', progress: { step: 200, total: 1000, fraction: 0.2, loss: 1.4 } });
    api.emit('jobs.event', { type: 'progress', id: 'u', progress: { step: 300, total: 1000, fraction: 0.3, retainAccuracy: 87.25 } });
    await flush();
    const button = w.get('[data-action="curves"]');
    expect(button.attributes('aria-expanded')).toBe('true');
    const fig = w.get('[data-testid="job-curves"]');
    expect(fig.attributes('id')).toBe(button.attributes('aria-controls'));
    expect(fig.get('[role="img"]').attributes('aria-label')).toBe(
      'Loss and accuracy during the job: loss from 2.100 to 1.400 over 2 points; held-out retain accuracy 87.3%.',
    );
    // the data table is built when opened
    expect(fig.find('table').exists()).toBe(false);
    const details = fig.get('details');
    (details.element as HTMLDetailsElement).open = true;
    await details.trigger('toggle');
    const rows = fig.findAll('tbody tr').map((r) => r.findAll('td').map((td) => td.text()));
    expect(fig.findAll('thead th').map((t) => t.text())).toEqual(['Progress (%)', 'Loss', 'Held-out retain accuracy (%)']);
    expect(rows).toEqual([
      ['10.0', '2.1000', ''],
      ['20.0', '1.4000', ''],
      ['30.0', '', '87.25'],
    ]);
    expect(w.find('[data-action="cancel"]').exists()).toBe(true);
    await button.trigger('click');
    expect(w.find('[data-testid="job-curves"]').exists()).toBe(false);
    w.unmount();
  });
});
