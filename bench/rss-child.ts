// Child process for the memory benchmark: peak RSS of a process that builds the ResNet-18-CIFAR
// training step and runs 3 steps at batch 64 (same measurement as torch_bench.py's rssOnly mode).
// usage: node --import tsx bench/rss-child.ts THREADS  -> prints {"peakRssMiB": n}

import { WORKLOADS } from './workloads';
import { createTrainer, exampleShape, randomBatch } from './lethe';

const threads = Number(process.argv[2] ?? '2');
const w = WORKLOADS.find((x) => x.name === 'resnet18')!;
const m = w.build();
const trainer = await createTrainer(m, w.batch, threads);
const { x, y } = randomBatch(m, w.batch, 10);
for (let i = 0; i < 3; i++) await trainer.trainStep(x, y, w.batch, exampleShape(m), undefined, 0.01);
// resourceUsage().maxRSS is in KiB
console.log(JSON.stringify({ peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
