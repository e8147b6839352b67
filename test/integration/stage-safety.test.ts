/**
 * A stage's stored credentials reach only that stage, on behalf of those who may promote:
 * a repointed stage needs its password again, redirects are not followed, link-local and
 * metadata addresses are refused (also after DNS), remote failures read from a fixed vocabulary
 * (no port scanner, no echo), VIEWERs and gateway tokens cannot read remote stages, the drift
 * matrix is bounded, and a forged promotion header records who really signed in.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { emptyAllowList } from '../../src/domain/outbound-url.js';
import { OutboundPolicy } from '../../src/services/outbound.js';
import { RemoteStage } from '../../src/services/remote-stage.js';
import { ADMIN_PASSWORD, startTestServer, take, type TestServer } from '../support/server.js';

let dev: TestServer;
let qa: TestServer;
let devToken: string;
let petstoreId: string;
let promotionId: string;

interface Captured {
  method: string;
  url: string;
  body: string;
}

/** A real HTTP server that records every request and answers with `answer`. */
async function listen(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const captured: Captured[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      captured.push({ method: req.method!, url: req.url!, body });
      answer(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, captured };
}
const servers: net.Server[] = [];

/** Answers like a GraphQL server that puts internal details in its errors. */
const LEAKY = 'INTERNAL-DETAIL-7f3a';
const leaky = (_req: http.IncomingMessage, res: http.ServerResponse) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: `${LEAKY}: db at 10.0.0.7`, extensions: { code: 'FORBIDDEN' } }] }));

const CREATE = 'mutation($i: CreateStageInput!) { createStage(input: $i) { name url } }';
const UPDATE = 'mutation($n: String!, $i: UpdateStageInput!) { updateStage(name: $n, input: $i) { name url username } }';
const TEST_SAVED = 'mutation($n: String) { testStage(name: $n) { ok message remoteStage } }';
const TEST_INPUT = 'mutation($i: CreateStageInput) { testStage(input: $i) { ok message remoteStage } }';

async function createStage(name: string, url: string, password = ADMIN_PASSWORD) {
  const res = await dev.gql(CREATE, { i: { name, url, username: 'admin', password } }, devToken);
  expect(res.errors).toBeUndefined();
}
const testSaved = async (name: string) => (await dev.gql(TEST_SAVED, { n: name }, devToken)).data!.testStage;
const testInput = async (url: string) => dev.gql(TEST_INPUT, { i: { name: 'probe', url, username: 'admin', password: ADMIN_PASSWORD } }, devToken);

beforeAll(async () => {
  [dev, qa] = await Promise.all([startTestServer({ env: { STAGECRAFT_STAGE: 'dev', STAGECRAFT_SEED: 'true' } }), startTestServer({ env: { STAGECRAFT_STAGE: 'qa' } })]);
  devToken = await dev.adminToken();
  petstoreId = (await dev.gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { id } } } }', {}, devToken)).data!.assets.edges[0].node.id;
  await createStage('qa', qa.url);
  const res = await dev.gql('mutation($i: PromoteInput!) { promote(input: $i) { id } }', { i: { name: 'Petstore to qa', assetIds: [petstoreId], targetStages: ['qa'] } }, devToken);
  promotionId = res.data!.promote.id;
  await take(dev.wsClient(devToken), 'subscription($id: ID!) { promotionProgress(promotionId: $id) { phase } }', { id: promotionId }, 10_000, 60_000);
});
afterAll(async () => {
  for (const s of servers) {
    (s as http.Server).closeAllConnections?.();
    s.close();
  }
  await Promise.all([dev?.stop(), qa?.stop()]);
});

describe('stored credentials never follow a changed URL', () => {
  it('needs the password again to repoint a stage; the stored password never reaches the new address', async () => {
    const capture = await listen(leaky);
    await createStage('target', qa.url);

    for (const input of [{ url: capture.url }, { username: 'someone-else' }, { url: `${capture.url}/`, description: 'moved' }]) {
      const refused = await dev.gql(UPDATE, { n: 'target', i: input }, devToken);
      expect(refused.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
    }
    // nothing was written: the stage still points at qa and still works
    expect((await dev.gql('{ stage(name: "target") { url username } }', {}, devToken)).data!.stage).toEqual({ url: qa.url, username: 'admin' });
    // renaming or describing it needs no password (the stored one is re-sealed for the new name)
    const renamed = await dev.gql(UPDATE, { n: 'target', i: { name: 'target2', description: 'still qa' } }, devToken);
    expect(renamed.errors).toBeUndefined();
    expect(await testSaved('target2')).toMatchObject({ ok: true, remoteStage: 'qa' });

    // with the password typed again it moves, and only the typed password travels there
    const moved = await dev.gql(UPDATE, { n: 'target2', i: { url: capture.url, password: 'typed-again' } }, devToken);
    expect(moved.errors).toBeUndefined();
    const result = await testSaved('target2');
    expect(result.ok).toBe(false);
    expect(result.message).toBe('FORBIDDEN: stage target2 refused: the stage user lacks a privilege there (FORBIDDEN)');
    expect(capture.captured.length).toBeGreaterThan(0);
    expect(capture.captured.some((c) => c.body.includes('typed-again'))).toBe(true);
    expect(capture.captured.some((c) => c.body.includes(ADMIN_PASSWORD))).toBe(false);
  });

  it('does not follow a redirect: the login is never re-sent to its target', async () => {
    const target = await listen(leaky);
    const hop = await listen((_req, res) => res.writeHead(307, { location: `${target.url}/graphql` }).end());
    await createStage('hop', hop.url);
    const result = await testSaved('hop');
    expect(result).toMatchObject({ ok: false, message: `STAGE_UNREACHABLE: stage hop at ${hop.url}: redirect refused (HTTP 307)` });
    expect(hop.captured).toHaveLength(1);
    expect(target.captured).toHaveLength(0);
  });
});

describe('testStage is no port scanner and no echo', () => {
  it('gives closed, non-HTTP and database ports the same fixed answer', async () => {
    const raw = net.createServer((socket) => socket.end('-ERR unknown command\r\n'));
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    servers.push(raw);
    const silentClose = net.createServer((socket) => socket.destroy());
    await new Promise<void>((r) => silentClose.listen(0, '127.0.0.1', r));
    servers.push(silentClose);
    const targets = {
      closed: `http://127.0.0.1:${await freePort()}`,
      redisLike: `http://127.0.0.1:${(raw.address() as AddressInfo).port}`,
      hangsUp: `http://127.0.0.1:${(silentClose.address() as AddressInfo).port}`,
      postgres: 'http://127.0.0.1:5432',
    };
    for (const [what, url] of Object.entries(targets)) {
      const res = await testInput(url);
      expect(res.data!.testStage, what).toEqual({ ok: false, message: `STAGE_UNREACHABLE: stage probe at ${url}: unreachable`, remoteStage: null });
    }
  });

  it('never repeats what the remote said', async () => {
    const jsonError = await listen((_req, res) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: LEAKY }, detail: LEAKY })));
    const graphqlError = await listen(leaky);
    const html = await listen((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end(`<h1>${LEAKY}</h1>`));
    const fakeInfo = await listen((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { login: { token: 't' }, serverInfo: { stage: LEAKY, productVersion: '9.9.9' }, me: { privileges: [] } } })),
    );
    const answers = await Promise.all([jsonError, graphqlError, html, fakeInfo].map(async (s) => (await testInput(s.url)).data!.testStage.message as string));
    for (const message of answers) expect(message).not.toContain(LEAKY);
    expect(answers[0]).toBe(`STAGE_UNREACHABLE: stage probe at ${jsonError.url}: answered HTTP 500, not as a Stagecraft instance`);
    expect(answers[1]).toBe('FORBIDDEN: stage probe refused: the stage user lacks a privilege there (FORBIDDEN)');
    expect(answers[2]).toBe(`STAGE_UNREACHABLE: stage probe at ${html.url}: answered HTTP 404, not as a Stagecraft instance`);
    expect(answers[3]).toBe(`STAGE_UNREACHABLE: stage probe at ${fakeInfo.url}: answered HTTP 200, not as a Stagecraft instance`);
  });

  it('refuses link-local and metadata addresses at once, before any connection', async () => {
    for (const url of ['http://169.254.169.254', 'http://169.254.169.254:80', 'http://[fe80::1]:4000', 'http://metadata.google.internal', 'http://2852039166']) {
      const started = performance.now();
      const res = await testInput(url);
      expect(performance.now() - started, url).toBeLessThan(1000);
      expect(res.errors?.[0]?.extensions, url).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
      expect(res.errors![0]!.message).toMatch(/STAGECRAFT_ALLOWED_HOSTS/);
      const created = await dev.gql(CREATE, { i: { name: 'meta', url, username: 'admin', password: 'x' } }, devToken);
      expect(created.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect((await dev.gql(UPDATE, { n: 'qa', i: { url: 'http://169.254.169.254', password: 'x' } }, devToken)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('checks the addresses a name resolves to when it connects (DNS rebinding)', async () => {
    const qaPort = new URL(qa.url).port;
    // A resolver playing the attacker's DNS: the name passed the check when saved, then rebinds.
    let answer = '127.0.0.1';
    const resolver = ((_host: string, _options: unknown, callback: (err: null, addresses: { address: string; family: number }[]) => void) =>
      callback(null, [{ address: answer, family: 4 }])) as unknown as ConstructorParameters<typeof OutboundPolicy>[1];
    const policy = new OutboundPolicy(emptyAllowList(), resolver);
    const client = () => new RemoteStage({ name: 'rebind', url: policy.stageUrl(`http://stage.rebind.test:${qaPort}`).origin, username: 'admin', password: ADMIN_PASSWORD, tls: { caCertificate: null, clientCertificate: null, clientKey: null } }, policy);
    const stages = dev.app.services.stages;

    const honest = client();
    expect(await stages.test(honest)).toMatchObject({ ok: true, remoteStage: 'qa' });
    await honest.close();
    answer = '169.254.169.254';
    const rebound = client();
    expect(await stages.test(rebound)).toMatchObject({
      ok: false,
      message: `STAGE_UNREACHABLE: stage rebind at http://stage.rebind.test:${qaPort}: refused by the outbound rule (link-local or metadata address; see STAGECRAFT_ALLOWED_HOSTS)`,
    });
    await rebound.close();
  });
});

describe('the same rule for registries and upstream nodes', () => {
  it('refuses link-local and metadata addresses, and an upstream that is this control plane', async () => {
    const registry = (type: string, address: string) =>
      dev.gql('mutation($i: CreateServiceRegistryInput!) { createServiceRegistry(input: $i) { name } }', { i: { gatewayGroup: 'default', name: `r-${type.toLowerCase()}`, type, address } }, devToken);
    for (const [type, address] of [['NACOS', 'http://169.254.169.254:8848'], ['KUBERNETES', 'http://metadata.google.internal'], ['DNS', '169.254.169.254:53'], ['NACOS', 'http://user:pw@127.0.0.1:8848']]) {
      const res = await registry(type!, address!);
      expect(res.errors?.[0]?.extensions, address).toMatchObject({ code: 'BAD_USER_INPUT', field: 'address' });
    }
    const publish = (host: string, port: number) =>
      dev.gql('mutation($i: PublishServiceInput!) { publishService(input: $i) { version } }', { i: { assetId: petstoreId, gatewayGroup: 'default', upstream: { nodes: [{ host, port }] } } }, devToken);
    const self = Number(new URL(dev.url).port);
    for (const [host, port] of [['169.254.169.254', 80], ['fe80::1', 80], ['127.0.0.1', self], ['localhost', self], ['0.0.0.0', self]] as const) {
      const res = await publish(host, port);
      expect(res.errors?.[0]?.extensions, `${host}:${port}`).toMatchObject({ code: 'BAD_USER_INPUT', field: 'upstream.nodes' });
    }
    expect((await publish('127.0.0.1', self + 1 > 65535 ? self - 1 : self + 1)).errors).toBeUndefined();
    expect((await registry('NACOS', 'http://127.0.0.1:8848/nacos')).errors).toBeUndefined();
  });
});

describe('remote stages answer only to those who may', () => {
  it('refuses VIEWERs and gateway tokens a remote stage, before any call; the local stage stays readable', async () => {
    const viewer = await dev.userWithRole('VIEWER');
    const gatewayToken = (await dev.gql('mutation { createGatewayInstanceToken(gatewayGroup: "default") { token } }', {}, devToken)).data!.createGatewayInstanceToken.token;
    const before = RemoteStage.requests;
    for (const token of [viewer, gatewayToken]) {
      const remote = await dev.gql('{ stage(name: "qa") { assets { totalCount } rollbacks { totalCount } } }', {}, token);
      expect(remote.data?.stage?.assets ?? null).toBeNull();
      expect(remote.errors?.length).toBeGreaterThan(0);
      for (const e of remote.errors!) expect(e.extensions?.code).toBe('FORBIDDEN');
      const matrix = await dev.gql('query($id: ID!) { assetMatrix(assetIds: [$id], stages: ["dev", "qa"]) { cells { state } } }', { id: petstoreId }, token);
      expect(matrix.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const rollback = await dev.gql('query($id: ID!) { promotion(id: $id) { name stages { stageName rollback { name } } } }', { id: promotionId }, viewer);
    expect(rollback.data?.promotion?.stages?.[0]?.rollback ?? null).toBeNull();
    expect(rollback.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(RemoteStage.requests - before).toBe(0);

    const local = await dev.gql('query($id: ID!) { stage(name: "dev") { assets { totalCount } } assetMatrix(assetIds: [$id], stages: ["dev"]) { cells { state } } }', { id: petstoreId }, viewer);
    expect(local.errors).toBeUndefined();
    expect(local.data!.stage.assets.totalCount).toBeGreaterThan(0);
    expect(local.data!.assetMatrix[0].cells).toEqual([{ state: 'IN_SYNC' }]);

    const promoter = await dev.gql('{ stage(name: "qa") { assets { totalCount } } }', {}, await dev.userWithRole('API_PROVIDER'));
    expect(promoter.errors).toBeUndefined();
    expect(promoter.data!.stage.assets.totalCount).toBeGreaterThan(0);
  });
});

describe('assetMatrix is bounded', () => {
  const MATRIX = 'query($ids: [ID!], $s: [String!]!) { assetMatrix(assetIds: $ids, stages: $s) { assetId cells { stageName state } } }';

  it('answers the amplification request at once with BAD_USER_INPUT while others keep reading', async () => {
    const ids = Array.from({ length: 500 }, () => randomUUID());
    const reader = await dev.userWithRole('VIEWER');
    const attack = async () => {
      const started = performance.now();
      const res = await dev.gql(MATRIX, { ids, s: Array(1000).fill('dev') }, devToken);
      return { res, ms: performance.now() - started };
    };
    const reads = async () => {
      const times: number[] = [];
      for (let i = 0; i < 10; i++) {
        const started = performance.now();
        const res = await dev.gql('{ assets(first: 5) { totalCount } }', {}, reader);
        expect(res.errors).toBeUndefined();
        times.push(performance.now() - started);
      }
      return times;
    };
    const [attacks, readTimes] = await Promise.all([Promise.all(Array.from({ length: 10 }, attack)), reads()]);
    for (const { res, ms } of attacks) {
      expect(ms).toBeLessThan(2000);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'stages', limit: 10 });
      expect(res.errors![0]!.message).toBe('at most 10 stages at a time');
    }
    expect(Math.max(...readTimes)).toBeLessThan(2000);

    const tooMany = await dev.gql(MATRIX, { ids: [...ids, randomUUID()], s: ['dev'] }, devToken);
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'assetIds', limit: 500 });
    const junk = await dev.gql(MATRIX, { ids: [`${'x'.repeat(10_000)}\u0000`], s: ['dev'] }, devToken);
    expect(junk.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(junk.errors![0]!.message.length).toBeLessThan(200);
    const unknownIds = await dev.gql(MATRIX, { ids, s: ['dev'] }, devToken);
    expect(unknownIds.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(unknownIds.errors![0]!.message).toBe('500 of the 500 assets not found here');
  });

  it('asks each distinct stage once, and signs in only to stages it calls', async () => {
    const idle = await listen(leaky);
    for (const name of ['idle-a', 'idle-b', 'idle-c']) await createStage(name, idle.url);
    await dev.gql(MATRIX, { ids: [petstoreId], s: ['qa'] }, devToken); // signed in to qa
    const before = RemoteStage.requests;
    const res = await dev.gql('query($ids: [ID!]) { m: assetMatrix(assetIds: $ids, stages: ["qa", "dev", "qa", "qa"]) { cells { stageName state } } }', { ids: [petstoreId] }, devToken);
    expect(res.errors).toBeUndefined();
    expect(res.data!.m[0].cells).toEqual([
      { stageName: 'qa', state: 'IN_SYNC' },
      { stageName: 'dev', state: 'IN_SYNC' },
    ]);
    expect(RemoteStage.requests - before).toBe(1);
    await dev.gql('{ stages { name url } }', {}, devToken);
    expect(idle.captured).toHaveLength(0);
  });
});

describe('X-Stagecraft-Promotion', () => {
  it('is recorded next to the user who really signed in, never alone', async () => {
    const groupId = (await dev.gql('{ assets(filter: { keyword: "pet-developers", types: [GROUP] }) { edges { node { id } } } }', {}, devToken)).data!.assets.edges[0].node.id;
    const archive = Buffer.from(
      await (await fetch(`${dev.url}/archive/export`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${devToken}` }, body: JSON.stringify({ assetIds: [groupId] }) })).arrayBuffer(),
    );
    const forgedId = randomUUID();
    const forged = Buffer.from(JSON.stringify({ id: forgedId, name: 'Approved by the CTO', description: '', promotedBy: 'cto' })).toString('base64url');
    const provider = await qa.userWithRole('API_PROVIDER');
    const res = await fetch(`${qa.url}/archive/import?overwrite=all`, {
      method: 'POST',
      headers: { 'content-type': 'application/zip', authorization: `Bearer ${provider}`, 'x-stagecraft-promotion': forged },
      body: archive,
    });
    expect(res.status).toBe(200);
    const rollbacks = await qa.gql('query($p: ID!) { rollbacks(filter: { promotionId: $p }) { edges { node { name promotedBy } } } }', { p: forgedId }, await qa.adminToken());
    expect(rollbacks.data!.rollbacks.edges).toEqual([{ node: { name: 'Approved by the CTO', promotedBy: 'cto via api-provider-user' } }]);
  });
});
