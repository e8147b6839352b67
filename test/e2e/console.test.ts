/**
 * The web console in a real browser (Chromium driven by playwright-core, see
 * test/support/browser.ts) against real instances: a seeded dev stage with a prod stage
 * registered, and a real `stagecraft gateway` process. Sign-in, the promote wizard with an
 * optional dependency and live progress, a rollback, the API7 walkthrough done by clicking
 * (publish, Production Group, token, sync with nodes, then GET /pet/1 through the gateway), an
 * archive export and import, and a VIEWER who sees no write action. Nothing leaves localhost.
 *
 * Screenshots of every page go to test/e2e/screenshots/ (gitignored); with
 * STAGECRAFT_UPDATE_DOCS=1 the plan step also to docs/console-plan.png (the README shows it), so a
 * test run never changes a committed file. Needs `npm run build` (dist/console, dist/cli.js).
 * The tests share one page and run in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { dog, startNacosRegistry, startPetstore, type RunningUpstream } from '../../src/demo/petstore.js';
import { PETSTORE_DOG } from '../../src/services/seed.js';
import { launchChromium } from '../support/browser.js';
import { get, until } from '../support/polling.js';
import { promoteAndWait, registerStage } from '../support/promotion.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../support/server.js';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** expect.poll waits 1 s by default: too short on a busy machine. */
const POLL = { timeout: 15_000 };
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const PLAN_SHOT = fileURLToPath(new URL('../../docs/console-plan.png', import.meta.url));
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

let dev: TestServer;
let prod: TestServer;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let petstore: RunningUpstream | undefined;
let gateway: ChildProcess | undefined;
let promotionId = '';
let gatewayPort = 0;
const offHost: string[] = [];
const pageErrors: string[] = [];
const cspViolations: string[] = [];
/** graphql-ws subscribe payloads the pages sent. */
const subscribed: { query: string; variables: Record<string, any> }[] = [];

const isLocal = (url: string) => {
  const { protocol, hostname } = new URL(url);
  return protocol === 'data:' || protocol === 'blob:' || LOCAL_HOSTS.has(hostname);
};

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const ctx = await browser!.newContext({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
  await ctx.route('**/*', (route) => {
    const url = route.request().url();
    if (isLocal(url)) return route.continue();
    offHost.push(url);
    return route.abort('blockedbyclient');
  });
  // CSP violations do not throw: every document of the page reports them here.
  await ctx.exposeFunction('__reportCspViolation', (v: string) => cspViolations.push(v));
  await ctx.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => (window as any).__reportCspViolation(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const p = await ctx.newPage();
  p.on('pageerror', (err) => pageErrors.push(err.message));
  p.on('websocket', (ws) => {
    if (!isLocal(ws.url().replace(/^ws/, 'http'))) offHost.push(ws.url());
    ws.on('framesent', ({ payload }) => {
      const message = JSON.parse(String(payload)) as { type: string; payload?: { query: string; variables: Record<string, unknown> } };
      if (message.type === 'subscribe' && message.payload) subscribed.push(message.payload);
    });
  });
  return { context: ctx, page: p };
}

const shot = (name: string, p: Page = page) => p.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });

async function signIn(p: Page, username: string, password: string) {
  await p.goto(`${dev.url}/`);
  await p.locator('input[name=username]').fill(username);
  await p.locator('input[name=password]').fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.locator('.sidebar').waitFor({ timeout: 15_000 });
}

beforeAll(async () => {
  if (!existsSync(CLI) || !existsSync(fileURLToPath(new URL('../../dist/console/index.html', import.meta.url)))) throw new Error('run npm run build first');
  await mkdir(SHOTS, { recursive: true });
  [dev, prod] = await Promise.all([
    startTestServer({ env: { STAGECRAFT_STAGE: 'dev', STAGECRAFT_SEED: 'true' } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'prod' } }),
  ]);
  await registerStage(dev, 'prod', prod);
  ({ browser } = await launchChromium());
  ({ context, page } = await newPage());
});

afterAll(async () => {
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((r) => gateway!.once('exit', r));
    gateway.kill('SIGTERM');
    await exited;
  }
  await petstore?.close();
  await browser?.close();
  await Promise.all([dev?.stop(), prod?.stop()]);
});

describe('console', () => {
  it('is served at / from the local bundle, fast, under a same-origin CSP', async () => {
    const res = await fetch(`${dev.url}/`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await res.text();
    expect(html).toMatch(/<script type="module" src="\/console\/app\.js\?v=[0-9a-f]{12}">/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    // GraphiQL still answers browsers at /graphql
    const graphiql = await fetch(`${dev.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await graphiql.text()).toContain('id="graphiql"');

    await page.goto(`${dev.url}/`);
    await page.locator('input[name=username]').waitFor();
    await shot('01-sign-in');
  });

  it('refuses a wrong password with the code, then signs in and shows the user menu', async () => {
    await page.locator('input[name=username]').fill('admin');
    await page.locator('input[name=password]').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('.error').textContent(), POLL).toContain('UNAUTHENTICATED');
    await page.locator('input[name=password]').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.sidebar').waitFor();
    expect(await page.locator('.stage-pill').textContent()).toBe('dev');
    await page.locator('.user-menu button').first().click();
    expect(await page.locator('.user-menu .menu').textContent()).toContain('MANAGE_PROMOTIONS');
    await page.locator('.user-menu button').first().click();
  });

  it('searches the catalog with alternatives and wildcards, filters by type, pages, and opens an asset', async () => {
    // more assets than a page holds
    const admin = await dev.adminToken();
    for (let i = 1; i <= 10; i++) {
      const res = await dev.gql('mutation($n: String!) { createAsset(input: { type: GROUP, name: $n }) { id } }', { n: `team-${String(i).padStart(2, '0')}` }, admin);
      expect(res.errors).toBeUndefined();
    }
    await page.goto(`${dev.url}/#/catalog`);
    await page.reload(); // the assets were made behind the page's back
    await expect.poll(() => page.locator('.pager').textContent(), POLL).toContain('1–20 of 25');
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => page.locator('.pager').textContent(), POLL).toContain('21–25 of 25');
    await page.getByRole('button', { name: 'Previous' }).click();
    await expect.poll(() => page.locator('.pager').textContent(), POLL).toContain('1–20 of 25');

    await page.goto(`${dev.url}/#/catalog`);
    await page.locator('input[name=q]').fill('Gold|Pet Shop*');
    await page.getByRole('button', { name: 'Search' }).click();
    // Poll the names, not the row count: the unfiltered page's rows are there until the answer comes.
    await expect
      .poll(() => page.locator('tbody tr td:nth-child(2)').allTextContents(), POLL)
      .toEqual(expect.arrayContaining(['Gold', 'Pet Shop Portal', 'Pet Shop Gold Subscription']));
    await page.locator('select[aria-label=Type]').selectOption('PLAN');
    await expect.poll(() => page.locator('tbody tr td:nth-child(2)').allTextContents(), POLL).toEqual(['Gold']);
    await page.goto(`${dev.url}/#/catalog`);
    await expect.poll(() => page.locator('tbody tr').count(), POLL).toBeGreaterThan(5);
    await shot('02-catalog');

    await page.getByRole('link', { name: 'Swagger Petstore' }).click();
    await page.getByRole('heading', { name: /Swagger Petstore/ }).waitFor();
    // aliases per stage: the prod-bound value, and the secure one never shown
    await expect.poll(() => page.locator('text=http://petstore.prod.internal:8080').count(), POLL).toBeGreaterThan(0);
    expect(await page.content()).not.toContain('demo-only-secret');
    await expect.poll(() => page.locator('.drift-cell').textContent(), POLL).toContain('MISSING');
    await shot('03-asset');
  });

  it('runs the promote wizard dev → prod with an optional dependency, resuming live progress after a reload', async () => {
    await page.goto(`${dev.url}/#/promote`);
    await page.locator('input[name=q]').fill('Swagger Petstore');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('label.pick', { hasText: 'Swagger Petstore' }).locator('input').check();
    await page.getByRole('button', { name: 'Next: dependencies' }).click();
    await page.locator('label.pick', { hasText: 'Pet Shop Portal' }).waitFor();
    await page.locator('input[name=optional][value=SELECTED]').check();
    await page.locator('label.pick', { hasText: 'Pet Shop Portal' }).locator('input').check();
    await shot('04-promote-dependencies');
    await page.getByRole('button', { name: 'Next: targets' }).click();
    await page.locator('input[name=stage][value=prod]').check();
    await page.locator('input[name=name]').fill('petstore-to-prod');
    await page.getByRole('button', { name: 'Next: plan' }).click();
    const plan = page.locator('.stage-plan[data-stage=prod]');
    await plan.locator('tbody tr').first().waitFor();
    const planText = await plan.textContent();
    expect(planText).toContain('Pet Shop Portal');
    expect(planText).toContain('CREATE');
    expect(planText).toContain('http://petstore.prod.internal:8080'); // the alias value prod gets
    await shot('05-promote-plan');
    if (process.env.STAGECRAFT_UPDATE_DOCS === '1') await page.screenshot({ path: PLAN_SHOT, fullPage: true });

    await page.getByRole('button', { name: 'Promote', exact: true }).click();
    await page.waitForURL(/#\/promote\?run=/);
    promotionId = new URL(page.url()).hash.split('run=')[1]!;
    // once the page has seen an event, reload: it resumes after the last one it saw
    await expect.poll(() => page.evaluate((id) => JSON.parse(sessionStorage.getItem(`stagecraft.progress.${id}`) ?? '{"lastSequence":0}').lastSequence, promotionId), POLL).toBeGreaterThan(0);
    // What the page held as it unloaded is what the reloaded page starts from: kept aside (the
    // promotion may finish between any earlier look and the reload).
    await page.evaluate((id) => {
      addEventListener('pagehide', () => sessionStorage.setItem('stagecraft.test.atReload', sessionStorage.getItem(`stagecraft.progress.${id}`)!));
    }, promotionId);
    subscribed.length = 0;
    await page.reload();
    await page.locator('[data-testid=progress-overall]').waitFor();
    const atReload = await page.evaluate(() => JSON.parse(sessionStorage.getItem('stagecraft.test.atReload')!) as { lastSequence: number; completed: boolean });
    expect(atReload.lastSequence).toBeGreaterThan(0);
    if (!atReload.completed) {
      // still running at the reload: the new subscription asks only for what came after
      await expect.poll(() => subscribed.find((m) => m.query.includes('promotionProgress'))?.variables.after, POLL).toBe(atReload.lastSequence);
    }
    await expect.poll(() => page.locator('[data-testid=progress-overall]').textContent(), { timeout: 60_000 }).toContain('COMPLETED');
    const report = page.locator('.stage-report[data-stage=prod]');
    await report.waitFor();
    expect(await report.textContent()).toContain('SUCCESS');
    expect(await report.textContent()).toContain('Pet Shop Portal');
    await shot('06-promote-report');
    const onProd = await prod.gql('{ assets(filter: { keyword: "Pet Shop Portal" }) { totalCount } }', {}, await prod.adminToken());
    expect(onProd.data!.assets.totalCount).toBe(1);
  });

  it('lists promotions newest first and rolls the promotion back on prod', async () => {
    // a later promotion whose name sorts last: newest first puts it on top
    await promoteAndWait(dev, { name: 'zzz-newer', assetIds: [await assetId('Gold', 'PLAN')], targetStages: ['prod'] });
    await page.goto(`${dev.url}/#/promotions`);
    await page.getByRole('link', { name: 'petstore-to-prod' }).waitFor();
    expect(await page.locator('tbody tr td:first-child a').allTextContents()).toEqual(['zzz-newer', 'petstore-to-prod']);
    await shot('07-promotions');
    await page.getByRole('link', { name: 'petstore-to-prod' }).click();
    const rollBack = page.getByRole('button', { name: 'Roll back prod' });
    await rollBack.click();
    await page.getByRole('button', { name: 'Click again to confirm' }).click();
    // zzz-newer built on the Petstore's rate-limit policy on prod: CONFLICT, explained, then forced
    const action = page.locator('.rollback-action').first();
    await expect.poll(() => action.textContent(), { timeout: 30_000 }).toContain('CONFLICT');
    expect(await action.textContent()).toContain('Later promotions changed some of these assets on prod');
    await shot('08-rollback-conflict');
    await action.getByRole('button', { name: 'Force roll back' }).click();
    await action.getByRole('button', { name: 'Click again to confirm' }).click();
    await expect.poll(() => action.textContent(), { timeout: 30_000 }).toContain('ROLLED_BACK');
    await shot('09-promotion-rolled-back');
    const onProd = await prod.gql('{ assets(filter: { keyword: "Pet Shop Portal" }) { totalCount } }', {}, await prod.adminToken());
    expect(onProd.data!.assets.totalCount).toBe(0);

    // repromote: the same assets again, under a new name, followed live to the end
    await page.getByRole('button', { name: 'Repromote…' }).click();
    await page.locator('input[name=repromote-name]').fill('petstore-again');
    await page.getByRole('button', { name: 'Repromote', exact: true }).click();
    await page.waitForURL(/#\/promote\?run=/);
    await expect.poll(() => page.locator('[data-testid=progress-overall]').textContent(), { timeout: 60_000 }).toContain('COMPLETED');
    expect(await page.locator('.stage-report[data-stage=prod]').textContent()).toContain('Pet Shop Portal');

    await page.goto(`${dev.url}/#/rollbacks?stage=prod`);
    await page.getByRole('link', { name: 'petstore-to-prod' }).click();
    await expect.poll(() => page.locator('h1').textContent(), POLL).toContain('ROLLED_BACK');
    expect(await page.locator('.card table').textContent()).toContain('Pet Shop Portal');
    await shot('09b-rollback-report');
  });

  it('registers, tests, edits and deletes a stage, and shows the drift grid', async () => {
    await page.goto(`${dev.url}/#/stages`);
    await page.getByRole('button', { name: 'Register stage' }).click();
    await page.locator('input[name=stage-name]').fill('qa');
    await page.locator('input[name=stage-url]').fill(prod.url);
    await page.locator('input[name=stage-username]').fill('admin');
    await page.locator('input[name=stage-password]').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    const qa = page.locator('tbody tr', { has: page.locator('strong', { hasText: /^qa$/ }) });
    await qa.waitFor();
    await qa.getByRole('button', { name: 'Test' }).click();
    await expect.poll(() => qa.textContent(), { timeout: 15_000 }).toContain('ONLINE');
    await page.locator('tbody tr', { has: page.locator('strong', { hasText: /^prod$/ }) }).getByRole('button', { name: 'Test' }).click();
    await shot('10-stages');
    await qa.getByRole('button', { name: 'Edit' }).click();
    await page.locator('input[name=stage-description]').fill('QA, for a moment');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => qa.textContent(), POLL).toContain('QA, for a moment');
    await qa.getByRole('button', { name: 'Delete' }).click();
    await qa.getByRole('button', { name: 'Click again to confirm' }).click();
    await expect.poll(() => qa.count(), POLL).toBe(0);
    // a bad URL is refused with its code, and nothing is registered
    await page.getByRole('button', { name: 'Register stage' }).click();
    await page.locator('input[name=stage-name]').fill('broken');
    await page.locator('input[name=stage-url]').fill('ftp://nowhere');
    await page.locator('input[name=stage-username]').fill('admin');
    await page.locator('input[name=stage-password]').fill('x');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await expect.poll(() => page.locator('form .error').textContent(), POLL).toContain('BAD_USER_INPUT');
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect((await dev.gql('{ stages { name } }', {}, await dev.adminToken())).data!.stages.map((s: { name: string }) => s.name)).not.toContain('broken');

    await page.goto(`${dev.url}/#/drift`);
    await expect.poll(() => page.locator('.matrix tbody tr').count(), POLL).toBeGreaterThan(5);
    expect(await page.locator('.matrix').textContent()).toContain('MISSING');
    await shot('11-drift');
    // a cell's promote action opens the wizard with the asset and stage chosen
    await page.locator('.matrix a.cell-action').first().click();
    await page.waitForURL(/#\/promote\?assets=.*&stages=prod/);
  });

  it('walks through API7 in the console: publish, Production Group, token, sync with nodes; the gateway serves the Dog', async () => {
    petstore = await startPetstore();
    await page.goto(`${dev.url}/#/gateway`);
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.locator('input[name=group-name]').fill('Production Group');
    await page.locator('input[name=group-description]').fill('live traffic');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('link', { name: 'Production Group' }).waitFor();
    await shot('12-gateway-groups');

    await page.getByRole('link', { name: 'default' }).click();
    await page.getByRole('button', { name: 'Publish service' }).click();
    const apiOption = await page.locator('select[name=publish-api] option', { hasText: 'Swagger Petstore' }).getAttribute('value');
    await page.locator('select[name=publish-api]').selectOption(apiOption!);
    await page.locator('input[name=publish-version]').fill('1.0.0');
    await page.locator('textarea[name=publish-nodes]').fill(`127.0.0.1:${petstore.port}`);
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.locator('.service[data-service="Swagger Petstore"]').waitFor();

    // a join token for the Production Group, then a real gateway instance with it
    await page.goto(`${dev.url}/#/gateway/${encodeURIComponent('Production Group')}`);
    await page.getByRole('button', { name: 'Create token' }).click();
    const command = await page.locator('[data-testid=instance-token]').textContent();
    const token = /--token (\S+)/.exec(command!)![1]!;
    const port = (gatewayPort = await freePort());
    gateway = spawn(process.execPath, [CLI, 'gateway', '--control-plane', dev.url, '--group', 'Production Group', '--port', String(port), '--host', '127.0.0.1'], {
      env: { ...process.env, STAGECRAFT_GATEWAY_TOKEN: token, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await expect.poll(() => page.locator('[data-testid=instances]').textContent().catch(() => ''), { timeout: 30_000 }).toContain('ONLINE');

    await page.goto(`${dev.url}/#/gateway/default`);
    await page.getByRole('button', { name: 'Sync to other gateway group' }).click();
    await page.locator('select[name=sync-target]').selectOption('Production Group');
    await page.locator('input[name=upstream-mode]').first().check(); // Use Nodes
    expect(await page.locator('textarea[name=sync-nodes]').inputValue()).toBe(`127.0.0.1:${petstore.port}`);
    await page.getByRole('button', { name: 'Sync', exact: true }).click();
    await expect.poll(() => page.locator('[data-testid=sync-phase]').textContent(), { timeout: 30_000 }).toContain('COMPLETED');
    await shot('13-sync-completed');

    const answer = await until('GET /pet/1 through the gateway', () => get(port), (r) => r.status === 200, 20_000);
    expect(answer.body).toEqual(PETSTORE_DOG);
    await page.goto(`${dev.url}/#/gateway/${encodeURIComponent('Production Group')}`);
    await page.locator('.service[data-service="Swagger Petstore"]').waitFor();
    await shot('14-production-group');
  });

  it('syncs a next version with service discovery through a registry, then rolls the service back', async () => {
    const nacos = await startNacosRegistry({ petstore: [{ ip: '127.0.0.1', port: petstore!.port }] });
    try {
      await page.goto(`${dev.url}/#/gateway/${encodeURIComponent('Production Group')}`);
      await page.getByRole('button', { name: 'Add registry' }).click();
      await page.locator('input[name=registry-name]').fill('nacos');
      await page.locator('select[name=registry-type]').selectOption('NACOS');
      await page.locator('input[name=registry-address]').fill(nacos.url);
      await page.locator('input[name=registry-refresh]').fill('1000');
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await page.locator('td', { hasText: nacos.url }).waitFor();

      await page.goto(`${dev.url}/#/gateway/default`);
      await page.getByRole('button', { name: 'Publish service' }).click();
      const apiOption = await page.locator('select[name=publish-api] option', { hasText: 'Swagger Petstore' }).getAttribute('value');
      await page.locator('select[name=publish-api]').selectOption(apiOption!);
      await page.locator('textarea[name=publish-nodes]').fill(`127.0.0.1:${petstore!.port}`);
      await page.getByRole('button', { name: 'Publish', exact: true }).click();
      const service = page.locator('.service[data-service="Swagger Petstore"]');
      await expect.poll(() => service.locator('h3').textContent(), POLL).toContain('1.0.1');

      await service.getByRole('button', { name: 'Sync to other gateway group' }).click();
      await page.locator('select[name=sync-target]').selectOption('Production Group');
      await page.getByLabel('Use Service Discovery').check();
      await page.locator('select[name=sync-registry] option', { hasText: 'nacos' }).waitFor({ state: 'attached' });
      await page.locator('select[name=sync-registry]').selectOption('nacos');
      await page.locator('input[name=sync-namespace]').fill('public');
      await page.locator('input[name=sync-service]').fill('petstore');
      await page.getByRole('button', { name: 'Sync', exact: true }).click();
      await expect.poll(() => page.locator('[data-testid=sync-phase]').textContent(), { timeout: 30_000 }).toContain('COMPLETED');
      await shot('15-sync-discovery');
      const answer = await until('GET /pet/2 through the gateway', () => get(gatewayPort, '/pet/2'), (r) => r.status === 200, 20_000);
      expect(answer.body).toEqual(dog(2));

      // default runs 1.0.1 now; roll it back to 1.0.0
      await page.goto(`${dev.url}/#/gateway/default`);
      await service.getByRole('button', { name: 'Roll back to 1.0.0' }).click();
      await service.getByRole('button', { name: 'Click again to confirm' }).click();
      await expect.poll(() => service.locator('h3').textContent(), POLL).toMatch(/running\s*1\.0\.0/);
    } finally {
      await nacos.close();
    }
  });

  it('exports the Petstore as a download and imports it back with the report', async () => {
    await page.goto(`${dev.url}/#/catalog?q=Swagger%20Petstore`);
    await page.locator('tbody tr input[type=checkbox]').first().check();
    await page.getByRole('link', { name: 'Export selected' }).click();
    await page.locator('.chips .chip').first().waitFor();
    await page.locator('input[name=export-passphrase]').fill('a passphrase');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export archive' }).click()]);
    const file = await download.path();
    const zip = await readFile(file!);
    expect(zip.subarray(0, 2).toString()).toBe('PK');

    await page.locator('input[name=import-file]').setInputFiles({ name: 'petstore.zip', mimeType: 'application/zip', buffer: zip });
    await page.locator('input[name=import-passphrase]').fill('a passphrase');
    await page.getByRole('button', { name: 'Import archive' }).click();
    const report = page.locator('form [data-testid=import-report]');
    await report.waitFor({ timeout: 30_000 });
    expect(await report.textContent()).toContain('UNCHANGED');
    await shot('16-archives');
  });

  it('shows a VIEWER no write action anywhere', async () => {
    await dev.userWithRole('VIEWER');
    const viewer = await newPage();
    await signIn(viewer.page, 'viewer-user', 'password-123');
    const writes = /^(Promote|Promote selected|Promote…|New promotion|Delete|Roll back|Repromote…|Register stage|Test|Edit|Create group|Publish service|Create token|Revoke|Add registry|Export archive|Import archive|Export…|Sync to other gateway group|Unpublish)$/;
    const pages = ['#/catalog', '#/assets/' + (await assetId('Swagger Petstore')), `#/promotions/${promotionId}`, '#/promotions', '#/rollbacks', '#/stages', '#/drift', '#/gateway', '#/gateway/default', '#/archives'];
    for (const hash of pages) {
      await viewer.page.goto(`${dev.url}/${hash}`);
      await viewer.page.locator('main h1').first().waitFor({ timeout: 10_000 }).catch(async (err) => {
        await shot('viewer-failed', viewer.page);
        throw new Error(`${hash}: ${err.message}`);
      });
      await viewer.page.waitForLoadState('networkidle');
      await shot(`18-viewer-${hash.split('/')[1]}${hash.split('/').length > 2 ? '-detail' : ''}`, viewer.page);
      const labels = [...(await viewer.page.locator('main button, main a.button').allTextContents()), ...(await viewer.page.locator('nav a').allTextContents())];
      expect(labels.filter((l) => writes.test(l.trim())), hash).toEqual([]);
    }
    await viewer.page.goto(`${dev.url}/#/gateway/default`);
    await viewer.page.locator('.service').waitFor();
    await shot('17-viewer-gateway', viewer.page);
  });

  it('shows hostile names as text, and an oversized search as an error with its code', async () => {
    const name = '<img src=x onerror="window.__pwned=1">';
    const res = await dev.gql('mutation($n: String!) { createAsset(input: { type: GROUP, name: $n, description: "<script>window.__pwned=2</script>" }) { id } }', { n: name }, await dev.adminToken());
    expect(res.errors).toBeUndefined();
    await page.goto(`${dev.url}/#/catalog?q=${encodeURIComponent('<img*')}`);
    await page.reload();
    await page.getByRole('link', { name }).click();
    await page.getByRole('heading', { name }).waitFor();
    expect(await page.locator('.page-header .sub').textContent()).toBe('<script>window.__pwned=2</script>');
    expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();

    await page.goto(`${dev.url}/#/catalog`);
    await page.locator('input[name=q]').fill('x'.repeat(5000));
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('.error').textContent(), POLL).toContain('BAD_USER_INPUT');
  });

  it('made no request off localhost, broke no CSP rule and threw no error in the page', () => {
    expect(cspViolations).toEqual([]);
    expect(offHost).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

async function assetId(name: string, type = 'API'): Promise<string> {
  const res = await dev.gql('query($k: String!, $t: AssetType!) { assets(filter: { keyword: $k, types: [$t] }) { edges { node { id } } } }', { k: name, t: type }, await dev.adminToken());
  return res.data!.assets.edges[0].node.id;
}
