/**
 * Reads an uploaded archive defensively: only the expected file names (no absolute paths, no
 * `..`: zip slip), caps on entry count, entry size, total size and compression ratio
 * (decompression bombs), and sizes checked against what is actually inflated. Anything off is
 * BAD_USER_INPUT before a single row is written.
 */
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { constants as zlibConstants, crc32, inflateRawSync } from 'node:zlib';
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
 * bounds an import's memory (roughly 3× it at peak, with the parsed documents), plus the archive
 * itself while it is read (at most the upload limit). An asset document is at most ~300 KB (a
 * 256 K-character spec).
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

/**
 * yauzl's reader of an archive in memory, answering each read on the next tick. yauzl's own
 * (`fromBuffer`) answers each one on a turn of the event loop, and walking the central directory
 * takes two reads per entry: 10,000 entries cost 20,000 loop turns, each polling for I/O, and the
 * walk took 130–250 ms where the reading itself is a few. yauzl documents `read` as the method a
 * reader may implement; it must behave like `fs.read` (answer later, with the bytes read).
 */
class MemoryReader extends yauzl.RandomAccessReader {
  constructor(private readonly archive: Buffer) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return Readable.from([this.archive.subarray(start, end)]);
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
    // Clamped to both buffers, as fs.read is: yauzl treats fewer bytes than asked as a truncated archive.
    const bytes = Math.max(0, Math.min(length, buffer.length - offset, this.archive.length - position));
    if (bytes > 0) this.archive.copy(buffer, offset, position, position + bytes);
    process.nextTick(callback, null, bytes);
  }
}

function open(buffer: Buffer): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    const options = { lazyEntries: true, validateEntrySizes: true, strictFileNames: true, autoClose: false };
    yauzl.fromRandomAccessReader(new MemoryReader(buffer), buffer.length, options, (err: Error | null, zip?: ZipFile) => {
      if (err || !zip) reject(corrupt(err?.message ?? 'unreadable'));
      else resolve(zip);
    });
  });
}

const LOCAL_HEADER = 0x04034b50;

/** Bit 3 of the flags: sizes and CRC-32 follow the data instead of sitting in the local header. */
const DATA_DESCRIPTOR = 0x08;
/** A size field that says "see the ZIP64 extra field". */
const ZIP64_SIZE = 0xffffffff;

/**
 * The local header agrees with the central directory: same name, same method and, unless they
 * follow the data, same CRC-32 and sizes. Only the directory is trusted, but a reviewer's tool
 * reading the local headers must not see other files than the import does.
 */
function checkLocalHeader(archive: Buffer, at: number, entry: Entry): void {
  const name = entry.fileName;
  const nameLength = archive.readUInt16LE(at + 26);
  const central = (entry as Entry & { fileNameRaw?: Buffer }).fileNameRaw;
  if (at + 30 + nameLength > archive.length || (central && !archive.subarray(at + 30, at + 30 + nameLength).equals(central))) {
    throw corrupt(`the local header of ${name} names another file`);
  }
  if (archive.readUInt16LE(at + 8) !== entry.compressionMethod) throw corrupt(`the local header of ${name} disagrees with the directory`);
  if (archive.readUInt16LE(at + 6) & DATA_DESCRIPTOR) return;
  const [crc, compressed, uncompressed] = [archive.readUInt32LE(at + 14), archive.readUInt32LE(at + 18), archive.readUInt32LE(at + 22)];
  const sizesDiffer = compressed !== ZIP64_SIZE && uncompressed !== ZIP64_SIZE && (compressed !== entry.compressedSize || uncompressed !== entry.uncompressedSize);
  if (crc !== entry.crc32 || sizesDiffer) throw corrupt(`the local header of ${name} disagrees with the directory`);
}

/**
 * The content of one entry, taken from the archive in memory at once (no stream, no round trip
 * per entry: 10,000 entries read that way spent most of an import waiting). The central directory
 * already passed the checks; here the local header, the size actually inflated (never more than
 * `limit` + 1 bytes are produced) and the CRC-32 are checked. An inflated entry is held in a
 * buffer of its own size: zlib's default 16 KiB output chunk, kept alive by a 1 KB document,
 * made 100,000 small entries hold 1.6 GB where they inflate to 130 MB.
 */
function extract(archive: Buffer, entry: Entry, limit: number): Buffer {
  const name = entry.fileName;
  const at = entry.relativeOffsetOfLocalHeader;
  if (at + 30 > archive.length || archive.readUInt32LE(at) !== LOCAL_HEADER) throw corrupt(`bad local file header for ${name}`);
  if (entry.isEncrypted()) throw corrupt(`${name} is encrypted`);
  checkLocalHeader(archive, at, entry);
  const start = at + 30 + archive.readUInt16LE(at + 26) + archive.readUInt16LE(at + 28);
  const end = start + entry.compressedSize;
  if (end > archive.length) throw corrupt(`${name} runs past the end of the archive`);
  const raw = archive.subarray(start, end);
  let data: Buffer;
  if (entry.compressionMethod === 0) data = raw;
  else if (entry.compressionMethod === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: limit + 1, chunkSize: Math.max(zlibConstants.Z_MIN_CHUNK, Math.min(entry.uncompressedSize, limit) + 1) });
    } catch (err) {
      if (err instanceof RangeError) throw badInput(`archive entry ${name} is larger than ${limit} bytes`, { field: 'archive' });
      throw corrupt(`${name} does not inflate: ${(err as Error).message}`);
    }
  } else throw corrupt(`${name} uses compression method ${entry.compressionMethod}; only stored and deflated entries are read`);
  if (data.length > limit) throw badInput(`archive entry ${name} is larger than ${limit} bytes`, { field: 'archive' });
  if (data.length !== entry.uncompressedSize) throw corrupt(`${name} holds ${data.length} bytes, not the ${entry.uncompressedSize} its header says`);
  if (crc32(data) !== entry.crc32) throw corrupt(`${name} does not match its CRC-32`);
  return data;
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
      if (entry.fileName.endsWith('/')) {
        // A directory entry (zip tools add them) holds nothing; one that does is not a directory.
        if (entry.uncompressedSize !== 0 || entry.compressedSize > 2) return fail(badInput(`archive entry ${entry.fileName} is a directory holding data`, { field: 'archive' }));
        return zip.readEntry();
      }
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
  // The upload was spooled to disk within its size limit; read it once rather than per entry.
  const archive = Buffer.isBuffer(source) ? source : await readFile(source.path);
  const directory = await open(archive);
  if (directory.entryCount > limits.maxEntries) {
    directory.close();
    throw badInput(`archive has ${directory.entryCount} entries; at most ${limits.maxEntries} are accepted`, { field: 'archive' });
  }
  const names = new Set<string>();
  const entries: Entry[] = [];
  let total = 0;
  await eachEntry(directory, async (entry) => {
    // Reading never waits on I/O: other requests get a turn now and then (100,000 entries).
    if (entries.length % TURN_EVERY === TURN_EVERY - 1) await setImmediate();
    const name = entry.fileName;
    if (name !== MANIFEST_PATH && !DOCUMENT_PATH.test(name)) throw badInput(`unexpected file in archive: ${name}`, { field: 'archive' });
    if (names.has(name)) throw badInput(`duplicate file in archive: ${name}`, { field: 'archive' });
    names.add(name);
    const ratio = entry.uncompressedSize / Math.max(entry.compressedSize, 1);
    if (ratio > limits.maxRatio) {
      throw badInput(`archive entry ${name} has a compression ratio of ${Math.round(ratio)} (a decompression bomb?)`, { field: 'archive' });
    }
    if (entry.uncompressedSize > entryLimit(name, limits)) throw badInput(`archive entry ${name} is larger than ${entryLimit(name, limits)} bytes`, { field: 'archive' });
    total += entry.uncompressedSize;
    if (total > limits.maxTotalBytes) throw badInput(`archive expands to more than ${limits.maxTotalBytes} bytes`, { field: 'archive' });
    entries.push(entry);
  });
  directory.close();

  // Only once the whole directory passed is anything inflated; declared sizes are checked
  // against what actually inflates.
  const files = new Map<string, Buffer>();
  for (const [i, entry] of entries.entries()) {
    if (i % TURN_EVERY === TURN_EVERY - 1) await setImmediate();
    files.set(entry.fileName, extract(archive, entry, entryLimit(entry.fileName, limits)));
  }
  return files;
}

/** Entries read between two turns of the event loop. */
const TURN_EVERY = 1000;

/**
 * The largest an entry may inflate to. The manifest lists every asset (~200 bytes each), so it
 * is bounded by the whole archive's cap, not a document's: 2 MiB held only ~10,000 assets.
 */
const entryLimit = (name: string, limits: ZipLimits) => (name === MANIFEST_PATH ? limits.maxTotalBytes : limits.maxEntryBytes);
