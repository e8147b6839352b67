/**
 * One gateway join token holds at most STAGECRAFT_MAX_INSTANCES_PER_GATEWAY_TOKEN ONLINE
 * instances (here 3): heartbeats with fresh random ids cannot fill a group with rows that block
 * its non-forced deletion. Instances OFFLINE for long are pruned, and do not count.
 */
import { randomUUID } from 'node:crypto';
import { rawKey } from '../../src/graphql/node-id.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, sql } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';

const CAP = 3;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let cp: TestServer;
let admin: string;

const BEAT = 'mutation($id: ID!, $h: String!) { gatewayHeartbeat(instanceId: $id, hostname: $h, revision: 0) }';
const beat = (token: string, id: string, hostname = 'gw') => cp.gql(BEAT, { id, h: hostname }, token);
/** A join token with its UUID (the API answers a global id; SQL below reads the UUID). */
const tokenFor = async (group: string) => {
  const created = (await cp.gql('mutation($g: String!) { createGatewayInstanceToken(gatewayGroup: $g) { id token } }', { g: group }, admin)).data!.createGatewayInstanceToken as { id: string; token: string };
  return { ...created, id: rawKey(created.id) };
};
const rowsOf = async (tokenId: string) => (await sql(database.url, 'SELECT id::text AS id FROM gateway_instances WHERE token_id = $1 ORDER BY id', [tokenId])).map((r: any) => r.id as string);

beforeAll(async () => {
  database = await createTestDatabase();
  cp = await startTestServer({ databaseUrl: database.url, env: { STAGECRAFT_MAX_INSTANCES_PER_GATEWAY_TOKEN: String(CAP) } });
  admin = await cp.adminToken();
  for (const name of ['capped', 'flooded']) await cp.gql('mutation($n: String!) { createGatewayGroup(input: { name: $n }) { name } }', { n: name }, admin);
});
afterAll(async () => {
  await cp?.stop();
  await database?.drop();
});

describe('ONLINE instances per gateway token', () => {
  it('refuses one more with TOO_MANY_REQUESTS naming the limit, writing nothing; the ones it has keep beating; other tokens are not affected', async () => {
    const { id: tokenId, token } = await tokenFor('capped');
    const ids = Array.from({ length: CAP }, () => randomUUID());
    for (const id of ids) expect((await beat(token, id)).data).toEqual({ gatewayHeartbeat: true });
    const refused = await beat(token, randomUUID());
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'TOO_MANY_REQUESTS', limit: CAP });
    expect(refused.errors?.[0]?.message).toBe(`too many ONLINE gateway instances for this join token: the limit is ${CAP}; an instance counts until 15 s after its last heartbeat`);
    expect(await rowsOf(tokenId)).toEqual([...ids].sort());
    for (const id of ids) expect((await beat(token, id)).data).toEqual({ gatewayHeartbeat: true });

    const other = await tokenFor('capped');
    expect((await beat(other.token, randomUUID())).data).toEqual({ gatewayHeartbeat: true });
  });

  it('concurrent first heartbeats with random ids cannot slip past the cap', async () => {
    const { id: tokenId, token } = await tokenFor('flooded');
    const answers = await Promise.all(Array.from({ length: 20 }, () => beat(token, randomUUID())));
    expect(answers.filter((a) => a.data?.gatewayHeartbeat === true)).toHaveLength(CAP);
    expect(answers.filter((a) => a.errors?.[0]?.extensions?.code === 'TOO_MANY_REQUESTS')).toHaveLength(20 - CAP);
    expect(await rowsOf(tokenId)).toHaveLength(CAP);
    // So the group's ONLINE instances, which a non-forced delete names, stay bounded too.
    const refused = await cp.gql('mutation { deleteGatewayGroup(name: "flooded") }', {}, admin);
    expect(refused.errors?.[0]?.extensions?.instances).toHaveLength(CAP);
  });

  it('OFFLINE instances do not count; long-OFFLINE ones, and OFFLINE ones beyond the cap, are pruned when a new instance registers', async () => {
    const { id: tokenId, token } = await tokenFor('capped');
    const ids = Array.from({ length: CAP }, () => randomUUID());
    for (const id of ids) await beat(token, id);
    expect((await beat(token, randomUUID())).errors?.[0]?.extensions?.code).toBe('TOO_MANY_REQUESTS');

    // All three stopped a minute ago (OFFLINE), and four more stopped 1 to 4 hours ago, one 2 days ago.
    await sql(database.url, "UPDATE gateway_instances SET last_seen = now() - interval '1 minute' WHERE token_id = $1", [tokenId]);
    const older = Array.from({ length: 4 }, () => randomUUID());
    const groupId = (await sql(database.url, "SELECT id FROM gateway_groups WHERE name = 'capped'"))[0].id;
    for (const [i, id] of older.entries()) {
      await sql(database.url, `INSERT INTO gateway_instances (id, group_id, token_id, hostname, last_seen, config_revision) VALUES ($1, $2, $3, 'old', now() - make_interval(hours => $4), 0)`, [id, groupId, tokenId, i + 1]);
    }
    const ancient = randomUUID();
    await sql(database.url, `INSERT INTO gateway_instances (id, group_id, token_id, hostname, last_seen, config_revision) VALUES ($1, $2, $3, 'ancient', now() - interval '2 days', 0)`, [ancient, groupId, tokenId]);

    const fresh = randomUUID();
    expect((await beat(token, fresh)).data).toEqual({ gatewayHeartbeat: true });
    // Kept: the fresh one and the CAP most recent OFFLINE ones (the three of a minute ago).
    expect(await rowsOf(tokenId)).toEqual([fresh, ...ids].sort());
  });
});
