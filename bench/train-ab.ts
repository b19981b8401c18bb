// Focused A/B timing of training-step variants (backward formulations, session options) against PyTorch
// in the same run: `npx tsx bench/train-ab.ts [--workloads cnn,resnet18] [--variants old,new] [--rounds 3]
// [--threads N] [--seconds 1] [--no-torch] [--cpu]`.
//
// Every variant gets its own Trainer (graph built under its formulation, session opened under its
// session options). Per round, each variant runs >= `seconds` of training steps, then PyTorch (when
// found) runs its own training timing; the variants' order rotates every round, and variants and PyTorch
// alternate, so load on a shared machine hits
// all of them. Reported: median samples/s per variant, and the median of the per-round ratios to
// PyTorch (ratios taken within a round are far steadier than absolute figures on a busy machine).

import { cpus } from 'node:os';
import { setFormulation, type Formulation } from '../main/engine/autodiff';
import { setSessionTuning, type SESSION_TUNING } from '../main/engine/train/session';
import { WORKLOADS, torchSpec } from './workloads';
import { createTrainer, trainingRun } from './lethe';
import { median, samplesPerSecond } from './timing';
import { cpuDescription, findTorch, runTorchBench } from './torch';

type Tuning = Partial<typeof SESSION_TUNING>;
const OLD: Partial<Formulation> = { convInputGrad: 'conv-transpose', maxPoolGrad: 'indices-unpool', batchNormGrad: 'generic' };
const VARIANTS: Record<string, { f: Partial<Formulation>; s: Tuning; stepsPerRun?: number }> = {
  old: { f: OLD, s: { graphOptimization: 'all' } },
  'conv-igrad': { f: { ...OLD, convInputGrad: 'conv' }, s: {} },
  'conv-dilated': { f: { ...OLD, convInputGrad: 'conv-dilated' }, s: {} },
  'pool-compare': { f: { ...OLD, maxPoolGrad: 'window-compare' }, s: {} },
  'bn-fused': { f: { ...OLD, batchNormGrad: 'fused' }, s: {} },
  'new-bn-generic': { f: { batchNormGrad: 'generic' }, s: {} },
  'new-dilated': { f: { convInputGrad: 'conv-dilated' }, s: {} },
  new: { f: {}, s: {} },
  // one step per session run (before unroll.ts), against 'new' = the automatic steps per run
  'new-nochunk': { f: { unfoldChunkBytes: 0 }, s: {} },
  'new-1step': { f: {}, s: {}, stepsPerRun: 1 },
  'new-2steps': { f: {}, s: {}, stepsPerRun: 2 },
  'new-4steps': { f: {}, s: {}, stepsPerRun: 4 },
  'new-8steps': { f: {}, s: {}, stepsPerRun: 8 },
  nofuse: { f: { fuseUpdate: false }, s: {} },
  'wgrad-gemm': { f: { convWeightGrad: 'unfold-gemm' }, s: {} },
  'wgrad-unfold': { f: { convWeightGrad: 'unfold-conv' }, s: {} },
  'wgrad-shift': { f: { convWeightGrad: 'shift-gemm' }, s: {} },
  'wgrad-tall': { f: { convWeightGrad: 'unfold-tall' }, s: {} },
  'wgrad-tall-nonchwc': { f: { convWeightGrad: 'unfold-tall' }, s: { disabledOptimizers: ['NchwcTransformer'] } },
  'new-nonchwc': { f: {}, s: { disabledOptimizers: ['NchwcTransformer'] } },
  'new-extended': { f: {}, s: { graphOptimization: 'extended' } },
  'new-basic': { f: {}, s: { graphOptimization: 'basic' } },
  'new-nospin': { f: {}, s: { allowSpinning: false } },
  'new-spin': { f: {}, s: { allowSpinning: true } },
  'new-nomempattern': { f: {}, s: { memoryPattern: false } },
  'new-mempattern': { f: {}, s: { memoryPattern: true } },
  'new-noarena': { f: {}, s: { cpuArena: false } },
};

const args = process.argv.slice(2);
const opt = (f: string, d: string) => {
  const i = args.indexOf(f);
  return i >= 0 ? args[i + 1] : d;
};
const threads = Number(opt('--threads', String(cpus().length)));
const rounds = Number(opt('--rounds', '3'));
const seconds = Number(opt('--seconds', '1'));
const wanted = opt('--workloads', 'cnn,resnet18').split(',');
const variants = opt('--variants', 'old,new').split(',');
for (const v of variants) if (!VARIANTS[v]) throw new Error(`unknown variant ${v} (known: ${Object.keys(VARIANTS).join(', ')})`);
const log = (s: string) => console.error(`[ab] ${s}`);
// --cpu: samples per CPU-second of this process instead of per wall second (use with --threads 1: a
// proxy for the work a formulation does that a busy machine barely disturbs; no PyTorch ratio)
const cpuMode = args.includes('--cpu');

const torch = args.includes('--no-torch') || cpuMode ? null : findTorch(log);
log(`CPU: ${cpuDescription()}; threads ${threads}; PyTorch: ${torch ? torch.label : 'none'}`);

for (const w of WORKLOADS.filter((x) => wanted.includes(x.name))) {
  const model = w.build();
  const trainers = [];
  for (const v of variants) {
    const prevF = setFormulation(VARIANTS[v].f);
    const prevS = setSessionTuning(VARIANTS[v].s);
    try {
      trainers.push({ v, t: await createTrainer(model, w.batch, threads, VARIANTS[v].stepsPerRun), rates: [] as number[], ratios: [] as number[] });
    } finally {
      setFormulation(prevF);
      setSessionTuning(prevS);
    }
  }
  const torchRates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // rotate the order every round: on a busy machine the position within a round matters
    for (let j = 0; j < trainers.length; j++) {
      const tr = trainers[(j + r) % trainers.length];
      const { run: step, samples } = trainingRun(tr.t, model, w.batch);
      if (cpuMode) {
        if (r === 0) await step();
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        let n = 0;
        do {
          await step();
          n++;
        } while (performance.now() - t0 < seconds * 1000);
        const c = process.cpuUsage(c0);
        tr.rates.push((n * samples) / ((c.user + c.system) / 1e6)); // samples per CPU-second
      } else tr.rates.push(await samplesPerSecond(step, samples, { warmup: r === 0 ? 1 : 0, passes: 1, minSeconds: seconds }));
    }
    if (torch) {
      const res = runTorchBench(torch, { threads, warmup: 1, passes: 1, minPassSeconds: seconds, trainOnly: true, workloads: [torchSpec(w, model)] });
      torchRates.push((res.results as Record<string, { train: number }>)[w.name].train);
      for (const tr of trainers) tr.ratios.push(tr.rates[r] / torchRates[r]);
    }
    log(`${w.name} round ${r + 1}: ` + trainers.map((tr) => `${tr.v} ${tr.rates[r].toFixed(1)}`).join(', ') + (torch ? `, torch ${torchRates[r].toFixed(1)}` : ''));
  }
  for (const tr of trainers) {
    const base = trainers[0];
    const vsFirst = median(tr.rates.map((x, i) => x / base.rates[i]));
    console.log(
      `${w.label} b${w.batch} ${tr.v.padEnd(16)} ${median(tr.rates).toFixed(1).padStart(8)} samples/${cpuMode ? 'CPU-second' : 's'}` +
        (torch ? `  ratio to torch (median of rounds) ${median(tr.ratios).toFixed(2)}x` : '') +
        `  vs ${base.v} ${vsFirst.toFixed(2)}x`,
    );
    await tr.t.dispose();
  }
  if (torch) console.log(`${w.label} b${w.batch} torch ${torch.version} ${median(torchRates).toFixed(1)} samples/s`);
}
