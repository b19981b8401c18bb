// The workspace's durable file primitives are the engine's (one implementation, usable under plain Node
// by the engine's own writers of ONNX, NPY and NPZ files).
export * from '../../engine/util/atomic-write';
