/**
 * How an archive upload is received: one that declares its length (up to 16 MiB) is read into
 * memory, one sent chunked (no length) is spooled to a temporary file. Both must import alike,
 * and both must be refused with 413 PAYLOAD_TOO_LARGE past the limit, writing nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../support/database.js';
import { exportArchive } from '../support/archive.js';
import { startTestServer, type TestServer } from '../support/server.js';

const LIMIT = 200_000;

let source: TestServer;
let target: TestServer;
let sourceToken: string;
let targetToken: string;
let archive: Buffer;

beforeAll(async () => {
  [source, target] = await Promise.all([
    startTestServer({ env: { STAGECRAFT_SEED: 'true', STAGECRAFT_STAGE: 'dev' } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'qa', STAGECRAFT_ARCHIVE_MAX_BYTES: String(LIMIT) } }),
  ]);
  [sourceToken, targetToken] = await Promise.all([source.adminToken(), target.adminToken()]);
  const res = await source.gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { assetId } } } }', {}, sourceToken);
  archive = await exportArchive(source, sourceToken, { assetIds: [res.data!.assets.edges[0].node.assetId] });
});
afterAll(() => Promise.all([source?.stop(), target?.stop()]));

/** Posts `body` to the target's import: with Content-Length, or chunked (a stream has no length). */
async function upload(body: Buffer, how: 'declared' | 'chunked', query = 'overwrite=none'): Promise<{ status: number; body: any }> {
  const chunks = [body.subarray(0, body.length >> 1), body.subarray(body.length >> 1)];
  const res = await fetch(`${target.url}/archive/import?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/zip', authorization: `Bearer ${targetToken}` },
    ...(how === 'declared'
      ? { body: new Uint8Array(body) }
      : {
          body: new ReadableStream({
            start(controller) {
              for (const chunk of chunks) controller.enqueue(new Uint8Array(chunk));
              controller.close();
            },
          }),
          duplex: 'half',
        }),
  } as RequestInit);
  return { status: res.status, body: await res.json() };
}

const assetRows = () => sql(target.databaseUrl, 'SELECT id, checksum FROM assets ORDER BY id');

describe('archive upload', () => {
  it('imports an archive sent chunked (spooled) and the same sent with its length (in memory) alike', async () => {
    const chunked = await upload(archive, 'chunked');
    expect(chunked.status).toBe(200);
    expect(chunked.body.status).toBe('SUCCESS');
    expect(chunked.body.assets.length).toBeGreaterThan(1);
    expect(chunked.body.assets.every((a: any) => a.action === 'CREATE')).toBe(true);
    const stored = await assetRows();
    expect(stored).toHaveLength(chunked.body.assets.length);

    // The same bytes again, declared: every asset is recognised as unchanged, nothing rewritten.
    const declared = await upload(archive, 'declared');
    expect(declared.status).toBe(200);
    expect(declared.body.assets.map((a: any) => [a.id, a.action])).toEqual(chunked.body.assets.map((a: any) => [a.id, 'UNCHANGED']));
    expect(await assetRows()).toEqual(stored);
  });

  it('refuses an upload past the limit with 413, declared or crossing it while chunked, and writes nothing', async () => {
    const before = await assetRows();
    const oversize = Buffer.concat([archive, Buffer.alloc(LIMIT)]);
    for (const how of ['declared', 'chunked'] as const) {
      const res = await upload(oversize, how);
      expect(res.status, how).toBe(413);
      expect(res.body.error, how).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: `the upload exceeds the limit of ${LIMIT} bytes` });
    }
    expect(await assetRows()).toEqual(before);
    // The server still answers normally afterwards.
    expect((await upload(archive, 'declared')).status).toBe(200);
  });
});
