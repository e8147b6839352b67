/**
 * Stage.status for readers: kept fresh by a background check per stage per interval (not by
 * reads), reachable and unreachable stages told apart, failures in fixed words that repeat
 * neither the remote's body nor the stored credentials.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { productVersion } from '../../src/version.js';
import { until } from '../support/polling.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../support/server.js';

const INTERVAL_MS = 300;
const WRONG_PASSWORD = 'wrong-password-never-shown';
let dev: TestServer;
let qa: TestServer;
let echo: http.Server;
let viewer: string;

const STATUS = '{ stages { name status { reachable latencyMs productVersion checkedAt error } } stage(name: "dev") { status { reachable productVersion error } } }';
const statuses = async (token = viewer) => {
  const res = await dev.gql(STATUS, {}, token);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return { local: res.data!.stage.status, ...Object.fromEntries(res.data!.stages.map((s: any) => [s.name, s.status])) } as Record<string, any>;
};

beforeAll(async () => {
  // Not Stagecraft: answers every request with a body that must never be repeated.
  echo = http.createServer((_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('SECRET-BODY-FROM-THE-REMOTE'));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  [dev, qa] = await Promise.all([startTestServer({ env: { STAGECRAFT_STAGE: 'dev', STAGECRAFT_STAGE_CHECK_MS: String(INTERVAL_MS) } }), startTestServer({ env: { STAGECRAFT_STAGE: 'qa' } })]);
  const admin = await dev.adminToken();
  const stages = [
    { name: 'qa', url: qa.url, password: ADMIN_PASSWORD },
    { name: 'down', url: `http://127.0.0.1:${await freePort()}`, password: ADMIN_PASSWORD },
    { name: 'locked-out', url: qa.url, password: WRONG_PASSWORD },
    { name: 'echo', url: `http://127.0.0.1:${(echo.address() as AddressInfo).port}`, password: ADMIN_PASSWORD },
  ];
  for (const i of stages) {
    const res = await dev.gql('mutation($i: CreateStageInput!) { createStage(input: $i) { name } }', { i: { ...i, username: 'admin' } }, admin);
    expect(res.errors).toBeUndefined();
  }
  viewer = await dev.userWithRole('VIEWER');
});
afterAll(async () => {
  await Promise.all([dev?.stop(), qa?.stop()]);
  echo?.close();
});

describe('Stage.status', () => {
  it('tells a VIEWER which stages answer, in fixed words', async () => {
    const seen = await until('every stage checked', () => statuses(), (s) => ['qa', 'down', 'locked-out', 'echo'].every((n) => s[n] !== null));
    expect(seen.local).toEqual({ reachable: true, productVersion, error: null });
    expect(seen.qa).toMatchObject({ reachable: true, productVersion, error: null });
    expect(seen.qa.latencyMs).toBeGreaterThanOrEqual(0);
    expect(seen.down).toMatchObject({ reachable: false, latencyMs: null, productVersion: null, error: expect.stringMatching(/^STAGE_UNREACHABLE: stage down at http:\/\/127\.0\.0\.1:\d+: unreachable$/) });
    // Answered, but refused the stored credentials: reachable, and the password is not repeated.
    expect(seen['locked-out']).toMatchObject({ reachable: true, productVersion: null, error: expect.stringMatching(/^UNAUTHENTICATED: /) });
    expect(seen.echo).toMatchObject({ reachable: false, error: expect.stringMatching(/^STAGE_UNREACHABLE: .*answered HTTP 500, not as a Stagecraft instance$/) });
    const text = JSON.stringify(seen);
    expect(text).not.toContain('SECRET-BODY');
    expect(text).not.toContain(WRONG_PASSWORD);
    expect(text).not.toContain(ADMIN_PASSWORD);
  });

  it('stays fresh without readers causing calls: one check per stage per interval', async () => {
    const first = (await statuses()).qa.checkedAt;
    await until('a newer check', () => statuses(), (s) => s.qa.checkedAt > first);

    const monitor = dev.app.services.stageStatus;
    const before = monitor.checks;
    const started = Date.now();
    await Promise.all(Array.from({ length: 100 }, () => statuses()));
    const rounds = Math.floor((Date.now() - started) / INTERVAL_MS) + 1;
    // At most one check per stage per round (a slow stage skips rounds), however many reads.
    expect(monitor.checks - before).toBeLessThanOrEqual(rounds * 4);
  });

  it('leaves testStage to those who may promote', async () => {
    const res = await dev.gql('mutation { testStage(name: "qa") { ok } }', {}, viewer);
    expect(res.errors![0].extensions!.code).toBe('FORBIDDEN');
    const admin = await dev.gql('mutation { testStage(name: "qa") { ok productVersion } }', {}, await dev.adminToken());
    expect(admin.data!.testStage).toEqual({ ok: true, productVersion });
  });

  it('does not sign in again with credentials a stage refused (its lockout would grow)', async () => {
    const failedLogins = async () => Number((await qa.app.services.db.query("SELECT coalesce(sum(failures), 0) AS n FROM login_attempts WHERE key LIKE 'addr:%'"))[0].n);
    const before = await failedLogins();
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 4));
    expect(await failedLogins()).toBe(before);
    expect((await statuses())['locked-out'].error).toMatch(/^UNAUTHENTICATED: /);
  });

  it('forgets a deleted stage', async () => {
    await dev.gql('mutation { deleteStage(name: "echo") }', {}, await dev.adminToken());
    await dev.app.services.stageStatus.checkAll();
    expect(dev.app.services.stageStatus.get('echo')).toBeNull();
  });
});
