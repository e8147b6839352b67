/**
 * The product's promise, end to end with real processes: after a sync, GET /pet/1 on the
 * Production Group's gateway returns the Petstore's answer — by nodes, then by discovery.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { runWalkthrough, type WalkthroughResult } from '../../src/demo/walkthrough.js';
import { dog } from '../../src/demo/petstore.js';
import { createTestDatabase } from '../support/database.js';

let result: WalkthroughResult | undefined;
let dropDatabase: (() => Promise<void>) | undefined;
afterAll(async () => {
  await result?.stop();
  await dropDatabase?.();
});

describe('walkthrough', () => {
  it('publishes, syncs to the Production Group and serves the Petstore through the gateway', async () => {
    const db = await createTestDatabase();
    dropDatabase = db.drop;
    const lines: string[] = [];
    const port = await freePort();
    result = await runWalkthrough({ gatewayPort: port, say: (l) => lines.push(l), databaseUrl: db.url });
    expect(result.viaNodes).toEqual(dog(1));
    expect(result.viaNodes).toMatchObject({ id: 1, category: { name: 'Dogs' }, name: 'doggie', photoUrls: expect.any(Array), tags: expect.any(Array), status: 'available' });
    expect(result.viaDiscovery).toEqual(dog(2));
    expect(lines.filter((l) => /sync COMPLETED: all 1 online instance of /.test(l))).toHaveLength(2);
    expect(lines.filter((l) => /sync INSTANCE/.test(l))).toHaveLength(2);
    // the gateway's own errors are JSON with a code
    const missing = await fetch(`http://127.0.0.1:${port}/no/such/route`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.code).toBeTruthy();
  });
});
