/**
 * `stagecraft export` and `stagecraft import`: the archive endpoints of a running server, for
 * pipelines. Export streams the ZIP to a file (written aside and renamed when complete) or to
 * stdout; import uploads a file and prints the report.
 */
import { openAsBlob } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { CliError, EXIT, formatBytes, parseCommandArgs, printable, usageError, type CliIO } from './command.js';
import { connectionHelp, connectionOptions, resolveConnection, serverRequest } from './http.js';
import { assetSelection, list, selectionHelp, selectionOptions, type SelectionValues } from './selection.js';

const PASSPHRASE_ENV = 'STAGECRAFT_ARCHIVE_PASSPHRASE';

// ---------------------------------------------------------------------------------------------
// export

export const exportUsage =
  'usage: stagecraft export --server URL --token TOKEN (--asset ID... | [--keyword K] [--type TYPE]... [--team NAME]...)\n' +
  '                         [--optional all|none|selected] [--optional-id ID]... [--passphrase P] [--output FILE [--json]]';

const exportHelp = `${exportUsage}

Writes a ZIP archive of the chosen assets and their required dependencies to stdout, or to
FILE (written aside and renamed when complete). ${selectionHelp}
--passphrase (or ${PASSPHRASE_ENV}) seals secure values into the archive; without it they are
left out. --json (with --output) prints what was written as JSON on stdout: file, assets, bytes.
${connectionHelp}

Exit status: 0 archive written, 2 bad command line or unwritable FILE, 3 the server refused
the request or could not be reached, or the transfer broke.
`;

const exportOptions = {
  ...connectionOptions,
  ...selectionOptions,
  passphrase: { type: 'string' },
  output: { type: 'string', short: 'o' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The JSON body of `POST /archive/export` (the server resolves a filter itself). */
export const exportSelection = (values: SelectionValues) => assetSelection(values, exportUsage, 'export');

export async function exportCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(args, exportOptions, exportUsage);
  if (values.help) {
    io.stdout.write(exportHelp);
    return EXIT.OK;
  }
  const conn = resolveConnection(values, io, exportUsage);
  const selection = exportSelection(values);
  const passphrase = values.passphrase ?? (io.env[PASSPHRASE_ENV] || undefined);
  const output = values.output && values.output !== '-' ? values.output : null;
  if (values.json && !output) throw usageError('--json prints a summary on stdout, so it needs --output FILE for the archive', exportUsage);
  if (!output && io.stdout.isTTY) {
    throw usageError('refusing to write a ZIP archive to a terminal; give --output FILE or redirect stdout', exportUsage);
  }

  // Open the file before asking the server, so a bad path costs nothing; write it aside and
  // rename it when complete, so FILE is never a partial archive.
  const partial = output ? path.join(path.dirname(output), `.${path.basename(output)}.${process.pid}.partial`) : null;
  const file = partial
    ? await open(partial, 'wx').catch((err: NodeJS.ErrnoException) => {
        throw usageError(`cannot write ${output}: ${err.code ?? err.message}`, exportUsage);
      })
    : null;
  let renamed = false;
  try {
    const res = await serverRequest(conn, 'archive/export', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/zip' },
      body: JSON.stringify({ ...selection, ...(passphrase !== undefined ? { passphrase } : {}) }),
    });
    const type = res.headers.get('content-type') ?? '';
    if (!/^application\/zip\b/i.test(type) || !res.body) {
      await res.body?.cancel();
      throw new CliError(EXIT.FAILED, 'UNEXPECTED_RESPONSE', `the server answered ${type || 'no content type'}, not application/zip`);
    }
    const progress = new Progress(io.stderr);
    const counter = new ArchiveCounter((bytes) => progress.update(bytes));
    const source = Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>);
    let sourceError: unknown = null;
    source.once('error', (err) => (sourceError ??= err));
    try {
      await pipeline(source, counter, file ? file.createWriteStream() : io.stdout);
    } catch (err) {
      progress.done();
      const where = output ? `${output} was not written` : 'the output is incomplete';
      if (sourceError) {
        throw new CliError(EXIT.FAILED, 'TRANSFER_FAILED', `the archive stream broke after ${counter.bytes} bytes (${describe(sourceError)}); ${where}`);
      }
      const code = (err as NodeJS.ErrnoException).code;
      throw new CliError(EXIT.FAILED, 'WRITE_FAILED', code === 'EPIPE' ? 'stdout was closed before the archive was complete' : `cannot write the archive: ${describe(err)}; ${where}`);
    }
    progress.done();
    if (!counter.complete()) {
      throw new CliError(EXIT.FAILED, 'TRANSFER_FAILED', `the archive ended after ${counter.bytes} bytes without its ZIP end record; ${output ? `${output} was not written` : 'the output is incomplete'}`);
    }
    if (partial && output) {
      await rename(partial, output);
      renamed = true;
    }
    const count = res.headers.get('x-asset-count');
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ file: output, assets: count === null ? null : Number(count), bytes: counter.bytes })}\n`);
      return EXIT.OK;
    }
    io.stderr.write(`exported ${count ? `${count} asset${count === '1' ? '' : 's'}` : 'the archive'} (${formatBytes(counter.bytes)}) to ${output ?? 'stdout'}\n`);
    return EXIT.OK;
  } finally {
    await file?.close().catch(() => undefined);
    if (partial && !renamed) await unlink(partial).catch(() => undefined);
  }
}

const describe = (err: unknown) => {
  const cause = (err as { cause?: unknown })?.cause;
  const message = err instanceof Error ? err.message : String(err);
  return cause instanceof Error && cause.message ? `${message}: ${cause.message}` : message;
};

/** Counts the bytes passing through and keeps the tail, to check the ZIP's end record. */
class ArchiveCounter extends Transform {
  bytes = 0;
  private tail = Buffer.alloc(0);
  private static readonly END_RECORD = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
  /** The end record (22 bytes) plus the longest possible ZIP comment. */
  private static readonly TAIL = 22 + 0xffff;

  constructor(private readonly onBytes: (bytes: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void) {
    this.bytes += chunk.length;
    const joined = Buffer.concat([this.tail, chunk]);
    // a copy, so the tail does not keep a whole chunk alive
    this.tail = joined.length > ArchiveCounter.TAIL ? Buffer.from(joined.subarray(joined.length - ArchiveCounter.TAIL)) : joined;
    this.onBytes(this.bytes);
    done(null, chunk);
  }

  /** True when the stream ended with a ZIP end-of-central-directory record. */
  complete(): boolean {
    const at = this.tail.lastIndexOf(ArchiveCounter.END_RECORD);
    return at !== -1 && this.tail.length - at >= 22;
  }
}

/** Bytes received, redrawn on one line of a terminal stderr; nothing on a pipe. */
class Progress {
  private last = 0;
  private shown = false;
  constructor(private readonly stderr: CliIO['stderr']) {}

  update(bytes: number) {
    if (!this.stderr.isTTY) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    this.shown = true;
    this.stderr.write(`\r\x1b[Kreceiving archive: ${formatBytes(bytes)}`);
  }

  done() {
    if (this.shown) this.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}

// ---------------------------------------------------------------------------------------------
// import

export const importUsage =
  'usage: stagecraft import FILE --server URL --token TOKEN [--overwrite none|all|custom] [--types API,POLICY]\n' +
  '                         [--fix-missing-versions] [--passphrase P] [--dry-run] [--json]';

const importHelp = `${importUsage}

Uploads the archive FILE and prints the import report (--json: the report as JSON).
An asset identical to the one on the server is UNCHANGED (never a failure, not written), so
importing the same archive again succeeds. --overwrite decides what happens to assets that
exist with other content: none (they fail), all (they are replaced), custom (only the --types
listed are replaced). --dry-run prints the plan: the report the import would give, every asset
with what would happen to it (CREATED, REPLACED, UNCHANGED, WARNING, FAILURE); nothing is written.
--passphrase (or ${PASSPHRASE_ENV}) opens secure values sealed at export.
${connectionHelp}

Exit status: 0 no asset failed (or, with --dry-run, would fail), 1 some or all assets failed, 2 bad command line or
unreadable FILE, 3 the server refused the archive (nothing imported) or could not be reached.
`;

const importOptions = {
  ...connectionOptions,
  overwrite: { type: 'string' },
  types: { type: 'string', multiple: true },
  'fix-missing-versions': { type: 'boolean' },
  passphrase: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ImportReport {
  /** Null for a dry run (nothing stored). */
  id: string | null;
  dryRun?: boolean;
  status: 'SUCCESS' | 'PARTIAL_SUCCESS' | 'FAILURE';
  types: { type: string; successful: number; unsuccessful: number; created?: number; replaced: number; unchanged?: number; warnings: number }[];
  assets: { id: string; name: string; type: string; status: string; explanation: string }[];
}

export async function importCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, importOptions, importUsage, true);
  if (values.help) {
    io.stdout.write(importHelp);
    return EXIT.OK;
  }
  if (positionals.length !== 1) throw usageError(positionals.length ? `one archive FILE, not ${positionals.length}` : 'missing the archive FILE', importUsage);
  const conn = resolveConnection(values, io, importUsage);
  const overwrite = (values.overwrite ?? 'none').toLowerCase();
  if (!['none', 'all', 'custom'].includes(overwrite)) throw usageError(`--overwrite must be none, all or custom (got "${values.overwrite}")`, importUsage);
  const types = list(values.types).map((t) => t.toUpperCase());
  if (overwrite === 'custom' && !types.length) throw usageError('--overwrite custom needs --types, e.g. --types API,POLICY', importUsage);
  if (overwrite !== 'custom' && types.length) throw usageError('--types goes with --overwrite custom', importUsage);
  const passphrase = values.passphrase ?? (io.env[PASSPHRASE_ENV] || undefined);
  // It travels in the X-Archive-Passphrase header, which carries ASCII only.
  if (passphrase !== undefined && !/^[\x20-\x7e]*$/.test(passphrase)) throw usageError('--passphrase must be printable ASCII for import', importUsage);

  const file = positionals[0]!;
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw usageError(`cannot read ${file}: ${err.code ?? err.message}`, importUsage);
  });
  if (!info.isFile()) throw usageError(`cannot read ${file}: not a file`, importUsage);
  const archive = await openAsBlob(file, { type: 'application/zip' });

  const query = new URLSearchParams({
    overwrite,
    ...(types.length ? { types: types.join(',') } : {}),
    fixMissingVersions: String(Boolean(values['fix-missing-versions'])),
    ...(values['dry-run'] ? { dryRun: 'true' } : {}),
  });
  const res = await serverRequest(conn, `archive/import?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/zip', accept: 'application/json', ...(passphrase ? { 'x-archive-passphrase': passphrase } : {}) },
    body: archive as unknown as Blob,
  });
  const text = await res.text();
  let report: ImportReport;
  try {
    report = JSON.parse(text);
  } catch {
    report = null as unknown as ImportReport;
  }
  if (!report || (typeof report.id !== 'string' && !(report.dryRun && report.id === null)) || typeof report.status !== 'string' || !Array.isArray(report.types) || !Array.isArray(report.assets)) {
    throw new CliError(EXIT.FAILED, 'UNEXPECTED_RESPONSE', 'the server did not answer with an import report');
  }
  io.stdout.write(values.json ? `${text.trimEnd()}\n` : formatReport(report));
  return report.status === 'SUCCESS' ? EXIT.OK : EXIT.INCOMPLETE;
}

/**
 * The report for people: counts per type, then every asset that was not simply created or
 * unchanged. A dry run is the plan, so it lists every asset with what would happen to it.
 */
export function formatReport(report: ImportReport): string {
  const n = report.assets.length;
  const failed = report.assets.filter((a) => a.status === 'FAILURE').length;
  const verb = report.dryRun ? 'would be imported' : 'imported';
  const lines = [`${report.dryRun ? 'dry run: ' : ''}import ${printable(report.status)}: ${n - failed} of ${n} asset${n === 1 ? '' : 's'} ${verb}`];
  const header = ['type', 'successful', 'unsuccessful', 'created', 'replaced', 'unchanged', 'warnings'];
  const rows = report.types.map((t) =>
    [t.type, t.successful, t.unsuccessful, t.created ?? 0, t.replaced, t.unchanged ?? 0, t.warnings].map((c, i) => (i === 0 ? printable(String(c)) : String(c))),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const row = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
  lines.push(row(header), ...rows.map(row));
  const notable = report.dryRun ? report.assets : report.assets.filter((a) => a.status !== 'CREATED' && a.status !== 'UNCHANGED');
  if (notable.length) {
    lines.push('');
    const statusWidth = Math.max(...notable.map((a) => a.status.length));
    for (const a of notable) {
      lines.push(`  ${printable(a.status).padEnd(statusWidth)}  ${printable(a.type)} ${printable(a.name)} (${printable(a.id)})${a.explanation ? `: ${printable(a.explanation)}` : ''}`);
    }
  }
  lines.push('', report.dryRun || report.id === null ? 'dry run: nothing was written' : `report: ${printable(report.id)}`);
  return `${lines.join('\n')}\n`;
}
