// Minimal reader for the IDX files of Debian's dataset-fashion-mnist (test helper only; the dataset
// importer is main/engine/data). Checks the header against the byte count.

import { readFileSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export const FMNIST_DIR = '/usr/share/datasets/fashion-mnist';

export function fashionMnistAvailable(): boolean {
  return ['train', 't10k'].every((s) => existsSync(`${FMNIST_DIR}/${s}-images-idx3-ubyte.gz`) && existsSync(`${FMNIST_DIR}/${s}-labels-idx1-ubyte.gz`));
}

function readIdx(path: string, magic: number): { dims: number[]; data: Uint8Array } {
  const buf = gunzipSync(readFileSync(path));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0) !== magic) throw new Error(`${path}: bad IDX magic ${dv.getUint32(0).toString(16)}`);
  const nd = magic & 0xff;
  const dims = Array.from({ length: nd }, (_, i) => dv.getUint32(4 + 4 * i));
  const n = dims.reduce((a, b) => a * b, 1);
  const off = 4 + 4 * nd;
  if (buf.length !== off + n) throw new Error(`${path}: ${buf.length} bytes, header says ${off + n}`);
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + off, n) };
}

/** Fashion-MNIST split as float32 [N,1,28,28] normalised with the training mean/std, labels uint8. */
export function loadFashionMnist(split: 'train' | 't10k'): { x: Float32Array; y: Uint8Array; n: number } {
  const im = readIdx(`${FMNIST_DIR}/${split}-images-idx3-ubyte.gz`, 0x00000803);
  const lb = readIdx(`${FMNIST_DIR}/${split}-labels-idx1-ubyte.gz`, 0x00000801);
  const n = im.dims[0];
  if (lb.dims[0] !== n) throw new Error('image/label count mismatch');
  const x = new Float32Array(im.data.length);
  const mean = 0.286;
  const std = 0.353;
  for (let i = 0; i < x.length; i++) x[i] = (im.data[i] / 255 - mean) / std;
  return { x, y: new Uint8Array(lb.data), n };
}
