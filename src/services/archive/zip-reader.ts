/**
 * Reads an uploaded archive defensively: only the expected file names (no absolute paths, no
 * `..`: zip slip), caps on entry count, entry size, total size and compression ratio
 * (decompression bombs), and sizes checked against what is actually inflated. Anything off is
 * BAD_USER_INPUT before a single row is written.
 */
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { defaultLimits } from '../../config.js';
import { badInput } from '../../errors.js';
import { DOCUMENT_PATH, MANIFEST_PATH } from './format.js';

export interface ZipLimits {
  maxEntries: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
  /** Largest allowed uncompressed/compressed ratio of one entry. */
  maxRatio: number;
}

/**
 * Everything read is held in memory until the import is applied, so `maxTotalBytes` is what
 * bounds an import's memory (roughly 3× it at peak, with the parsed documents); the upload
 * itself waits on disk. An asset document is at most ~300 KB (a 256 K-character spec).
 */
export const defaultZipLimits: ZipLimits = {
  maxEntries: defaultLimits.archiveEntries,
  maxEntryBytes: 2 * 1024 * 1024,
  maxTotalBytes: defaultLimits.archiveExpandedBytes,
  maxRatio: 200,
};

/** An archive in memory, or the path of a file holding it (an upload spooled to disk). */
export type ZipSource = Buffer | { path: string };

const corrupt = (detail: string) => badInput(`corrupt archive: ${detail}`, { field: 'archive' });

function open(source: ZipSource): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    const options = { lazyEntries: true, validateEntrySizes: true, strictFileNames: true, autoClose: true };
    const done = (err: Error | null, zip?: ZipFile) => {
      if (err || !zip) reject(corrupt(err?.message ?? 'unreadable'));
      else resolve(zip);
    };
    if (Buffer.isBuffer(source)) yauzl.fromBuffer(source, options, done);
    else yauzl.open(source.path, options, done);
  });
}

function readEntry(zip: ZipFile, entry: Entry, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) return reject(corrupt(err?.message ?? `cannot read ${entry.fileName}`));
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          stream.destroy();
          reject(badInput(`archive entry ${entry.fileName} is larger than ${limit} bytes`, { field: 'archive' }));
        } else chunks.push(chunk);
      });
      stream.on('error', (e) => reject(corrupt(e.message)));
      stream.on('end', () => resolve(Buffer.concat(chunks)));
    });
  });
}

/**
 * Walks the entries of a freshly opened archive in order, one at a time: `visit` returns when it
 * is ready for the next one, or throws to stop. Safe-path and format errors become BAD_USER_INPUT.
 */
function eachEntry(zip: ZipFile, visit: (entry: Entry) => Promise<void> | void): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: unknown) => {
      zip.close();
      reject(err);
    };
    zip.on('error', (err: Error) => {
      // yauzl refuses absolute and `..` paths itself (strictFileNames); say what it was.
      if (/absolute path|invalid relative path|invalid characters/.test(err.message)) {
        fail(badInput(`unsafe path in archive: ${err.message}`, { field: 'archive' }));
      } else fail(corrupt(err.message));
    });
    zip.on('entry', (entry: Entry) => {
      if (entry.fileName.endsWith('/')) return zip.readEntry(); // directory entries carry nothing
      Promise.resolve()
        .then(() => visit(entry))
        .then(() => zip.readEntry(), fail);
    });
    zip.on('end', () => resolve());
    zip.readEntry();
  });
}

/**
 * Every file of the archive by name. Throws BAD_USER_INPUT on anything unsafe or malformed.
 * Two passes: the central directory alone is checked first (names, sizes, ratios, the total), so
 * an archive over a limit is refused before a single byte is inflated; then the files are read.
 */
export async function readZip(source: ZipSource, limits: ZipLimits = defaultZipLimits): Promise<Map<string, Buffer>> {
  const directory = await open(source);
  if (directory.entryCount > limits.maxEntries) {
    directory.close();
    throw badInput(`archive has ${directory.entryCount} entries; at most ${limits.maxEntries} are accepted`, { field: 'archive' });
  }
  const names = new Set<string>();
  let total = 0;
  await eachEntry(directory, (entry) => {
    const name = entry.fileName;
    if (name !== MANIFEST_PATH && !DOCUMENT_PATH.test(name)) throw badInput(`unexpected file in archive: ${name}`, { field: 'archive' });
    if (names.has(name)) throw badInput(`duplicate file in archive: ${name}`, { field: 'archive' });
    names.add(name);
    const ratio = entry.uncompressedSize / Math.max(entry.compressedSize, 1);
    if (ratio > limits.maxRatio) {
      throw badInput(`archive entry ${name} has a compression ratio of ${Math.round(ratio)} (a decompression bomb?)`, { field: 'archive' });
    }
    if (entry.uncompressedSize > limits.maxEntryBytes) throw badInput(`archive entry ${name} is larger than ${limits.maxEntryBytes} bytes`, { field: 'archive' });
    total += entry.uncompressedSize;
    if (total > limits.maxTotalBytes) throw badInput(`archive expands to more than ${limits.maxTotalBytes} bytes`, { field: 'archive' });
  });
  directory.close();

  const files = new Map<string, Buffer>();
  const zip = await open(source);
  // Declared sizes are checked against what actually inflates (validateEntrySizes, readEntry's cap).
  await eachEntry(zip, async (entry) => {
    files.set(entry.fileName, await readEntry(zip, entry, limits.maxEntryBytes));
  });
  zip.close();
  return files;
}
