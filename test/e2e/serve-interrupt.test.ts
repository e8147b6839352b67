/**
 * `stagecraft serve` with its embedded PostgreSQL, interrupted during its own start-up: Ctrl-C
 * (SIGINT to the whole process group, PostgreSQL included) and SIGTERM to the server alone
 * (PostgreSQL keeps starting and must be stopped by the server) both end with exit 0, no
 * PostgreSQL left running and the data directory given up (no owner file).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../support/polling.js';
import { processesUsing } from '../support/processes.js';
import { serveEnv } from '../support/serve-process.js';

const dirs: string[] = [];
const groups: number[] = [];
afterAll(() => {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const cases: { name: string; interrupt: (pid: number) => void; reached: (dataDir: string) => boolean }[] = [
  { name: 'Ctrl-C while initdb runs', interrupt: (pid) => process.kill(-pid, 'SIGINT'), reached: (dir) => existsSync(path.join(dir, 'pg')) },
  { name: 'Ctrl-C while PostgreSQL starts', interrupt: (pid) => process.kill(-pid, 'SIGINT'), reached: (dir) => existsSync(path.join(dir, 'pg', 'postmaster.pid')) },
  { name: 'SIGTERM to the server alone while PostgreSQL starts', interrupt: (pid) => process.kill(pid, 'SIGTERM'), reached: (dir) => existsSync(path.join(dir, 'pg', 'postmaster.pid')) },
  {
    name: 'Ctrl-C during migrations (cluster up)',
    interrupt: (pid) => process.kill(-pid, 'SIGINT'),
    reached: (dir) => existsSync(path.join(dir, 'owner.json')) && /"port":\d+/.test(readFileSync(path.join(dir, 'owner.json'), 'utf8')),
  },
];

describe('stagecraft serve interrupted during start-up', () => {
  it(
    'stops within seconds at every phase, leaving no PostgreSQL and no owner file',
    async () => {
      for (const c of cases) {
        const dataDir = mkdtempSync(path.join(os.tmpdir(), 'stagecraft-serve-int-'));
        dirs.push(dataDir);
        // Its own process group, as a terminal gives it, so Ctrl-C can reach all of it.
        const child = spawn(process.execPath, [path.resolve('dist/cli.js'), 'serve', '--port', '0', '--host', '127.0.0.1'], {
          env: serveEnv({ STAGECRAFT_DATA_DIR: dataDir, STAGECRAFT_ADMIN_PASSWORD: 'interrupt-me-123', LOG_LEVEL: 'info' }),
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
        groups.push(child.pid!);
        let out = '';
        child.stdout!.on('data', (d) => (out += d));
        child.stderr!.on('data', (d) => (out += d));
        const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
        await until(`${c.name}:\n${out}`, async () => c.reached(dataDir), Boolean, 60_000, 10);
        c.interrupt(child.pid!);
        const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running after 20 s'), 20_000))]);
        expect(code, `${c.name}: ${out}`).toBe(0);
        expect(out, c.name).not.toContain('is up.');
        expect(processesUsing(dataDir), c.name).toEqual([]);
        expect(existsSync(path.join(dataDir, 'owner.json')), c.name).toBe(false);
        expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid')), c.name).toBe(false);
      }
    },
    150_000,
  );
});
