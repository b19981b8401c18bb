import { onScopeDispose, ref } from 'vue';
import { onConnectionChange } from '../api/client';

/**
 * Whether the backend's event stream is up. `onReconnect` runs when it comes back after a drop, so
 * the caller can reload state that events would have updated meanwhile.
 */
export function useConnection(onReconnect: () => void) {
  const connected = ref(true);
  const off = onConnectionChange((up) => {
    const wasDown = !connected.value;
    connected.value = up;
    if (up && wasDown) onReconnect();
  });
  onScopeDispose(off);
  return { connected };
}
