// Baking: an inference model whose initializers hold the given weights, so ORT's constant-weight
// optimisations (NCHWc layout, Conv+BN folding, Gemm prepacking) apply and the exported file is a
// standalone ONNX model that loads in any runtime.

import { type Model, type Tensor, type NamedTensor, cloneModel, numel } from '../onnx/ir';

export type WeightMap = Record<string, Float32Array | Tensor>;

export function bakeInference(model: Model, weights: WeightMap, metadata: Record<string, string> = {}): Model {
  const m = cloneModel(model);
  const byName = new Map<string, number>(m.graph.initializers.map((t, i) => [t.name, i]));
  for (const [name, w] of Object.entries(weights)) {
    const i = byName.get(name);
    if (i === undefined) throw new Error(`cannot bake weight '${name}': the model has no initializer of that name`);
    const init = m.graph.initializers[i];
    const data = w instanceof Float32Array ? w : w.data;
    if (!(w instanceof Float32Array) && w.dims.join('x') !== init.dims.join('x')) {
      throw new Error(`cannot bake weight '${name}': shape [${w.dims}] differs from the initializer's [${init.dims}]`);
    }
    if (init.dtype !== 'float32' || !(data instanceof Float32Array)) throw new Error(`cannot bake weight '${name}': only float32 weights are supported`);
    if (data.length !== numel(init.dims)) throw new Error(`cannot bake weight '${name}': ${data.length} values, shape [${init.dims}] needs ${numel(init.dims)}`);
    const baked: NamedTensor = { name, dtype: 'float32', dims: [...init.dims], data: new Float32Array(data) };
    m.graph.initializers[i] = baked;
  }
  // initializers listed as graph inputs would let a runtime override them; an inference export must not
  const inits = new Set(m.graph.initializers.map((t) => t.name));
  m.graph.inputs = m.graph.inputs.filter((v) => !inits.has(v.name));
  m.metadata = { ...m.metadata, ...metadata };
  delete m.metadata['lethe.graph'];
  return m;
}
