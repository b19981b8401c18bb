// In-memory labelled arrays for training and evaluation (the dataset store streams into these).

export type LabelArray = Int32Array | BigInt64Array | Uint8Array | Uint16Array | Int16Array | Float64Array | number[];

export interface ArrayDataset {
  /** row-major examples, n * prod(exampleShape) */
  x: Float32Array;
  /** shape of one example, e.g. [1, 28, 28] or [784] */
  exampleShape: number[];
  /** integer class labels, n of them */
  y: LabelArray;
  n: number;
  /** optional per-example loss weights (used when the trainer is built with exampleWeights) */
  weights?: Float32Array;
}

export function exampleSize(ds: { exampleShape: number[] }): number {
  return ds.exampleShape.reduce((a, b) => a * b, 1);
}

/** Build and validate a dataset from a full shape [N, ...] and labels. */
export function makeDataset(x: Float32Array, shape: number[], y: LabelArray, weights?: Float32Array): ArrayDataset {
  if (shape.length < 2) throw new Error(`examples must have shape [N, ...] with at least 2 dimensions, got [${shape.join(', ')}]`);
  if (shape.some((d) => !Number.isInteger(d) || d <= 0)) throw new Error(`invalid example shape [${shape.join(', ')}]`);
  const n = shape[0];
  const ds: ArrayDataset = { x, exampleShape: shape.slice(1), y, n, weights };
  validateDataset(ds);
  return ds;
}

export function validateDataset(ds: ArrayDataset, numClasses?: number): void {
  const per = exampleSize(ds);
  if (ds.x.length !== ds.n * per) throw new Error(`x holds ${ds.x.length} values, but ${ds.n} examples of shape [${ds.exampleShape.join(', ')}] need ${ds.n * per}`);
  if (ds.y.length !== ds.n) throw new Error(`there are ${ds.n} examples but ${ds.y.length} labels`);
  if (ds.weights && ds.weights.length !== ds.n) throw new Error(`there are ${ds.n} examples but ${ds.weights.length} example weights`);
  for (let i = 0; i < ds.n; i++) {
    const v = Number(ds.y[i]);
    if (!Number.isInteger(v) || v < 0 || (numClasses !== undefined && v >= numClasses)) {
      throw new Error(`label ${i} is ${String(ds.y[i])}; labels must be integers in [0, ${numClasses ?? 'classes'})`);
    }
  }
  if (ds.weights) for (let i = 0; i < ds.n; i++) if (!Number.isFinite(ds.weights[i])) throw new Error(`example weight ${i} is not finite`);
}

/** Copy the examples `idx[start..end)` into reusable batch buffers. */
export function gatherBatch(
  ds: ArrayDataset,
  idx: ArrayLike<number>,
  start: number,
  end: number,
  xOut: Float32Array,
  yOut: BigInt64Array,
  wOut?: Float32Array,
): void {
  const per = exampleSize(ds);
  for (let i = start; i < end; i++) {
    const j = idx[i];
    const o = (i - start) * per;
    xOut.set(ds.x.subarray(j * per, j * per + per), o);
    yOut[i - start] = BigInt(ds.y[j]);
    if (wOut) wOut[i - start] = ds.weights ? ds.weights[j] : 1;
  }
}

/** Largest label in the data (-1 when empty). */
export function maxLabel(ds: ArrayDataset): number {
  let m = -1;
  for (let i = 0; i < ds.n; i++) m = Math.max(m, Number(ds.y[i]));
  return m;
}
