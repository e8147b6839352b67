/**
 * A ZIP of stored (not deflated) entries, written as it is read: a promotion's archive. yazl,
 * which the deflated export keeps using, rescans its whole entry list on every entry (O(n²): over
 * a second at 10,000 entries) and computes CRC-32 in JavaScript; here each entry costs its local
 * header and a native `zlib.crc32`, and the central directory is written at the end. More than
 * 65,535 entries take the ZIP64 end records; a stored archive is at most 4 GiB.
 */
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END = 0x06054b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const VERSION = 20;
const VERSION_ZIP64 = 45;
/** Made by Unix (so the external attributes below mean a mode), spec version 2.0. */
const MADE_BY = (3 << 8) | VERSION;
/** A regular file, rw-r--r--. */
const FILE_ATTRIBUTES = (0o100644 << 16) >>> 0;
const MAX_16 = 0xffff;
const MAX_32 = 0xffffffff;

/** MS-DOS time and date, local time as ZIP tools read it. */
function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

export class StoredZipWriter {
  /** The ZIP bytes, produced as entries are added; `readableLength` is what waits for the consumer. */
  readonly output = new Readable({ read: () => undefined });
  private readonly central: Buffer[] = [];
  private offset = 0;
  private entries = 0;

  private push(chunk: Buffer): void {
    this.output.push(chunk);
    this.offset += chunk.length;
  }

  add(name: string, data: Buffer, mtime: Date): void {
    const nameBytes = Buffer.from(name, 'utf8');
    if (this.offset + 30 + nameBytes.length + data.length > MAX_32) throw new Error('a stored archive is at most 4 GiB');
    const crc = crc32(data);
    const { time, date } = dosDateTime(mtime);
    // Bit 11: the name is UTF-8.
    const flags = 0x0800;
    const local = Buffer.alloc(30 + nameBytes.length);
    local.writeUInt32LE(LOCAL_HEADER, 0);
    local.writeUInt16LE(VERSION, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    nameBytes.copy(local, 30);

    const header = Buffer.alloc(46 + nameBytes.length);
    header.writeUInt32LE(CENTRAL_HEADER, 0);
    header.writeUInt16LE(MADE_BY, 4);
    header.writeUInt16LE(VERSION, 6);
    header.writeUInt16LE(flags, 8);
    header.writeUInt16LE(0, 10);
    header.writeUInt16LE(time, 12);
    header.writeUInt16LE(date, 14);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(data.length, 20);
    header.writeUInt32LE(data.length, 24);
    header.writeUInt16LE(nameBytes.length, 28);
    // extra, comment, disk number, internal attributes: 0
    header.writeUInt32LE(FILE_ATTRIBUTES, 38);
    header.writeUInt32LE(this.offset, 42);
    nameBytes.copy(header, 46);
    this.central.push(header);
    this.entries++;

    this.push(Buffer.concat([local, data]));
  }

  /** Writes the central directory and the end records, and ends the output. */
  end(): void {
    const directoryOffset = this.offset;
    const directory = Buffer.concat(this.central);
    this.central.length = 0;
    this.push(directory);
    if (this.offset > MAX_32) throw new Error('a stored archive is at most 4 GiB');
    const zip64 = this.entries > MAX_16;
    if (zip64) {
      const record = Buffer.alloc(56);
      record.writeUInt32LE(ZIP64_END, 0);
      record.writeBigUInt64LE(44n, 4); // the size of the rest of this record
      record.writeUInt16LE(MADE_BY - VERSION + VERSION_ZIP64, 12);
      record.writeUInt16LE(VERSION_ZIP64, 14);
      // disk numbers: 0
      record.writeBigUInt64LE(BigInt(this.entries), 24);
      record.writeBigUInt64LE(BigInt(this.entries), 32);
      record.writeBigUInt64LE(BigInt(directory.length), 40);
      record.writeBigUInt64LE(BigInt(directoryOffset), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(ZIP64_LOCATOR, 0);
      locator.writeBigUInt64LE(BigInt(this.offset), 8);
      locator.writeUInt32LE(1, 16);
      this.push(Buffer.concat([record, locator]));
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(END, 0);
    end.writeUInt16LE(Math.min(this.entries, MAX_16), 8);
    end.writeUInt16LE(Math.min(this.entries, MAX_16), 10);
    end.writeUInt32LE(directory.length, 12);
    end.writeUInt32LE(directoryOffset, 16);
    this.push(end);
    this.output.push(null);
  }

  /** Stops with an error (the consumer sees it on `output`). */
  destroy(err: Error): void {
    this.output.destroy(err);
  }
}
