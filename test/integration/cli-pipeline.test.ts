/**
 * The pipeline verbs beyond export/import/promote, as a pipeline runs them: the built CLI as a
 * child process against a seeded dev server that promotes to a qa server (two real instances),
 * asserting what each prints and its exit status (0 ok, 1 failed, 2 bad command line, 3 refused
 * or unreachable).
 */
import http from 'node:http';
import { rawKey } from '../../src/graphql/node-id.js';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oneErrorLine, runCli as cli } from '../support/cli-process.js';
import { registerStage } from '../support/promotion.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../support/server.js';

let dev: TestServer;
let qa: TestServer;
let devToken: string;
let qaToken: string;
let petstoreId: string;
const version = (await import('../../package.json', { with: { type: 'json' } })).default.version as string;

beforeAll(async () => {
  [dev, qa] = await Promise.all([startTestServer({ env: { STAGECRAFT_SEED: 'true', STAGECRAFT_STAGE: 'dev' } }), startTestServer({ env: { STAGECRAFT_STAGE: 'qa' } })]);
  [devToken, qaToken] = await Promise.all([dev.adminToken(), qa.adminToken()]);
  await registerStage(dev, 'qa', qa);
  const res = await dev.gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { assetId } } } }', {}, devToken);
  petstoreId = res.data!.assets.edges[0].node.assetId;
});
afterAll(async () => {
  await Promise.all([dev?.stop(), qa?.stop()]);
});

const at = (server: TestServer, token: string) => ['--server', server.url, '--token', token];

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function qaAssetCount(): Promise<number> {
  return (await qa.gql('{ assets { totalCount } }', {}, qaToken)).data!.assets.totalCount as number;
}

describe('stagecraft whoami', () => {
  it('prints the user, role, privileges, stage and version; --json the same as JSON', async () => {
    const run = await cli(['whoami', ...at(dev, devToken)]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^user: +admin\nrole: +SUPER_ADMIN\nprivileges: +[A-Z_, ]*MANAGE_PROMOTIONS[A-Z_, ]*\n/);
    expect(run.stdout).toContain(`server:     ${dev.url}/ (stage dev, Stagecraft ${version})\n`);

    const viewer = await dev.userWithRole('VIEWER');
    const json = await cli(['whoami', ...at(dev, viewer), '--json']);
    expect(json.status).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed).toMatchObject({ user: { role: 'VIEWER', privileges: [] }, server: { url: `${dev.url}/`, stage: 'dev', productVersion: version } });
  });

  it('exits 3 for a token the server refuses or a server it cannot reach, 2 without a token', async () => {
    const refused = await cli(['whoami', ...at(dev, 'scs_not-a-token')]);
    expect(refused.stderr).toMatch(oneErrorLine('UNAUTHENTICATED'));
    expect(refused.stdout).toBe('');
    expect(refused.status).toBe(3);
    const port = await closedPort();
    const unreachable = await cli(['whoami', '--server', `http://127.0.0.1:${port}`, '--token', 't']);
    expect(unreachable.stderr).toMatch(oneErrorLine('UNREACHABLE'));
    expect(unreachable.status).toBe(3);
    const noToken = await cli(['whoami', '--server', dev.url]);
    expect(noToken.stderr).toMatch(/^stagecraft: missing --token TOKEN \(or STAGECRAFT_TOKEN\)\nusage: stagecraft whoami /);
    expect(noToken.status).toBe(2);
    expect((await cli(['whoami', 'extra', ...at(dev, devToken)])).status).toBe(2);
  });

  it('gives up on a server that never answers (STAGECRAFT_TIMEOUT) and never follows a redirect', async () => {
    // A hostile or broken server: one that accepts and never answers, one that redirects.
    const hits: string[] = [];
    const target = http.createServer((req, res) => {
      hits.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.end('{}');
    });
    const silent = http.createServer(() => undefined);
    const redirecting = http.createServer((req, res) => {
      res.writeHead(307, { location: `http://127.0.0.1:${(target.address() as AddressInfo).port}${req.url}` }).end();
    });
    for (const server of [target, silent, redirecting]) await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const url = (server: http.Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const started = performance.now();
      const slow = await cli(['whoami', '--server', url(silent), '--token', 'scs_secret-token'], { STAGECRAFT_TIMEOUT: '1' });
      expect(slow.stderr).toMatch(oneErrorLine('TIMEOUT'));
      expect(slow.status).toBe(3);
      expect(performance.now() - started).toBeLessThan(10_000);
      const moved = await cli(['whoami', '--server', url(redirecting), '--token', 'scs_secret-token']);
      expect(moved.stderr).toMatch(oneErrorLine('REDIRECT_REFUSED'));
      expect(moved.status).toBe(3);
      expect(hits).toEqual([]);
      expect((await cli(['whoami', '--server', url(silent), '--token', 't'], { STAGECRAFT_TIMEOUT: 'soon' })).status).toBe(2);
    } finally {
      for (const server of [target, silent, redirecting]) server.closeAllConnections?.(), server.close();
    }
  });
});

describe('stagecraft ping', () => {
  it('answers up and ready with the round trips; with a token also the stage and version', async () => {
    const signedOut = await cli(['ping', '--server', dev.url, '--count', '2']);
    expect(signedOut.stderr).toBe('');
    expect(signedOut.status).toBe(0);
    expect(signedOut.stdout).toMatch(new RegExp(`^${dev.url}/: up, ready, version unknown \\(give --token to see it\\)\\n  2 round trips: min [\\d.]+ ms, median [\\d.]+ ms, max [\\d.]+ ms\\n$`));

    const signedIn = await cli(['ping', ...at(dev, devToken)]);
    expect(signedIn.status).toBe(0);
    expect(signedIn.stdout).toMatch(new RegExp(`^${dev.url}/: up, ready, Stagecraft ${version.replace(/\./g, '\\.')} \\(stage dev\\)\\n  3 round trips: `));

    const json = await cli(['ping', ...at(qa, qaToken), '--json', '--count', '4']);
    expect(json.status).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result).toMatchObject({ server: `${qa.url}/`, reachable: true, ready: true, reason: null, stage: 'qa', productVersion: version });
    expect(result.latencyMs.samples).toHaveLength(4);
    expect(result.latencyMs.min).toBeLessThanOrEqual(result.latencyMs.median);
    expect(result.latencyMs.median).toBeLessThanOrEqual(result.latencyMs.max);
  });

  it('exits 3 unreachable, for a server that is not Stagecraft and for a refused token; 2 for a bad --count', async () => {
    const port = await closedPort();
    const unreachable = await cli(['ping', '--server', `http://127.0.0.1:${port}`]);
    expect(unreachable.stderr).toMatch(new RegExp(`^stagecraft: UNREACHABLE: cannot reach http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*\\n$`));
    expect(unreachable.stdout).toBe('');
    expect(unreachable.status).toBe(3);

    // Some other web server: a 200 on /healthz that is not Stagecraft's.
    const other = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>It works!</h1>'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const notOurs = await cli(['ping', '--server', `http://127.0.0.1:${(other.address() as AddressInfo).port}`]);
      expect(notOurs.stderr).toMatch(oneErrorLine('UNEXPECTED_RESPONSE'));
      expect(notOurs.status).toBe(3);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }

    const refused = await cli(['ping', ...at(dev, 'scs_not-a-token')]);
    expect(refused.stderr).toMatch(oneErrorLine('UNAUTHENTICATED'));
    expect(refused.status).toBe(3);

    for (const count of ['0', '101', 'lots', '1.5', '-1', '']) {
      const bad = await cli(['ping', '--server', dev.url, `--count=${count}`]);
      expect(bad.status, count).toBe(2);
      expect(bad.stderr, count).toMatch(/^stagecraft: --count must be a whole number from 1 to 100 .*\nusage: stagecraft ping /);
    }
  });
});

describe('stagecraft stages', () => {
  it('lists the registered stages (none on qa); --json prints them', async () => {
    const run = await cli(['stages', 'list', ...at(dev, devToken)]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^name +url +user +description\n/);
    expect(run.stdout).toMatch(new RegExp(`^qa +${qa.url} +admin\\b`, 'm'));
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(2);

    const json = await cli(['stages', 'list', ...at(dev, devToken), '--json']);
    expect(JSON.parse(json.stdout)).toEqual([{ name: 'qa', url: qa.url, username: 'admin', description: expect.any(String) }]);
    const none = await cli(['stages', 'list', ...at(qa, qaToken)]);
    expect(none).toEqual({ status: 0, stdout: 'no stages registered\n', stderr: '' });
  });

  it('tests a stage: ok with the round trip (exit 0), FAILED when its credentials are wrong (exit 1), unknown stage exit 3', async () => {
    const ok = await cli(['stages', 'test', 'qa', ...at(dev, devToken)]);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^stage qa: ok: reached stage qa \(Stagecraft [^)]+\) in \d+ ms\n$/);
    const json = await cli(['stages', 'test', 'qa', ...at(dev, devToken), '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, remoteStage: 'qa', productVersion: version, latencyMs: expect.any(Number) });

    const create = await dev.gql('mutation($i: CreateStageInput!) { createStage(input: $i) { name } }', { i: { name: 'qa-wrong-password', url: qa.url, username: 'admin', password: `${ADMIN_PASSWORD}-not` } }, devToken);
    expect(create.errors).toBeUndefined();
    try {
      const failed = await cli(['stages', 'test', 'qa-wrong-password', ...at(dev, devToken)]);
      expect(failed.status).toBe(1);
      expect(failed.stdout).toMatch(/^stage qa-wrong-password: FAILED: \S.*\n$/);
      const failedJson = JSON.parse((await cli(['stages', 'test', 'qa-wrong-password', ...at(dev, devToken), '--json'])).stdout);
      expect(failedJson).toMatchObject({ ok: false, message: expect.any(String) });
    } finally {
      await dev.gql('mutation { deleteStage(name: "qa-wrong-password") }', {}, devToken);
    }

    const unknown = await cli(['stages', 'test', 'staging', ...at(dev, devToken)]);
    expect(unknown.stderr).toMatch(oneErrorLine('NOT_FOUND'));
    expect(unknown.status).toBe(3);
    const viewer = await cli(['stages', 'test', 'qa', ...at(dev, await dev.userWithRole('VIEWER'))]);
    expect(viewer.stderr).toMatch(oneErrorLine('FORBIDDEN'));
    expect(viewer.status).toBe(3);
  });

  it('refuses a bad command line with exit 2 and a usage line', async () => {
    for (const args of [[], ['lists'], ['list', 'qa'], ['test'], ['test', 'qa', 'prod'], ['list', '--bogus']]) {
      const run = await cli(['stages', ...args, ...at(dev, devToken)]);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(/^stagecraft: .+\nusage: stagecraft stages list /);
      expect(run.stdout).toBe('');
    }
  });
});

describe('promote by filter, repromote and rollback (dev → qa)', () => {
  let promotionId: string;

  it('promote --keyword --type selects what export selects: the same plan as by id', async () => {
    const byId = await cli(['promote', ...at(dev, devToken), '--asset', petstoreId, '--to', 'qa', '--plan']);
    const byFilter = await cli(['promote', ...at(dev, devToken), '--keyword', 'Swagger Petstore', '--type', 'api', '--to', 'qa', '--plan']);
    expect(byFilter.status).toBe(0);
    expect(byFilter.stderr).toBe('1 asset match --keyword "Swagger Petstore" --type API\n');
    expect(byFilter.stdout).toBe(byId.stdout);
    expect(byFilter.stdout).toMatch(/^stage qa: \d+ CREATE\n/);

    // A team with no assets: nothing to promote is a failed selection, not an empty promotion.
    const nothing = await cli(['promote', ...at(dev, devToken), '--team', 'Nobody', '--to', 'qa', '--name', 'empty']);
    expect(nothing.stderr).toBe('stagecraft: NOTHING_SELECTED: no asset matches --team "Nobody"\n');
    expect(nothing.status).toBe(1);
    const both = await cli(['promote', ...at(dev, devToken), '--asset', petstoreId, '--keyword', 'x', '--to', 'qa', '--name', 'n']);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/^stagecraft: give --asset or a filter \(--keyword, --type, --team\), not both\nusage: stagecraft promote /);
    const neither = await cli(['promote', ...at(dev, devToken), '--to', 'qa', '--name', 'n']);
    expect(neither.stderr).toMatch(/^stagecraft: choose what to promote: --asset ID, or a filter/);
    expect(neither.status).toBe(2);
    const badType = await cli(['promote', ...at(dev, devToken), '--type', 'WIDGET', '--to', 'qa', '--plan']);
    expect(badType.status).toBe(3);
  });

  it('promote --team walks every page of a large match (105 assets, pages of 100)', async () => {
    const create = 'mutation($i: CreateAssetInput!) { createAsset(input: $i) { id } }';
    for (let i = 0; i < 105; i++) {
      const res = await dev.gql(create, { i: { type: 'POLICY', team: 'Bulk, Inc.', name: `bulk policy ${String(i).padStart(3, '0')}`, spec: { kind: 'CORS', phase: 'RESPONSE', config: { allowOrigins: [`https://${i}.example.com`] } } } }, devToken);
      expect(res.errors).toBeUndefined();
    }
    const run = await cli(['promote', ...at(dev, devToken), '--team', 'Bulk, Inc.', '--to', 'qa', '--plan', '--json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const items = JSON.parse(run.stdout).stages[0].items as { name: string; action: string }[];
    expect(items).toHaveLength(105);
    expect(new Set(items.map((i) => i.name)).size).toBe(105);
    expect(items.every((i) => i.action === 'CREATE')).toBe(true);
  });

  it('promotes by filter with --wait: plain progress lines off a terminal, SUCCESS, exit 0', async () => {
    const run = await cli(['promote', ...at(dev, devToken), '--keyword', 'Swagger Petstore', '--type', 'API', '--to', 'qa', '--name', 'petstore to qa', '--wait']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^1 asset match /);
    expect(run.stderr).toMatch(/^qa: ASSET \d+\/\d+: /m);
    expect(run.stderr).not.toContain('\x1b[');
    expect(run.stdout).toMatch(/^promotion SUCCESS: petstore to qa \(([0-9a-f-]{36})\)\n/);
    promotionId = /\(([0-9a-f-]{36})\)/.exec(run.stdout)![1]!;
    expect(run.stdout).toMatch(/^ {2}qa +SUCCESS +\d+: \d+ CREATED/m);
    expect(await qaAssetCount()).toBeGreaterThan(0);
  });

  it('repromotes under a new name with --wait (all UNCHANGED), and --json; refuses unknown promotions (3) and bad command lines (2)', async () => {
    const run = await cli(['repromote', promotionId, ...at(dev, devToken), '--name', 'petstore again', '--to', 'qa', '--overwrite-assets', '--wait']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^promotion "petstore again" \([0-9a-f-]{36}\) to qa: QUEUED\n/);
    expect(run.stdout).toMatch(/^promotion SUCCESS: petstore again \(/);
    expect(run.stdout).toMatch(/^ {2}qa +SUCCESS +\d+: \d+ UNCHANGED/m);

    const queued = await cli(['repromote', promotionId, ...at(dev, devToken), '--name', 'petstore json', '--to', 'qa', '--json']);
    expect(queued.status).toBe(0);
    expect(queued.stderr).toBe('');
    const promotion = JSON.parse(queued.stdout);
    expect(promotion).toMatchObject({ name: 'petstore json', targetStages: ['qa'] });
    const repromoted = await dev.gql('query($id: ID!) { promotion(id: $id) { repromotedFrom } }', { id: promotion.id }, devToken);
    expect(repromoted.data!.promotion.repromotedFrom).toBe(promotionId);
    await waitDone(promotion.id); // qa stays busy until then

    const unknown = await cli(['repromote', '00000000-0000-4000-8000-000000000000', ...at(dev, devToken), '--name', 'x', '--to', 'qa']);
    expect(unknown.stderr).toMatch(oneErrorLine('NOT_FOUND'));
    expect(unknown.status).toBe(3);
    for (const args of [[], [promotionId, promotionId], [promotionId, '--to', 'qa'], [promotionId, '--name', 'x'], [promotionId, '--name', 'x', '--to', 'qa', '--plan']]) {
      const bad = await cli(['repromote', ...args, ...at(dev, devToken)]);
      expect(bad.status, args.join(' ')).toBe(2);
      expect(bad.stderr, args.join(' ')).toMatch(/^stagecraft: .+\nusage: stagecraft repromote /);
    }
  });

  it('rolls back by promotion and stage through dev (exit 0, the report), then refuses the same again (3)', async () => {
    const before = await qaAssetCount();
    const run = await cli(['rollback', '--promotion', promotionId, '--stage', 'qa', ...at(dev, devToken), '--wait']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^rollback ROLLED_BACK: petstore to qa \([0-9a-f-]{36}\)\n {2}promotion [0-9a-f-]{36} from stage dev by admin( via admin)? at \S+\n {2}rolled back at \S+\n/);
    const removed = run.stdout.split('\n').filter((l) => /^ {2}REMOVED +[A-Z_]+ +\S/.test(l));
    expect(removed).toHaveLength(before);
    expect(await qaAssetCount()).toBe(0);

    const again = await cli(['rollback', '--promotion', promotionId, '--stage', 'qa', ...at(dev, devToken)]);
    expect(again.stderr).toMatch(oneErrorLine('CONFLICT'));
    expect(again.status).toBe(3);
  });

  it('rolls back by id on the target with --json; refuses unknown ids (3) and bad command lines (2)', async () => {
    const again = await cli(['promote', ...at(dev, devToken), '--asset', petstoreId, '--to', 'qa', '--name', 'petstore third', '--wait', '--json']);
    expect(again.status).toBe(0);
    const { id } = JSON.parse(again.stdout);
    const found = await qa.gql('query($p: ID!) { rollbacks(filter: { promotionId: $p }) { edges { node { id } } } }', { p: id }, qaToken);
    const rollbackId = found.data!.rollbacks.edges[0].node.id as string;

    const run = await cli(['rollback', rollbackId, ...at(qa, qaToken), '--json']);
    expect(run.status).toBe(0);
    const rollback = JSON.parse(run.stdout);
    expect(rollback).toMatchObject({ id: rawKey(rollbackId), name: 'petstore third', promotionId: id, sourceStage: 'dev', status: 'ROLLED_BACK' });
    expect(rollback.report.every((e: { status: string }) => e.status === 'REMOVED')).toBe(true);
    expect(await qaAssetCount()).toBe(0);

    const unknown = await cli(['rollback', '00000000-0000-4000-8000-000000000000', ...at(qa, qaToken)]);
    expect(unknown.stderr).toMatch(oneErrorLine('NOT_FOUND'));
    expect(unknown.status).toBe(3);
    const viewer = await cli(['rollback', rollbackId, ...at(qa, await qa.userWithRole('VIEWER'))]);
    expect(viewer.stderr).toMatch(oneErrorLine('FORBIDDEN'));
    expect(viewer.status).toBe(3);
    for (const args of [[], [rollbackId, rollbackId], [rollbackId, '--promotion', id, '--stage', 'qa'], ['--promotion', id], ['--stage', 'qa'], ['--promotion', '', '--stage', 'qa'], [rollbackId, '--force=yes']]) {
      const bad = await cli(['rollback', ...args, ...at(qa, qaToken)]);
      expect(bad.status, args.join(' ')).toBe(2);
      expect(bad.stderr, args.join(' ')).toMatch(/^stagecraft: .+\nusage: stagecraft rollback /);
    }
  });
});

/** Polls the promotion until it is no longer queued or running. */
async function waitDone(id: string) {
  for (let i = 0; i < 600; i++) {
    const res = await dev.gql('query($id: ID!) { promotion(id: $id) { status } }', { id }, devToken);
    if (!/QUEUED|RUNNING/.test(res.data!.promotion.status)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`promotion ${id} did not finish`);
}
