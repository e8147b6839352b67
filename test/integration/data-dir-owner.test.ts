/**
 * One data dir, one owner (issue 10, part 5), with real processes (`node dist/cli.js`) and the
 * real embedded PostgreSQL: beside a server running on DIR, `migrate` and `seed --data-dir DIR`
 * use its running cluster and the server keeps answering; a second `serve` on DIR refuses with
 * exit status 4. A postmaster left by a killed server is still recovered as before.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killChildren, serveEnv, startServeProcess, type ServeProcess } from '../support/serve-process.js';

const PASSWORD = 'data-dir-owner-password';
const cli = path.resolve('dist/cli.js');
const children = new Set<ChildProcess>();
let cleanups: (() => Promise<unknown>)[] = [];

const killAll = () => killChildren(children);

afterEach(async () => {
  await killAll();
  for (const fn of cleanups.reverse()) await fn().catch((err) => console.warn('data-dir-owner clean-up failed:', err));
  cleanups = [];
});
afterAll(killAll);

const env = (dataDir: string) => serveEnv({ STAGECRAFT_ADMIN_PASSWORD: PASSWORD, STAGECRAFT_DATA_DIR: dataDir, LOG_LEVEL: 'info' });

async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stagecraft-owner-'));
  await chmod(dir, 0o755);
  cleanups.push(async () => {
    // A cluster this test left running (it failed half-way) would keep the directory busy.
    const pid = await postmasterPid(dir);
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A one-shot CLI command: its exit status and output. */
function runCli(args: string[], dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [cli, ...args], { env: env(dataDir), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })));
}

const serve = (dataDir: string) => startServeProcess(env(dataDir), (child) => void children.add(child));

async function postmasterPid(dataDir: string): Promise<number | undefined> {
  const text = await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').catch(() => '');
  return Number(text.split('\n')[0]) || undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gql(url: string, query: string, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, body: await res.json() };
}

/** The server answers an authenticated query with data and no errors; returns the asset count. */
async function answers(server: ServeProcess, token: string): Promise<number> {
  const { status, body } = await gql(server.url, '{ me { username } assets(first: 1) { totalCount } }', token);
  expect({ status, errors: body.errors }).toEqual({ status: 200, errors: undefined });
  expect(body.data.me.username).toBe('admin');
  return body.data.assets.totalCount as number;
}

const login = async (url: string) => (await gql(url, `mutation { login(username: "admin", password: "${PASSWORD}") { token } }`)).body.data.login.token as string;

describe('one data dir, one owner', () => {
  it('migrate and seed beside a running server use its cluster; it keeps answering; a second serve refuses (exit 4)', async () => {
    const dir = await tempDataDir();
    const server = await serve(dir);
    const token = await login(server.url);
    expect(await answers(server, token)).toBe(0);
    const postmaster = await postmasterPid(dir);
    expect(postmaster).toBeGreaterThan(0);

    const migrate = await runCli(['migrate', '--data-dir', dir], dir);
    expect(migrate.stderr).toBe('');
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toContain('database schema is up to date');
    expect(migrate.stdout).toContain('using the embedded PostgreSQL of the running Stagecraft process');
    expect(migrate.stdout).not.toContain('stopping a PostgreSQL left running');
    expect(await answers(server, token)).toBe(0);

    const seed = await runCli(['seed', '--data-dir', dir], dir);
    expect(seed.stderr).toBe('');
    expect(seed.code).toBe(0);
    const loaded = Number(/demo catalog loaded: (\d+) assets/.exec(seed.stdout)?.[1]);
    expect(loaded).toBeGreaterThan(0);
    // The server sees what seed wrote: one cluster, shared.
    expect(await answers(server, token)).toBe(loaded);

    const second = await runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dir], dir);
    expect(second.code).toBe(4);
    const lines = second.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `stagecraft: data directory ${dir} is in use by "stagecraft serve" (pid ${server.process.pid}); stop it first or choose another --data-dir`,
    );

    // Same postmaster all along, and the server still answers.
    expect(await postmasterPid(dir)).toBe(postmaster);
    expect(alive(postmaster!)).toBe(true);
    expect(await answers(server, token)).toBe(loaded);
    expect(server.output()).not.toMatch(/INTERNAL_SERVER_ERROR|terminating connection/);

    // The owner stops: its cluster and its claim go with it.
    server.process.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(alive(postmaster!)).toBe(false);
    await expect(stat(path.join(dir, 'owner.json'))).rejects.toThrow();

    // Alone, migrate runs a cluster of its own and stops it again.
    const alone = await runCli(['migrate', '--data-dir', dir], dir);
    expect(alone.code).toBe(0);
    expect(alone.stdout).toContain('database schema is up to date');
    expect(alone.stdout).not.toContain('using the embedded PostgreSQL of the running Stagecraft process');
    expect(await postmasterPid(dir)).toBeUndefined();
    console.info(`data-dir-owner: migrate beside the server ${migrate.ms} ms, seed ${seed.ms} ms, refused serve ${second.ms} ms, migrate alone ${alone.ms} ms`);
  });

  it('a postmaster left by a killed server is still recovered by the next command', async () => {
    const dir = await tempDataDir();
    const server = await serve(dir);
    const postmaster = await postmasterPid(dir);
    server.process.kill('SIGKILL');
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(alive(postmaster!)).toBe(true); // the orphan

    const migrate = await runCli(['migrate', '--data-dir', dir], dir);
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toContain('stopping a PostgreSQL left running by an earlier process');
    expect(migrate.stdout).toContain('database schema is up to date');
    expect(alive(postmaster!)).toBe(false);
    expect(await postmasterPid(dir)).toBeUndefined();

    // And a server starts on it again.
    const again = await serve(dir);
    expect(await answers(again, await login(again.url))).toBe(0);
    again.process.kill('SIGTERM');
    expect(await again.exited).toEqual({ code: 0, signal: null });
  });
});
