// Keyboard alone through the forget-set wizard (issue 9, point 9): the focus never leaves the modal,
// each step's first field has it after Next and Preview, saving and Escape return it to the button
// that opened the wizard. Runs on its own small CSV dataset.
import { assert, assertEqual, navigate, tinyCsvDataset, waitFor } from './helpers.mjs';

const DATASET = 'e2e-keyboard-csv';

/** What has the focus: its data-testid, else id, else tag; and whether it is inside the wizard. */
async function focused(page) {
  return page.evaluate(() => {
    const a = document.activeElement;
    const wizard = document.querySelector('[data-testid="forget-set-wizard"]');
    return { name: a?.getAttribute('data-testid') || a?.id || a?.tagName || 'none', inside: !!wizard && !!a && wizard.contains(a), body: a === document.body, label: a?.getAttribute('aria-label') ?? a?.textContent?.trim().slice(0, 40) ?? '' };
  });
}

/** Presses Tab (Shift+Tab with `back`) until `testid` has the focus; fails after `max` presses or when the focus leaves the wizard. */
async function tabTo(page, testid, max = 40, back = false) {
  for (let i = 0; i < max; i++) {
    const f = await focused(page);
    if (f.name === testid) return i;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const g = await focused(page);
    assert(g.inside, `Tab moved the focus out of the wizard, to ${g.name}`);
  }
  throw new Error(`${testid} never got the focus in ${max} presses of Tab`);
}

export const tests = [
  {
    name: 'Keyboard: the forget-set wizard by keyboard alone (focus trapped, first field of each step, focus back to the opener)',
    async run(ctx) {
      await tinyCsvDataset(ctx, DATASET);
      const { page } = await ctx.open();
      await navigate(page, 'forget-sets', 'Forget sets');
      const opener = await page.waitForSelector('[data-testid="open-forget-wizard"], [data-testid="empty-new-forget-set"]');
      const openerId = await opener.getAttribute('data-testid');

      // reach the opener with Tab from the top of the page, open with Enter
      await page.evaluate(() => document.activeElement?.blur());
      let presses = 0;
      while ((await focused(page)).name !== openerId) {
        await page.keyboard.press('Tab');
        assert(++presses < 80, `Tab never reached the "New forget set…" button`);
      }
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-testid="forget-set-wizard"]');
      await waitFor(async () => (await focused(page)).name === 'fs-dataset', { message: 'the dataset field did not get the focus when the wizard opened' });

      // 40 presses of Tab (and 40 of Shift+Tab) stay inside the modal
      const outside = [];
      for (const key of ['Tab', 'Shift+Tab'])
        for (let i = 0; i < 40; i++) {
          await page.keyboard.press(key);
          const f = await focused(page);
          if (!f.inside) outside.push(`${key} ${i + 1}: ${f.name}`);
        }
      assertEqual(outside.join('; '), '', 'presses of Tab that left the wizard');

      // step 1: the dataset (choose ours with the arrow keys), the kind (random, already checked), Next
      await tabTo(page, 'fs-dataset');
      const label = await page.$eval('[data-testid="fs-dataset"]', (s, n) => [...s.options].findIndex((o) => o.text.startsWith(n + ' (')), DATASET);
      assert(label >= 0, 'the CSV dataset is not offered');
      for (let i = 0; i < 10 && (await page.$eval('[data-testid="fs-dataset"]', (s) => s.selectedIndex)) !== label; i++)
        await page.keyboard.press((await page.$eval('[data-testid="fs-dataset"]', (s) => s.selectedIndex)) < label ? 'ArrowDown' : 'ArrowUp');
      await page.keyboard.press('Tab');
      const radio = await page.evaluate(() => ({ type: document.activeElement?.getAttribute('type'), value: document.activeElement?.getAttribute('value') }));
      assertEqual(`${radio.type} ${radio.value}`, 'radio random', 'the control after the dataset (the checked kind)');
      await tabTo(page, 'fs-next');
      await ctx.screenshot(page, 'keyboard-wizard-step1');
      await page.keyboard.press('Enter');

      // step 2: its first field (how many) has the focus, not the page body
      await waitFor(async () => (await focused(page)).name === 'fs-amount', { message: 'after Next the focus is not on the first field of the step' });
      await page.keyboard.press('Control+A');
      await page.keyboard.type('10%');
      await tabTo(page, 'fs-preview-button');
      await page.keyboard.press('Enter');

      // step 3: once the preview is built, its first field (the name) has the focus
      await page.waitForSelector('[data-testid="fs-count"]', { timeout: 30_000 });
      await waitFor(async () => (await focused(page)).name === 'fs-name', { message: 'after Preview the focus is not on the name field' });
      assert(Number(await page.textContent('[data-testid="fs-count"]')) > 0, 'the preview counts no example to forget');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('keyboard-10pct');
      await ctx.screenshot(page, 'keyboard-wizard-preview');
      await tabTo(page, 'fs-save');
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-testid="forget-set-wizard"]', { state: 'detached', timeout: 15_000 });
      await page.waitForSelector('[data-testid="forget-set-details"]');
      // saved: the focus is back on the button that opened the wizard (the header's, now the list exists)
      await waitFor(async () => ['open-forget-wizard', openerId].includes((await focused(page)).name), { message: 'after saving, the focus did not return to the opener' });

      // Escape closes and returns the focus to the opener
      await page.focus('[data-testid="open-forget-wizard"]');
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-testid="forget-set-wizard"]');
      await waitFor(async () => (await focused(page)).name === 'fs-dataset', { message: 'the dataset field did not get the focus on reopening' });
      await page.keyboard.press('Escape');
      await page.waitForSelector('[data-testid="forget-set-wizard"]', { state: 'detached' });
      await waitFor(async () => (await focused(page)).name === 'open-forget-wizard', { message: 'Escape did not return the focus to the opener' });
    },
  },
];
