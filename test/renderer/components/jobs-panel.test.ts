import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createFakeApi, flush, makeJob, type FakeApi } from '../fake-api';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { default: JobsPanel } = await import('../../../renderer/src/components/JobsPanel.vue');
const { useJobsStore } = await import('../../../renderer/src/stores/jobs');
const { useUiStore } = await import('../../../renderer/src/stores/ui');

async function mountPanel(jobs = [makeJob()]) {
  api.handlers['jobs.list'] = () => jobs;
  const pinia = createPinia();
  setActivePinia(pinia);
  await useJobsStore().connect();
  useUiStore().openJobsPanel();
  return mount(JobsPanel, { global: { plugins: [pinia] } });
}

function bar(wrapper: Awaited<ReturnType<typeof mountPanel>>, id = 'job-1') {
  const el = wrapper.get(`[data-job-id="${id}"] [role="progressbar"]`);
  return { now: el.attributes('aria-valuenow'), width: (el.get('.fill').element as HTMLElement).style.width };
}

beforeEach(() => {
  api = createFakeApi();
});

describe('JobsPanel', () => {
  it('shows the persisted log of a job on demand, as text, with live lines appended', async () => {
    api.handlers['jobs.logs'] = () => ({
      lines: [
        { time: '2026-11-24T10:00:00.000Z', level: 'info', message: 'Epoch 1: mean loss 0.6123 (3.1 s).' },
        { time: '2026-11-24T10:00:04.000Z', level: 'warn', message: '<img src=x onerror="window.__pwned=1">' },
      ],
      truncated: false,
    });
    const w = await mountPanel();
    expect(w.find('[data-testid="job-log"]').exists()).toBe(false);
    await w.get('[data-job-id="job-1"] [data-action="log"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('jobs.logs', { id: 'job-1', limit: 500 });
    const log = w.get('[data-testid="job-log"]');
    expect(log.findAll('li').map((li) => li.text().replace(/^\S+\s+\S*\s*/, ''))).toHaveLength(2);
    expect(log.text()).toContain('Epoch 1: mean loss 0.6123 (3.1 s).');
    expect(log.text()).toContain('<img src=x onerror="window.__pwned=1">');
    expect(log.find('img').exists()).toBe(false);
    expect(log.findAll('li')[1].classes()).toContain('log-warn');
    api.emit('jobs.event', { type: 'log', id: 'job-1', level: 'error', message: 'worker exited' });
    await flush();
    expect(w.get('[data-testid="job-log"]').findAll('li').at(-1)!.text()).toContain('worker exited');
    await w.get('[data-job-id="job-1"] [data-action="log"]').trigger('click');
    expect(w.find('[data-testid="job-log"]').exists()).toBe(false);
  });

  it('tells a new user what the panel is for when there are no jobs', async () => {
    const w = await mountPanel([]);
    expect(w.text()).toContain('No jobs yet');
    expect(w.text()).toContain('Test this machine');
    expect(w.get('[data-testid="jobs-summary"]').text()).toBe('No jobs');
  });

  it('moves the progress bar with progress events and shows step, loss and ETA', async () => {
    const w = await mountPanel();
    expect(bar(w)).toEqual({ now: '0', width: '0%' });
    api.emit('jobs.event', { type: 'progress', id: 'job-1', progress: { step: 30, total: 120, fraction: 0.25, loss: 1.23456, etaSeconds: 75 } });
    await flush();
    expect(bar(w)).toEqual({ now: '25', width: '25%' });
    const row = w.get('[data-job-id="job-1"]');
    expect(row.get('[data-metric="step"]').text()).toBe('30 / 120');
    expect(row.get('[data-metric="loss"]').text()).toBe('loss 1.235');
    expect(row.get('[data-metric="eta"]').text()).toBe('ETA 1m 15s');
    api.emit('jobs.event', { type: 'progress', id: 'job-1', progress: { step: 90, total: 120, fraction: 0.75 } });
    await flush();
    expect(bar(w)).toEqual({ now: '75', width: '75%' });
    expect(w.get('[data-testid="jobs-summary"]').text()).toBe('1 running');
  });

  it("a succeeded job shows no stale step, loss or message from its last progress event; a failed one keeps where it stopped", async () => {
    const last = { step: 0, total: 1000, fraction: 0, loss: 0.5, message: 'loading the data' };
    const w = await mountPanel([makeJob({ id: 'job-ok', state: 'succeeded', progress: last }), makeJob({ id: 'job-bad', state: 'failed', reason: 'boom', progress: last })]);
    const ok = w.get('[data-job-id="job-ok"]');
    expect(ok.find('[data-metric="step"]').exists()).toBe(false);
    expect(ok.find('[data-metric="loss"]').exists()).toBe(false);
    expect(ok.text()).not.toContain('loading the data');
    const bad = w.get('[data-job-id="job-bad"]');
    expect(bad.get('[data-metric="step"]').text()).toBe('0 / 1,000');
    expect(bad.text()).toContain('loading the data');
  });

  it('shows an indeterminate bar when the total is unknown', async () => {
    const w = await mountPanel([makeJob({ progress: { step: 3, total: null, fraction: null } })]);
    const el = w.get('[role="progressbar"]');
    expect(el.attributes('aria-valuenow')).toBeUndefined();
    expect(el.classes()).toContain('indeterminate');
    expect(w.get('[data-metric="step"]').text()).toBe('step 3');
  });

  it('Cancel calls jobs.cancel and the row ends with the cancelled badge', async () => {
    api.handlers['jobs.cancel'] = (args) => {
      const { id } = args as { id: string };
      setTimeout(() => api.emit('jobs.event', { type: 'state', job: makeJob({ id, state: 'cancelled', reason: 'Cancelled by the user.' }) }), 0);
      return makeJob({ id, state: 'running' });
    };
    const w = await mountPanel();
    await w.get('[data-job-id="job-1"] [data-action="cancel"]').trigger('click');
    expect(api.call).toHaveBeenCalledWith('jobs.cancel', { id: 'job-1' });
    await flush();
    const row = w.get('[data-job-id="job-1"]');
    expect(row.attributes('data-state')).toBe('cancelled');
    expect(row.get('[data-state="cancelled"]').text()).toBe('Cancelled');
    expect(row.find('[data-action="cancel"]').exists()).toBe(false);
    expect(row.get('[data-field="reason"]').text()).toBe('Cancelled by the user.');
  });

  it('shows the reason of a failure and a Resume button for resumable jobs', async () => {
    api.handlers['jobs.resume'] = () => makeJob({ state: 'queued', resumable: true, attempt: 2 });
    const w = await mountPanel([
      makeJob({ state: 'failed', resumable: true, reason: 'The worker process was killed (SIGKILL).', progress: { step: 40, total: 100, fraction: 0.4 } }),
    ]);
    const row = w.get('[data-job-id="job-1"]');
    expect(row.get('[data-field="reason"]').text()).toBe('The worker process was killed (SIGKILL).');
    expect(row.get('[data-field="reason"]').classes()).toContain('failed');
    expect(row.get('[role="progressbar"]').attributes('aria-valuenow')).toBe('40');
    await row.get('[data-action="resume"]').trigger('click');
    expect(api.call).toHaveBeenCalledWith('jobs.resume', { id: 'job-1' });
    await flush();
    expect(w.get('[data-job-id="job-1"]').attributes('data-state')).toBe('queued');
  });

  it('renders a hostile job title as text, never as markup', async () => {
    const payload = '<img src=x onerror=window.__pwned=1>';
    const w = await mountPanel([makeJob({ title: payload, reason: payload, state: 'failed' })]);
    expect(w.find('img').exists()).toBe(false);
    expect(w.get('.title').text()).toBe(payload);
    expect(w.get('[data-field="reason"]').text()).toBe(payload);
  });

  it('toggles open and closed from the status bar', async () => {
    const w = await mountPanel();
    const toggle = w.get('[data-testid="jobs-toggle"]');
    expect(toggle.attributes('aria-expanded')).toBe('true');
    await toggle.trigger('click');
    expect(toggle.attributes('aria-expanded')).toBe('false');
    expect((w.get('#jobs-list').element as HTMLElement).style.display).toBe('none');
  });
});
