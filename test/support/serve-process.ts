/**
 * The real `stagecraft serve` as a child process (built CLI), for tests that kill or restart
 * it: its GraphQL URL, its parsed JSON log lines, and a wait for a given log message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase } from './database.js';

const cli = path.resolve('dist/cli.js');

export interface ServeProcess {
  process: ChildProcess;
  url: string;
  /** Parsed JSON log lines, in order. */
  logs: Record<string, any>[];
  output: () => string;
  /** Resolves with the first log line whose msg is `msg`. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, any>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The test run's environment without its own Stagecraft settings, plus `extra`. */
export function serveEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const rest = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('STAGECRAFT_') && !['DATABASE_URL', 'PORT', 'HOST', 'LOG_LEVEL', 'NODE_ENV'].includes(k)),
  );
  return { ...rest, LOG_LEVEL: 'info', ...extra };
}

/** `stagecraft serve` as a child; resolves once its banner (stderr) gave its GraphQL URL. */
export async function startServeProcess(env: NodeJS.ProcessEnv, onSpawn: (child: ChildProcess) => void = () => undefined): Promise<ServeProcess> {
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--host', '127.0.0.1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  onSpawn(child); // tracked before it is up, so a failed start is still cleaned up
  let out = '';
  let pending = '';
  const logs: Record<string, any>[] = [];
  const waiters: { msg: string; resolve: (line: Record<string, any>) => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d;
    pending += d;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      let parsed: Record<string, any>;
      try {
        parsed = JSON.parse(line) as Record<string, any>;
      } catch {
        continue;
      }
      logs.push(parsed);
      for (const w of waiters.filter((w) => w.msg === parsed.msg)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(parsed);
      }
    }
  });
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    // the banner is on stderr (stdout is the JSON log's)
    child.stderr!.on('data', () => {
      const match = /GraphQL:\s+(http:\/\/\S+)\/graphql/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before it was up:\n${out}`));
    });
  });
  return {
    process: child,
    url,
    logs,
    output: () => out,
    exited,
    waitForLog(msg, timeoutMs = 30_000) {
      const seen = logs.find((l) => l.msg === msg);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${msg}" log line within ${timeoutMs} ms:\n${out.slice(-5000)}`)), timeoutMs);
        waiters.push({
          msg,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
  };
}

/** SIGKILLs every child in `children` that still runs, waits for each to be gone, and empties the set. */
export async function killChildren(children: Set<ChildProcess>): Promise<void> {
  await Promise.all(
    [...children].map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await gone;
      }
      children.delete(child);
    }),
  );
}

/**
 * `stagecraft serve` as a child process on a database and data directory of its own, created for
 * the test file: `stop()` kills it and removes both. `env` adds to serveEnv (NODE_ENV, passwords …).
 */
export async function serveOnFreshDatabase(dirPrefix: string, env: Record<string, string>): Promise<{ child: ServeProcess; stop(): Promise<void> }> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), dirPrefix));
  const spawned = new Set<ChildProcess>();
  const stop = async () => {
    await killChildren(spawned);
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const child = await startServeProcess(serveEnv({ DATABASE_URL: database.url, STAGECRAFT_DATA_DIR: dataDir, ...env }), (c) => void spawned.add(c));
    return { child, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
