/**
 * The real command line, as an operator runs it: `stagecraft serve` with the embedded
 * PostgreSQL, first-start admin password (stderr and a 0600 file, never stdout), stdout that is
 * JSON log lines only, readiness, graceful SIGTERM, and `migrate`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const cli = path.resolve('dist/cli.js');
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'stagecraft-cli-'));
  await chmod(dataDir, 0o755);
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

/** Environment without the test run's DATABASE_URL, so the embedded cluster is used. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, STAGECRAFT_ADMIN_PASSWORD: _pw, ...rest } = process.env;
  return { ...rest, LOG_LEVEL: 'warn', STAGECRAFT_DATA_DIR: dataDir, ...extra };
}

interface Served {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
}

async function startServe(): Promise<Served> {
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--host', '127.0.0.1'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}${err}`)), 60_000);
    child.stderr!.on('data', () => {
      const match = /GraphQL:\s+(http:\/\/\S+)\/graphql/.exec(err);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}${err}`)));
  });
  return { child, url, stdout: () => out, stderr: () => err };
}

/** Every stdout line is a JSON log line. */
function expectJsonLinesOnly(stdout: string) {
  const lines = stdout.split('\n').filter((l) => l !== '');
  for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

async function postmasterAlive(): Promise<boolean> {
  const pid = Number((await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A login on its own new connection. (A request written onto a pooled keep-alive connection at
 * the instant the server closes it as idle is lost by any HTTP server; clients retry those.)
 */
const loginOnFreshConnection = (url: string, password: string) =>
  new Promise<any>((resolve, reject) => {
    const body = JSON.stringify({ query: 'mutation($p: String!) { login(username: "admin", password: $p) { token } }', variables: { p: password } });
    const req = http.request(`${url}/graphql`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(JSON.parse(text)));
    });
    req.on('error', reject);
    req.end(body);
  });

const login = (url: string, password: string) =>
  fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'mutation($p: String!) { login(username: "admin", password: $p) { token } }', variables: { p: password } }),
  }).then((r) => r.json() as Promise<any>);

describe('stagecraft serve', () => {
  it('refuses a bad setting with one line and exit code 2', () => {
    const run = spawnSync(process.execPath, [cli, 'serve', '--port', 'abc'], { env: env(), encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual(['stagecraft: invalid configuration: --port / PORT must be a number (got "abc")']);
  });

  it('starts the embedded database, prints the admin password once, drains on SIGTERM and stops PostgreSQL', async () => {
    const first = await startServe();
    const password = /password: (\S+)/.exec(first.stderr())?.[1];
    expect(password).toBeTruthy();
    expect(first.stderr()).toMatch(/GraphiQL: http:\/\/127\.0\.0\.1:\d+\/graphql/);
    // the console's address, and the console is there
    const consoleUrl = /Console: {2}(http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(first.stderr())?.[1];
    expect(consoleUrl).toBeTruthy();
    expect(await (await fetch(consoleUrl!)).text()).toContain('<div id="root"></div>');
    // the password is also in a file only its owner can read, and the banner says where
    const passwordFile = path.join(dataDir, 'initial-admin-password');
    expect(first.stderr()).toContain(`password in ${passwordFile}`);
    expect((await readFile(passwordFile, 'utf8')).trim()).toBe(password);
    expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
    // stdout is the log's: JSON lines, no banner, no password
    expect(first.stdout()).not.toContain(password!);
    expect(first.stdout()).not.toContain('GraphQL:');
    expect(await (await fetch(`${first.url}/readyz`)).json()).toEqual({ status: 'ready' });
    expect(await postmasterAlive()).toBe(true);
    const token = (await login(first.url, password!)).data.login.token;

    // an open subscription socket and a burst of requests in flight when SIGTERM arrives
    const socket = new WebSocket(`${first.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((r) => socket.once('open', r));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } }));
    await new Promise((r) => socket.once('message', r));
    const socketClosed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    // Five argon2 logins (one hashing slot and four waiting, the fewest any machine allows at once)
    // run one after another for about a second; after 150 ms all have been read by the server and
    // most are still running or waiting. (Connections the kernel accepted but the server had
    // not yet read a request from are reset by any Node HTTP server's close(); clients retry.)
    const inFlight = Array.from({ length: 5 }, () => loginOnFreshConnection(first.url, password!).then((answer) => ({ answer, at: Date.now() })));
    await new Promise((r) => setTimeout(r, 150));
    const exit = exited(first.child);
    const killedAt = Date.now();
    first.child.kill('SIGTERM');

    const answers = await Promise.all(inFlight);
    for (const { answer } of answers) expect(answer.data.login.token).toMatch(/^scs_/);
    expect(answers.filter(({ at }) => at > killedAt).length).toBeGreaterThan(0); // they really were in flight
    expect(await socketClosed).toBe(1001);
    expect(await exit).toBe(0);
    expect(await postmasterAlive()).toBe(false);

    expectJsonLinesOnly(first.stdout());

    // a second start reuses the cluster and the admin, and prints no password
    const second = await startServe();
    expect(second.stdout()).not.toMatch(/password/i);
    expect(second.stderr()).not.toMatch(/password/i);
    expect((await login(second.url, password!)).data.login.token).toMatch(/^scs_/);
    const secondExit = exited(second.child);
    second.child.kill('SIGTERM');
    expect(await secondExit).toBe(0);
    expectJsonLinesOnly(second.stdout());
  });

  it('migrate applies migrations to the embedded database and reports it is up to date', () => {
    const run = spawnSync(process.execPath, [cli, 'migrate'], { env: env(), encoding: 'utf8' });
    expect(run.stdout).toContain('database schema is up to date');
    expect(run.status).toBe(0);
  });
});
