import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createFakeApi, flush, makeJob, type FakeApi } from '../fake-api';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { default: MachineTest } = await import('../../../renderer/src/components/MachineTest.vue');
const { useJobsStore } = await import('../../../renderer/src/stores/jobs');
const { useUiStore } = await import('../../../renderer/src/stores/ui');

beforeEach(() => {
  api = createFakeApi({
    'jobs.list': () => [],
    'jobs.submit': (args) => makeJob({ id: 'bench', state: 'queued', params: (args as { params: unknown }).params, progress: null }),
  });
});

describe('Test this machine', () => {
  it('submits diagnostics.stress with the chosen size, opens the jobs panel and shows the GFLOP/s', async () => {
    const pinia = createPinia();
    setActivePinia(pinia);
    await useJobsStore().connect();
    const w = mount(MachineTest, { global: { plugins: [pinia] } });
    await w.findAll('select')[0].setValue('512');
    await w.get('[data-testid="test-machine"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('jobs.submit', { kind: 'diagnostics.stress', params: { iterations: 400, size: 512 }, title: 'Test this machine' });
    expect(useUiStore().jobsPanelOpen).toBe(true);
    expect(w.get('[data-testid="test-machine"]').attributes('disabled')).toBeDefined();

    api.emit('jobs.event', {
      type: 'state',
      job: makeJob({ id: 'bench', state: 'succeeded', result: { size: 512, iterations: 400, gflops: { mean: 1.2, median: 1.234, best: 1.5, worst: 0.9 } } }),
    });
    await flush();
    expect(w.get('[data-testid="machine-test-result"]').text()).toBe(
      '1.23 GFLOP/s median (best 1.50) over 400 multiplications of 512×512 float32 matrices',
    );
    expect(w.get('[data-testid="test-machine"]').attributes('disabled')).toBeUndefined();
  });
});
