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
});
