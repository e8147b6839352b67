/**
 * What every client command of the CLI shares: strict flag parsing, exit codes, the one-line
 * error format, and the streams and environment it runs with (injectable for tests).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Exit codes of the client commands (export, import, and later promote). */
export const EXIT = {
  OK: 0,
  /** The operation ran but not everything succeeded (an import with failed assets). */
  INCOMPLETE: 1,
  /** The command line is wrong: unknown flag, missing value, unreadable input file … */
  USAGE: 2,
  /** The server refused the request or could not be reached, or the transfer broke. */
  FAILED: 3,
} as const;

export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export const processIO = (): CliIO => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

/** A failure to report as `stagecraft: <code>: <message>` (or without a code) and exit with. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    readonly code: string | null,
    message: string,
    /** A usage line printed after the message. */
    readonly usage?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string, usage: string) => new CliError(EXIT.USAGE, null, message, usage);

/** Control characters (terminal escapes included) from the server or an archive, made visible. */
export const printable = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\n' ? ' ' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));

export function errorLine(err: CliError): string {
  return `stagecraft: ${err.code ? `${printable(err.code)}: ` : ''}${printable(err.message)}\n${err.usage ? `${err.usage}\n` : ''}`;
}

/** `parseArgs` with strict options; a bad command line becomes a usage error (exit 2). */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, usage: string, allowPositionals = false) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) throw usageError((err as Error).message.split('\n')[0]!, usage);
    throw err;
  }
}

/** Runs a client command: prints a CliError as one line and returns the exit code. */
export async function runClientCommand(command: (args: string[], io: CliIO) => Promise<number>, args: string[], io: CliIO = processIO()): Promise<number> {
  try {
    return await command(args, io);
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    io.stderr.write(errorLine(err));
    return err.exitCode;
  }
}

const units = ['bytes', 'KiB', 'MiB', 'GiB'];
export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}
