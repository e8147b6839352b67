/**
 * Gateway instance tokens are scoped to their job: `gatewayConfig` for their own group and
 * heartbeats for their own instance, nothing else. The matrix walks the schema (as the privilege
 * matrix does), so a new root field is covered without touching this file: every Query and
 * Mutation over HTTP and every Subscription over graphql-ws, with a gateway token, must be refused
 * FORBIDDEN unless its guard requires GATEWAY_AGENT. Then the finer rules of heartbeats, and
 * tokens listed and revoked.
 */
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { rawKey } from '../../src/graphql/node-id.js';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchema } from '../../src/graphql/schema.js';
import { sql } from '../support/database.js';
import { buildOperation, classify, classifyOverWebSocket, guardOf, rootFields, type Outcome, type RootField } from '../support/schema-walk.js';
import { startTestServer, take, type TestServer } from '../support/server.js';

let schema: GraphQLSchema;
let cp: TestServer;
let admin: string;
/** A token of the default group, the caller of the matrix. */
let gatewayToken: string;

const gql = async (query: string, variables: Record<string, unknown> = {}, token = admin): Promise<any> => {
  const res = await cp.gql(query, variables, token);
  if (res.errors?.length) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(res.errors)}`);
  return res.data;
};
const createToken = async (group: string): Promise<{ id: string; token: string }> =>
  (await gql('mutation($g: String!) { createGatewayInstanceToken(gatewayGroup: $g) { id token } }', { g: group })).createGatewayInstanceToken;
const HEARTBEAT = 'mutation($id: ID!, $h: String!, $r: Int!) { gatewayHeartbeat(instanceId: $id, hostname: $h, revision: $r) }';
const heartbeat = (token: string, id: string, revision = 0, hostname = 'gw-1') => cp.gql(HEARTBEAT, { id, h: hostname, r: revision }, token);
const codeOf = (res: { errors?: { extensions?: Record<string, any> }[] }) => res.errors?.[0]?.extensions?.code;

function gatewayClient(token: string) {
  return createClient({ url: cp.wsUrl, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: true });
}

beforeAll(async () => {
  schema = await createSchema();
  cp = await startTestServer();
  admin = await cp.adminToken();
  await gql('mutation { createGatewayGroup(input: { name: "other" }) { name } }');
  gatewayToken = (await createToken('default')).token;
});
afterAll(() => cp?.stop());

/** What a gateway token may use: the fields whose guard requires GATEWAY_AGENT. */
const isGatewayField = (root: RootField) => guardOf(root.field)?.privileges.includes('GATEWAY_AGENT') ?? false;
/** Arguments that make an allowed call a proper one (its own group, a fresh instance). */
const overrides: Record<string, () => Record<string, unknown>> = {
  'Subscription.gatewayConfig': () => ({ group: 'default' }),
  'Mutation.gatewayHeartbeat': () => ({ instanceId: randomUUID(), hostname: 'matrix', revision: 0 }),
};

describe('gateway token scope matrix', () => {
  it('the schema has gateway fields and others (the matrix below means something)', () => {
    const roots = rootFields(schema);
    expect(roots.filter(isGatewayField).map((r) => r.id).sort()).toEqual(['Mutation.gatewayHeartbeat', 'Subscription.gatewayConfig']);
    expect(roots.length).toBeGreaterThan(40);
  });

  it('over HTTP and graphql-ws: only gatewayConfig and gatewayHeartbeat run; every other root field is FORBIDDEN', async () => {
    const rows: { field: string; expected: Outcome['verdict']; got: Outcome }[] = [];
    for (const root of rootFields(schema)) {
      const operation = buildOperation(root, overrides[root.id]?.());
      let got: Outcome;
      if (root.kind === 'Subscription') {
        got = await classifyOverWebSocket(cp.wsClient(gatewayToken), root, operation);
      } else {
        const res = await cp.gql(operation.query, operation.variables, gatewayToken);
        got = classify(root.name, res.data, res.errors as GraphQLFormattedError[] | undefined);
        // allowed ones must have succeeded outright, not merely run into their own error
        if (isGatewayField(root) && got.verdict === 'ALLOWED' && res.errors?.length) got = { verdict: 'NOT_EXECUTED', detail: `ran but failed: ${got.detail}` };
      }
      rows.push({ field: root.id, expected: isGatewayField(root) ? 'ALLOWED' : 'FORBIDDEN', got });
    }
    const wrong = rows.filter((r) => r.got.verdict !== r.expected);
    const table = rows.map((r) => `${r.got.verdict === r.expected ? '✓' : '✗'} ${r.field}: ${r.got.verdict}${r.got.detail ? ` (${r.got.detail})` : ''}${r.got.verdict === r.expected ? '' : ` ≠ ${r.expected}`}`).join('\n');
    expect(wrong, `\ngateway token scope: ${wrong.length} of ${rows.length} wrong\n${table}\n`).toEqual([]);
    expect(rows.filter((r) => r.expected === 'ALLOWED')).toHaveLength(2);
  });

  it('me and apiTokens with a gateway token are FORBIDDEN (they were INTERNAL_SERVER_ERROR), with a message that says why', async () => {
    for (const query of ['{ me { username } }', '{ apiTokens { id } }', '{ gatewayGroups { name } }', '{ stages { name } }']) {
      const res = await cp.gql(query, {}, gatewayToken);
      expect(res.errors?.[0]?.extensions?.code, query).toBe('FORBIDDEN');
      expect(res.errors?.[0]?.message).toBe('a gateway instance token may only receive its group’s configuration (gatewayConfig) and send heartbeats (gatewayHeartbeat)');
      expect(Object.values(res.data ?? {}).every((v) => v === null), query).toBe(true);
    }
    // and nothing leaks into a mixed operation: the allowed field alone does not open the others
    const mixed = await cp.gql(`mutation($id: ID!) { gatewayHeartbeat(instanceId: $id, hostname: "x", revision: 0) createGatewayGroup(input: { name: "sneaky" }) { name } }`, { id: randomUUID() }, gatewayToken);
    expect(mixed.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect((await gql('{ gatewayGroups { name } }')).gatewayGroups.map((g: any) => g.name)).not.toContain('sneaky');
  });

  it('gatewayConfig of another group is FORBIDDEN', async () => {
    const other = take(gatewayClient(gatewayToken), 'subscription { gatewayConfig(group: "other") { revision } }', {}, 1, 5_000);
    await expect(other).rejects.toSatisfy((e: unknown) => JSON.stringify(e).includes('FORBIDDEN'));
  });
});

describe('heartbeats: their own group, their own instance', () => {
  it('an instance id registered in another group is refused and never moved', async () => {
    const otherToken = (await createToken('other')).token;
    const victim = randomUUID();
    expect((await heartbeat(otherToken, victim, 0, 'other-gw')).data).toEqual({ gatewayHeartbeat: true });
    const before = await sql(cp.databaseUrl, 'SELECT group_id, hostname, config_revision, last_seen FROM gateway_instances WHERE id = $1', [victim]);

    const hijack = await heartbeat(gatewayToken, victim, 0, 'hijacker');
    expect(codeOf(hijack)).toBe('FORBIDDEN');
    expect(hijack.errors?.[0]?.message).toBe(`gateway instance ${victim} is registered by another gateway token; start the instance again to get an id of its own`);
    expect(await sql(cp.databaseUrl, 'SELECT group_id, hostname, config_revision, last_seen FROM gateway_instances WHERE id = $1', [victim])).toEqual(before);
    const groups = (await gql('{ gatewayGroups { name instances { id hostname } } }')).gatewayGroups;
    // instance ids read back as global ids; the agent's UUID is their key
    expect(groups.find((g: any) => g.name === 'other').instances.map((i: any) => ({ ...i, id: rawKey(i.id) }))).toEqual([{ id: victim, hostname: 'other-gw' }]);
    expect(groups.find((g: any) => g.name === 'default').instances.map((i: any) => rawKey(i.id))).not.toContain(victim);
  });

  it('another token of the same group cannot heartbeat for an instance it did not register', async () => {
    const own = randomUUID();
    expect((await heartbeat(gatewayToken, own)).data).toEqual({ gatewayHeartbeat: true });
    const second = (await createToken('default')).token;
    expect(codeOf(await heartbeat(second, own, 0, 'impostor'))).toBe('FORBIDDEN');
    expect((await heartbeat(gatewayToken, own)).data).toEqual({ gatewayHeartbeat: true }); // its own token still can
  });

  it('refuses a revision the group never had (999999), a non-UUID id and a hostname with control characters, writing nothing', async () => {
    const id = randomUUID();
    const revision = (await gql('{ gatewayGroup(name: "default") { revision } }')).gatewayGroup.revision;
    const lie = await heartbeat(gatewayToken, id, 999_999);
    expect(codeOf(lie)).toBe('BAD_USER_INPUT');
    expect(lie.errors?.[0]?.message).toBe(`revision must be between -1 (not configured yet) and the group's revision ${revision}`);
    expect(codeOf(await heartbeat(gatewayToken, id, -2))).toBe('BAD_USER_INPUT');
    expect(codeOf(await heartbeat(gatewayToken, 'not-a-uuid'))).toBe('BAD_USER_INPUT');
    expect(codeOf(await heartbeat(gatewayToken, id, 0, 'a\u0000b'))).toBe('BAD_USER_INPUT');
    expect(codeOf(await heartbeat(gatewayToken, id, 0, 'x'.repeat(256)))).toBe('BAD_USER_INPUT');
    expect(await sql(cp.databaseUrl, 'SELECT id FROM gateway_instances WHERE id = $1', [id])).toEqual([]);
  });
});

describe('gateway tokens listed and revoked', () => {
  it('lists a group’s tokens with their instances, never their secret; only MANAGE_GATEWAY_GROUPS may', async () => {
    await gql('mutation { createGatewayGroup(input: { name: "listed" }) { name } }');
    const a = await createToken('listed');
    const b = await createToken('listed');
    const instance = randomUUID();
    await heartbeat(a.token, instance, 0, 'listed-gw');
    const res = await cp.gql('{ gatewayInstanceTokens(gatewayGroup: "listed") { id createdAt revokedAt gatewayGroup { name } instances { id hostname status } } }', {}, admin);
    for (const t of res.data!.gatewayInstanceTokens) for (const i of t.instances) i.id = rawKey(i.id); // the agent's UUID
    expect(res.data!.gatewayInstanceTokens).toEqual([
      { id: a.id, createdAt: expect.any(String), revokedAt: null, gatewayGroup: { name: 'listed' }, instances: [{ id: instance, hostname: 'listed-gw', status: 'ONLINE' }] },
      { id: b.id, createdAt: expect.any(String), revokedAt: null, gatewayGroup: { name: 'listed' }, instances: [] },
    ]);
    const text = JSON.stringify(res);
    expect(text).not.toContain(a.token.slice(4, 20));
    expect(text).not.toContain(b.token.slice(4, 20));
    expect(codeOf(await cp.gql('{ gatewayInstanceTokens(gatewayGroup: "listed") { id } }', {}, await cp.userWithRole('VIEWER')))).toBe('FORBIDDEN');
    expect(codeOf(await cp.gql('{ gatewayInstanceTokens(gatewayGroup: "nope") { id } }', {}, admin))).toBe('NOT_FOUND');
  });

  it('a revoked token fails at once over HTTP and WebSocket, the revocation is announced on stagecraft_auth, and revoking twice changes nothing', async () => {
    const { id, token } = await createToken('default');
    const instance = randomUUID();
    expect((await heartbeat(token, instance)).data).toEqual({ gatewayHeartbeat: true });
    // a live configuration stream with it, before the revocation
    const before = await take(gatewayClient(token), 'subscription { gatewayConfig(group: "default") { revision } }', {}, 1, 5_000);
    expect(before).toHaveLength(1);

    const listener = new pg.Client({ connectionString: cp.databaseUrl });
    await listener.connect();
    const notified: string[] = [];
    listener.on('notification', (n) => notified.push(n.channel));
    await listener.query('LISTEN stagecraft_auth');
    try {
      expect(codeOf(await cp.gql('mutation($id: ID!) { revokeGatewayInstanceToken(id: $id) { id } }', { id }, await cp.userWithRole('VIEWER')))).toBe('FORBIDDEN');
      expect(codeOf(await cp.gql('mutation { revokeGatewayInstanceToken(id: "not-an-id") { id } }', {}, admin))).toBe('BAD_USER_INPUT');
      expect(codeOf(await cp.gql('mutation($id: ID!) { revokeGatewayInstanceToken(id: $id) { id } }', { id: randomUUID() }, admin))).toBe('NOT_FOUND');
      expect(codeOf(await cp.gql('mutation($id: ID!) { revokeGatewayInstanceToken(id: $id) { id } }', { id }, token))).toBe('FORBIDDEN'); // not even itself
      expect(notified).toEqual([]);

      const revoked = (await gql('mutation($id: ID!) { revokeGatewayInstanceToken(id: $id) { id revokedAt } }', { id })).revokeGatewayInstanceToken;
      expect(revoked).toEqual({ id, revokedAt: expect.any(String) });
      await expect.poll(() => notified, { timeout: 2_000 }).toEqual(['stagecraft_auth']);

      const refused = await heartbeat(token, instance);
      expect(refused.status).toBe(401);
      expect(codeOf(refused)).toBe('UNAUTHENTICATED');
      const reconnect = take(gatewayClient(token), 'subscription { gatewayConfig(group: "default") { revision } }', {}, 1, 5_000);
      await expect(reconnect).rejects.toMatchObject({ code: 4403 });

      const again = (await gql('mutation($id: ID!) { revokeGatewayInstanceToken(id: $id) { id revokedAt } }', { id })).revokeGatewayInstanceToken;
      expect(again).toEqual(revoked);
      const listed = (await gql('{ gatewayInstanceTokens(gatewayGroup: "default") { id revokedAt } }')).gatewayInstanceTokens;
      expect(listed.find((t: any) => t.id === id)).toEqual(revoked);
      // the group's other tokens are untouched
      expect((await heartbeat(gatewayToken, randomUUID())).data).toEqual({ gatewayHeartbeat: true });
    } finally {
      await listener.end();
    }
  });
});
