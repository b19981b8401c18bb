// lethe demo: the built-in end-to-end example (main/backend/services/demo.ts) with a live progress
// line, the comparison tables, where the ordering of methods matches the literature and where it
// differs, and the time of every stage.

import { availableParallelism } from 'node:os';
import type { CliCommand } from '../types';
import { CliUsageError } from '../types';
import { withWorkspace } from '../workspace';
import { computeChoice, list, num, str, PROVIDERS } from '../options';
import { interruptSignal } from './unlearn';
import { comparisonTable } from '../../engine/runs/table';
import { getMethod } from '../../engine/unlearn/registry';

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'Run the built-in demo end to end: Fashion-MNIST, the small CNN, class and random 1% forgetting, retrain + FT, GA, RL, SalUn, SSD, SCRUB, NegGrad+, compared',
  usage: '[--short] [--seeds N] [--threads N] [--max-train N] [--methods a,b,...]',
  options: {
    seeds: { type: 'string', description: 'seeds per model (default 1; 2 or more add ensemble metrics and confidence intervals)' },
    threads: { type: 'string', description: 'intra-op threads (default: the workspace setting, else every core)' },
    provider: { type: 'string', description: `execution provider: ${PROVIDERS.join(', ')}` },
    'max-train': { type: 'string', description: 'train the original on a seeded stratified subset of this many examples (default 20000; 0 = the whole train split)' },
    epochs: { type: 'string', description: 'epochs of the original and the retrain reference (default 2)' },
    methods: { type: 'string', description: 'method ids to run (default: ft, ga, rl, salun, ssd, scrub, neggrad-plus with the demo settings)' },
    'forget-class': { type: 'string', description: "the class forgotten in the class-forgetting part (default 'Bag')" },
    short: { type: 'boolean', description: 'the short demo: the class forget set only, the original on 4,000 images for three epochs, retrain, FT and SalUn (a minute or two)' },
    parallel: { type: 'boolean', description: 'run the two forget sets side by side with half the threads each (measured slower on 2 cores, and each method run time then includes the load of the other pipeline)' },
  },
  examples: ['lethe demo', 'lethe demo --short', 'lethe demo --seeds 3 --threads 2'],
  async run(ctx) {
    const { runDemo, literatureChecks, DEMO_METHODS } = await import('../../backend/services/demo');
    const compute = await computeChoice(ctx);
    // the demo uses every core unless told otherwise (--threads or the workspace setting)
    if (compute.threadsFrom === 'default') compute.threads = Math.max(1, availableParallelism());
    const ids = list(ctx, 'methods');
    const methods = ids?.map((id) => {
      getMethod(id);
      if (id === 'retrain') throw new CliUsageError('retrain is always part of the demo; list the other methods');
      return DEMO_METHODS.find((m) => m.id === id) ?? { id, params: {} };
    });
    const fc = str(ctx, 'forget-class');
    const stop = interruptSignal();
    const tty = process.stderr.isTTY;
    let lastLine = 0;
    try {
      const r = await withWorkspace(ctx, (ws) =>
        runDemo(
          ws,
          { ...compute, ...(ctx.values.short === true ? { preset: 'short' as const } : {}), seeds: num(ctx, 'seeds', { int: true, min: 1, max: 20 }), maxTrain: num(ctx, 'max-train', { int: true, min: 0 }), epochs: num(ctx, 'epochs', { int: true, min: 1, max: 100 }), ...(methods ? { methods } : {}), ...(fc !== undefined ? { forgetClass: /^\d+$/.test(fc) ? Number(fc) : fc } : {}), parallel: ctx.values.parallel === true },
          {
            signal: stop.signal,
            progress: (stageName, fraction, message) => {
              const line = `[${(fraction * 100).toFixed(0).padStart(3)}%] ${stageName}: ${message}`;
              if (tty) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 120) - 1)}`);
              else if (Date.now() - lastLine > 5000) {
                lastLine = Date.now();
                process.stderr.write(`${line}\n`);
              }
            },
            log: (m) => process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${m}\n`),
          },
        ),
      );
      const human: string[] = [];
      for (const c of r.comparisons) {
        human.push(`\n== ${c.forgetSet} (comparison ${c.id}) ==\n`, comparisonTable(c.data), '', 'Against the literature:');
        for (const ch of literatureChecks(c.data, c.forgetSet.includes('class') ? 'class' : 'random')) human.push(`  ${ch.holds === null ? '?' : ch.holds ? 'matches' : 'differs'}  ${ch.check}: ${ch.detail}`);
      }
      human.push('', `Stages (${r.seconds.toFixed(0)} s in all):`, ...r.stages.map((s) => `  ${s.stage.padEnd(34)} ${s.cached ? 'reused' : `${s.seconds.toFixed(1)} s`}`));
      ctx.print({ ...r, checks: r.comparisons.map((c) => literatureChecks(c.data, c.forgetSet.includes('class') ? 'class' : 'random')) }, human.join('\n'));
    } finally {
      stop.dispose();
    }
  },
};
