/**
 * The product's promise, end to end with real processes: after a sync, GET /pet/1 on the
 * Production Group's gateway returns the Petstore's answer — by nodes, then by discovery — and
 * that answer is the seed's Dog record, byte for byte.
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { runWalkthrough, type WalkthroughResult } from '../../src/demo/walkthrough.js';
import { dog } from '../../src/demo/petstore.js';
import { PETSTORE_DOG } from '../../src/services/seed.js';
import { createTestDatabase } from '../support/database.js';

let result: WalkthroughResult | undefined;
let dropDatabase: (() => Promise<void>) | undefined;
afterAll(async () => {
  await result?.stop();
  await dropDatabase?.();
});

async function gql(url: string, query: string, token?: string): Promise<any> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return ((await res.json()) as { data: any }).data;
}

describe('walkthrough', () => {
  it('publishes, syncs to the Production Group and serves the Petstore through the gateway', async () => {
    const db = await createTestDatabase();
    dropDatabase = db.drop;
    const lines: string[] = [];
    const port = await freePort();
    result = await runWalkthrough({ gatewayPort: port, say: (l) => lines.push(l), databaseUrl: db.url });

    // GET /pet/1 through the gateway is the seed's Dog, byte for byte
    expect(result.viaNodesBody.equals(Buffer.from(JSON.stringify(PETSTORE_DOG)))).toBe(true);
    expect(result.viaNodes).toEqual(PETSTORE_DOG);
    // ... the record the seeded catalog documents as the answer of GET /pet/{petId}
    const token = (await gql(result.controlPlane, `mutation { login(username: "admin", password: "${result.adminPassword}") { token } }`)).login.token;
    const api = (await gql(result.controlPlane, '{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { spec } } } }', token)).assets.edges[0].node;
    const route = api.spec.routes.find((r: { method: string; path: string }) => r.method === 'GET' && r.path === '/pet/{petId}');
    expect(route.example).toEqual(PETSTORE_DOG);

    expect(result.viaDiscovery).toEqual(dog(2));
    expect(lines.filter((l) => /sync COMPLETED: all 1 online instance of /.test(l))).toHaveLength(2);
    expect(lines.filter((l) => /sync INSTANCE/.test(l))).toHaveLength(2);
    // the narration gives the GraphiQL address and the admin password
    expect(lines.some((l) => l.includes(`GraphiQL: ${result!.controlPlane}/graphql`) && l.includes(`password: ${result!.adminPassword}`))).toBe(true);
    // the gateway's own errors are JSON with a code
    const missing = await fetch(`http://127.0.0.1:${port}/no/such/route`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.code).toBeTruthy();

    // stopping removes the run's data directory
    expect(existsSync(result.dataDir)).toBe(true);
    await result.stop();
    expect(existsSync(result.dataDir)).toBe(false);
  });
});
