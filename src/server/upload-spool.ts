/**
 * Spools a request body to a temporary file, counting as it goes: an upload never sits in memory,
 * and one over the limit is refused (413) as soon as it crosses it, without reading the rest
 * into anything.
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

export interface SpooledUpload {
  path: string;
  bytes: number;
  /** Deletes the file; call it when done, success or not. */
  remove(): Promise<void>;
}

export async function spoolToFile(req: Request, maxBytes: number): Promise<SpooledUpload> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = () => new PayloadTooLargeError(`the upload exceeds the limit of ${maxBytes} bytes`);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume(); // discard the body; the answer does not wait for it
    throw tooLarge();
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
  return { path: file, bytes, remove };
}
