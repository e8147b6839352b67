/**
 * `npm run demo` as a person runs it (node scripts/demo.mjs, a real child process): it tells the
 * GraphiQL address and the admin password, and SIGTERM or Ctrl-C (SIGINT to its whole process
 * group, as a terminal sends it) — after set-up or in the middle of it — leaves no temporary
 * directory and no PostgreSQL behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { createTestDatabase } from '../support/database.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
});

interface Demo {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first match of `pattern` in the output. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

function startDemo(env: Record<string, string>): Demo {
  const { DATABASE_URL: _ignored, ...rest } = process.env;
  // Its own process group, so a test can send SIGINT to all of it as a terminal's Ctrl-C does.
  const child = spawn(process.execPath, [path.resolve('scripts/demo.mjs')], { env: { ...rest, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    waitFor: (pattern, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(out);
          if (!match) return false;
          clearTimeout(timer);
          child.stdout!.off('data', check);
          resolve(match);
          return true;
        };
        const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${out}`)), timeoutMs);
        if (!check()) child.stdout!.on('data', check);
        void exited.then(() => setTimeout(() => check() || reject(new Error(`demo exited before ${pattern}:\n${out}`)), 50));
      }),
  };
}

/** Processes whose command line mentions `dir` (a PostgreSQL serving a cluster in it, say). */
function processesUsing(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(dir)) found.push(`${pid}: ${cmdline}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

describe('npm run demo', () => {
  it('prints the GraphiQL address and the admin password, and removes its directory on SIGTERM', async () => {
    const db = await createTestDatabase();
    try {
      const demo = startDemo({ DATABASE_URL: db.url, STAGECRAFT_DEMO_GATEWAY_PORT: String(await freePort()) });
      const [, dataDir] = await demo.waitFor(/Data directory (\S+)/);
      const [, graphiql, password] = await demo.waitFor(/GraphiQL:\s+(http:\/\/\S+)\/graphql\s+\(user admin, password (\S+)\)/);
      expect(existsSync(dataDir!)).toBe(true);
      // the printed password signs in at the printed address
      const login = await fetch(`${graphiql}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation($p: String!) { login(username: "admin", password: $p) { token } }', variables: { p: password } }),
      });
      expect(((await login.json()) as any).data.login.token).toMatch(/^scs_/);

      demo.child.kill('SIGTERM');
      expect(await demo.exited).toBe(0);
      expect(existsSync(dataDir!)).toBe(false);
    } finally {
      await db.drop();
    }
  });

  it('removes its directory, embedded PostgreSQL included, on Ctrl-C in the middle of set-up', async () => {
    // No DATABASE_URL: the demo starts its own embedded PostgreSQL in the directory.
    const demo = startDemo({ STAGECRAFT_DEMO_GATEWAY_PORT: String(await freePort()) });
    const [, dataDir] = await demo.waitFor(/Data directory (\S+)/);
    await demo.waitFor(/1\. Starting Stagecraft/);
    await new Promise((r) => setTimeout(r, 1_500)); // the cluster is being created
    process.kill(-demo.child.pid!, 'SIGINT');
    expect(await demo.exited, demo.output()).toBe(0);
    expect(demo.output()).toContain('SIGINT: stopping the demo');
    expect(existsSync(dataDir!)).toBe(false);
    expect(processesUsing(dataDir!)).toEqual([]);
  });
});
