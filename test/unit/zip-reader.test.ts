/**
 * The archive reader takes every entry from the archive in memory: stored and deflated entries
 * read back byte for byte, and an entry whose bytes were changed after zipping (its CRC-32 no
 * longer matches), or which inflates to more than its header says, is refused as corrupt.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readZip } from '../../src/services/archive/zip-reader.js';
import { zip } from '../support/archive.js';

const NAME = 'assets/00000000-0000-4000-8000-000000000001.json';
const body = Buffer.from(JSON.stringify({ hello: 'wörld', n: [1, 2, 3] }).repeat(20));

describe('readZip', () => {
  it('reads stored and deflated entries, from memory and from a file', async () => {
    for (const compress of [false, true]) {
      const archive = await zip({ [NAME]: body, 'manifest.json': '{}' }, compress);
      expect((await readZip(archive)).get(NAME)).toEqual(body);
      const dir = await mkdtemp(path.join(os.tmpdir(), 'zip-reader-'));
      try {
        await writeFile(path.join(dir, 'a.zip'), archive);
        expect((await readZip({ path: path.join(dir, 'a.zip') })).get(NAME)).toEqual(body);
      } finally {
        await rm(dir, { recursive: true });
      }
    }
  });

  it('refuses a stored entry changed after zipping: its CRC-32 does not match', async () => {
    const archive = await zip({ [NAME]: body }, false);
    const at = archive.indexOf(body);
    archive[at + 5] ^= 0x01;
    await expect(readZip(archive)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/CRC-32/) });
  });

  it('refuses an entry that inflates to more than the limit', async () => {
    const archive = await zip({ [NAME]: body }, true);
    await expect(readZip(archive, { maxEntries: 10, maxEntryBytes: 1024 * 1024, maxTotalBytes: 10 * 1024 * 1024, maxRatio: 1000 })).resolves.toBeDefined();
    // The directory says the entry is small enough; what inflates is not.
    const lying = Buffer.from(archive);
    const central = lying.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    lying.writeUInt32LE(100, central + 24); // uncompressed size in the central directory
    await expect(readZip(lying, { maxEntries: 10, maxEntryBytes: 200, maxTotalBytes: 10_000, maxRatio: 1000 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('walks the central directory without a turn of the event loop per entry', async () => {
    // 2,000 entries: yauzl's own in-memory reader answered each of the walk's two reads per
    // entry on a loop turn (4,000 turns, each polling for I/O); ours answers on the next tick.
    const files: Record<string, string> = { 'manifest.json': '{}' };
    for (let i = 0; i < 2000; i++) files[`assets/00000000-0000-4000-8000-${String(i).padStart(12, '0')}.json`] = `{"n":${i}}`;
    const archive = await zip(files, false);
    let turns = 0;
    let counting = true;
    const count = () => {
      turns++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const read = await readZip(archive);
    counting = false;
    expect(read.size).toBe(2001);
    expect(read.get('assets/00000000-0000-4000-8000-000000001999.json')?.toString()).toBe('{"n":1999}');
    expect(turns).toBeLessThan(50);
    // …but other work does get a turn now and then (every 1,000 entries; 100,000 are allowed).
    expect(turns).toBeGreaterThanOrEqual(2);
  });

  it('reads a manifest larger than a document may be, up to the whole archive cap', async () => {
    const limits = { maxEntries: 10, maxEntryBytes: 1024, maxTotalBytes: 64 * 1024, maxRatio: 1000 };
    const big = Buffer.from(JSON.stringify({ entries: 'x'.repeat(10_000) }));
    expect((await readZip(await zip({ 'manifest.json': big }, true), limits)).get('manifest.json')).toEqual(big);
    await expect(readZip(await zip({ [NAME]: big }, true), limits)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/larger than 1024 bytes/) });
    await expect(readZip(await zip({ 'manifest.json': Buffer.alloc(70 * 1024, 0x61) }, true), limits)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('holds each inflated entry in a buffer of its own size', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 50; i++) files[`assets/00000000-0000-4000-8000-${String(i).padStart(12, '0')}.json`] = JSON.stringify({ n: i, text: 'abc'.repeat(100) });
    const read = [...(await readZip(await zip(files, true))).values()];
    // Small buffers may share Node's 8 KiB pool; what counts is the memory held in all.
    const held = [...new Set(read.map((data) => data.buffer))].reduce((sum, memory) => sum + memory.byteLength, 0);
    const inflated = read.reduce((sum, data) => sum + data.length, 0);
    expect(held).toBeLessThanOrEqual(2 * inflated + 16 * 1024);
  });

  it('refuses a local header that names another file than the directory, and a directory entry holding data', async () => {
    const archive = await zip({ [NAME]: body, 'manifest.json': '{}' }, false);
    const other = Buffer.from(archive);
    const first = other.indexOf(NAME); // the local header comes first, the directory's copy last
    other.write('b', first + NAME.length - 6); // ...0001.json becomes ...000b.json in the local header only
    await expect(readZip(other)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/names another file/) });

    const dir = Buffer.from(await zip({ 'dirxx': body, 'manifest.json': '{}' }, true));
    for (let at = dir.indexOf('dirxx'); at !== -1; at = dir.indexOf('dirxx', at + 1)) dir.write('dirx/', at);
    await expect(readZip(dir)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/directory holding data/) });
  });

  it('refuses an archive cut inside its central directory', async () => {
    const archive = await zip({ [NAME]: body, 'manifest.json': '{}' }, false);
    const central = archive.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    // The end record still points at the directory, which now runs past the end of the data.
    const cut = Buffer.concat([archive.subarray(0, central + 20), archive.subarray(archive.length - 22)]);
    await expect(readZip(cut)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/corrupt archive/) });
  });
});
