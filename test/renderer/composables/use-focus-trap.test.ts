// AppDialog's keyboard focus (use-focus-trap): Tab cycles inside the dialog, each step's first field
// takes the focus, a removed control does not drop the focus to the page, and Escape returns it to
// the opener. (Chromium walks the forget-set wizard by keyboard in test/e2e/41-keyboard.e2e.mjs.)
import { afterEach, describe, expect, it } from 'vitest';
import { mount, type VueWrapper } from '@vue/test-utils';
import { defineComponent, h, nextTick, ref } from 'vue';
import AppDialog from '../../../renderer/src/components/AppDialog.vue';
import DatasetSteps from '../../../renderer/src/components/DatasetSteps.vue';

const flush = async () => {
  for (let i = 0; i < 4; i++) {
    await nextTick();
    await new Promise((r) => setTimeout(r, 0));
  }
};

/** A page with an opener button and a two-step wizard in an AppDialog. `viaIndicator`: the step is only in the step indicator. */
function harness(viaIndicator = false) {
  return defineComponent({
    setup() {
      const open = ref(false);
      const step = ref(0);
      return () =>
        h('div', [
          h('button', { id: 'before' }, 'behind the dialog'),
          h('button', { id: 'opener', onClick: () => (open.value = true) }, 'Open'),
          open.value
            ? h(
                AppDialog,
                { title: 'Wizard', testid: 'wiz', ...(viaIndicator ? {} : { step: step.value }), onClose: () => (open.value = false) },
                {
                  steps: () => h(DatasetSteps, { steps: ['One', 'Two'], current: step.value }),
                  default: () =>
                    step.value === 0
                      ? [h('p', 'Choose'), h('select', { id: 's0' }, [h('option', 'a')]), h('input', { id: 'i0' })]
                      : [h('label', ['Amount', h('input', { id: 'i1' })]), h('input', { id: 'i1b' })],
                  footer: () => (step.value === 0 ? h('button', { id: 'next', onClick: () => step.value++ }, 'Next') : h('button', { id: 'back', onClick: () => step.value-- }, 'Back')),
                },
              )
            : null,
        ]);
    },
  });
}

const tab = (shift = false) => document.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Tab', shiftKey: shift, bubbles: true, cancelable: true }));
const active = () => (document.activeElement as HTMLElement | null)?.id || document.activeElement?.tagName;

let w: VueWrapper | null = null;
afterEach(() => {
  w?.unmount();
  w = null;
});

describe('AppDialog focus trap', () => {
  for (const viaIndicator of [false, true]) {
    it(`focuses the first field, keeps Tab inside, refocuses on each step and returns to the opener on Escape (${viaIndicator ? 'step indicator' : 'step prop'})`, async () => {
      w = mount(harness(viaIndicator), { attachTo: document.body });
      const opener = w.get('#opener').element as HTMLButtonElement;
      opener.focus();
      await w.get('#opener').trigger('click');
      await flush();
      expect(active()).toBe('s0');

      // the last control (Next) wraps to the first (the × close button); Shift+Tab from there to Next
      (w.get('#next').element as HTMLElement).focus();
      tab();
      expect(w.get('[data-testid="wiz"]').element.contains(document.activeElement)).toBe(true);
      expect((document.activeElement as HTMLElement).getAttribute('aria-label')).toBe('Close');
      tab(true);
      expect(active()).toBe('next');
      // focus that lands behind the dialog is brought back
      (w.get('#before').element as HTMLElement).focus();
      await flush();
      expect(w.get('[data-testid="wiz"]').element.contains(document.activeElement)).toBe(true);

      // Next: the Next button disappears; the new step's first field takes the focus (not the body)
      (w.get('#next').element as HTMLElement).focus();
      await w.get('#next').trigger('click');
      await flush();
      expect(active()).toBe('i1');

      // Escape closes and returns the focus to the opener
      document.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
      await flush();
      expect(w.find('[data-testid="wiz"]').exists()).toBe(false);
      expect(document.activeElement).toBe(opener);
    });
  }

  it('a removed focused control hands the focus to the first field, not the page body', async () => {
    const Comp = defineComponent({
      setup() {
        const busy = ref(false);
        return () =>
          h(AppDialog, { title: 'D', onClose: () => {} }, {
            default: () => [h('input', { id: 'name' })],
            footer: () => (busy.value ? h('span', 'Working…') : h('button', { id: 'go', onClick: () => (busy.value = true) }, 'Go')),
          });
      },
    });
    w = mount(Comp, { attachTo: document.body });
    await flush();
    expect(active()).toBe('name');
    (w.get('#go').element as HTMLElement).focus();
    await w.get('#go').trigger('click');
    await flush();
    expect(active()).toBe('name');
  });
});
