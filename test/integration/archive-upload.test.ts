/**
 * How an archive upload is received: one that declares its length (up to 16 MiB) is read into
 * memory, one sent chunked (no length) is spooled to a temporary file. Both must import alike,
 * both must be refused with 413 PAYLOAD_TOO_LARGE past the limit, writing nothing, and both must
 * be cut off with 408 when they stall, freeing the import slot they hold.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../support/database.js';
import { exportArchive } from '../support/archive.js';
import { startTestServer, type TestServer } from '../support/server.js';

const LIMIT = 200_000;
const IDLE_MS = 1000;

let source: TestServer;
let target: TestServer;
let sourceToken: string;
let targetToken: string;
let archive: Buffer;

beforeAll(async () => {
  [source, target] = await Promise.all([
    startTestServer({ env: { STAGECRAFT_SEED: 'true', STAGECRAFT_STAGE: 'dev' } }),
    // One import at a time, so a stalled upload visibly holds the only slot.
    startTestServer({ env: { STAGECRAFT_STAGE: 'qa', STAGECRAFT_ARCHIVE_MAX_BYTES: String(LIMIT), STAGECRAFT_UPLOAD_IDLE_TIMEOUT_MS: String(IDLE_MS), STAGECRAFT_MAX_CONCURRENT_IMPORTS: '1' } }),
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

/**
 * An upload that sends its head and ten bytes, then nothing (on a raw socket: fetch cannot stall
 * on purpose). Resolves with the answer and when it came, once the server closes the connection.
 */
function stalledUpload(how: 'declared' | 'chunked'): Promise<{ status: number; body: any; afterMs: number }> {
  const url = new URL(target.url);
  const framing = how === 'declared' ? 'Content-Length: 100000\r\n\r\n0123456789' : 'Transfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n';
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.write(`POST /archive/import?overwrite=none HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${targetToken}\r\nContent-Type: application/zip\r\n${framing}`);
    });
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (answer += d));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body: body ? JSON.parse(body) : null, afterMs: Date.now() - started });
    });
  });
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

  it('cuts off an upload that stalls with 408 after the idle time, declared or chunked, and frees its import slot', async () => {
    for (const how of ['declared', 'chunked'] as const) {
      const stalled = stalledUpload(how);
      // Meanwhile the stalled upload holds the one import slot.
      await new Promise((r) => setTimeout(r, IDLE_MS / 4));
      expect((await upload(archive, 'declared')).status, how).toBe(429);
      const { status, body, afterMs } = await stalled;
      expect(status, how).toBe(408);
      expect(body.error, how).toEqual({ code: 'REQUEST_TIMEOUT', message: 'the upload sent nothing for 1 s' });
      expect(afterMs, how).toBeGreaterThanOrEqual(IDLE_MS - 50);
      expect(afterMs, how).toBeLessThan(IDLE_MS + 5_000);
      // The slot is free again.
      expect((await upload(archive, 'declared')).status, how).toBe(200);
    }
  });

  it('an upload the client breaks off frees its slot and is not logged as a server error, declared or chunked', async () => {
    const url = new URL(target.url);
    for (const framing of ['Content-Length: 100000\r\n\r\n0123456789', 'Transfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n']) {
      const logged = target.logs.length;
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect(Number(url.port), url.hostname, () => {
          socket.write(`POST /archive/import?overwrite=none HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${targetToken}\r\nContent-Type: application/zip\r\n${framing}`);
          setTimeout(() => socket.resetAndDestroy(), 100);
        });
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
      // The slot comes back at once (not after the idle time), and no unexpected error was logged.
      await new Promise((r) => setTimeout(r, 100));
      expect((await upload(archive, 'declared')).status, framing).toBe(200);
      expect(target.logs.slice(logged).filter((l) => l.level >= 50), framing).toEqual([]);
    }
  });
});
