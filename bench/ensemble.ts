// Training N small CNNs at once (issue 10: ensembles and seeds are the norm in unlearning evaluation):
// `npx tsx bench/ensemble.ts [--n 8] [--rounds 3] [--threads 2] [--seconds 2] [--batch 128]
// [--variants a,b,...] [--no-torch]`  (npm run bench:ensemble -- --n 8 ...)
//
// N = --n small CNNs (buildSmallCnn({seed: i}), 1x28x28, 10 classes), each with its own weights,
// SGD-momentum state (momentum 0.9, lr 0.01) and its own batch of --batch random examples, trained by:
//   trainers        N separate Trainers (one session each, intra-op --threads), one step of each in turn
//   trainers-nospin the same with ORT's intra-op spinning off (allow_spinning 0): a session's idle worker
//                   threads then stop spinning as soon as its step ends instead of competing with the
//                   next session's threads for the cores (with spinning on, N sessions' pools overlap)
//   one-graph-seq   one graph holding all N members ('prefixed' layout of main/engine/train/multi-trainer.ts),
//                   sequential execution, intra-op --threads
//   one-graph-par   the same graph, ORT 'parallel' execution: inter-op --threads, intra-op 1
//   grouped-seq     the members stacked ('grouped' layout: grouped Conv with group = N, batched MatMul),
//                   sequential, intra-op --threads
//   grouped-par     the grouped graph, parallel execution (inter-op --threads, intra-op 1)
//   torch-vmap      PyTorch: torch.func.stack_module_state + vmap over functional_call, autograd through
//                   the summed losses, torch.optim.SGD on the stacked parameters (bench/torch_ensemble.py)
//   torch-vmap-grad PyTorch: vmap(torch.func.grad(loss)) and a _foreach SGD-momentum update
//   torch-loop      PyTorch: N modules and N optimizers stepped one after another
// PyTorch runs with the same thread count (torch.set_num_threads, OMP_NUM_THREADS). Each round every
// variant runs >= --seconds of steps after a warm-up; the order rotates every round. Reported: median
// model-steps/s (= N x steps/s) over rounds, and the median of the per-round ratios to torch-vmap.

import { cpus, loadavg } from 'node:os';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSmallCnn } from '../main/engine/models';
import { MultiTrainer, type MultiLayout } from '../main/engine/train/multi-trainer';
import { lowerForTraining } from '../main/engine/autodiff';
import { setSessionTuning } from '../main/engine/train/session';
import type { Trainer } from '../main/engine/train';
import { createTrainer, exampleShape, randomBatch } from './lethe';
import { median, samplesPerSecond } from './timing';
import { cpuDescription, findTorch, type TorchEnv } from './torch';

const HERE = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (f: string, d: string) => {
  const i = args.indexOf(f);
  return i >= 0 ? args[i + 1] : d;
};
const posInt = (f: string, d: string) => {
  const v = Number(opt(f, d));
  if (!Number.isInteger(v) || v < 1) throw new Error(`${f} must be a positive integer, got ${opt(f, d)}`);
  return v;
};
const N = posInt('--n', '8');
const rounds = posInt('--rounds', '3');
const threads = posInt('--threads', String(cpus().length));
const batch = posInt('--batch', '128');
const seconds = Number(opt('--seconds', '2'));
const LR = 0.01;
const ALL = ['trainers', 'trainers-nospin', 'one-graph-seq', 'one-graph-par', 'grouped-seq', 'grouped-par', 'torch-vmap', 'torch-vmap-grad', 'torch-loop'];
const wanted = opt('--variants', ALL.join(',')).split(',');
for (const v of wanted) if (!ALL.includes(v)) throw new Error(`unknown variant ${v} (known: ${ALL.join(', ')})`);
const log = (s: string) => console.error(`[ensemble] ${s}`);

const models = Array.from({ length: N }, (_, i) => buildSmallCnn({ seed: i }));
const config = JSON.parse(models[0].metadata['lethe.config']) as { classes: number };
const shape = exampleShape(models[0]);
const batches = models.map((m, i) => randomBatch(m, batch, config.classes, 12345 + 7919 * i));

interface Variant {
  name: string;
  /** one measurement: model-steps/s over >= `seconds` after `warmup` steps */
  measure: (warmup: number) => Promise<number>;
  dispose?: () => Promise<void>;
}

/** model-steps/s: N models advance per step; one pass of >= `seconds` after `warmup` steps */
const timeSteps = (step: () => Promise<unknown>, warmup: number): Promise<number> => samplesPerSecond(step, N, { warmup, passes: 1, minSeconds: seconds });

async function trainersVariant(name: string, spinning: boolean): Promise<Variant> {
  const ts: Trainer[] = [];
  const prev = spinning ? null : setSessionTuning({ allowSpinning: false });
  try {
    for (const m of models) ts.push(await createTrainer(m, batch, threads));
  } finally {
    if (prev) setSessionTuning({ ...prev, allowSpinning: prev.allowSpinning }); // an absent key must be reset too
  }
  return {
    name,
    measure: (w) =>
      timeSteps(async () => {
        for (let i = 0; i < N; i++) await ts[i].trainStep(batches[i].x, batches[i].y, batch, shape, undefined, LR);
      }, w),
    dispose: async () => {
      for (const t of ts) await t.dispose();
    },
  };
}

async function multiVariant(name: string, layout: MultiLayout, parallel: boolean): Promise<Variant> {
  const t0 = performance.now();
  const mt = await MultiTrainer.create({
    models,
    layout,
    optimizer: { kind: 'sgd', momentum: 0.9 },
    lr: LR,
    threads: parallel ? 1 : threads,
    interOpThreads: parallel ? threads : undefined,
    lower: lowerForTraining,
  });
  log(`${name}: graph built and session opened in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { name, measure: (w) => timeSteps(() => mt.trainStep(batches, batch, LR), w), dispose: () => mt.dispose() };
}

function torchVariant(env: TorchEnv, name: string, variant: string): Variant {
  const configs = models.map((m) => JSON.parse(m.metadata['lethe.config']));
  return {
    name,
    measure: async (warmup) => {
      const spec = { threads, n: N, batch, arch: models[0].metadata['lethe.arch'], configs, variant, warmup, seconds, lr: LR, momentum: 0.9 };
      const r = spawnSync(env.python, [join(HERE, 'torch_ensemble.py'), JSON.stringify(spec)], {
        encoding: 'utf8',
        timeout: 1_800_000,
        env: { ...process.env, OMP_NUM_THREADS: String(threads) },
      });
      if (r.status !== 0) throw new Error(`torch_ensemble.py ${variant} failed: ${r.stderr.slice(-2000)}`);
      return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { modelStepsPerSecond: number }).modelStepsPerSecond;
    },
  };
}

log(`CPU: ${cpuDescription()}; load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
log(`N = ${N} small CNNs (1x28x28), batch ${batch} each, threads ${threads}, ${rounds} rounds of >= ${seconds} s per variant`);
const torch = args.includes('--no-torch') ? null : findTorch(log);
const variants: Variant[] = [];
for (const v of wanted) {
  if (v === 'trainers') variants.push(await trainersVariant(v, true));
  else if (v === 'trainers-nospin') variants.push(await trainersVariant(v, false));
  else if (v === 'one-graph-seq') variants.push(await multiVariant(v, 'prefixed', false));
  else if (v === 'one-graph-par') variants.push(await multiVariant(v, 'prefixed', true));
  else if (v === 'grouped-seq') variants.push(await multiVariant(v, 'grouped', false));
  else if (v === 'grouped-par') variants.push(await multiVariant(v, 'grouped', true));
  else if (torch) variants.push(torchVariant(torch, v, v.slice('torch-'.length)));
  else log(`${v} skipped: no PyTorch`);
}

const rates = new Map<string, number[]>(variants.map((v) => [v.name, []]));
for (let r = 0; r < rounds; r++) {
  // rotate the order every round: on a busy machine the position within a round matters
  for (let j = 0; j < variants.length; j++) {
    const v = variants[(j + r) % variants.length];
    rates.get(v.name)!.push(await v.measure(r === 0 ? 2 : 1));
  }
  log(`round ${r + 1}: ` + variants.map((v) => `${v.name} ${rates.get(v.name)![r].toFixed(1)}`).join(', ') + `; load ${loadavg()[0].toFixed(2)}`);
}
for (const v of variants) await v.dispose?.();

const base = rates.get('torch-vmap');
const trainers = rates.get('trainers');
const ratio = (xs: number[], ys: number[] | undefined) => (ys ? median(xs.map((x, i) => x / ys[i])) : NaN);
console.log(`CPU: ${cpuDescription()}`);
console.log(`N = ${N} small CNNs 1x28x28, batch ${batch} per model, SGD momentum 0.9, threads ${threads}, ${rounds} rounds x >= ${seconds} s; ${torch ? torch.label : 'no PyTorch'}`);
console.log(`${'variant'.padEnd(16)} ${'model-steps/s'.padStart(14)} ${'vs torch-vmap'.padStart(14)} ${'vs trainers'.padStart(12)}`);
for (const v of variants) {
  const xs = rates.get(v.name)!;
  const f = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '-');
  console.log(`${v.name.padEnd(16)} ${median(xs).toFixed(1).padStart(14)} ${f(ratio(xs, base)).padStart(14)} ${f(ratio(xs, trainers)).padStart(12)}`);
}
console.log(`(ratios: median of the per-round ratios; load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')})`);
