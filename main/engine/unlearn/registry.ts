// The one list of unlearning methods. Adding a method = one file under methods/ + one line here.

import type { MethodDescriptor, MethodInfo } from './types';
import { describeParams } from './params';
import { EngineError } from '../errors';
import { retrain } from './methods/retrain';
import { ft } from './methods/ft';
import { ga } from './methods/ga';
import { neggradPlus } from './methods/neggrad-plus';
import { rl } from './methods/rl';
import { salun } from './methods/salun';
import { amnesiac } from './methods/amnesiac';
import { ssd } from './methods/ssd';
import { scrub } from './methods/scrub';
import { unsir } from './methods/unsir';
import { boundaryShrink } from './methods/boundary-shrink';
import { npo } from './methods/npo';
import { badTeacher } from './methods/bad-teacher';
import { fisher } from './methods/fisher';
import { l1Sparse } from './methods/l1-sparse';
import { cfK } from './methods/cf-k';
import { euK } from './methods/eu-k';
import { iu } from './methods/iu';
import { sisa } from './methods/sisa';
import { withGuSwitch } from './gu';

export const METHODS: MethodDescriptor[] = [retrain, ft, ga, neggradPlus, rl, salun, amnesiac, scrub, ssd, fisher, unsir, boundaryShrink, npo, badTeacher, l1Sparse, cfK, euK, iu, sisa].map(withGuSwitch);

const byId = new Map<string, MethodDescriptor>();
for (const m of METHODS) {
  if (byId.has(m.id)) throw new Error(`unlearning method '${m.id}' is registered twice`);
  byId.set(m.id, m);
}

export function getMethod(id: string): MethodDescriptor {
  const m = byId.get(id);
  if (!m) throw new EngineError('invalid_argument', `Unknown unlearning method '${String(id).slice(0, 60)}'; known: ${METHODS.map((x) => x.id).join(', ')}.`);
  return m;
}

export function methodInfo(m: MethodDescriptor): MethodInfo {
  return { id: m.id, name: m.name, exact: m.exact, scope: m.scope, description: m.description, source: m.source, gradientBased: m.gradientBased, params: describeParams(m.params) };
}

export function listMethods(): MethodInfo[] {
  return METHODS.map(methodInfo);
}
