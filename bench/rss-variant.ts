// Peak RSS of bench/rss-child.ts's workload under session tuning / formulation variants (one fresh
// process each): `npx tsx bench/rss-variant.ts '{"cpuArena":false}' '{"memoryPattern":false}'
// '{"formulation":{"unfoldChunkBytes":0}}'` (keys other than "formulation" are session tuning).
import { setSessionTuning } from '../main/engine/train/session';
import { setFormulation } from '../main/engine/autodiff';
import { WORKLOADS } from './workloads';
import { createTrainer, exampleShape, randomBatch } from './lethe';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const variants = process.argv.slice(2);
if (process.env.LETHE_RSS_CHILD) {
  const { formulation, ...tuning } = JSON.parse(process.env.LETHE_RSS_CHILD);
  setSessionTuning(tuning);
  if (formulation) setFormulation(formulation);
  const w = WORKLOADS.find((x) => x.name === 'resnet18')!;
  const m = w.build();
  const trainer = await createTrainer(m, w.batch, 2);
  const { x, y } = randomBatch(m, w.batch, 10);
  const t0 = performance.now();
  for (let i = 0; i < 3; i++) await trainer.trainStep(x, y, w.batch, exampleShape(m), undefined, 0.01);
  console.log(JSON.stringify({ peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), msPerStep: Math.round((performance.now() - t0) / 3) }));
} else {
  for (const v of variants.length ? variants : ['{}']) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { env: { ...process.env, LETHE_RSS_CHILD: v }, encoding: 'utf8' });
    console.log(v, out.trim());
  }
}
