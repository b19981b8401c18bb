// The evaluation API the tests use (one import path).
export * from '../../../main/engine/eval/index';
export { rowsOf } from '../../../main/engine/eval/util';
