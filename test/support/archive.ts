/** Archive helpers for tests: the REST endpoints as a client calls them, and ZIP surgery. */
import { expect } from 'vitest';
import yazl from 'yazl';
import { readZip } from '../../src/services/archive/zip-reader.js';
import type { TestServer } from './server.js';

export async function exportArchive(server: TestServer, token: string, body: Record<string, unknown>): Promise<Buffer> {
  const res = await fetch(`${server.url}/archive/export`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`export failed: ${res.status} ${await res.text()}`);
  expect(res.headers.get('content-type')).toBe('application/zip');
  return Buffer.from(await res.arrayBuffer());
}

export async function importArchive(
  server: TestServer,
  token: string | null,
  archive: Buffer,
  query = 'overwrite=none',
  passphrase?: string,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/archive/import?${query}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/zip',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(passphrase ? { 'x-archive-passphrase': passphrase } : {}),
    },
    body: new Uint8Array(archive),
  });
  return { status: res.status, body: await res.json() };
}

export async function unzip(archive: Buffer): Promise<Map<string, Buffer>> {
  return readZip(archive);
}

export function zip(files: Map<string, Buffer> | Record<string, string | Buffer>, compress = true): Promise<Buffer> {
  const z = new yazl.ZipFile();
  const entries = files instanceof Map ? [...files.entries()] : Object.entries(files);
  for (const [name, data] of entries) z.addBuffer(Buffer.isBuffer(data) ? data : Buffer.from(data), name, { compress });
  z.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    z.outputStream.on('error', reject);
  });
}

export async function manifestOf(archive: Buffer): Promise<any> {
  return JSON.parse((await unzip(archive)).get('manifest.json')!.toString('utf8'));
}

/** id → checksum of every manifest entry. */
export async function checksumsOf(archive: Buffer): Promise<Record<string, string>> {
  const manifest = await manifestOf(archive);
  return Object.fromEntries(manifest.entries.map((e: any) => [e.id, e.checksum]));
}
