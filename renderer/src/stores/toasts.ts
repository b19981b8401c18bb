import { defineStore } from 'pinia';
import { ref } from 'vue';

export interface Toast {
  id: number;
  kind: 'info' | 'success' | 'error';
  message: string;
}

/** Short messages at the corner of the window: errors from the backend, confirmations. */
export const useToastsStore = defineStore('toasts', () => {
  const toasts = ref<Toast[]>([]);
  let nextId = 1;

  function push(kind: Toast['kind'], message: string, timeoutMs = kind === 'error' ? 8000 : 4000): number {
    const id = nextId++;
    toasts.value.push({ id, kind, message });
    if (timeoutMs > 0) setTimeout(() => dismiss(id), timeoutMs);
    return id;
  }

  function dismiss(id: number): void {
    toasts.value = toasts.value.filter((t) => t.id !== id);
  }

  return { toasts, push, dismiss };
});
