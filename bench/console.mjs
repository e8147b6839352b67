/**
 * Console first-load benchmark: how long a browser with an empty cache takes to show the
 * console, against GraphiQL (the page the server already served) as the baseline.
 *
 * One seeded Stagecraft in-process; headless Chromium (the system's, else @sparticuz/chromium's).
 * Each round opens a fresh browser context (cold cache) per page, sides alternating:
 * - console: GET / until the sign-in form is visible;
 * - console-catalog: signed in (token in sessionStorage), GET /#/catalog until the first asset row;
 * - baseline: GET /graphql until GraphiQL's query editor is visible.
 * Also reports the bundle's bytes (minified and gzipped). Prints, last,
 * `console-first-load: ratio X (…)` and `console-catalog-load: ratio X (…)`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { login, now, progress, round, startBenchServer, withCleanup } from './lib.mjs';

export const name = 'console';

const ROUNDS = Number(process.env.CONSOLE_ROUNDS ?? 10);
const ADMIN_PASSWORD = 'bench-admin-password';

export const run = () => withCleanup(benchmark);

async function chromiumPath() {
  for (const candidate of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [candidate], { encoding: 'utf8' }).trim();
    } catch {
      /* next */
    }
  }
  const { default: packaged } = await import('@sparticuz/chromium');
  return packaged.executablePath();
}

async function benchmark(cleanup) {
  const { app } = await startBenchServer(cleanup, { env: { STAGECRAFT_ADMIN_PASSWORD: ADMIN_PASSWORD, STAGECRAFT_SEED: 'true' } });
  const token = await login(app.url, ADMIN_PASSWORD);

  const browser = await chromium.launch({ executablePath: await chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  cleanup.defer('chromium', () => browser.close());

  const timed = async (url, selector, init) => {
    const context = await browser.newContext();
    if (init) await context.addInitScript(init.fn, init.arg);
    const page = await context.newPage();
    const start = now();
    await page.goto(url);
    await page.locator(selector).first().waitFor({ timeout: 30_000 });
    const ms = now() - start;
    await context.close();
    return ms;
  };
  const sides = {
    console: () => timed(`${app.url}/`, 'input[name=username]'),
    catalog: () => timed(`${app.url}/#/catalog`, 'tbody tr', { fn: (t) => sessionStorage.setItem('stagecraft.token', t), arg: token }),
    baseline: () => timed(`${app.url}/graphql`, '.graphiql-query-editor .CodeMirror'),
  };
  progress('warming up');
  for (const side of Object.values(sides)) await side();
  const samples = { console: [], catalog: [], baseline: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? ['baseline', 'catalog', 'console'] : ['console', 'catalog', 'baseline'];
    for (const side of order) samples[side].push(await sides[side]());
    progress(`round ${r + 1}/${ROUNDS}`);
  }
  const js = readFileSync(new URL('../dist/console/app.js', import.meta.url));
  const css = readFileSync(new URL('../dist/console/app.css', import.meta.url));
  return {
    rounds: ROUNDS,
    bundle: { jsBytes: js.length, jsGzipBytes: gzipSync(js).length, cssBytes: css.length, cssGzipBytes: gzipSync(css).length },
    ms: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v)])),
  };
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: round(sorted[0], 1), median: round(sorted[Math.floor(sorted.length / 2)], 1), max: round(sorted.at(-1), 1) };
}

export function report(result) {
  const { bundle, ms } = result;
  const row = (label, s) => `${label.padEnd(34)} ${String(s.min).padStart(7)} ${String(s.median).padStart(7)} ${String(s.max).padStart(7)}`;
  return [
    `bundle: app.js ${bundle.jsBytes} B (${bundle.jsGzipBytes} B gzip), app.css ${bundle.cssBytes} B (${bundle.cssGzipBytes} B gzip)`,
    `first load, cold cache, ${result.rounds} rounds (ms)      min  median     max`,
    row('console sign-in form', ms.console),
    row('console catalog, signed in', ms.catalog),
    row('GraphiQL editor (baseline)', ms.baseline),
    `console-first-load: ratio ${round(ms.console.median / ms.baseline.median, 2)} (console sign-in form vs GraphiQL editor, median)`,
    `console-catalog-load: ratio ${round(ms.catalog.median / ms.baseline.median, 2)} (console catalog with rows vs GraphiQL editor, median)`,
  ].join('\n');
}
