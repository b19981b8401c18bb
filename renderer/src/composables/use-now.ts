import { onScopeDispose, ref } from 'vue';

/** Date.now() as a ref that ticks every `intervalMs`, for ETAs and elapsed times. */
export function useNow(intervalMs = 1000) {
  const now = ref(Date.now());
  const timer = setInterval(() => (now.value = Date.now()), intervalMs);
  onScopeDispose(() => clearInterval(timer));
  return now;
}
