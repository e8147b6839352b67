/**
 * `stagecraft export` and `stagecraft import` as a pipeline runs them: the built CLI
 * (dist/cli.js) against a seeded source server and an empty target, over HTTP with tokens.
 */
import { spawn } from 'node:child_process';
import { rawKey } from '../../src/graphql/node-id.js';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCommand } from '../../src/cli/archive-commands.js';
import { runClientCommand, type CliIO } from '../../src/cli/command.js';
import { checksumsOf, manifestOf, unzip, zip } from '../support/archive.js';
import { startTestServer, type TestServer } from '../support/server.js';

const cliPath = path.resolve('dist/cli.js');
let source: TestServer;
let target: TestServer;
let sourceToken: string;
let targetToken: string;
let petstoreId: string;
let dir: string;

beforeAll(async () => {
  [source, target] = await Promise.all([startTestServer({ env: { STAGECRAFT_SEED: 'true', STAGECRAFT_STAGE: 'dev' } }), startTestServer({ env: { STAGECRAFT_STAGE: 'qa' } })]);
  [sourceToken, targetToken] = await Promise.all([source.adminToken(), target.adminToken()]);
  const res = await source.gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { assetId } } } }', {}, sourceToken);
  petstoreId = res.data!.assets.edges[0].node.assetId;
  dir = await mkdtemp(path.join(os.tmpdir(), 'stagecraft-cli-archive-'));
});
afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs the built CLI. Asynchronously: the servers live in this process, so a spawnSync would
 * block the very event loop that has to answer the CLI.
 */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { STAGECRAFT_SERVER: _s, STAGECRAFT_TOKEN: _t, STAGECRAFT_ARCHIVE_PASSPHRASE: _p, ...rest } = process.env;
  const child = spawn(process.execPath, [cliPath, ...args], { env: { ...rest, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => stdout.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout: Buffer.concat(stdout), stderr }));
  });
}

const at = (server: TestServer, token: string) => ['--server', server.url, '--token', token];
const importReportCount = async () => (await target.gql('{ importReports { totalCount } }', {}, targetToken)).data!.importReports.totalCount as number;
/** One line on stderr: `stagecraft: CODE: message`. */
const oneErrorLine = (code: string) => new RegExp(`^stagecraft: ${code}: [^\\n]+\\n$`);

describe('stagecraft export', () => {
  it('writes the Petstore archive to a file and, the same assets, to stdout', async () => {
    const file = path.join(dir, 'petstore.zip');
    const toFile = await cli(['export', ...at(source, sourceToken), '--asset', petstoreId, '--output', file]);
    expect(toFile.stderr).toMatch(/^exported 6 assets \((\d+ bytes|\d+\.\d KiB)\) to /);
    expect(toFile.stderr.endsWith(` to ${file}\n`)).toBe(true);
    expect(toFile.status).toBe(0);
    expect(toFile.stdout.length).toBe(0);
    const archive = await readFile(file);
    expect((await manifestOf(archive)).entries.map((e: any) => e.type).sort()).toEqual(['ALIAS', 'ALIAS', 'API', 'POLICY', 'POLICY', 'POLICY']);
    expect(await readdir(dir)).toEqual(['petstore.zip']); // nothing left aside

    const toStdout = await cli(['export', ...at(source, sourceToken), '--asset', petstoreId]);
    expect(toStdout.status).toBe(0);
    expect(toStdout.stderr).toMatch(/^exported 6 assets \(.+\) to stdout\n$/);
    expect(await checksumsOf(toStdout.stdout)).toEqual(await checksumsOf(archive));

    const jsonFile = path.join(dir, 'petstore-json.zip');
    const json = await cli(['export', ...at(source, sourceToken), '--asset', petstoreId, '--output', jsonFile, '--json']);
    expect(json.stderr).toBe('');
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout.toString())).toEqual({ file: jsonFile, assets: 6, bytes: (await readFile(jsonFile)).length });
    await rm(jsonFile);
    const jsonToStdout = await cli(['export', ...at(source, sourceToken), '--asset', petstoreId, '--json']);
    expect(jsonToStdout.status).toBe(2);
    expect(jsonToStdout.stderr).toMatch(/^stagecraft: --json prints a summary on stdout, so it needs --output FILE for the archive\nusage: stagecraft export /);
    expect(jsonToStdout.stdout.length).toBe(0);
  });

  it('selects by filter and follows optional dependencies', async () => {
    const policies = await cli(['export', ...at(source, sourceToken), '--keyword', 'petstore*', '--type', 'policy']);
    expect(policies.status).toBe(0);
    expect((await manifestOf(policies.stdout)).entries.map((e: any) => e.name).sort()).toEqual(['Petstore API Key', 'Petstore CORS', 'Petstore Rate Limit']);
    const withOptional = await cli(['export', ...at(source, sourceToken), '--asset', petstoreId, '--optional', 'all']);
    expect(withOptional.status).toBe(0);
    expect((await manifestOf(withOptional.stdout)).entries.map((e: any) => e.name)).toContain('Pet Shop Portal');
  });

  it('takes the server and token from STAGECRAFT_SERVER / STAGECRAFT_TOKEN; flags win', async () => {
    const fromEnv = await cli(['export', '--asset', petstoreId], { STAGECRAFT_SERVER: `${source.url}/graphql`, STAGECRAFT_TOKEN: sourceToken });
    expect(fromEnv.stderr).toMatch(/^exported 6 assets/);
    expect(fromEnv.status).toBe(0);
    const flagWins = await cli(['export', '--token', sourceToken, '--asset', petstoreId], { STAGECRAFT_SERVER: source.url, STAGECRAFT_TOKEN: 'scs_wrong' });
    expect(flagWins.status).toBe(0);
  });

  it("fails with the server's code and message on one line, and leaves no file", async () => {
    const file = path.join(dir, 'missing.zip');
    const missing = await cli(['export', ...at(source, sourceToken), '--asset', '00000000-0000-4000-8000-000000000000', '--output', file]);
    expect(missing.stderr).toMatch(oneErrorLine('NOT_FOUND'));
    expect(missing.status).toBe(3);
    expect(existsSync(file)).toBe(false);
    expect(await readdir(dir)).toEqual(['petstore.zip']);

    const wrongToken = await cli(['export', ...at(source, 'scs_not-a-token'), '--asset', petstoreId]);
    expect(wrongToken.stderr).toMatch(oneErrorLine('UNAUTHENTICATED'));
    expect(wrongToken.status).toBe(3);
    expect(wrongToken.stdout.length).toBe(0);

    const shortPassphrase = await cli(['export', ...at(source, sourceToken), '--asset', petstoreId, '--passphrase', 'short']);
    expect(shortPassphrase.stderr).toBe('stagecraft: BAD_USER_INPUT: passphrase must be at least 8 characters\n');
    expect(shortPassphrase.status).toBe(3);
  });

  it('refuses a bad command line with exit 2 and a usage line', async () => {
    for (const args of [
      ['--asset', petstoreId, '--bogus'],
      ['--asset'],
      [], // nothing selected
      ['--asset', petstoreId, '--keyword', 'pet'],
      ['--asset', petstoreId, '--optional', 'some'],
      ['--asset', petstoreId, '--optional', 'selected'],
      ['--asset', petstoreId, 'stray'],
    ]) {
      const run = await cli(['export', ...at(source, sourceToken), ...args]);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(/^stagecraft: .+\nusage: stagecraft export /);
    }
    const noServer = await cli(['export', '--token', sourceToken, '--asset', petstoreId]);
    expect(noServer.stderr).toMatch(/^stagecraft: missing --server URL \(or STAGECRAFT_SERVER\)\n/);
    expect(noServer.status).toBe(2);
    const noToken = await cli(['export', '--server', source.url, '--asset', petstoreId]);
    expect(noToken.stderr).toMatch(/^stagecraft: missing --token/);
    expect(noToken.status).toBe(2);
  });

  it('refuses to write the archive to a terminal, and shows progress on a terminal stderr', async () => {
    const sink = (isTTY: boolean) => {
      const chunks: Buffer[] = [];
      const stream = Object.assign(new Writable({ write: (c, _e, done) => (chunks.push(Buffer.from(c)), done()) }), { isTTY });
      return { stream, text: () => Buffer.concat(chunks).toString('latin1') };
    };
    const tty = sink(true);
    const err = sink(true);
    const io: CliIO = { stdout: tty.stream, stderr: err.stream, env: {} };
    expect(await runClientCommand(exportCommand, [...at(source, sourceToken), '--asset', petstoreId], io)).toBe(2);
    expect(err.text()).toMatch(/^stagecraft: refusing to write a ZIP archive to a terminal; give --output FILE or redirect stdout\n/);
    expect(tty.text()).toBe('');

    const file = path.join(dir, 'tty.zip');
    const progress = sink(true);
    expect(await runClientCommand(exportCommand, [...at(source, sourceToken), '--asset', petstoreId, '-o', file], { ...io, stderr: progress.stream })).toBe(0);
    expect(progress.text()).toMatch(/^\r\x1b\[Kreceiving archive: .+\r\x1b\[Kexported 6 assets \(.+\) to .*tty\.zip\n$/s);
    expect((await manifestOf(await readFile(file))).entries).toHaveLength(6);
    await rm(file);
  });

  it('reports a broken stream, a non-Stagecraft error page and an unreachable server', async () => {
    const fake = http.createServer((req, res) => {
      req.resume();
      if (req.url!.startsWith('/broken/')) {
        res.writeHead(200, { 'content-type': 'application/zip' });
        res.write(Buffer.alloc(1000, 1), () => setTimeout(() => res.destroy(), 20));
      } else if (req.url!.startsWith('/short/')) {
        res.writeHead(200, { 'content-type': 'application/zip' });
        res.end(Buffer.from('PK\x03\x04 not a whole archive'));
      } else {
        res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
      }
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    try {
      const file = path.join(dir, 'broken.zip');
      const broken = await cli(['export', '--server', `${base}/broken/`, '--token', 't', '--asset', petstoreId, '--output', file]);
      expect(broken.stderr).toMatch(/^stagecraft: TRANSFER_FAILED: the archive stream broke after 1000 bytes \(.+\); .*broken\.zip was not written\n$/);
      expect(broken.status).toBe(3);
      expect(existsSync(file)).toBe(false);

      const short = await cli(['export', '--server', `${base}/short`, '--token', 't', '--asset', petstoreId]);
      expect(short.stderr).toMatch(/^stagecraft: TRANSFER_FAILED: the archive ended after \d+ bytes without its ZIP end record; the output is incomplete\n$/);
      expect(short.status).toBe(3);

      const html = await cli(['import', path.join(dir, 'petstore.zip'), '--server', base, '--token', 't']);
      expect(html.stderr).toBe(`stagecraft: HTTP_502: Bad Gateway from ${base} (not a Stagecraft error response)\n`);
      expect(html.status).toBe(3);
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
    // a port nothing listens on any more
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = await cli(['export', '--server', `http://127.0.0.1:${port}`, '--token', 't', '--asset', petstoreId]);
    expect(unreachable.stderr).toMatch(new RegExp(`^stagecraft: UNREACHABLE: cannot reach http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*\\n$`));
    expect(unreachable.status).toBe(3);
  });
});

describe('stagecraft import', () => {
  const archive = () => path.join(dir, 'petstore.zip');

  it('--dry-run on an empty target prints the plan, every asset CREATED, and --json the same report; nothing is written', async () => {
    const before = await importReportCount();
    const dry = await cli(['import', archive(), ...at(target, targetToken), '--dry-run']);
    expect(dry.stderr).toBe('');
    expect(dry.status).toBe(0);
    const out = dry.stdout.toString();
    expect(out).toMatch(/^dry run: import SUCCESS: 6 of 6 assets would be imported\n/);
    const planned = out.split('\n').filter((l) => /^ {2}[A-Z]+ +[A-Z_]+ .+ \([0-9a-f-]{36}\)/.test(l));
    expect(planned).toHaveLength(6);
    expect(planned.filter((l) => /^ {2}CREATED +/.test(l))).toHaveLength(5);
    expect(planned.filter((l) => /^ {2}WARNING +ALIAS petstore-db-password /.test(l))).toHaveLength(1);
    const json = await cli(['import', archive(), ...at(target, targetToken), '--dry-run', '--json']);
    expect(json.status).toBe(0);
    const report = JSON.parse(json.stdout.toString());
    expect(report).toMatchObject({ id: null, dryRun: true, status: 'SUCCESS' });
    expect(report.assets.map((a: { status: string }) => a.status).sort()).toEqual([...Array(5).fill('CREATED'), 'WARNING']);
    expect(await importReportCount()).toBe(before);
    expect((await target.gql('{ assets { totalCount } }', {}, targetToken)).data!.assets.totalCount).toBe(0);
  });

  it('imports the archive into an empty target and prints the report', async () => {
    const run = await cli(['import', archive(), ...at(target, targetToken)]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = run.stdout.toString();
    expect(out).toMatch(/^import SUCCESS: 6 of 6 assets imported\n/);
    expect(out).toMatch(/^ {2}type +successful +unsuccessful +created +replaced +unchanged +warnings$/m);
    expect(out).toMatch(/^ {2}POLICY +3 +0 +3 +0 +0 +0$/m);
    expect(out).toMatch(/^ {2}ALIAS +2 +0 +2 +0 +0 +1$/m);
    expect(out).toMatch(/^ {2}WARNING +ALIAS petstore-db-password \([0-9a-f-]{36}\): created; secure value not in the archive/m);
    const reports = await target.gql('{ importReports { edges { node { id status } } } }', {}, targetToken);
    const latest = reports.data!.importReports.edges[0].node;
    expect(latest.status).toBe('SUCCESS');
    expect(out).toMatch(new RegExp(`\\nreport: ${rawKey(latest.id)}\\n$`));
  });

  it('imports the same archive again with every overwrite setting: all UNCHANGED, exit 0; --dry-run says so and writes nothing', async () => {
    for (const overwrite of [['--overwrite', 'none'], ['--overwrite', 'all'], ['--overwrite', 'custom', '--types', 'API']]) {
      const before = await importReportCount();
      const dry = await cli(['import', archive(), ...at(target, targetToken), ...overwrite, '--dry-run']);
      expect(dry.status, dry.stdout.toString()).toBe(0);
      expect(dry.stdout.toString()).toMatch(/^dry run: import SUCCESS: 6 of 6 assets would be imported\n/);
      expect(dry.stdout.toString()).toMatch(/\ndry run: nothing was written\n$/);
      expect(dry.stdout.toString().split('\n').filter((l) => /^ {2}UNCHANGED +[A-Z_]+ /.test(l))).toHaveLength(6);
      expect(await importReportCount()).toBe(before);

      const run = await cli(['import', archive(), ...at(target, targetToken), ...overwrite, '--json']);
      expect(run.status, run.stdout.toString()).toBe(0);
      const report = JSON.parse(run.stdout.toString());
      expect(report.status).toBe('SUCCESS');
      expect(report.assets.map((a: any) => a.status)).toEqual(Array(6).fill('UNCHANGED'));
      expect(report.types.reduce((n: number, t: any) => n + t.unchanged, 0)).toBe(6);
      expect(await importReportCount()).toBe(before + 1);
    }
  });

  it('prints the raw report with --json; custom overwrite replaces only the listed types, and only what differs', async () => {
    const find = async (type: string, keyword: string) =>
      (await target.gql('query($k: String!, $t: [AssetType!]) { assets(filter: { keyword: $k, types: $t }) { edges { node { id } } } }', { k: keyword, t: [type] }, targetToken)).data!
        .assets.edges[0].node.id;
    for (const id of [await find('POLICY', 'Petstore CORS'), await find('API', 'Swagger Petstore')]) {
      await target.gql('mutation($id: ID!) { updateAsset(id: $id, input: { description: "edited on the target" }) { id } }', { id }, targetToken);
    }
    const none = await cli(['import', archive(), ...at(target, targetToken), '--overwrite', 'none']);
    expect(none.status).toBe(1);
    const out = none.stdout.toString();
    expect(out).toMatch(/^import PARTIAL_SUCCESS: 4 of 6 assets imported\n/);
    const failures = out.split('\n').filter((l) => /^ {2}FAILURE /.test(l));
    expect(failures).toHaveLength(2);
    for (const line of failures) expect(line).toMatch(/: exists on this stage with other content, and overwrite is off for (API|POLICY)$/);

    const custom = await cli(['import', archive(), ...at(target, targetToken), '--overwrite', 'custom', '--types', 'POLICY,alias', '--json']);
    expect(custom.status).toBe(1);
    const report = JSON.parse(custom.stdout.toString());
    expect(report).toMatchObject({ id: expect.any(String), status: 'PARTIAL_SUCCESS', options: { overwrite: 'CUSTOM', types: ['POLICY', 'ALIAS'] } });
    expect(report.types.find((t: any) => t.type === 'POLICY')).toMatchObject({ successful: 3, replaced: 1, unchanged: 2 });
    expect(report.assets.find((a: any) => a.type === 'API').status).toBe('FAILURE');

    const all = await cli(['import', archive(), ...at(target, targetToken), '--overwrite', 'all', '--fix-missing-versions', '--json']);
    expect(all.status).toBe(0);
    expect(JSON.parse(all.stdout.toString())).toMatchObject({ status: 'SUCCESS', options: { overwrite: 'ALL', fixMissingVersions: true } });
  });

  it('carries secure values with the passphrase (flag at export, STAGECRAFT_ARCHIVE_PASSPHRASE at import)', async () => {
    const sealed = path.join(dir, 'sealed.zip');
    const exported = await cli(['export', ...at(source, sourceToken), '--asset', petstoreId, '--passphrase', 'correct horse battery', '-o', sealed]);
    expect(exported.status).toBe(0);
    const wrong = await cli(['import', sealed, ...at(target, targetToken), '--overwrite', 'all', '--passphrase', 'not the passphrase']);
    expect(wrong.stderr).toMatch(oneErrorLine('BAD_USER_INPUT'));
    expect(wrong.stderr).toMatch(/wrong passphrase/);
    expect(wrong.status).toBe(3);
    const right = await cli(['import', sealed, ...at(target, targetToken), '--overwrite', 'all'], { STAGECRAFT_ARCHIVE_PASSPHRASE: 'correct horse battery' });
    expect(right.status).toBe(0);
    expect(right.stdout.toString()).not.toMatch(/WARNING/);
    expect(right.stdout.toString()).toMatch(/^ {2}REPLACED +ALIAS petstore-db-password /m);
    await rm(sealed);
  });

  it("refuses a wrong token, a non-ZIP file and a tampered archive with the server's code, importing nothing", async () => {
    const before = await importReportCount();
    const wrongToken = await cli(['import', archive(), ...at(target, 'scs_not-a-token')]);
    expect(wrongToken.stderr).toMatch(oneErrorLine('UNAUTHENTICATED'));
    expect(wrongToken.status).toBe(3);
    expect(wrongToken.stdout.length).toBe(0);

    const notZip = path.join(dir, 'not.zip');
    await writeFile(notZip, 'this is not a zip file at all');
    const corrupt = await cli(['import', notZip, ...at(target, targetToken)]);
    expect(corrupt.stderr).toMatch(oneErrorLine('BAD_USER_INPUT'));
    expect(corrupt.stderr).toMatch(/corrupt archive/);
    expect(corrupt.status).toBe(3);

    const files = await unzip(await readFile(archive()));
    const [docPath, doc] = [...files].map(([p, b]) => [p, JSON.parse(b.toString())] as const).find(([, d]) => d.name === 'Petstore Rate Limit')!;
    const tampered = new Map(files).set(docPath, Buffer.from(JSON.stringify({ ...doc, spec: { ...doc.spec, config: { requests: 1_000_000, perSeconds: 1 } } })));
    const tamperedFile = path.join(dir, 'tampered.zip');
    await writeFile(tamperedFile, await zip(tampered));
    const refused = await cli(['import', tamperedFile, ...at(target, targetToken), '--overwrite', 'all']);
    expect(refused.stderr).toBe('stagecraft: BAD_USER_INPUT: archive tampered: POLICY Petstore Rate Limit does not match its checksum\n');
    expect(refused.status).toBe(3);
    expect(await importReportCount()).toBe(before);
    await Promise.all([rm(notZip), rm(tamperedFile)]);
  });

  it('refuses a bad command line with exit 2 and a usage line', async () => {
    for (const args of [
      [archive(), '--bogus'],
      [archive(), '--json=yes'],
      [], // no file
      [archive(), archive()],
      [path.join(dir, 'nope.zip')],
      [dir],
      [archive(), '--overwrite', 'sometimes'],
      [archive(), '--overwrite', 'custom'],
      [archive(), '--types', 'API'],
    ]) {
      const run = await cli(['import', ...args, ...at(target, targetToken)]);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(/^stagecraft: .+\nusage: stagecraft import FILE /);
    }
    const unknownType = await cli(['import', archive(), ...at(target, targetToken), '--overwrite', 'custom', '--types', 'WIDGET']);
    expect(unknownType.stderr).toBe('stagecraft: BAD_USER_INPUT: unknown asset types: WIDGET\n');
    expect(unknownType.status).toBe(3);
  });
});

describe('stagecraft help', () => {
  it('lists the pipeline commands', async () => {
    const run = await cli(['help']);
    expect(run.status).toBe(0);
    expect(run.stdout.toString()).toMatch(/^Pipeline commands \(talk to a running server with --server URL --token TOKEN/m);
    expect(run.stdout.toString()).toMatch(/^ {2}export +\(--asset ID\.\.\. \| \[--keyword K\]/m);
    expect(run.stdout.toString()).toMatch(/^ {2}import +FILE \[--overwrite none\|all\|custom\]/m);
    const exportHelp = await cli(['export', '--help']);
    expect(exportHelp.status).toBe(0);
    expect(exportHelp.stdout.toString()).toMatch(/^usage: stagecraft export /);
  });
});
