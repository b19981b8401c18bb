// Shared finishing step for the built-in architectures: name the graph, declare the dynamic-batch
// input/output, and record in metadata what the rest of Lethe needs to know about the model.

import { makeModel } from '../onnx/codec';
import { type Dim, type Model } from '../onnx/ir';
import { LayerBuilder as LB } from './layers';

export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'logits';
/** Metadata key holding the value name of the penultimate-layer features ([N, F]). */
export const FEATURES_KEY = 'lethe.features';
export const ARCH_KEY = 'lethe.arch';
export const CONFIG_KEY = 'lethe.config';

/** A LayerBuilder with the model input declared as [N, ...inputShape]. */
export function startModel(seed: number, inputShape: number[]): { lb: LB; x: string } {
  const lb = new LB(seed);
  lb.g.reserve([OUTPUT_NAME]);
  const shape: Dim[] = ['N', ...inputShape];
  const x = lb.g.input(INPUT_NAME, 'float32', shape);
  return { lb, x };
}

export function finishModel(
  lb: LB,
  o: { arch: string; logits: string; classes: number; features: string; config: object },
): Model {
  const g = lb.g;
  // the last op's output gets the public name 'logits'
  const last = g.nodes[g.nodes.length - 1];
  if (!last || last.outputs[0] !== o.logits) throw new Error(`internal: logits '${o.logits}' is not the last node's output`);
  last.outputs[0] = OUTPUT_NAME;
  g.output(OUTPUT_NAME, 'float32', ['N', o.classes]);
  const graph = g.toGraph(o.arch);
  return makeModel(graph, 17, {
    [ARCH_KEY]: o.arch,
    [FEATURES_KEY]: o.features,
    [CONFIG_KEY]: JSON.stringify(o.config),
  });
}
