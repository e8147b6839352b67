/**
 * Receives an upload within a size limit, counting as it goes: one over the limit is refused
 * (413) as soon as it crosses it, without reading the rest into anything. A small upload that
 * declares its length (a promotion's archive, typically) is kept in memory; anything else is
 * spooled to a temporary file, so a large upload never sits in memory.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request } from 'express';

/** What the JSON error handler answers 413 PAYLOAD_TOO_LARGE for (the shape body parsers use). */
export class PayloadTooLargeError extends Error {
  readonly status = 413;
  readonly expose = true;
}

/**
 * Uploads declaring at most this many bytes are received in memory. At most
 * `concurrentImports` uploads are received at once, so this bounds what they hold together.
 */
export const IN_MEMORY_UPLOAD_BYTES = 16 * 1024 * 1024;

export interface ReceivedUpload {
  /** The upload itself (small ones) or the file holding it. */
  source: Buffer | { path: string };
  bytes: number;
  /** Deletes the file, if any; call it when done, success or not. */
  remove(): Promise<void>;
}

export async function receiveUpload(req: Request, maxBytes: number): Promise<ReceivedUpload> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = () => new PayloadTooLargeError(`the upload exceeds the limit of ${maxBytes} bytes`);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume(); // discard the body; the answer does not wait for it
    throw tooLarge();
  }
  if (Number.isFinite(declared) && declared <= IN_MEMORY_UPLOAD_BYTES) {
    // Node's parser ends the body after the declared length: it cannot grow past it.
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const data = Buffer.concat(chunks);
    return { source: data, bytes: data.length, remove: async () => undefined };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stagecraft-upload-'));
  const file = path.join(dir, 'upload.bin');
  const remove = () => rm(dir, { recursive: true, force: true });
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      done(bytes > maxBytes ? tooLarge() : null, chunk);
    },
  });
  try {
    await pipeline(req, counter, createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    await remove();
    if (err instanceof PayloadTooLargeError) req.resume();
    throw err;
  }
  return { source: { path: file }, bytes, remove };
}
