/**
 * Promotions between three real instances (dev, qa, prod), each with its own database, talking
 * over real HTTP; progress over real WebSockets.
 */
import { readFile } from 'node:fs/promises';
import { rawKey } from '../../src/graphql/node-id.js';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { ADMIN_PASSWORD, startTestServer, take, type TestServer } from '../support/server.js';

let dev: TestServer;
let qa: TestServer;
let prod: TestServer;
let devToken: string;
let petstoreId: string;
let silent: http.Server;

const PROMOTE = `mutation($input: PromoteInput!) { promote(input: $input) { id name status stages { stageName status } } }`;
const PROMOTION = `query($id: ID!) { promotion(id: $id) { id name status promotedBy repromotedFrom
  stages { stageName status reason code report { assetId type name status comment } } } }`;

async function promote(input: Record<string, unknown>, server = dev, token = devToken) {
  const res = await server.gql(PROMOTE, { input: { assetIds: [petstoreId], ...input } }, token);
  return res;
}

/** Waits for the promotion to finish by following its progress subscription to COMPLETED. */
async function finished(id: string, server = dev, token = devToken) {
  const events = await take(server.wsClient(token), 'subscription($id: ID!) { promotionProgress(promotionId: $id) { sequence stageName phase message completed total } }', { id }, 10_000, 60_000);
  const phases = events.map((e: any) => e.data.promotionProgress);
  expect(phases.at(-1).phase).toBe('COMPLETED');
  return { promotion: (await server.gql(PROMOTION, { id }, token)).data!.promotion, events: phases };
}

async function addStage(name: string, url: string, password = ADMIN_PASSWORD) {
  const res = await dev.gql('mutation($i: CreateStageInput!) { createStage(input: $i) { name url } }', { i: { name, url, username: 'admin', password } }, devToken);
  expect(res.errors).toBeUndefined();
}

beforeAll(async () => {
  [dev, qa, prod] = await Promise.all([
    startTestServer({ env: { STAGECRAFT_STAGE: 'dev', STAGECRAFT_SEED: 'true' } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'qa' } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'prod' } }),
  ]);
  devToken = await dev.adminToken();
  petstoreId = (await dev.gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { assetId } } } }', {}, devToken)).data!.assets.edges[0].node.assetId;
  await addStage('qa', qa.url);
  await addStage('prod', prod.url);
  await addStage('down', `http://127.0.0.1:${await freePort()}`);
  await addStage('badcreds', qa.url, 'not-the-password');
  // A stage that accepts connections and never answers, to hold a promotion RUNNING.
  silent = http.createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  await addStage('silent', `http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
});
afterAll(async () => {
  silent?.closeAllConnections();
  silent?.close();
  await Promise.all([dev?.stop(), qa?.stop(), prod?.stop()]);
});

describe('stages', () => {
  it('keep the password write-only and encrypted, and validate URLs', async () => {
    const res = await dev.gql('{ stages { name url username } }', {}, devToken);
    expect(res.data!.stages.map((s: any) => s.name)).toEqual(['badcreds', 'down', 'prod', 'qa', 'silent']);
    expect(JSON.stringify(res)).not.toContain(ADMIN_PASSWORD);
    const bad = await dev.gql('mutation { createStage(input: { name: "x", url: "ftp://host:1", username: "a", password: "b" }) { name } }', {}, devToken);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    const https = await dev.gql('mutation { createStage(input: { name: "secure", url: "https://host:8443", username: "a", password: "b", caCertificate: "not a certificate" }) { name } }', {}, devToken);
    expect(https.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'caCertificate' });
    const dup = await dev.gql('mutation($u: String!) { createStage(input: { name: "qa", url: $u, username: "a", password: "b" }) { name } }', { u: qa.url }, devToken);
    expect(dup.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(dev.logs.some((l) => JSON.stringify(l).includes(ADMIN_PASSWORD))).toBe(false);
  });

  it('testStage reports the remote stage, version and latency, or exactly why not', async () => {
    const test = async (name: string) => (await dev.gql('mutation($n: String) { testStage(name: $n) { ok message remoteStage productVersion latencyMs } }', { n: name }, devToken)).data!.testStage;
    expect(await test('qa')).toMatchObject({ ok: true, remoteStage: 'qa', productVersion: expect.any(String), latencyMs: expect.any(Number) });
    expect((await test('down')).message).toMatch(/^STAGE_UNREACHABLE: stage down at http:\/\/127\.0\.0\.1:\d+: unreachable$/);
    expect((await test('badcreds')).message).toBe('UNAUTHENTICATED: stage badcreds refused our credentials (UNAUTHENTICATED)');
    const unsaved = await dev.gql('mutation($i: CreateStageInput) { testStage(input: $i) { ok remoteStage } }', { i: { name: 'tmp', url: prod.url, username: 'admin', password: ADMIN_PASSWORD } }, devToken);
    expect(unsaved.data!.testStage).toEqual({ ok: true, remoteStage: 'prod' });
    // a user without MANAGE_PROMOTIONS on the target
    await prod.userWithRole('VIEWER');
    const viewer = await dev.gql('mutation($i: CreateStageInput) { testStage(input: $i) { ok message } }', { i: { name: 'tmp', url: prod.url, username: 'viewer-user', password: 'password-123' } }, devToken);
    expect(viewer.data!.testStage).toMatchObject({ ok: false, message: expect.stringMatching(/lacks MANAGE_PROMOTIONS/) });
  });
});

describe('promote', () => {
  let first: string;

  it('returns at once, runs as a job, and sends each stage its own alias variants', async () => {
    const res = await promote({ name: 'Petstore to qa and prod', targetStages: ['qa', 'prod'] });
    expect(res.errors).toBeUndefined();
    expect(res.data!.promote.status).toBe('QUEUED');
    first = res.data!.promote.id;
    const { promotion, events } = await finished(first);
    expect(promotion.status).toBe('SUCCESS');
    expect(promotion.promotedBy).toBe('admin');
    for (const stage of promotion.stages) {
      expect(stage.status).toBe('SUCCESS');
      expect(stage.report.map((a: any) => a.name)).toContain('Swagger Petstore');
    }
    expect(events.map((e: any) => e.phase)).toEqual(expect.arrayContaining(['QUEUED', 'STARTED', 'EXPORTED', 'TRANSFERRED', 'ASSET', 'SUCCEEDED', 'COMPLETED']));
    const assetEvents = events.filter((e: any) => e.phase === 'ASSET' && e.stageName === 'qa');
    expect(assetEvents.at(-1)).toMatchObject({ completed: assetEvents.length, total: assetEvents.length });

    // the API keeps its id everywhere, and references the same alias id, holding that stage's value
    const aliasValue = async (server: TestServer) => {
      const token = await server.adminToken();
      const api = await server.gql('query($id: ID!) { asset(id: $id) { checksum dependencies { required { name ... on Alias { value stage } } } } }', { id: petstoreId }, token);
      return api.data!.asset.dependencies.required.find((a: any) => a.name === 'petstore-backend');
    };
    expect(await aliasValue(qa)).toEqual({ name: 'petstore-backend', value: 'http://petstore.qa.internal:8080', stage: 'qa' });
    expect(await aliasValue(prod)).toEqual({ name: 'petstore-backend', value: 'http://petstore.prod.internal:8080', stage: 'prod' });
    expect((await aliasValue(dev)).value).toBe('http://petstore.internal:8080');
    // the secure alias travelled sealed and opens on the target
    const rows = await qa.app.services.db.query("SELECT id, sealed_secret FROM assets WHERE name = 'petstore-db-password'");
    expect(qa.app.services.secrets.open(rows[0].sealed_secret, `asset:${rows[0].id}`)).toBe('demo-only-secret');
  });

  it('plans without writing: UNCHANGED now, UPDATE or REFUSED after a change, depending on overwrite', async () => {
    const plan = async (input: Record<string, unknown>) =>
      (await dev.gql('query($i: PromoteInput!) { promotionPlan(input: $i) { stages { stageName error items { name type action reason aliasValue } } } }', { i: { assetIds: [petstoreId], name: 'plan', ...input } }, devToken)).data!.promotionPlan.stages;
    const unchanged = await plan({ targetStages: ['qa'] });
    expect(unchanged[0].items.every((i: any) => i.action === 'UNCHANGED')).toBe(true);
    // the slot the API references carries qa's value; prod's variant travels along, inert
    expect(unchanged[0].items.filter((i: any) => i.name === 'petstore-backend').map((i: any) => i.aliasValue).sort()).toEqual([
      'http://petstore.prod.internal:8080',
      'http://petstore.qa.internal:8080',
    ]);
    expect(unchanged[0].items.find((i: any) => i.name === 'petstore-db-password').aliasValue).toBe('(secure)');

    await dev.gql('mutation($id: ID!) { updateAsset(id: $id, input: { description: "changed on dev" }) { id } }', { id: petstoreId }, devToken);
    const refused = (await plan({ targetStages: ['qa'] }))[0].items.find((i: any) => i.name === 'Swagger Petstore');
    expect(refused).toMatchObject({ action: 'REFUSED', reason: 'exists on this stage with other content, and overwrite is off for API' });
    const update = (await plan({ targetStages: ['qa'], overwriteAssets: true }))[0].items.find((i: any) => i.name === 'Swagger Petstore');
    expect(update.action).toBe('UPDATE');
    const down = (await plan({ targetStages: ['down', 'qa'] })).find((s: any) => s.stageName === 'down');
    expect(down.error).toMatch(/unreachable/);
    const qaAsset = await qa.gql('query($id: ID!) { asset(id: $id) { description } }', { id: petstoreId }, await qa.adminToken());
    expect(qaAsset.data!.asset.description).not.toBe('changed on dev');
  });

  it('honours the overwrite flags', async () => {
    const refused = await finished((await promote({ name: 'no overwrite', targetStages: ['qa'] })).data!.promote.id);
    expect(refused.promotion.stages[0]).toMatchObject({ status: 'FAILURE', code: 'IMPORT_FAILED' });
    expect(refused.promotion.stages[0].report.find((a: any) => a.name === 'Swagger Petstore')).toMatchObject({ status: 'FAILURE', comment: 'exists on this stage with other content, and overwrite is off for API' });
    // everything else is identical on qa: UNCHANGED, not a failure
    expect(refused.promotion.stages[0].report.filter((a: any) => a.name !== 'Swagger Petstore').every((a: any) => a.status === 'UNCHANGED')).toBe(true);

    const assetsOnly = await finished((await promote({ name: 'assets only', targetStages: ['qa'], overwriteAssets: true })).data!.promote.id);
    const report = assetsOnly.promotion.stages[0].report;
    expect(report.find((a: any) => a.name === 'Swagger Petstore').status).toBe('REPLACED');
    expect(report.filter((a: any) => a.type === 'ALIAS').every((a: any) => a.status === 'UNCHANGED')).toBe(true);
    const qaApi = await qa.gql('query($id: ID!) { asset(id: $id) { description } }', { id: petstoreId }, await qa.adminToken());
    expect(qaApi.data!.asset.description).toBe('changed on dev');

    const everything = await finished((await promote({ name: 'everything', targetStages: ['qa'], overwriteAssets: true, overwriteAliases: true })).data!.promote.id);
    expect(everything.promotion.status).toBe('SUCCESS');
  });

  it('keeps stages independent: an unreachable stage or refused credentials fail alone', async () => {
    const res = await promote({ name: 'mixed targets', targetStages: ['down', 'badcreds', 'prod'], overwriteAssets: true, overwriteAliases: true });
    const { promotion, events } = await finished(res.data!.promote.id);
    // The stage is asked while its archive is built, but its refusal decides first: a stage that
    // does not answer or refuses our credentials records no EXPORTED, as when asked beforehand.
    const phasesOf = (stage: string) => events.filter((e: any) => e.stageName === stage).map((e: any) => e.phase);
    expect(phasesOf('down')).toEqual(['QUEUED', 'STARTED', 'FAILED']);
    expect(phasesOf('badcreds')).toEqual(['QUEUED', 'STARTED', 'FAILED']);
    expect(phasesOf('prod')).toEqual(expect.arrayContaining(['STARTED', 'EXPORTED', 'TRANSFERRED', 'SUCCEEDED']));
    const byStage = Object.fromEntries(promotion.stages.map((s: any) => [s.stageName, s]));
    expect(byStage.down).toMatchObject({ status: 'FAILURE', code: 'STAGE_UNREACHABLE' });
    expect(byStage.badcreds).toMatchObject({ status: 'FAILURE', code: 'UNAUTHENTICATED' });
    expect(byStage.prod.status).toBe('SUCCESS');
    expect(promotion.status).toBe('FAILURE');
    const plan = await dev.gql('query($i: PromoteInput!) { promotionPlan(input: $i) { stages { stageName error errorCode } } }', { i: { name: 'plan', assetIds: [petstoreId], targetStages: ['down', 'badcreds'] } }, devToken);
    for (const s of plan.data!.promotionPlan.stages) expect(s).toEqual({ stageName: s.stageName, error: byStage[s.stageName].reason, errorCode: byStage[s.stageName].code });
  });

  it('allows one promotion at a time per target stage (LOCKED names the holder), and replays an idempotency key', async () => {
    const holder = await promote({ name: 'held by silence', targetStages: ['silent'] });
    expect(holder.errors).toBeUndefined();
    const second = await promote({ name: 'second', targetStages: ['silent', 'qa'] });
    expect(second.errors?.[0]?.extensions).toMatchObject({ code: 'LOCKED', stage: 'silent', promotionId: rawKey(holder.data!.promote.id) });
    expect(second.errors?.[0]?.message).toContain('held by silence');
    // the plan shows the stage's refusal exactly as promote gives it
    const plan = await dev.gql('query($i: PromoteInput!) { promotionPlan(input: $i) { stages { stageName error errorCode items { name } } } }', { i: { name: 'plan', assetIds: [petstoreId], targetStages: ['silent'] } }, devToken);
    expect(plan.data!.promotionPlan.stages[0]).toEqual({ stageName: 'silent', error: second.errors![0]!.message, errorCode: 'LOCKED', items: [] });

    const keyed = { name: 'keyed', targetStages: ['prod'], idempotencyKey: 'ci-run-42', overwriteAssets: true, overwriteAliases: true };
    const a = await promote(keyed);
    const b = await promote(keyed);
    expect(b.data!.promote.id).toBe(a.data!.promote.id);
    const c = await promote({ ...keyed, name: 'keyed but different' });
    expect(c.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
    await finished(a.data!.promote.id);
  });

  it('reads an id in any case as one asset: listed once, and the selection in another case replays its idempotency key', async () => {
    const input = { name: 'cased ids', targetStages: ['prod'], idempotencyKey: 'cased-ids', overwriteAssets: true, overwriteAliases: true };
    const first = await promote({ ...input, assetIds: [petstoreId.toUpperCase(), petstoreId] });
    expect(first.errors).toBeUndefined();
    const again = await promote({ ...input, assetIds: [petstoreId] });
    expect(again.errors).toBeUndefined();
    expect(again.data!.promote.id).toBe(first.data!.promote.id);
    const stored = await dev.gql('query($id: ID!) { promotion(id: $id) { assetIds } }', { id: first.data!.promote.id }, devToken);
    expect(stored.data!.promotion.assetIds).toHaveLength(1);
    await finished(first.data!.promote.id);
  });

  it('refuses bad input with a code and records nothing', async () => {
    const before = (await dev.gql('{ promotions(first: 200) { totalCount } }', {}, devToken)).data!.promotions.totalCount;
    const cases: [Record<string, unknown>, string][] = [
      [{ name: '', targetStages: ['qa'] }, 'BAD_USER_INPUT'],
      [{ name: 'x', targetStages: [] }, 'BAD_USER_INPUT'],
      [{ name: 'x', targetStages: ['nowhere'] }, 'NOT_FOUND'],
      [{ name: 'x', targetStages: ['qa'], assetIds: ['00000000-0000-4000-8000-000000000000'] }, 'NOT_FOUND'],
      [{ name: 'x', targetStages: ['qa'], assetIds: [petstoreId, '00000000-0000-4000-8000-00000000000a'] }, 'NOT_FOUND'],
    ];
    for (const [input, code] of cases) expect((await promote(input)).errors?.[0]?.extensions?.code).toBe(code);
    expect((await dev.gql('{ promotions(first: 200) { totalCount } }', {}, devToken)).data!.promotions.totalCount).toBe(before);
    const viewer = await dev.userWithRole('VIEWER');
    expect((await promote({ name: 'x', targetStages: ['qa'] }, dev, viewer)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('keeps history: alphabetical, filterable, repromotable and deletable', async () => {
    const list = await dev.gql('{ promotions(first: 100, filter: { stage: "qa" }) { totalCount edges { node { name } } } }', {}, devToken);
    const names = list.data!.promotions.edges.map((e: any) => e.node.name);
    expect(names).toEqual([...names].sort((a: string, b: string) => a.toLowerCase().localeCompare(b.toLowerCase()))); // case-insensitive
    expect(names).toContain('Petstore to qa and prod');
    expect(names).not.toContain('mixed targets');
    const failed = await dev.gql('{ promotions(filter: { status: FAILURE, text: "overwrite" }) { edges { node { name status } } } }', {}, devToken);
    expect(failed.data!.promotions.edges.map((e: any) => e.node.name)).toEqual(['no overwrite']);

    const again = await dev.gql(
      'mutation($id: ID!) { repromote(promotionId: $id, targetStages: ["qa"], name: "again", overwriteAssets: true, overwriteAliases: true) { id repromotedFrom } }',
      { id: first },
      devToken,
    );
    expect(again.data!.repromote.repromotedFrom).toBe(rawKey(first)); // the UUID
    expect((await finished(again.data!.repromote.id)).promotion.status).toBe('SUCCESS');
    expect((await dev.gql('mutation($id: ID!) { deletePromotion(id: $id) }', { id: again.data!.repromote.id }, devToken)).data).toEqual({ deletePromotion: true });
    expect((await dev.gql(PROMOTION, { id: again.data!.repromote.id }, devToken)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('lets a late subscriber replay everything, and resume after a sequence', async () => {
    const all = (await finished(first)).events;
    const middle = all[Math.floor(all.length / 2)].sequence;
    const rest = await take(dev.wsClient(devToken), 'subscription($id: ID!, $after: Int) { promotionProgress(promotionId: $id, afterSequence: $after) { sequence } }', { id: first, after: middle }, 10_000);
    expect(rest.map((e: any) => e.data.promotionProgress.sequence)).toEqual(all.filter((e: any) => e.sequence > middle).map((e: any) => e.sequence));
    const qaOnly = await take(dev.wsClient(devToken), 'subscription($id: ID!) { promotionProgress(promotionId: $id, stage: "qa") { stageName phase } }', { id: first }, 10_000);
    expect(qaOnly.every((e: any) => e.data.promotionProgress.stageName === 'qa')).toBe(true);
    expect(qaOnly.at(-1).data.promotionProgress.phase).toBe('SUCCEEDED');
  });

  it('links API versions across stages as fixMissingVersions says', async () => {
    const v1 = (await dev.gql('mutation { createAsset(input: { type: API, name: "Versioned Promotion API", version: "1" }) { assetId } }', {}, devToken)).data!.createAsset.assetId;
    const ids = [v1];
    for (const v of ['2', '3', '4', '5']) ids.push((await dev.gql('mutation($id: ID!, $v: String!) { createApiVersion(fromId: $id, version: $v) { assetId } }', { id: v1, v }, devToken)).data!.createApiVersion.assetId);
    const send = [ids[0], ids[1], ids[3], ids[4]];
    const toQa = await dev.gql(PROMOTE, { input: { name: 'versions without fix', assetIds: send, targetStages: ['qa'] } }, devToken);
    const toProd = await dev.gql(PROMOTE, { input: { name: 'versions with fix', assetIds: send, targetStages: ['prod'], fixMissingVersions: true } }, devToken);
    await finished(toQa.data!.promote.id);
    await finished(toProd.data!.promote.id);
    const chain = async (server: TestServer, id: string) =>
      (await server.gql('query($id: ID!) { asset(id: $id) { ... on ApiAsset { versions { version } } } }', { id }, await server.adminToken())).data!.asset.versions.map((v: any) => v.version);
    expect(await chain(qa, ids[4]!)).toEqual(['4', '5']);
    expect(await chain(prod, ids[4]!)).toEqual(['1', '2', '4', '5']);
  });
});

describe('selecting stage-bound variants too', () => {
  it('sends the target its variant under the referenced id, other stages’ variants inert, and the source’s own variant never', async () => {
    const variants = await dev.gql('{ assets(first: 50, filter: { keyword: "petstore-backend", types: [ALIAS] }) { edges { node { id: assetId ... on Alias { stage } } } } }', {}, devToken);
    const ids = variants.data!.assets.edges.map((e: any) => e.node.id);
    expect(ids).toHaveLength(4); // unbound, dev, qa, prod
    const res = await dev.gql(PROMOTE, { input: { name: 'with every variant', assetIds: [petstoreId, ...ids], targetStages: ['prod'], overwriteAssets: true, overwriteAliases: true } }, devToken);
    const { promotion } = await finished(res.data!.promote.id);
    expect(promotion.stages[0]).toMatchObject({ status: 'SUCCESS' });
    const aliases = promotion.stages[0].report.filter((a: any) => a.name === 'petstore-backend');
    const stageOf = Object.fromEntries(variants.data!.assets.edges.map((e: any) => [e.node.id, e.node.stage]));
    // the unbound slot (holding prod's value) and qa's variant; dev's stays home, prod's is merged into the slot
    expect(aliases.map((a: any) => stageOf[a.assetId]).sort()).toEqual([null, 'qa'].sort());
    const onProd = await prod.gql('{ aliasFor(name: "petstore-backend", stage: "prod") { ... on Alias { value } } }', {}, await prod.adminToken());
    expect(onProd.data!.aliasFor.value).toBe('http://petstore.prod.internal:8080');
  });
});

describe('replicas', () => {
  it('a subscriber on one replica sees a promotion queued on another', async () => {
    // Replicas share the database and the secret key (stage passwords are sealed with it).
    const key = await readFile(path.join(dev.config.dataDir, 'secret.key'), 'utf8');
    const replica = await startTestServer({ databaseUrl: dev.databaseUrl, env: { STAGECRAFT_STAGE: 'dev', STAGECRAFT_SECRET_KEY: key } });
    try {
      const res = await promote({ name: 'via replica', targetStages: ['prod'], overwriteAssets: true, overwriteAliases: true });
      const { events } = await finished(res.data!.promote.id, replica, await replica.adminToken());
      expect(events.at(-1).message).toBe('all stages succeeded');
    } finally {
      await replica.stop();
    }
  });
});

describe('version check', () => {
  it('refuses a target that runs an older product with VERSION_DOWNGRADE', async () => {
    // A stand-in that answers the two questions a promotion asks first, as an old release would.
    const old = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (body.includes('login')) res.end(JSON.stringify({ data: { login: { token: 't' } } }));
        else res.end(JSON.stringify({ data: { serverInfo: { stage: 'legacy', productVersion: '0.0.1' }, me: { privileges: ['MANAGE_PROMOTIONS'] } } }));
      });
    });
    await new Promise<void>((r) => old.listen(0, '127.0.0.1', r));
    try {
      await addStage('legacy', `http://127.0.0.1:${(old.address() as AddressInfo).port}`);
      const plan = await dev.gql('query($i: PromoteInput!) { promotionPlan(input: $i) { stages { error errorCode items { name } } } }', { i: { name: 'plan', assetIds: [petstoreId], targetStages: ['legacy'] } }, devToken);
      const { promotion } = await finished((await promote({ name: 'to legacy', targetStages: ['legacy'] })).data!.promote.id);
      expect(promotion.stages[0]).toMatchObject({ status: 'FAILURE', code: 'VERSION_DOWNGRADE' });
      // the plan said so first, in the same words
      expect(plan.data!.promotionPlan.stages[0]).toEqual({ error: promotion.stages[0].reason, errorCode: 'VERSION_DOWNGRADE', items: [] });
    } finally {
      old.close();
    }
  });
});
