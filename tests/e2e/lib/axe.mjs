// axe-core (pinned in package.json) run inside a test's page: every rule axe runs by default,
// and a view passes only with no critical, serious or moderate violation.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
// The page's CSP allows scripts from its own origin only, so no <script> tag can bring axe in;
// page.evaluate runs outside the CSP.
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Impacts that fail a view; "minor" findings are reported but allowed. */
const FAILING = new Set(['critical', 'serious', 'moderate']);

/**
 * Runs axe on the whole page as it is now; returns the violations, one line each.
 * @param {import('playwright-core').Page} page
 */
export async function axeViolations(page) {
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // Colours are measured as they settle: one-off animations (a bubble's pop, a toast) at their
    // end, endless ones (a pulsing dot) held at their start meanwhile.
    const held = [];
    for (const a of document.getAnimations()) {
      if (a.effect?.getComputedTiming().endTime === Infinity) {
        a.pause();
        a.currentTime = 0;
        held.push(a);
      } else {
        a.finish();
      }
    }
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    for (const a of held) a.play();
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join(' ').trim()}`),
    }));
  });
  return result;
}

/**
 * Asserts that the page as it is now has no critical, serious or moderate axe violation.
 * Returns a one-line summary for the test's log.
 * @param {import('playwright-core').Page} page
 * @param {string} view what is on screen, for the message
 */
export async function assertAccessible(page, view) {
  const violations = await axeViolations(page);
  const failing = violations.filter((v) => FAILING.has(v.impact));
  const text = failing
    .map((v) => `  ${v.impact} ${v.id} (${v.help}):\n${v.nodes.map((n) => `    ${n}`).join('\n')}`)
    .join('\n');
  assert.equal(failing.length, 0, `axe on ${view}: ${failing.length} violation(s)\n${text}`);
  const minor = violations.filter((v) => !FAILING.has(v.impact)).map((v) => v.id);
  return `${view}: 0 critical, 0 serious, 0 moderate${minor.length ? ` (minor: ${minor.join(', ')})` : ''}`;
}
