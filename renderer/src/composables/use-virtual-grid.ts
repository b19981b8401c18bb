// Windowing for a grid of fixed-size cells inside a scrolling element: only the rows in (and just
// around) the viewport are rendered. `gridWindow` is the pure arithmetic; `useVirtualGrid` binds it
// to an element's scrollTop and size.

import { computed, onMounted, onUnmounted, ref, type Ref } from 'vue';

export interface GridWindow {
  columns: number;
  rows: number;
  /** full scrollable height in px */
  height: number;
  /** first and one-past-last item index to render */
  start: number;
  end: number;
}

export function gridWindow(opts: { total: number; width: number; viewport: number; scrollTop: number; cell: number; overscan?: number }): GridWindow {
  const cell = Math.max(1, opts.cell);
  const total = Math.max(0, Math.floor(opts.total));
  const columns = Math.max(1, Math.floor(Math.max(0, opts.width) / cell));
  const rows = Math.ceil(total / columns);
  const overscan = opts.overscan ?? 2;
  const firstRow = Math.max(0, Math.floor(Math.max(0, opts.scrollTop) / cell) - overscan);
  const lastRow = Math.min(rows, Math.ceil((Math.max(0, opts.scrollTop) + Math.max(0, opts.viewport)) / cell) + overscan);
  const start = Math.min(total, firstRow * columns);
  const end = Math.min(total, Math.max(start, lastRow * columns));
  return { columns, rows, height: rows * cell, start, end };
}

/** Position of item `index` (px) in a grid of `columns` columns. */
export function cellPosition(index: number, columns: number, cell: number): { x: number; y: number } {
  return { x: (index % columns) * cell, y: Math.floor(index / columns) * cell };
}

export function useVirtualGrid(el: Ref<HTMLElement | null>, total: Ref<number>, cell: number, overscan = 2) {
  const scrollTop = ref(0);
  const width = ref(0);
  const viewport = ref(0);
  let observer: ResizeObserver | null = null;
  let frame = 0;

  function measure(): void {
    const e = el.value;
    if (!e) return;
    width.value = e.clientWidth;
    viewport.value = e.clientHeight;
    scrollTop.value = e.scrollTop;
  }

  function onScroll(): void {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      measure();
    });
  }

  onMounted(() => {
    measure();
    el.value?.addEventListener('scroll', onScroll, { passive: true });
    if (typeof ResizeObserver !== 'undefined' && el.value) {
      observer = new ResizeObserver(measure);
      observer.observe(el.value);
    }
  });
  onUnmounted(() => {
    el.value?.removeEventListener('scroll', onScroll);
    observer?.disconnect();
    if (frame) cancelAnimationFrame(frame);
  });

  const win = computed(() => gridWindow({ total: total.value, width: width.value, viewport: viewport.value, scrollTop: scrollTop.value, cell, overscan }));
  function scrollToTop(): void {
    if (el.value) el.value.scrollTop = 0;
    scrollTop.value = 0;
  }
  return { win, measure, scrollToTop, scrollTop };
}
