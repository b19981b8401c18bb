// `npm run bench` (tsx bench/index.ts): Lethe vs PyTorch CPU on the three reference workloads of
// PERFORMANCE-NOTES.md, in one run, with the same thread count.
//
//   Lethe forward     baked inference model (weights as initializers), ORT CPU
//   Lethe train step  forward + cross-entropy + backward + SGD-momentum update in one ORT graph (Trainer)
//   PyTorch           the same models (test/parity/py/lethe_models.py), no_grad forward and a full
//                     optimizer step, in a python subprocess with torch.set_num_threads(threads)
// Lethe and PyTorch alternate per workload (rounds) so machine noise hits both; medians are reported.
// Peak RSS of a ResNet-18 training step is measured in a fresh child process on each side.
//
// Flags: --quick (fewer/shorter passes, no profile, docs not written unless --write)
//        --threads N (default: number of cores)   --no-torch   --no-write   --write   --profile

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { WORKLOADS, torchSpec } from './workloads';
import { letheForward, letheTrain } from './lethe';
import { median, type TimingOptions } from './timing';
import { cpuDescription, debianTorch, findTorch, runTorchBench, type TorchEnv } from './torch';
import { profileTrainStep, type OpShare } from './profile';
import { forwardFlops } from '../main/engine/onnx/flops';
import { measurePeakGemm, type PeakGemm } from './peak-gemm';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const args = process.argv.slice(2);
const flag = (f: string) => args.includes(f);
const opt = (f: string) => {
  const i = args.indexOf(f);
  return i >= 0 ? args[i + 1] : undefined;
};
for (const a of args) {
  if (a.startsWith('--') && !['--quick', '--threads', '--no-torch', '--no-write', '--write', '--profile'].includes(a)) {
    console.error(`bench: unknown flag ${a} (known: --quick --threads N --no-torch --no-write --write --profile)`);
    process.exit(2);
  }
}
const quick = flag('--quick');
const threads = Number(opt('--threads') ?? cpus().length);
if (!Number.isInteger(threads) || threads < 1) {
  console.error(`bench: --threads must be a positive integer, got ${opt('--threads')}`);
  process.exit(2);
}
const write = flag('--write') || (!quick && !flag('--no-write'));
const timing: TimingOptions = quick ? { warmup: 1, passes: 2, minSeconds: 0.3 } : { warmup: 2, passes: 5, minSeconds: 1.0 };
const rounds = quick ? 1 : 2;
const log = (s: string) => console.error(`[bench] ${s}`);

interface Row {
  name: string;
  label: string;
  batch: number;
  letheFwd: number;
  letheTrain: number | null;
  /** training steps per session run (Trainer.stepsPerRun, as fit() uses it) */
  stepsPerRun: number | null;
  trainError: string | null;
  torch: Record<string, { forward: number; train: number }>;
  goals: { forward: number; train: number | null };
  /** FLOPs of one forward pass per example (Conv/Gemm/MatMul multiply-adds x 2) */
  flopsPerExample: number;
}

function ortVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('onnxruntime-node/package.json') as { version: string }).version;
}

const loadStart = loadavg()[0];

async function main(): Promise<void> {
  const torchEnvs: TorchEnv[] = [];
  if (!flag('--no-torch')) {
    // the main reference is found as on a user's machine (LETHE_TORCH_PYTHON, else python3 on PATH, else
    // this machine image's PyTorch); findTorch logs which one was used
    const found = findTorch(log);
    if (found) torchEnvs.push(found);
    const deb = debianTorch();
    // in a full run Debian's torch 1.13 is a second reference (when it is not the main one)
    if (deb && !quick && found?.python !== deb.python) torchEnvs.push(deb);
    if (torchEnvs.length === 0) log('no PyTorch found: reporting Lethe only (set LETHE_TORCH_PYTHON to a Python with torch)');
  }
  const main = torchEnvs[0] ?? null;
  log(`CPU: ${cpuDescription()}`);
  log(`threads ${threads}; ${quick ? 'quick' : 'full'} run; references: ${torchEnvs.map((e) => e.label).join(', ') || 'none'}`);

  const rows: Row[] = [];
  for (const w of WORKLOADS) {
    const model = w.build();
    const fwd: number[] = [];
    const trn: number[] = [];
    const tor: Record<string, { forward: number[]; train: number[] }> = {};
    let trainError: string | null = null;
    let stepsPerRun: number | null = null;
    for (let r = 0; r < rounds; r++) {
      log(`${w.label} b${w.batch}: round ${r + 1}/${rounds}: Lethe forward`);
      fwd.push(await letheForward(model, w.batch, threads, timing));
      if (!trainError) {
        log(`${w.label} b${w.batch}: Lethe train step`);
        try {
          const t = await letheTrain(model, w.batch, threads, timing);
          trn.push(t.rate);
          stepsPerRun = t.stepsPerRun;
          log(`  train-step graph built and session created in ${t.buildSeconds.toFixed(1)} s; ${t.stepsPerRun} step(s) per session run`);
        } catch (e) {
          trainError = (e as Error).message.split('\n')[0];
          log(`  train step unavailable: ${trainError}`);
        }
      }
      for (const env of torchEnvs) {
        log(`${w.label} b${w.batch}: ${env.label}`);
        const res = runTorchBench(env, { threads, warmup: timing.warmup, passes: timing.passes, minPassSeconds: timing.minSeconds, workloads: [torchSpec(w, model)] });
        const rr = (res.results as Record<string, { forward: number; train: number }>)[w.name];
        const cur = (tor[env.version] ??= { forward: [], train: [] });
        cur.forward.push(rr.forward);
        cur.train.push(rr.train);
      }
    }
    rows.push({
      name: w.name,
      label: w.label,
      batch: w.batch,
      letheFwd: median(fwd),
      letheTrain: trn.length ? median(trn) : null,
      stepsPerRun,
      trainError,
      torch: Object.fromEntries(Object.entries(tor).map(([k, v]) => [k, { forward: median(v.forward), train: median(v.train) }])),
      goals: w.goals,
      flopsPerExample: forwardFlops(model, 1),
    });
  }

  // peak memory of a ResNet-18 training step (fresh processes)
  log('peak RSS: Lethe ResNet-18 training step (child process)');
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(HERE, 'rss-child.ts'), String(threads)], { encoding: 'utf8', cwd: ROOT, timeout: 1_800_000 });
  const letheRss = child.status === 0 ? (JSON.parse(child.stdout.trim().split('\n').pop()!).peakRssMiB as number) : null;
  if (letheRss === null) log(`  Lethe RSS child failed: ${child.stderr.split('\n').slice(-5).join(' ')}`);
  let torchRss: number | null = null;
  if (main) {
    log(`peak RSS: ${main.label} ResNet-18 training step`);
    const w = WORKLOADS.find((x) => x.name === 'resnet18')!;
    const res = runTorchBench(main, { threads, warmup: 0, passes: 0, minPassSeconds: 0, rssOnly: 'resnet18', workloads: [torchSpec(w, w.build())] });
    torchRss = res.peakRssMiB as number;
  }

  // profile where the training step spends its time when a goal is missed (or on request)
  const profiles: { name: string; total: number; ops: OpShare[] }[] = [];
  if (!quick || flag('--profile')) {
    for (const r of rows) {
      const ref = main ? r.torch[main.version] : undefined;
      const missed = r.letheTrain !== null && ref && r.goals.train !== null && r.letheTrain / ref.train < r.goals.train;
      if (flag('--profile') ? r.letheTrain !== null && r.name !== 'mlp' : missed) {
        log(`profiling the ${r.label} training step (ORT profiler)`);
        const w = WORKLOADS.find((x) => x.name === r.name)!;
        profiles.push({ name: r.label, ...(await profileTrainStep(w.build(), w.batch, threads, r.name === 'resnet18' ? 2 : 5)) });
      }
    }
  }

  // the machine's FP32 matrix-multiply ceiling, to read the forward throughputs against
  log('FP32 matmul ceiling (1024 x 1024, ORT and torch.mm)');
  const ceiling = await measurePeakGemm(1024, threads, main).catch((e: unknown) => {
    log(`  ceiling not measured: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  });

  const report = render(rows, torchEnvs, main, letheRss, torchRss, profiles, ceiling);
  console.log(report.table);
  if (write) {
    const file = join(ROOT, 'docs', 'benchmarks.md');
    writeFileSync(file, mergeDoc(existsSync(file) ? readFileSync(file, 'utf8') : '', report.markdown));
    log(`results written to ${file}`);
  }
}

const fmt = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(1));
const ratio = (a: number | null, b: number | undefined) => (a === null || !b ? 'n/a' : `${(a / b).toFixed(2)}x`);

function render(rows: Row[], envs: TorchEnv[], main: TorchEnv | null, letheRss: number | null, torchRss: number | null, profiles: { name: string; total: number; ops: OpShare[] }[], ceiling: PeakGemm | null) {
  const mv = main?.version;
  const head = ['workload', 'batch', 'Lethe fwd', `torch ${mv ?? '-'} fwd`, 'fwd ratio (goal)', 'Lethe train', `torch ${mv ?? '-'} train`, 'train ratio (goal)'];
  const lines = rows.map((r) => {
    const t = mv ? r.torch[mv] : undefined;
    return [
      r.label,
      String(r.batch),
      fmt(r.letheFwd),
      fmt(t?.forward),
      `${ratio(r.letheFwd, t?.forward)} (>= ${r.goals.forward}x)`,
      r.letheTrain === null ? 'n/a' : fmt(r.letheTrain),
      fmt(t?.train),
      `${ratio(r.letheTrain, t?.train)}${r.goals.train ? ` (>= ${r.goals.train}x)` : ''}`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const table = [head, ...lines].map((l) => l.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
  const rssLine = `peak RSS, ResNet-18-CIFAR training step (b64): Lethe ${letheRss ? letheRss.toFixed(0) : 'n/a'} MiB, PyTorch ${torchRss ? torchRss.toFixed(0) : 'n/a'} MiB` +
    (letheRss && torchRss ? ` (${(letheRss / torchRss).toFixed(2)}x; goal <= 1.0x: at or below PyTorch's)` : '');
  const runLine =
    'Lethe trains as fit() does, in session runs of several steps where a step is cheap per parameter (train/unroll.ts; same weights as single steps): steps per run ' +
    rows.map((r) => `${r.label} ${r.stepsPerRun ?? 'n/a'}`).join(', ');
  const trainNote = rows.filter((r) => r.trainError).map((r) => `train step unavailable for ${r.label}: ${r.trainError}`);
  const gf = (samples: number | undefined) => (r: Row) => (samples === undefined ? 'n/a' : ((samples * r.flopsPerExample) / 1e9).toFixed(0));
  const computeLine =
    'forward GFLOP/s (Conv/Gemm/MatMul FLOPs counted from the graph): ' +
    rows
      .map((r) => {
        const t = mv ? r.torch[mv]?.forward : undefined;
        return `${r.label} Lethe ${gf(r.letheFwd)(r)}, PyTorch ${gf(t)(r)}${t ? ` (its forward goal needs ${gf(t * r.goals.forward)(r)})` : ''}`;
      })
      .join('; ') +
    (ceiling
      ? `. FP32 matmul ceiling here (1024 x 1024, ${ceiling.threads} threads, median of 5 one-second passes): ORT ${ceiling.ort.median.toFixed(0)} GFLOP/s` +
        (ceiling.torch ? `, torch.mm ${ceiling.torch.median.toFixed(0)} GFLOP/s` : '')
      : '');

  const md: string[] = [];
  md.push(`Command: \`npm run bench${quick ? ' -- --quick' : ''}\` (threads ${threads}; ${quick ? 'quick' : 'full'} run: warm-up ${timing.warmup}, ${timing.passes} passes of >= ${timing.minSeconds} s, ${rounds} interleaved round(s), medians).`);
  md.push('');
  md.push(`Machine: ${cpuDescription()}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB; Node ${process.versions.node}; onnxruntime-node ${ortVersion()}; ` +
    `references: ${envs.map((e) => e.label).join('; ') || 'none'}. Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`);
  md.push('');
  md.push(`1-minute load average: ${loadStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end (${cpus().length} cores: above ~${cpus().length} other work competed, and ratios are less reliable).`);
  md.push('');
  md.push('Samples/s (higher is better). Ratio = Lethe / PyTorch' + (main ? ` ${main.version} (the main reference)` : '') + '.');
  md.push('');
  md.push(`| ${head.join(' | ')} |`);
  md.push(`| ${head.map(() => '---').join(' | ')} |`);
  for (const l of lines) md.push(`| ${l.join(' | ')} |`);
  md.push('');
  if (envs.length > 1) {
    for (const e of envs.slice(1)) {
      md.push(`Second reference, ${e.label}: ` + rows.map((r) => `${r.label} fwd ${fmt(r.torch[e.version]?.forward)} / train ${fmt(r.torch[e.version]?.train)}`).join('; ') + '.');
    }
    md.push('');
  }
  md.push(runLine + '.', '');
  md.push(rssLine + '.');
  md.push('', computeLine + '.');
  for (const n of trainNote) md.push('', n + '.');
  for (const p of profiles) {
    md.push('', `Profile of one ${p.name} training step (ORT profiler, kernel time ${p.total.toFixed(0)} ms/step, top ops):`, '');
    md.push('| op | ms/step | share | kernels/step |', '| --- | --- | --- | --- |');
    for (const o of p.ops.slice(0, 10)) md.push(`| ${o.op} | ${o.ms.toFixed(1)} | ${(o.share * 100).toFixed(1)}% | ${o.calls.toFixed(0)} |`);
  }
  const text = [`CPU: ${cpuDescription()}; threads ${threads}; main reference: ${main ? main.label : 'none'}`, table, '', `load average ${loadStart.toFixed(1)} -> ${loadavg()[0].toFixed(1)}`, runLine, rssLine, computeLine, ...trainNote, ...profiles.map((p) => `${p.name} step profile: ` + p.ops.slice(0, 6).map((o) => `${o.op} ${(o.share * 100).toFixed(0)}%`).join(', '))].join('\n');
  return { table: text, markdown: md.join('\n') };
}

const START = '<!-- bench:training-engine:start -->';
const END = '<!-- bench:training-engine:end -->';

/** Replace only the generated section of docs/benchmarks.md; hand-written text around it is kept. */
function mergeDoc(existing: string, section: string): string {
  const block = `${START}\n${section}\n${END}`;
  if (existing.includes(START) && existing.includes(END)) {
    return existing.slice(0, existing.indexOf(START)) + block + existing.slice(existing.indexOf(END) + END.length);
  }
  const header = existing.trim() ? existing.trimEnd() + '\n\n' : '# Benchmarks\n\n';
  return `${header}## Training engine: Lethe vs PyTorch CPU\n\n${block}\n`;
}

main().catch((e) => {
  console.error(`bench failed: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
