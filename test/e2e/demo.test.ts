/**
 * `npm run demo` as a person runs it (node scripts/demo.mjs, a real child process): it tells the
 * GraphiQL address and the admin password, and SIGTERM or Ctrl-C (SIGINT to its whole process
 * group, as a terminal sends it) — after set-up or in the middle of it — leaves no temporary
 * directory and no PostgreSQL behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../support/polling.js';
import { processesUsing } from '../support/processes.js';
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

describe('npm run demo', () => {
  it('prints the GraphiQL address and the admin password, and removes its directory on SIGTERM', { timeout: 60_000 }, async () => {
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

  // A terminal's Ctrl-C reaches initdb, PostgreSQL and the gateway as well as the demo, so each
  // phase fails in its own way (initdb dies, the start promise rejects, migrations lose their
  // connection, PostgreSQL is gone before it is stopped …). The moments are phases, not delays,
  // so a loaded machine still hits each of them.
  const phases: { name: string; reached: (dataDir: string, output: string) => boolean }[] = [
    { name: 'initdb creating the cluster', reached: (dir) => existsSync(path.join(dir, 'pg')) },
    { name: 'PostgreSQL starting', reached: (dir) => existsSync(path.join(dir, 'pg', 'postmaster.pid')) },
    { name: 'migrations and the demo catalog (cluster up)', reached: (dir) => /"port":\d+/.test(readIfExists(path.join(dir, 'owner.json'))) },
    { name: 'the gateway instance starting', reached: (_dir, output) => output.includes('3. Creating the Production Group') },
  ];

  it(
    'removes its directory, embedded PostgreSQL included, on Ctrl-C at any phase of set-up',
    async () => {
      for (const phase of phases) {
        // No DATABASE_URL: the demo starts its own embedded PostgreSQL in the directory.
        const demo = startDemo({ STAGECRAFT_DEMO_GATEWAY_PORT: String(await freePort()) });
        const [, dataDir] = await demo.waitFor(/Data directory (\S+)/);
        await until(`${phase.name}:\n${demo.output()}`, async () => phase.reached(dataDir!, demo.output()), Boolean, 60_000, 10);
        process.kill(-demo.child.pid!, 'SIGINT');
        const stopped = Date.now();
        const code = await Promise.race([demo.exited, new Promise((r) => setTimeout(() => r('still running after 20 s'), 20_000))]);
        expect(code, `${phase.name}: ${demo.output()}`).toBe(0);
        expect(Date.now() - stopped).toBeLessThan(20_000);
        expect(demo.output()).toContain('SIGINT: stopping the demo');
        expect(existsSync(dataDir!), phase.name).toBe(false);
        expect(processesUsing(dataDir!), phase.name).toEqual([]);
      }
    },
    150_000,
  );
});

function readIfExists(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

