/**
 * Gateway groups on the control plane: groups, join tokens, publishing and rolling back service
 * versions, sync between groups, registries, and the configuration stream a gateway receives.
 */
import { createClient } from 'graphql-ws';
import { encodeGlobalId, rawKey } from '../../src/graphql/node-id.js';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, take, type TestServer } from '../support/server.js';

let cp: TestServer;
let admin: string;
let petstoreId: string;

const group = (name: string) =>
  cp.gql(
    `query($n: String!) { gatewayGroup(name: $n) { name revision services { name runningVersion { id version } versions { id version syncedFrom } }
      instances { id hostname status configRevision } } }`,
    { n: name },
    admin,
  );

const PUBLISH = 'mutation($i: PublishServiceInput!) { publishService(input: $i) { id version serviceName gatewayGroup { name } routes { methods paths } } }';
const nodes = (port: number) => ({ nodes: [{ host: '127.0.0.1', port, weight: 1 }] });

function gatewayClient(token: string) {
  return createClient({ url: cp.wsUrl, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: true });
}

beforeAll(async () => {
  cp = await startTestServer({ env: { STAGECRAFT_SEED: 'true' } });
  admin = await cp.adminToken();
  petstoreId = (await cp.gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { id } } } }', {}, admin)).data!.assets.edges[0].node.id;
});
afterAll(() => cp?.stop());

describe('gateway groups', () => {
  it('start with default, and are created, renamed and deleted (default is kept)', async () => {
    expect((await cp.gql('{ gatewayGroups { name } }', {}, admin)).data!.gatewayGroups).toEqual([{ name: 'default' }]);
    const created = await cp.gql('mutation { createGatewayGroup(input: { name: "Production Group", description: "prod traffic" }) { name revision } }', {}, admin);
    expect(created.data!.createGatewayGroup).toEqual({ name: 'Production Group', revision: 0 });
    expect((await cp.gql('mutation { createGatewayGroup(input: { name: "Production Group" }) { name } }', {}, admin)).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await cp.gql('mutation { createGatewayGroup(input: { name: "" }) { name } }', {}, admin)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await cp.gql('mutation { createGatewayGroup(input: { name: "scratch" }) { name } }', {}, admin);
    expect((await cp.gql('mutation { updateGatewayGroup(name: "scratch", input: { name: "scratch-2" }) { name } }', {}, admin)).data!.updateGatewayGroup.name).toBe('scratch-2');
    expect((await cp.gql('mutation { deleteGatewayGroup(name: "scratch-2") }', {}, admin)).data).toEqual({ deleteGatewayGroup: true });
    expect((await cp.gql('mutation { deleteGatewayGroup(name: "default") }', {}, admin)).errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });
});

describe('services', () => {
  let running: string;

  it('publish with the next patch version, refuse a duplicate, keep history and roll back', async () => {
    const first = await cp.gql(PUBLISH, { i: { assetId: petstoreId, gatewayGroup: 'default', upstream: nodes(18080) } }, admin);
    expect(first.errors).toBeUndefined();
    expect(first.data!.publishService).toMatchObject({ version: '1.0.0', serviceName: 'Swagger Petstore', gatewayGroup: { name: 'default' } });
    expect(first.data!.publishService.routes).toContainEqual({ methods: ['GET'], paths: ['/pet/{petId}'] });
    const second = await cp.gql(PUBLISH, { i: { assetId: petstoreId, gatewayGroup: 'default', upstream: nodes(18081) } }, admin);
    expect(second.data!.publishService.version).toBe('1.0.1');
    const dup = await cp.gql(PUBLISH, { i: { assetId: petstoreId, gatewayGroup: 'default', version: '1.0.1', upstream: nodes(1) } }, admin);
    expect(dup.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const bad = await cp.gql(PUBLISH, { i: { assetId: petstoreId, gatewayGroup: 'default', upstream: {} } }, admin);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'upstream' });

    let g = (await group('default')).data!.gatewayGroup;
    expect(g.services[0].runningVersion.version).toBe('1.0.1');
    expect(g.services[0].versions.map((v: any) => v.version)).toEqual(['1.0.0', '1.0.1']);
    const revision = g.revision;
    await cp.gql('mutation { rollbackService(service: "Swagger Petstore", gatewayGroup: "default", version: "1.0.0") { version } }', {}, admin);
    g = (await group('default')).data!.gatewayGroup;
    expect(g.services[0].runningVersion.version).toBe('1.0.0');
    expect(g.revision).toBe(revision + 1);
    running = g.services[0].runningVersion.id;
  });

  it('sync only the running version, keeping its number, and report progress until online instances run it', async () => {
    const notRunning = (await group('default')).data!.gatewayGroup.services[0].versions.find((v: any) => v.version === '1.0.1').id;
    const refused = await cp.gql('mutation($i: SyncServiceVersionInput!) { syncServiceVersion(input: $i) { id } }', { i: { serviceVersionId: notRunning, targetGroup: 'Production Group', upstream: nodes(18082) } }, admin);
    expect(refused.errors?.[0]).toMatchObject({ message: 'only the running version can be synced', extensions: { code: 'BAD_USER_INPUT' } });

    // a gateway instance of Production Group, as `stagecraft gateway` would connect
    const token = (await cp.gql('mutation { createGatewayInstanceToken(gatewayGroup: "Production Group") { id token } }', {}, admin)).data!.createGatewayInstanceToken.token;
    expect(token).toMatch(/^gwt_/);
    const gw = gatewayClient(token);
    const instanceId = '6a7e0d8e-8a5c-4c55-9b0e-6a1f0f3b1a11';
    const configs: any[] = [];
    const stream = gw.iterate<any>({ query: 'subscription { gatewayConfig(group: "Production Group") { revision config } }' });
    const collect = (async () => {
      for await (const update of stream) {
        configs.push(update.data.gatewayConfig);
        await new Promise<void>((resolve, reject) =>
          gw.subscribe(
            { query: 'mutation($id: ID!, $r: Int!) { gatewayHeartbeat(instanceId: $id, hostname: "gw-test", revision: $r) }', variables: { id: instanceId, r: update.data.gatewayConfig.revision } },
            { next: () => undefined, error: reject, complete: resolve },
          ),
        );
      }
    })();
    collect.catch(() => undefined); // the socket closes at the end, or early when an assertion fails
    await expect.poll(() => configs.length, { timeout: 10_000 }).toBe(1);
    expect(configs[0]).toMatchObject({ revision: 0, config: { group: 'Production Group', services: [] } });
    // The instance's first heartbeat is in: the rollout below waits for every ONLINE instance.
    await expect.poll(async () => (await group('Production Group')).data!.gatewayGroup.instances.length, { timeout: 10_000 }).toBe(1);

    const synced = await cp.gql('mutation($i: SyncServiceVersionInput!) { syncServiceVersion(input: $i) { id serviceVersion { version syncedFrom } } }', { i: { serviceVersionId: running, targetGroup: 'Production Group', upstream: nodes(18082) } }, admin);
    expect(synced.errors).toBeUndefined();
    expect(synced.data!.syncServiceVersion.serviceVersion).toEqual({ version: '1.0.0', syncedFrom: rawKey(running) }); // the UUID
    const progress = await take(cp.wsClient(admin), 'subscription($id: ID!) { syncProgress(operationId: $id) { phase message } }', { id: synced.data!.syncServiceVersion.id }, 10, 20_000);
    expect(progress.map((p: any) => p.data.syncProgress.phase)).toEqual(['PUBLISHED', 'INSTANCE', 'COMPLETED']);
    // Syncs by status on /metrics (loopback callers need no token).
    const metrics = await (await fetch(`${cp.url}/metrics`)).text();
    expect(metrics).toMatch(/^stagecraft_syncs\{status="COMPLETED"\} 1$/m);
    await expect.poll(() => configs.length, { timeout: 10_000 }).toBe(2);
    expect(configs[1].config.services[0]).toMatchObject({ name: 'Swagger Petstore', version: '1.0.0', upstream: { nodes: [{ host: '127.0.0.1', port: 18082, weight: 1 }] } });

    const g = (await group('Production Group')).data!.gatewayGroup;
    expect(g.instances).toEqual([{ id: encodeGlobalId('GatewayInstance', 'dev', instanceId), hostname: 'gw-test', status: 'ONLINE', configRevision: configs[1].revision }]);
    // the same sync again: UNCHANGED, no new revision, and its progress ends at once
    const again = await cp.gql('mutation($i: SyncServiceVersionInput!) { syncServiceVersion(input: $i) { id action message revision serviceVersion { id } } }', { i: { serviceVersionId: running, targetGroup: 'Production Group', upstream: nodes(18082) } }, admin);
    expect(again.errors).toBeUndefined();
    expect(again.data!.syncServiceVersion).toMatchObject({ action: 'UNCHANGED', revision: configs[1].revision, serviceVersion: { id: g.services[0].runningVersion.id } });
    expect(again.data!.syncServiceVersion.message).toContain('nothing changed');
    expect((await group('Production Group')).data!.gatewayGroup.revision).toBe(configs[1].revision);
    const unchanged = await take(cp.wsClient(admin), 'subscription($id: ID!) { syncProgress(operationId: $id) { phase } }', { id: again.data!.syncServiceVersion.id }, 1, 5_000);
    expect(unchanged.map((p: any) => p.data.syncProgress.phase)).toEqual(['COMPLETED']);
    await gw.dispose();
    await collect.catch(() => undefined);
  });

  it('keeps gateway tokens to their own group and their own fields', async () => {
    const token = (await cp.gql('mutation { createGatewayInstanceToken(gatewayGroup: "default") { token } }', {}, admin)).data!.createGatewayInstanceToken.token;
    const other = take(gatewayClient(token), 'subscription { gatewayConfig(group: "Production Group") { revision } }', {}, 1);
    await expect(other).rejects.toSatisfy((e: any) => JSON.stringify(e).includes('FORBIDDEN'));
    const publish = await cp.gql(PUBLISH, { i: { assetId: petstoreId, gatewayGroup: 'default', upstream: nodes(1) } }, token);
    expect(publish.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const bogus = await cp.gql('{ me { username } }', {}, 'gwt_not-a-token');
    expect(bogus.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('creates service registries and publishes with discovery', async () => {
    const created = await cp.gql('mutation { createServiceRegistry(input: { gatewayGroup: "default", name: "nacos", type: "NACOS", address: "http://127.0.0.1:8848", token: "s3cr3t" }) { name type address } }', {}, admin);
    expect(created.data!.createServiceRegistry).toEqual({ name: 'nacos', type: 'NACOS', address: 'http://127.0.0.1:8848' });
    expect((await cp.gql('mutation { createServiceRegistry(input: { gatewayGroup: "default", name: "dns", type: "DNS", address: "not a resolver" }) { name } }', {}, admin)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const listed = await cp.gql('{ serviceRegistries { name gatewayGroup } }', {}, admin);
    expect(listed.data!.serviceRegistries).toEqual([{ name: 'nacos', gatewayGroup: 'default' }]);
    expect(JSON.stringify(listed)).not.toContain('s3cr3t');
    const viaDiscovery = await cp.gql(PUBLISH, { i: { assetId: petstoreId, gatewayGroup: 'default', upstream: { discovery: { registry: 'nacos', namespace: 'public', serviceName: 'petstore' } } } }, admin);
    expect(viaDiscovery.errors).toBeUndefined();
    const unknown = await cp.gql(PUBLISH, { i: { assetId: petstoreId, gatewayGroup: 'default', upstream: { discovery: { registry: 'nope', serviceName: 'x' } } } }, admin);
    expect(unknown.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('names as users type them', () => {
  it('a registry called "Registry for Test" and a group "Équipe Prod" keep their names; slugs serve lookups and upstreams', async () => {
    const group = await cp.gql('mutation { createGatewayGroup(input: { name: "  Équipe Prod " }) { name slug } }', {}, admin);
    expect(group.data!.createGatewayGroup).toEqual({ name: 'Équipe Prod', slug: 'equipe-prod' });
    expect((await cp.gql('{ gatewayGroup(name: "equipe-prod") { name } }', {}, admin)).data!.gatewayGroup).toEqual({ name: 'Équipe Prod' });
    // Another name with the same slug clashes: slugs are keys.
    expect((await cp.gql('mutation { createGatewayGroup(input: { name: "equipe prod" }) { name } }', {}, admin)).errors?.[0]?.extensions?.code).toBe('CONFLICT');

    const registry = await cp.gql('mutation { createServiceRegistry(input: { gatewayGroup: "equipe-prod", name: "Registry for Test", type: "NACOS", address: "http://127.0.0.1:8848" }) { name slug gatewayGroup } }', {}, admin);
    expect(registry.data!.createServiceRegistry).toEqual({ name: 'Registry for Test', slug: 'registry-for-test', gatewayGroup: 'equipe-prod' });
    // An upstream may name it by its slug; it is stored under the display name.
    const published = await cp.gql(PUBLISH, { i: { assetId: petstoreId, gatewayGroup: 'Équipe Prod', upstream: { discovery: { registry: 'registry-for-test', serviceName: 'petstore' } } } }, admin);
    expect(published.errors).toBeUndefined();
    const config = await cp.gql('{ gatewayGroup(name: "Équipe Prod") { services { runningVersion { upstream } } } }', {}, admin);
    expect(config.data!.gatewayGroup.services[0].runningVersion.upstream.discovery.registry).toBe('Registry for Test');
  });

  it('refuses empty, padded-only, control-laden, NUL-laden and huge names with BAD_USER_INPUT, creating nothing', async () => {
    const before = (await cp.gql('{ gatewayGroups { name } serviceRegistries { name } }', {}, admin)).data;
    for (const name of ['', '   ', 'tab\tname', 'line\nbreak', 'nul\u0000name', 'x'.repeat(101), 'bell\u0007']) {
      const g = await cp.gql('mutation($n: String!) { createGatewayGroup(input: { name: $n }) { name } }', { n: name }, admin);
      expect(g.errors?.[0]?.extensions?.code, JSON.stringify(name)).toBe('BAD_USER_INPUT');
      const r = await cp.gql('mutation($n: String!) { createServiceRegistry(input: { gatewayGroup: "default", name: $n, type: "NACOS", address: "http://127.0.0.1:8848" }) { name } }', { n: name }, admin);
      expect(r.errors?.[0]?.extensions?.code, JSON.stringify(name)).toBe('BAD_USER_INPUT');
    }
    expect((await cp.gql('{ gatewayGroups { name } serviceRegistries { name } }', {}, admin)).data).toEqual(before);
  });
});
