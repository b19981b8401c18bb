import type { ExecutionProviderName } from '../../../preload/api';

/** The execution providers a user can choose (Settings and the unlearning wizard); unavailable ones fall back to the CPU. */
export const PROVIDERS: { value: ExecutionProviderName; label: string }[] = [
  { value: 'cpu', label: 'CPU' },
  { value: 'cuda', label: 'CUDA (NVIDIA)' },
  { value: 'webgpu', label: 'WebGPU' },
  { value: 'dml', label: 'DirectML (Windows)' },
  { value: 'coreml', label: 'Core ML (macOS)' },
];
