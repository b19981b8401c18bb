// Issue 9, point 12: one set of training defaults. The recipe schema (main/engine/train/recipe.ts) is
// the one definition; `lethe model train` (its flags, their help and the usage line), the API
// (models.train, models.recipe, models.architectures) and the UI form (test/renderer/models-view.test.ts)
// all take their defaults from it, so a model trained without recipe flags from the CLI gets exactly
// the recipe the API would give it.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandHelp } from '../../main/cli/index';
import { modelTrainCommand } from '../../main/cli/commands/model';
import { openWorkspace } from '../../main/backend/workspace';
import { architectures, modelHandlers, submitTraining } from '../../main/backend/services/models-api';
import { TRAINING_RECIPE_DEFAULTS, recipeFor, recipeParams } from '../../main/engine/train/recipe';
import { writeNpz } from '../../main/engine/io/npz';
import type { JobSubmit } from '../../preload/api/jobs';
import { cli } from './model-helpers';

let dir = '';
let ws = '';
const W = () => ['--workspace', ws];
const d = TRAINING_RECIPE_DEFAULTS;
const flag = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lethe-recipe-'));
  ws = join(dir, 'ws');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('one set of training defaults', () => {
  it('are the built-in CNN / Fashion-MNIST recipe: 5 epochs of SGD, batch 128, lr 0.05, momentum 0.9, cosine', () => {
    expect(d).toEqual({ epochs: 5, batchSize: 128, optimizer: 'sgd', lr: 0.05, momentum: 0.9, nesterov: false, weightDecay: 0, schedule: 'cosine', stepSize: 0, gamma: 0.1, labelSmoothing: 0, seed: 0 });
    // the architecture catalogue the UI reads: MLP and CNN take them as they are
    const archs = architectures();
    expect(archs.find((a) => a.name === 'cnn')!.recipe).toEqual(d);
    expect(archs.find((a) => a.name === 'mlp')!.recipe).toEqual(d);
    expect(archs.find((a) => a.name === 'resnet18')!.recipe).toEqual(recipeFor('resnet18'));
  });

  it("model train --help: the usage line and every recipe flag's help state the schema's defaults", () => {
    const help = commandHelp(modelTrainCommand);
    const usage = help.split('\n')[0];
    // every [--flag value] in the usage line is that field's default (the old line said --epochs 2 --lr 0.001 --optimizer adam)
    const recipeFlags = new Set(recipeParams().map((s) => flag(s.name)));
    const pairs = [...usage.matchAll(/--([a-z-]+) ([^\]\s<|)]+)/g)].map((m) => [m[1], m[2]]).filter(([f]) => recipeFlags.has(f));
    expect(pairs.map(([f]) => f)).toEqual(expect.arrayContaining(['epochs', 'batch-size', 'optimizer', 'lr', 'momentum', 'schedule', 'seed']));
    for (const [f, v] of pairs) {
      const spec = recipeParams().find((s) => flag(s.name) === f)!;
      expect(v, `--${f} in the usage line`).toBe(String(d[spec.name as keyof typeof d]));
    }
    for (const s of recipeParams()) {
      const line = help.split('\n').find((l) => l.trimStart().startsWith(`--${flag(s.name)} `));
      expect(line, `--${flag(s.name)} is documented`).toBeDefined();
      expect(line).toContain(`(default ${String(d[s.name as keyof typeof d])})`);
    }
  });

  it('the CLI with no recipe flags trains with the same recipe the API submits', async () => {
    const c = await cli([...W(), 'model', 'create', '--arch', 'mlp', '--name', 'm', '--input', '8', '--classes', '2', '--hidden', '4']);
    expect(c.err).toBe('');
    const train = join(dir, 'train.npz');
    const n = 40;
    const x = Float32Array.from({ length: n * 8 }, (_, i) => ((i * 37) % 11) / 11);
    const y = BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 2));
    writeFileSync(train, writeNpz({ x: { dtype: 'float32', shape: [n, 8], data: x }, y: { dtype: 'int64', shape: [n], data: y } }));
    const t = await cli([...W(), '--json', 'model', 'train', '--model', 'm', '--data', train, '--save-as', 'm-cli']);
    expect(t.err.split('\n').filter((l) => l.startsWith('lethe:'))).toEqual([]);
    expect(t.code).toBe(0);
    expect(JSON.parse(t.out).epochs).toBe(d.epochs);
    const shown = JSON.parse((await cli([...W(), '--json', 'model', 'show', 'm-cli'])).out);
    const cliTraining = shown.training;

    const w = await openWorkspace(ws);
    try {
      let submitted: JobSubmit | null = null;
      await submitTraining(w, async (job) => ((submitted = job), { id: 'j' } as never), { modelId: 'm', dataPath: train });
      const api = (submitted as unknown as JobSubmit).params as Record<string, unknown>;
      expect({ epochs: cliTraining.epochs, batchSize: cliTraining.batchSize, lr: cliTraining.lr, optimizer: cliTraining.optimizer, seed: cliTraining.seed }).toEqual({
        epochs: api.epochs,
        batchSize: api.batchSize,
        lr: api.lr,
        optimizer: api.optimizer,
        seed: api.seed,
      });
      expect(cliTraining.schedule.kind).toBe((api.schedule as { kind: string }).kind);
      expect(api).toMatchObject({ epochs: 5, batchSize: 128, lr: 0.05, optimizer: { kind: 'sgd', momentum: 0.9, nesterov: false, weightDecay: 0 }, schedule: { kind: 'cosine' } });
      // models.recipe (the UI form's source) gives the same defaults for this model
      const h = modelHandlers({ workspace: w, submitJob: async () => ({}) as never } as never);
      const info = await h['models.recipe']({ arch: 'mlp' });
      expect(info.recipe).toEqual(d);
      expect(info.params.map((p) => p.name)).toEqual(Object.keys(d));
      expect((await h['models.recipe']({ arch: null })).recipe).toEqual(d);
    } finally {
      await w.close();
    }
  });

  it('bad recipe flags are one line and exit code 2', async () => {
    const base = [...W(), 'model', 'train', '--model', 'm', '--data', join(dir, 'train.npz'), '--out', join(dir, 'x.onnx')];
    for (const [args, msg] of [
      [['--momentum', '1'], 'lethe: --momentum must be below 1, got 1'],
      [['--epochs', '0'], 'lethe: --epochs must be at least 1, got 0'],
      [['--optimizer', 'lbfgs'], "lethe: --optimizer must be sgd, adam or adamw, got 'lbfgs'"],
      [['--optimizer', 'adam', '--momentum', '0.5'], 'lethe: --momentum and --nesterov apply to --optimizer sgd only'],
    ] as [string[], string][]) {
      const r = await cli([...base, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim()).toBe(msg);
    }
  });
});
