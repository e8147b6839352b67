/**
 * Receives an upload within a size limit, counting as it goes: one over the limit is refused
 * (413) as soon as it crosses it, without reading the rest into anything. A small upload that
 * declares its length (a promotion's archive, typically) is kept in memory; anything else is
 * spooled to a temporary file, so a large upload never sits in memory. An upload that stops
 * sending for `idleMs` is refused (408): it must not hold an import slot while it stalls.
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

/** What the JSON error handler answers 408 REQUEST_TIMEOUT for (and closes the connection). */
export class UploadStalledError extends Error {
  readonly status = 408;
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

export interface UploadLimits {
  maxBytes: number;
  /** Longest the client may go without sending a byte. */
  idleMs: number;
}

export async function receiveUpload(req: Request, { maxBytes, idleMs }: UploadLimits): Promise<ReceivedUpload> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = () => new PayloadTooLargeError(`the upload exceeds the limit of ${maxBytes} bytes`);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume(); // discard the body; the answer does not wait for it
    throw tooLarge();
  }
  if (Number.isFinite(declared) && declared <= IN_MEMORY_UPLOAD_BYTES) {
    // Node's parser ends the body after the declared length: it cannot grow past it.
    const data = await readAll(req, idleMs);
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
  // The request is piped, not part of the pipeline, so a refusal leaves its socket open for
  // the answer (a pipeline would destroy it on any error).
  const onRequestError = (err: Error) => counter.destroy(err);
  const onRequestClose = () => {
    if (!req.complete) counter.destroy(new Error('the client broke off the upload'));
  };
  req.once('error', onRequestError).once('close', onRequestClose);
  req.pipe(counter);
  const stopGuard = stallGuard(req, idleMs, (err) => {
    req.unpipe(counter);
    counter.destroy(err);
  });
  try {
    await pipeline(counter, createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    req.unpipe(counter);
    await remove();
    if (err instanceof PayloadTooLargeError) req.resume();
    throw err;
  } finally {
    stopGuard();
    req.off('error', onRequestError).off('close', onRequestClose);
  }
  return { source: { path: file }, bytes, remove };
}

/** The whole body in memory; rejects if it stalls for `idleMs`, breaks off or fails. */
function readAll(req: Request, idleMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    const onEnd = () => settle(() => resolve(Buffer.concat(chunks)));
    const onError = (err: Error) => settle(() => reject(err));
    const onClose = () => {
      if (!req.complete) settle(() => reject(new Error('the client broke off the upload')));
    };
    const stopGuard = stallGuard(req, idleMs, (err) =>
      settle(() => {
        req.pause();
        reject(err);
      }),
    );
    function settle(then: () => void) {
      stopGuard();
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      then();
    }
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** Calls `stalled` once if `req` sends nothing for `idleMs`; returns the function that stops watching. */
function stallGuard(req: Request, idleMs: number, stalled: (err: UploadStalledError) => void): () => void {
  const timer = setTimeout(() => {
    req.off('data', bump);
    stalled(new UploadStalledError(`the upload sent nothing for ${Math.round(idleMs / 1000)} s`));
  }, idleMs);
  const bump = () => timer.refresh();
  req.on('data', bump);
  return () => {
    clearTimeout(timer);
    req.off('data', bump);
  };
}
