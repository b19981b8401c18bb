// Kernel-time profile of one workload's training step under a formulation (ORT profiler, 2 threads):
// `npx tsx bench/profile-step.mts cnn|resnet18|mlp '{"convInputGrad":"conv-transpose"}'` prints the top ops.
// Shares are the useful part on a busy machine; compare formulations in one sitting.
import { setFormulation } from '../main/engine/autodiff';
import { WORKLOADS } from './workloads';
import { profileTrainStep } from './profile';
const [wl, json] = process.argv.slice(2);
setFormulation(JSON.parse(json ?? '{}'));
const w = WORKLOADS.find((x) => x.name === wl)!;
const p = await profileTrainStep(w.build(), w.batch, 2, wl === 'resnet18' ? 2 : 5);
console.log(`total ${p.total.toFixed(1)} ms`);
for (const o of p.ops.slice(0, 14)) console.log(o.op.padEnd(20), o.ms.toFixed(2).padStart(8), (o.share * 100).toFixed(1).padStart(5) + '%', o.calls);
