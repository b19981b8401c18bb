// Runtime: execution providers and onnxruntime session creation.
export * from './providers';
export * from './session';
