/**
 * The stored-ZIP writer a promotion's archive is built with: what it writes, the archive reader
 * (yauzl underneath) reads back byte for byte, names and contents, also past 65,535 entries,
 * where the ZIP64 end records carry the count.
 */
import { describe, expect, it } from 'vitest';
import { StoredZipWriter } from '../../src/services/archive/zip-writer.js';
import { readZip } from '../../src/services/archive/zip-reader.js';

async function written(entries: [string, Buffer][]): Promise<Buffer> {
  const zip = new StoredZipWriter();
  const chunks: Buffer[] = [];
  zip.output.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve, reject) => zip.output.on('end', resolve).on('error', reject));
  for (const [name, data] of entries) zip.add(name, data, new Date('2026-01-02T03:04:06Z'));
  zip.end();
  await ended;
  return Buffer.concat(chunks);
}

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const limits = { maxEntries: 100_001, maxEntryBytes: 1024 * 1024, maxTotalBytes: 64 * 1024 * 1024, maxRatio: 200 };

describe('StoredZipWriter', () => {
  it('writes entries the reader takes back byte for byte, empty and non-ASCII ones included', async () => {
    const entries: [string, Buffer][] = [
      [`assets/${id(1)}.json`, Buffer.from(JSON.stringify({ name: 'wörld ✓', n: [1, 2, 3] }))],
      [`assets/${id(2)}.json`, Buffer.alloc(0)],
      ['manifest.json', Buffer.from('{"entries":[]}')],
    ];
    const files = await readZip(await written(entries), limits);
    expect([...files.keys()]).toEqual(entries.map(([name]) => name));
    for (const [name, data] of entries) expect(files.get(name)).toEqual(data);
  });

  it('writes more than 65,535 entries with the ZIP64 end records', async () => {
    const entries: [string, Buffer][] = Array.from({ length: 70_000 }, (_, n) => [`assets/${id(n)}.json`, Buffer.from(`{"n":${n}}`)]);
    const archive = await written(entries);
    // The classic end record says "see ZIP64" (0xffff entries); its locator precedes it.
    expect(archive.readUInt16LE(archive.length - 22 + 10)).toBe(0xffff);
    expect(archive.readUInt32LE(archive.length - 22 - 20)).toBe(0x07064b50);
    const files = await readZip(archive, limits);
    expect(files.size).toBe(70_000);
    expect(files.get(`assets/${id(69_999)}.json`)!.toString()).toBe('{"n":69999}');
  });
});
