// lethe sweep: a grid or seeded random search over one method's hyperparameters, every trial judged
// against the retrain reference (ToW or Avg. Gap, guardrail on), printing the table and the best
// setting. Trials are ordinary cached runs: an interrupted sweep continues where it stopped.

import type { CliCommand } from '../types';
import { CliUsageError } from '../types';
import { withWorkspace } from '../workspace';
import { all, computeChoice, num, str, PROVIDERS } from '../options';
import { interruptSignal, progressPrinter } from './unlearn';
import { parseDimension, type SweepSpec } from '../../engine/unlearn/sweep';
import { getMethod } from '../../engine/unlearn/registry';
import { describeParams, parseParamAssignments } from '../../engine/unlearn/params';

export const sweepCommand: CliCommand = {
  name: 'sweep',
  summary: "Search a method's hyperparameters (grid or seeded random), judging each trial against the retrain reference",
  usage: '--model <name> --forget-set <name|id> --method <id> (--grid k=v1,v2 ... | --random k=min:max[:log] ... --trials N) [--objective tow|avg-gap]',
  options: {
    model: { type: 'string', required: true, description: 'the trained model to unlearn from' },
    'forget-set': { type: 'string', required: true, description: 'forget set (name or id)' },
    method: { type: 'string', required: true, description: 'the method whose parameters are searched' },
    grid: { type: 'string', multiple: true, description: 'a grid dimension name=v1,v2,... (repeatable)' },
    random: { type: 'string', multiple: true, description: 'a random-search dimension name=min:max[:log] or name=v1,v2 (repeatable)' },
    trials: { type: 'string', description: 'random search: number of trials (default 10)' },
    seed: { type: 'string', description: 'random search: seed (default 0)' },
    param: { type: 'string', multiple: true, description: 'a fixed parameter key=value for every trial (repeatable)' },
    objective: { type: 'string', description: 'tow (default, higher is better) or avg-gap (lower is better)' },
    guardrail: { type: 'string', description: 'stop (default), flag or off' },
    'guardrail-drop': { type: 'string', description: 'allowed drop of held-out retain accuracy in points (default 5)' },
    name: { type: 'string', description: 'name of the sweep record' },
    threads: { type: 'string', description: 'intra-op threads' },
    provider: { type: 'string', description: `execution provider: ${PROVIDERS.join(', ')}` },
  },
  examples: ['lethe sweep --model fmnist-cnn --forget-set bags --method ga --grid lr=1e-4,5e-4,1e-3 --grid epochs=2,5', 'lethe sweep --model fmnist-cnn --forget-set random-1pct --method salun --random lr=1e-3:5e-2:log --random maskFraction=0.2:0.8 --trials 8'],
  async run(ctx) {
    const method = getMethod(str(ctx, 'method')!);
    const grid = all(ctx, 'grid');
    const rand = all(ctx, 'random');
    if (!grid.length === !rand.length) throw new CliUsageError('give --grid dimensions or --random dimensions (not both)');
    const objective = str(ctx, 'objective') ?? 'tow';
    if (objective !== 'tow' && objective !== 'avg-gap') throw new CliUsageError(`--objective must be tow or avg-gap, got '${objective}'`);
    const action = str(ctx, 'guardrail');
    if (action !== undefined && !['stop', 'flag', 'off'].includes(action)) throw new CliUsageError(`--guardrail must be stop, flag or off`);
    const drop = num(ctx, 'guardrail-drop', { min: 0, max: 100 });
    const spec: SweepSpec = {
      method: method.id,
      base: parseParamAssignments(method.id, describeParams(method.params), all(ctx, 'param')),
      space: Object.fromEntries((grid.length ? grid : rand).map(parseDimension)),
      mode: grid.length ? 'grid' : 'random',
      trials: num(ctx, 'trials', { int: true, min: 1, max: 500 }),
      seed: num(ctx, 'seed', { int: true, min: 0 }),
      objective,
    };
    const { expandSweep } = await import('../../engine/unlearn/sweep');
    const trials = expandSweep(spec);
    ctx.progress(`${trials.length} trials of ${method.name}, plus the retrain reference`);
    const compute = await computeChoice(ctx);
    const { runSweep, sweepTable } = await import('../../backend/services/sweeps');
    const stop = interruptSignal();
    try {
      const rec = await withWorkspace(ctx, (ws) =>
        runSweep(ws, { name: str(ctx, 'name'), model: str(ctx, 'model')!, forgetSet: str(ctx, 'forget-set')!, spec, guardrail: { ...(action ? { action: action as 'stop' } : {}), ...(drop !== undefined ? { maxDropPoints: drop } : {}) }, ...compute }, { signal: stop.signal, progress: progressPrinter(ctx, 'sweep'), log: (_l, m) => ctx.progress(`note: ${m}`) }),
      );
      ctx.print({ id: rec.id, ...rec.data }, `Sweep ${rec.id}: ${method.name} on '${str(ctx, 'forget-set')}'\n\n${sweepTable(rec.data)}`);
    } finally {
      stop.dispose();
    }
  },
};
