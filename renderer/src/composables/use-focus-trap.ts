import { nextTick, onBeforeUnmount, onMounted, watch, type Ref, type WatchSource } from 'vue';

// Keyboard focus for a modal (AppDialog uses it, so every dialog and wizard gets it):
//  - Tab and Shift+Tab cycle through the modal's controls and never reach the page behind it;
//  - on opening, and again on each wizard step (`step` changes, or the step indicator's
//    aria-current="step" moves), the step's first field (input, select, textarea, checked radio) takes
//    the focus; with none yet, the modal itself holds it until one appears (a preview that loads);
//  - when the focused control disappears (a wizard's Next replaced by Preview), the focus returns to
//    the first field instead of falling to the page body;
//  - on closing, the focus goes back to the control that opened the modal.
// Modals stack: only the topmost one traps (a dialog opened from a dialog returns focus to it).

const TABBABLE = [
  'a[href]',
  'button:not([disabled])',
  'input:not([disabled]):not([type="hidden"])',
  'select:not([disabled])',
  'textarea:not([disabled])',
  'summary',
  '[tabindex]:not([tabindex="-1"])',
  '[contenteditable="true"]',
].join(',');
const FIELD = 'input:not([disabled]):not([type="hidden"]):not([type="radio"]):not([type="checkbox"]):not([type="file"]), select:not([disabled]), textarea:not([disabled]), input[type="radio"]:checked:not([disabled])';

function visible(el: HTMLElement): boolean {
  if (el.closest('[hidden], [inert]')) return false;
  // checkVisibility: Chromium (display/visibility and closed <details>); jsdom has no layout and no such method
  const check = (el as HTMLElement & { checkVisibility?: (o?: Record<string, boolean>) => boolean }).checkVisibility;
  return typeof check === 'function' ? check.call(el, { checkVisibilityCSS: true }) : true;
}

/** The controls Tab visits inside `root`, in order (one per radio group: its checked radio, else its first). */
export function tabbables(root: HTMLElement): HTMLElement[] {
  const out: HTMLElement[] = [];
  const radioGroups = new Set<string>();
  for (const el of root.querySelectorAll<HTMLElement>(TABBABLE)) {
    if (el.tabIndex < 0 || !visible(el)) continue;
    if (el instanceof HTMLInputElement && el.type === 'radio' && el.name) {
      if (radioGroups.has(el.name)) continue;
      const group = [...root.querySelectorAll<HTMLInputElement>(`input[type="radio"][name="${CSS.escape(el.name)}"]`)].filter((r) => !r.disabled && visible(r));
      radioGroups.add(el.name);
      out.push(group.find((r) => r.checked) ?? group[0] ?? el);
      continue;
    }
    out.push(el);
  }
  return out;
}

export interface FocusTrapOptions {
  /** where the first field is looked for (e.g. the dialog's body); defaults to the container */
  fields?: Ref<HTMLElement | null>;
  /** a wizard's step: when it changes, the new step's first field takes the focus */
  step?: WatchSource<unknown>;
}

const stack: object[] = [];

export function useFocusTrap(container: Ref<HTMLElement | null>, options: FocusTrapOptions = {}) {
  const self = {};
  let opener: HTMLElement | null = null;
  /** true while the focus sits on a placeholder (the container) waiting for a field to appear */
  let waitingForField = false;
  let observer: MutationObserver | null = null;

  const isTop = () => stack[stack.length - 1] === self;
  const inside = (el: Element | null) => !!el && !!container.value?.contains(el);

  /** The first field of the current step (of `fields`, else of the container), or null. */
  function field(): HTMLElement | null {
    const root = options.fields?.value ?? container.value;
    if (!root) return null;
    for (const el of root.querySelectorAll<HTMLElement>(FIELD)) if (el.tabIndex >= 0 && visible(el)) return el;
    return null;
  }

  /** Focus the first field; with none (yet), the container itself, until one appears. */
  function focusFirst(preventScroll = false): void {
    const root = container.value;
    if (!root) return;
    const f = field();
    waitingForField = !f;
    (f ?? root).focus({ preventScroll });
  }

  function onKeydown(e: KeyboardEvent): void {
    if (e.key !== 'Tab' || !isTop() || !container.value) return;
    const list = tabbables(container.value);
    waitingForField = false;
    if (!list.length) {
      e.preventDefault();
      container.value.focus();
      return;
    }
    const active = document.activeElement as HTMLElement | null;
    const i = active ? list.indexOf(active) : -1;
    // a radio stands for its group: Tab leaves the group from whichever radio has the focus
    const at = i >= 0 ? i : active instanceof HTMLInputElement && active.type === 'radio' ? list.findIndex((el) => el instanceof HTMLInputElement && el.name === active.name) : -1;
    if (at < 0 || !inside(active)) {
      e.preventDefault();
      (e.shiftKey ? list[list.length - 1] : list[0]).focus();
    } else if (e.shiftKey && at === 0) {
      e.preventDefault();
      list[list.length - 1].focus();
    } else if (!e.shiftKey && at === list.length - 1) {
      e.preventDefault();
      list[0].focus();
    }
  }

  /** the last element focused inside the modal */
  let lastInside: HTMLElement | null = null;

  /** Focus moving behind the modal (a script, a click on the page) is brought back. */
  function onFocusIn(e: FocusEvent): void {
    if (!isTop() || !container.value) return;
    if (inside(e.target as Element)) {
      lastInside = e.target as HTMLElement;
      if (lastInside !== container.value) waitingForField = false;
    } else focusFirst();
  }

  /** the wizard step the modal shows, as its step indicator says (aria-current="step"), e.g. '2 Parameters' */
  let shownStep: string | null = null;
  const currentStep = () => container.value?.querySelector('[aria-current="step"]')?.textContent ?? null;

  /** After the modal's content changed: a new step, the focused control removed or disabled, or a field that arrived. */
  function onMutation(): void {
    if (!isTop() || !container.value) return;
    const step = currentStep();
    if (step !== shownStep) {
      shownStep = step;
      focusFirst();
      return;
    }
    const active = document.activeElement;
    const lost = lastInside && lastInside !== container.value && (!lastInside.isConnected || (lastInside as HTMLButtonElement).disabled === true);
    if (lost && (!inside(active) || active === lastInside)) focusFirst(true);
    else if (waitingForField && (active === container.value || !inside(active)) && field()) focusFirst(true);
  }

  onMounted(() => {
    opener = document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : null;
    stack.push(self);
    document.addEventListener('keydown', onKeydown, true);
    document.addEventListener('focusin', onFocusIn);
    if (container.value) {
      if (!container.value.hasAttribute('tabindex')) container.value.tabIndex = -1;
      observer = new MutationObserver(onMutation);
      observer.observe(container.value, { childList: true, subtree: true, attributes: true, attributeFilter: ['disabled', 'hidden', 'aria-current'] });
      shownStep = currentStep();
    }
    focusFirst();
  });

  if (options.step !== undefined) watch(options.step, () => void nextTick(() => focusFirst()), { flush: 'post' });

  onBeforeUnmount(() => {
    observer?.disconnect();
    document.removeEventListener('keydown', onKeydown, true);
    document.removeEventListener('focusin', onFocusIn);
    const k = stack.indexOf(self);
    if (k >= 0) stack.splice(k, 1);
    // back to the opener once this modal is gone (if it is still on the page)
    const back = opener;
    if (back) void nextTick(() => back.isConnected && back.focus());
  });

  return { focusFirst, isTop };
}
