// Small formatting helpers shared by the Model* components.
import type { ModelSummary } from '../../../preload/api';

const ARCH_TITLES: Record<string, string> = { mlp: 'MLP', cnn: 'Small CNN', resnet18: 'ResNet-18', vit: 'Tiny ViT' };

export function archTitle(arch: string | null): string {
  return arch ? (ARCH_TITLES[arch] ?? arch) : 'imported';
}

/** 'Small CNN', 'Small CNN (trained)', 'imported ONNX', 'imported ONNX (trained)' */
export function sourceText(m: Pick<ModelSummary, 'arch' | 'source'>): string {
  const base = m.arch ? archTitle(m.arch) : 'imported ONNX';
  return m.source === 'trained' ? `${base} (trained)` : base;
}

/** Whether its weights were trained, in words: 'trained', 'unlearned', 'untrained' (random weights of a new architecture), 'imported'. */
export function trainedText(m: Pick<ModelSummary, 'source' | 'trained'>): string {
  if (m.source === 'unlearned') return 'unlearned';
  if (m.trained === true) return 'trained';
  return m.trained === false ? 'untrained' : 'imported';
}

/**
 * The model to offer as a forget set's original model: the most recent trained one (trained by Lethe
 * rather than unlearned), else any with trained weights, else an imported one; a model whose output
 * fits `classes` is preferred at each step; never an untrained one unless there is nothing else.
 */
export function preferredOriginal<M extends Pick<ModelSummary, 'source' | 'trained' | 'classes' | 'createdAt'>>(models: readonly M[], classes?: number): M | null {
  const newest = (list: M[]) => [...list].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0] ?? null;
  const fits = (m: M) => classes === undefined || m.classes === null || m.classes === classes;
  const tiers: ((m: M) => boolean)[] = [(m) => m.source === 'trained', (m) => m.trained === true, (m) => m.trained === null, () => true];
  for (const fit of [true, false])
    for (const tier of tiers) {
      const pick = newest(models.filter((m) => tier(m) && (!fit || fits(m))));
      if (pick) return pick;
    }
  return null;
}

/** 0.8734 -> '87.3%'; null -> '—' */
export function accuracyText(a: number | null): string {
  return a === null ? '—' : `${(a * 100).toFixed(1)}%`;
}

/** [1, 28, 28] -> '1 × 28 × 28'; symbolic or unknown dimensions as '?' */
export function shapeText(shape: readonly (number | string | null)[] | null): string {
  if (!shape) return '?';
  return shape.map((d) => (d === null ? '?' : String(d))).join(' × ');
}

/** 421642 -> '421.6k', 11173962 -> '11.17M' */
export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return n.toLocaleString('en-US');
}

/** '1, 28, 28' or '1x28x28' -> [1, 28, 28]; null when not a list of positive integers */
export function parseShape(text: string): number[] | null {
  const parts = text
    .split(/[\s,x×]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (!parts.length) return null;
  const dims = parts.map(Number);
  return dims.every((d) => Number.isInteger(d) && d > 0) ? dims : null;
}

/** 1690000 -> '1.69 MB' */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} bytes`;
}
