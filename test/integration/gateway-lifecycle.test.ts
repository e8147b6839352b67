/**
 * A service's life in a gateway group, seen through a real gateway instance (startGateway, in
 * process) in front of real Petstore upstreams: sync is idempotent and re-targetable (same
 * upstream → UNCHANGED, no new revision; other nodes or discovery → a new revision the instance
 * routes by), unpublishService makes the route answer 404, and deleting a group with an ONLINE
 * instance needs force, after which the instance logs it and answers its JSON 503. Also: the sync
 * rollout is a durable job that survives a stop mid-rollout, and gateway fields cost the same
 * number of SQL statements for 1 group as for 10.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { rawKey } from '../../src/graphql/node-id.js';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/dataplane/agent.js';
import { statementCounter } from '../../src/db/data-source.js';
import { startNacosRegistry, startPetstore, type RunningUpstream } from '../../src/demo/petstore.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, sql } from '../support/database.js';
import { get, until } from '../support/polling.js';
import { startTestServer, take, type TestServer } from '../support/server.js';

const cleanups: (() => Promise<unknown>)[] = [];
function onCleanup<T>(value: T, step: (value: T) => Promise<unknown>): T {
  cleanups.push(() => step(value));
  return value;
}
afterAll(async () => {
  for (const step of cleanups.reverse()) await step().catch(() => undefined);
});

let cp: TestServer;
let admin: string;
let petstoreId: string;
const secretKey = randomBytes(32).toString('base64');

async function gql(query: string, variables: Record<string, unknown> = {}, server: TestServer = cp): Promise<any> {
  const res = await server.gql(query, variables, server === cp ? admin : await server.adminToken());
  if (res.errors?.length) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(res.errors)}`);
  return res.data;
}

const nodes = (port: number) => ({ nodes: [{ host: '127.0.0.1', port, weight: 1 }] });
const SYNC = 'mutation($i: SyncServiceVersionInput!) { syncServiceVersion(input: $i) { id action message revision serviceVersion { id version upstream } } }';
const publishTo = async (group: string, port: number) =>
  (await gql('mutation($i: PublishServiceInput!) { publishService(input: $i) { id version } }', { i: { assetId: petstoreId, gatewayGroup: group, upstream: nodes(port) } })).publishService;
const groupState = async (name: string) =>
  (await gql('query($n: String!) { gatewayGroup(name: $n) { revision services { name runningVersion { id } } serviceVersions { id version upstream } instances { id hostname status configRevision } } }', { n: name })).gatewayGroup;
const tokenFor = async (group: string): Promise<string> =>
  (await gql('mutation($g: String!) { createGatewayInstanceToken(gatewayGroup: $g) { token } }', { g: group })).createGatewayInstanceToken.token;

function captureLogs(into: Record<string, any>[]) {
  return new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) into.push(JSON.parse(line));
      done();
    },
  });
}

beforeAll(async () => {
  cp = onCleanup(await startTestServer({ env: { STAGECRAFT_SEED: 'true', STAGECRAFT_SECRET_KEY: secretKey } }), (s) => s.stop());
  admin = await cp.adminToken();
  petstoreId = (await gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { id } } } }')).assets.edges[0].node.id;
});

describe('a service in a gateway group, through a real gateway instance', () => {
  let first: RunningUpstream;
  let second: RunningUpstream;
  let gateway: RunningGateway;
  const gatewayLogs: Record<string, any>[] = [];
  let sourceId: string;

  const sync = async (upstream: Record<string, unknown>) => (await gql(SYNC, { i: { serviceVersionId: sourceId, targetGroup: 'edge', upstream } })).syncServiceVersion;
  const servedBy = (port: number) => until(`the gateway routes to ${port}`, () => get(gateway.port), (r) => r.status === 200 && r.upstream === port, 10_000);

  beforeAll(async () => {
    first = onCleanup(await startPetstore(), (p) => p.close());
    second = onCleanup(await startPetstore(), (p) => p.close());
    sourceId = (await publishTo('default', first.port)).id;
    await gql('mutation { createGatewayGroup(input: { name: "edge" }) { name } }');
    gateway = onCleanup(
      await startGateway({ controlPlane: cp.url, group: 'edge', token: await tokenFor('edge'), port: 0, host: '127.0.0.1', heartbeatMs: 300, log: createLogger('info', captureLogs(gatewayLogs)) }),
      (g) => g.stop(),
    );
    await gateway.configured();
  });

  it('syncs once, then the same sync is UNCHANGED: no new revision, no new version, nothing sent to the instance', async () => {
    const created = await sync(nodes(first.port));
    expect(created).toMatchObject({ action: 'CREATED', serviceVersion: { version: '1.0.0' } });
    await servedBy(first.port);
    const before = await groupState('edge');
    expect(before.revision).toBe(created.revision);

    for (let i = 0; i < 3; i++) {
      const again = await sync(nodes(first.port));
      expect(again).toMatchObject({ action: 'UNCHANGED', revision: created.revision, serviceVersion: { id: created.serviceVersion.id } });
      expect(again.message).toBe(`Swagger Petstore 1.0.0 already runs in edge with the same upstream; nothing changed (revision ${created.revision})`);
    }
    const after = await groupState('edge');
    expect(after.revision).toBe(before.revision);
    expect(after.serviceVersions).toHaveLength(1);
    expect(after.serviceVersions).toEqual(before.serviceVersions);
    expect(gateway.proxy.revision).toBe(created.revision);
  });

  it('re-targets: other nodes, then discovery, then back to the first nodes, each a new revision the instance routes by', async () => {
    const start = (await groupState('edge')).revision;
    const toSecond = await sync(nodes(second.port));
    expect(toSecond).toMatchObject({ action: 'UPSTREAM_CHANGED', revision: start + 1, serviceVersion: { version: '1.0.0', upstream: nodes(second.port) } });
    await servedBy(second.port);

    // nodes → discovery: a registry of the group that finds the first Petstore
    const nacos = onCleanup(await startNacosRegistry({ petstore: [{ ip: '127.0.0.1', port: first.port }] }), (n) => n.close());
    await gql('mutation($a: String!) { createServiceRegistry(input: { gatewayGroup: "edge", name: "nacos", type: "NACOS", address: $a, refreshMs: 500 }) { name } }', { a: nacos.url });
    const discovery = { discovery: { registry: 'nacos', namespace: 'public', serviceName: 'petstore' } };
    const toDiscovery = await sync(discovery);
    expect(toDiscovery.action).toBe('UPSTREAM_CHANGED');
    expect(toDiscovery.serviceVersion.upstream).toMatchObject({ nodes: null, discovery: discovery.discovery });
    expect(toDiscovery.revision).toBeGreaterThan(toSecond.revision);
    await servedBy(first.port);
    expect((await sync(discovery)).action).toBe('UNCHANGED');

    // back to the second Petstore's nodes: that earlier copy runs again, no new row
    const back = await sync(nodes(second.port));
    expect(back).toMatchObject({ action: 'REACTIVATED', serviceVersion: { id: toSecond.serviceVersion.id } });
    await servedBy(second.port);

    const state = await groupState('edge');
    expect(state.services).toEqual([{ name: 'Swagger Petstore', runningVersion: { id: toSecond.serviceVersion.id } }]);
    // history: one row per distinct upstream, all version 1.0.0
    expect(state.serviceVersions.map((v: any) => v.version)).toEqual(['1.0.0', '1.0.0', '1.0.0']);
    expect(gateway.proxy.revision).toBe(state.revision);
  });

  it('unpublishes: the instance stops routing the service (404), its versions stay as history', async () => {
    const before = await groupState('edge');
    const res = await gql('mutation { unpublishService(service: "Swagger Petstore", gatewayGroup: "edge") { name revision } }');
    expect(res.unpublishService).toEqual({ name: 'edge', revision: before.revision + 1 });
    const gone = await until('the route is gone', () => get(gateway.port), (r) => r.status === 404, 10_000);
    expect(gone.body).toEqual({ error: { code: 'ROUTE_NOT_FOUND', message: 'No route matches GET /pet/1.' } });
    const after = await groupState('edge');
    expect(after.services).toEqual([]);
    expect(after.serviceVersions).toHaveLength(3);
    expect(after.serviceVersions).toEqual(before.serviceVersions);
    // again: nothing runs, so nothing to remove; unknown group and service likewise
    const again = await cp.gql('mutation { unpublishService(service: "Swagger Petstore", gatewayGroup: "edge") { name } }', {}, admin);
    expect(again.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await cp.gql('mutation { unpublishService(service: "Swagger Petstore", gatewayGroup: "nope") { name } }', {}, admin)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await groupState('edge')).revision).toBe(after.revision);
    const viewer = await cp.userWithRole('VIEWER');
    expect((await cp.gql('mutation { unpublishService(service: "x", gatewayGroup: "edge") { name } }', {}, viewer)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    // a sync brings it back
    expect((await sync(nodes(first.port))).action).toBe('REACTIVATED');
    await servedBy(first.port);
  });

  it('refuses to delete a group with an ONLINE instance unless forced; the forced instance logs it and answers 503', async () => {
    const online = await until('the instance is ONLINE', () => groupState('edge'), (g) => g.instances.some((i: any) => rawKey(i.id) === gateway.instanceId && i.status === 'ONLINE'));
    const instance = online.instances.find((i: any) => rawKey(i.id) === gateway.instanceId);
    const refused = await cp.gql('mutation { deleteGatewayGroup(name: "edge") }', {}, admin);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', instances: [{ id: gateway.instanceId, hostname: instance.hostname }] });
    expect(refused.errors?.[0]?.message).toBe(`gateway group edge has 1 ONLINE instance: ${instance.hostname} (${gateway.instanceId}); stop it first, or delete with force: true`);
    expect((await groupState('edge')).instances).toHaveLength(1); // nothing was deleted
    expect((await get(gateway.port)).status).toBe(200);

    expect(await gql('mutation { deleteGatewayGroup(name: "edge", force: true) }')).toEqual({ deleteGatewayGroup: true });
    const answer = await until('the gateway answers 503', () => get(gateway.port), (r) => r.status === 503, 5_000);
    expect(answer.body).toEqual({ error: { code: 'GROUP_DELETED', message: 'The gateway group edge was deleted on the control plane; this instance serves nothing.' } });
    expect((await get(gateway.port, '/store/inventory')).status).toBe(503);
    expect(gatewayLogs).toContainEqual(expect.objectContaining({ level: 50, group: 'edge', msg: 'the gateway group was deleted on the control plane; answering 503 to every request' }));
    expect((await cp.gql('{ gatewayGroup(name: "edge") { name } }', {}, admin)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // it stays so: no reconnects, no heartbeats (its token went with the group)
    const served = first.served() + second.served();
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await get(gateway.port)).status).toBe(503);
    expect(first.served() + second.served()).toBe(served);
  });
});

describe('the sync rollout is a durable job', () => {
  it('a stop mid-rollout writes neither COMPLETED nor FAILED; the next replica resumes and completes it once', async () => {
    const database = await createTestDatabase();
    onCleanup(database, (d) => d.drop());
    const env = { STAGECRAFT_SECRET_KEY: secretKey, STAGECRAFT_SEED: 'true' };
    const a = await startTestServer({ databaseUrl: database.url, env });
    onCleanup(a, (s) => s.stop());
    const api = (await gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { id } } } }', {}, a)).assets.edges[0].node.id;
    const source = (await gql('mutation($i: PublishServiceInput!) { publishService(input: $i) { id } }', { i: { assetId: api, gatewayGroup: 'default', upstream: nodes(1) } }, a)).publishService.id;
    await gql('mutation { createGatewayGroup(input: { name: "slow" }) { name } }', {}, a);
    const token = (await gql('mutation { createGatewayInstanceToken(gatewayGroup: "slow") { token } }', {}, a)).createGatewayInstanceToken.token;

    // an ONLINE instance that stays at revision 0 while the first replica watches
    const instanceId = randomUUID();
    const beat = (server: TestServer, revision: number) =>
      server.gql('mutation($id: ID!, $r: Int!) { gatewayHeartbeat(instanceId: $id, hostname: "slow-1", revision: $r) }', { id: instanceId, r: revision }, token);
    expect((await beat(a, 0)).data).toEqual({ gatewayHeartbeat: true });

    const synced = (await gql(SYNC, { i: { serviceVersionId: source, targetGroup: 'slow', upstream: nodes(2) } }, a)).syncServiceVersion;
    expect(synced.action).toBe('CREATED');
    const jobOf = async () => (await sql(database.url, "SELECT status, attempts FROM jobs WHERE kind = 'gateway-sync-rollout'"))[0];
    await until('the rollout job runs', jobOf, (j) => j?.status === 'RUNNING');
    const phases = async () => (await sql(database.url, 'SELECT type FROM events WHERE stream = $1 ORDER BY sequence', [`sync:${synced.id}`])).map((e: any) => e.type);

    await a.stop();
    expect(await phases()).toEqual(['PUBLISHED']);
    expect(await jobOf()).toMatchObject({ status: 'QUEUED', attempts: 1 });

    const b = await startTestServer({ databaseUrl: database.url, env });
    onCleanup(b, (s) => s.stop());
    const progress = take(b.wsClient(await b.adminToken()), 'subscription($id: ID!) { syncProgress(operationId: $id) { phase message } }', { id: synced.id }, 3, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    expect((await beat(b, synced.revision)).data).toEqual({ gatewayHeartbeat: true });
    expect((await progress).map((p: any) => p.data.syncProgress.phase)).toEqual(['PUBLISHED', 'INSTANCE', 'COMPLETED']);
    await until('the job is done', jobOf, (j) => j.status === 'DONE');
    await new Promise((r) => setTimeout(r, 500));
    expect(await phases()).toEqual(['PUBLISHED', 'INSTANCE', 'COMPLETED']);

    // an operation id nobody started is NOT_FOUND at once, not a wait forever
    const unknown = take(b.wsClient(await b.adminToken()), 'subscription($id: ID!) { syncProgress(operationId: $id) { phase } }', { id: randomUUID() }, 1, 5_000);
    await expect(unknown).rejects.toSatisfy((e: unknown) => JSON.stringify(e).includes('NOT_FOUND'));
  });
});

describe('the sync rollout is fenced by its lease', () => {
  it('a rollout whose job was taken over (lease token changed) writes nothing more and leaves the job to its new owner', async () => {
    const database = await createTestDatabase();
    onCleanup(database, (d) => d.drop());
    const a = await startTestServer({ databaseUrl: database.url, env: { STAGECRAFT_SECRET_KEY: secretKey, STAGECRAFT_SEED: 'true' } });
    onCleanup(a, (s) => s.stop());
    const api = (await gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { id } } } }', {}, a)).assets.edges[0].node.id;
    const source = (await gql('mutation($i: PublishServiceInput!) { publishService(input: $i) { id } }', { i: { assetId: api, gatewayGroup: 'default', upstream: nodes(1) } }, a)).publishService.id;
    await gql('mutation { createGatewayGroup(input: { name: "fenced" }) { name } }', {}, a);
    const token = (await gql('mutation { createGatewayInstanceToken(gatewayGroup: "fenced") { token } }', {}, a)).createGatewayInstanceToken.token;
    const instanceId = randomUUID();
    const beat = (revision: number) => a.gql('mutation($id: ID!, $r: Int!) { gatewayHeartbeat(instanceId: $id, hostname: "fenced-1", revision: $r) }', { id: instanceId, r: revision }, token);
    expect((await beat(0)).data).toEqual({ gatewayHeartbeat: true });

    const synced = (await gql(SYNC, { i: { serviceVersionId: source, targetGroup: 'fenced', upstream: nodes(2) } }, a)).syncServiceVersion;
    const jobOf = async () => (await sql(database.url, "SELECT id::text AS id, status, locked_by, lease_token::text AS token FROM jobs WHERE kind = 'gateway-sync-rollout'"))[0];
    const job = await until('the rollout job runs', jobOf, (j) => j?.status === 'RUNNING');
    const phases = async () => (await sql(database.url, 'SELECT type FROM events WHERE stream = $1 ORDER BY sequence', [`sync:${synced.id}`])).map((e: any) => e.type);
    expect(await phases()).toEqual(['PUBLISHED']);

    // Another runner claims the job: a new lease token. The instance then reaches the revision,
    // which the old watch would report (INSTANCE, COMPLETED) if its writes were not fenced.
    const [{ token: theirs }] = await sql(database.url, "UPDATE jobs SET lease_token = gen_random_uuid(), locked_by = 'someone else' WHERE id = $1 RETURNING lease_token::text AS token", [job.id]);
    expect((await beat(synced.revision)).data).toEqual({ gatewayHeartbeat: true });
    await until('the watch lets go', async () => a.logs, (logs) => logs.some((l) => l.msg === 'job lease lost: stopped this run without writing more' && l.job === job.id), 5_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await phases()).toEqual(['PUBLISHED']);
    expect(await jobOf()).toEqual({ id: job.id, status: 'RUNNING', locked_by: 'someone else', token: theirs });
    expect(a.logs.filter((l) => l.msg === 'job failed' && l.job === job.id)).toEqual([]);
  });
});

describe('gateway fields read through loaders', () => {
  it('gatewayGroups with services, versions, groups and instances costs the same statements for 1 group as for 10', async () => {
    const server = onCleanup(await startTestServer({ env: { STAGECRAFT_SEED: 'true' } }), (s) => s.stop());
    const token = await server.adminToken();
    const call = async (query: string, variables: Record<string, unknown> = {}, as = token) => {
      const res = await server.gql(query, variables, as);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      return res.data!;
    };
    const api = (await call('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { id } } } }')).assets.edges[0].node.id;
    const populate = async (group: string) => {
      if (group !== 'default') await call('mutation($n: String!) { createGatewayGroup(input: { name: $n }) { name } }', { n: group });
      for (const port of [1, 2]) await call('mutation($i: PublishServiceInput!) { publishService(input: $i) { id } }', { i: { assetId: api, gatewayGroup: group, upstream: nodes(port) } });
      const gw = (await call('mutation($g: String!) { createGatewayInstanceToken(gatewayGroup: $g) { token } }', { g: group })).createGatewayInstanceToken.token;
      await call('mutation($id: ID!) { gatewayHeartbeat(instanceId: $id, hostname: "gw", revision: 0) }', { id: randomUUID() }, gw);
    };
    const query = `{ gatewayGroups { name revision services { name runningVersion { version gatewayGroup { name } } versions { version gatewayGroup { name } } }
      serviceVersions { id } instances { id status } } }`;
    const counter = statementCounter(server.app.services.db);
    const statementsFor = async (groups: number) => {
      const { result, statements } = await counter.record(() => server.gql(query, {}, token));
      expect(result.errors).toBeUndefined();
      expect(result.data!.gatewayGroups).toHaveLength(groups);
      for (const g of result.data!.gatewayGroups) expect(g.services[0].versions).toHaveLength(2);
      // The job runner's background poll may land in the window; it is not part of the request.
      return statements.filter((s) => !/\bjobs\b/.test(s.query)).length;
    };
    await populate('default');
    const one = await statementsFor(1);
    for (let i = 1; i < 10; i++) await populate(`group-${i}`);
    const ten = await statementsFor(10);
    console.log(`gatewayGroups: ${one} SQL statements for 1 group, ${ten} for 10`);
    expect(ten).toBe(one);
    expect(one).toBeLessThanOrEqual(7);
  });
});
