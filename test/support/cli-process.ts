/**
 * The built CLI (dist/cli.js) as a pipeline runs it: a child process, asynchronous (the servers
 * under test live in the test's own process), without the STAGECRAFT_* client settings of the
 * environment that runs the tests.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

const cliPath = path.resolve('dist/cli.js');

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const { STAGECRAFT_SERVER: _s, STAGECRAFT_TOKEN: _t, STAGECRAFT_ARCHIVE_PASSPHRASE: _p, ...rest } = process.env;
  const child = spawn(process.execPath, [cliPath, ...args], { env: { ...rest, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** One line on stderr: `stagecraft: CODE: message`. */
export const oneErrorLine = (code: string) => new RegExp(`^stagecraft: ${code}: [^\\n]+\\n$`);
