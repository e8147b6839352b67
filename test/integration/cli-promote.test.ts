/**
 * `stagecraft promote` as a pipeline runs it: the built CLI (dist/cli.js) against a seeded dev
 * server that knows the stages qa and prod (two more servers in this process), over HTTP and
 * WebSocket with a token.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runClientCommand, type CliIO } from '../../src/cli/command.js';
import { promoteCommand } from '../../src/cli/promote-command.js';
import { plainLine, type ProgressEvent } from '../../src/cli/promotion-progress.js';
import { oneErrorLine, runCli as cli } from '../support/cli-process.js';
import { ADMIN_PASSWORD, startTestServer, take, type TestServer } from '../support/server.js';

let dev: TestServer;
let qa: TestServer;
let prod: TestServer;
let devToken: string;
let petstoreId: string;

beforeAll(async () => {
  [dev, qa, prod] = await Promise.all([
    startTestServer({ env: { STAGECRAFT_SEED: 'true', STAGECRAFT_STAGE: 'dev' } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'qa' } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'prod' } }),
  ]);
  devToken = await dev.adminToken();
  for (const [name, server] of [['qa', qa], ['prod', prod]] as const) {
    const res = await dev.gql('mutation($i: CreateStageInput!) { createStage(input: $i) { name } }', { i: { name, url: server.url, username: 'admin', password: ADMIN_PASSWORD } }, devToken);
    expect(res.errors).toBeUndefined();
  }
  const res = await dev.gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { assetId } } } }', {}, devToken);
  petstoreId = res.data!.assets.edges[0].node.assetId;
});
afterAll(async () => {
  await Promise.all([dev?.stop(), qa?.stop(), prod?.stop()]);
});

const promote = (...args: string[]) => ['promote', '--server', dev.url, '--token', devToken, '--asset', petstoreId, ...args];
const progressLines = (stderr: string) => stderr.split('\n').filter((l) => /^(qa|prod): [A-Z]+( \d+\/\d+)?: /.test(l) || /^COMPLETED: /.test(l));

/** The stored progress of a promotion, as the CLI prints it without a terminal. */
async function storedProgress(id: string): Promise<string[]> {
  const res = await dev.gql('query($id: ID!) { promotionEvents(promotionId: $id) { sequence stageName phase message completed total } }', { id }, devToken);
  return (res.data!.promotionEvents as ProgressEvent[]).map(plainLine);
}

/** Waits until a promotion started without --wait has finished (stages stay locked until then). */
async function finished(id: string) {
  const events = await take(dev.wsClient(devToken), 'subscription($id: ID!) { promotionProgress(promotionId: $id) { phase } }', { id }, 1_000, 60_000);
  expect(events.at(-1).data.promotionProgress.phase).toBe('COMPLETED');
}

describe('stagecraft promote --plan', () => {
  it('prints CREATE for every asset on stages that have none of them, and exits 0', async () => {
    const run = await cli(promote('--to', 'qa,prod', '--plan'));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    // stages in name order, each with one line per asset
    // the Petstore's six assets, and the variant of petstore-backend for the other stage (travelling inert)
    expect(run.stdout).toMatch(/^stage prod: 7 CREATE\n/);
    expect(run.stdout).toMatch(/\n\nstage qa: 7 CREATE\n/);
    expect(run.stdout).toMatch(new RegExp(`^ {2}CREATE +API +Swagger Petstore \\(${petstoreId}\\)$`, 'm'));
    expect(run.stdout).toMatch(/^ {2}CREATE +ALIAS +petstore-backend \([0-9a-f-]{36}\) value http:\/\/petstore\.qa\.internal:8080$/m);
    expect(run.stdout).toMatch(/^ {2}CREATE +ALIAS +petstore-backend \([0-9a-f-]{36}\) value http:\/\/petstore\.prod\.internal:8080$/m);
    expect(run.stdout.split('\n').filter((l) => /^ {2}CREATE /.test(l))).toHaveLength(14);

    const json = await cli(promote('--to', 'qa', '--plan', '--json'));
    expect(json.status).toBe(0);
    const plan = JSON.parse(json.stdout);
    expect(plan.stages).toHaveLength(1);
    expect(plan.stages[0]).toMatchObject({ stageName: 'qa', error: null });
    expect(plan.stages[0].items.every((i: any) => i.action === 'CREATE')).toBe(true);
  });
});

describe('stagecraft promote --wait', () => {
  it('promotes to qa and prod, shows the progress of each stage and exits 0 with SUCCESS per stage', async () => {
    const run = await cli(promote('--name', 'Petstore via CLI', '--description', 'from the pipeline', '--to', 'qa,prod', '--wait'));
    expect(run.status).toBe(0);
    const id = run.stderr.match(/^promotion "Petstore via CLI" \(([0-9a-f-]{36})\) to prod, qa: QUEUED\n/)?.[1];
    expect(id).toBeDefined();
    // one plain line per event (stderr is not a terminal), in order, none missing
    expect(progressLines(run.stderr)).toEqual(await storedProgress(id!));
    for (const stage of ['qa', 'prod']) {
      expect(run.stderr).toMatch(new RegExp(`^${stage}: STARTED: promoting to ${stage}$`, 'm'));
      for (let n = 1; n <= 7; n++) expect(run.stderr).toMatch(new RegExp(`^${stage}: ASSET ${n}/7: [A-Z]+ .+: CREATED$`, 'm'));
      expect(run.stderr).toMatch(new RegExp(`^${stage}: SUCCEEDED: 7 assets promoted$`, 'm'));
    }
    expect(run.stderr).toMatch(/^COMPLETED: all stages succeeded$/m);

    expect(run.stdout).toMatch(new RegExp(`^promotion SUCCESS: Petstore via CLI \\(${id}\\)\\n`));
    expect(run.stdout).toMatch(/^ {2}stage +status +assets +result$/m);
    expect(run.stdout).toMatch(/^ {2}prod +SUCCESS +7: 7 CREATED +7 assets promoted$/m);
    expect(run.stdout).toMatch(/^ {2}qa +SUCCESS +7: 7 CREATED +7 assets promoted$/m);
    expect(run.stdout).not.toMatch(/FAILURE/);

    const stored = await dev.gql('query($id: ID!) { promotion(id: $id) { name description status } }', { id }, devToken);
    expect(stored.data!.promotion).toEqual({ name: 'Petstore via CLI', description: 'from the pipeline', status: 'SUCCESS' });
    const onProd = await prod.gql('query($id: ID!) { asset(id: $id) { name } }', { id: petstoreId }, await prod.adminToken());
    expect(onProd.data!.asset.name).toBe('Swagger Petstore');
  });

  it('plans UNCHANGED now, and REFUSED (exit 1) once the API changed on dev', async () => {
    const unchanged = await cli(promote('--to', 'qa', '--plan'));
    expect(unchanged.status).toBe(0);
    expect(unchanged.stdout).toMatch(/^stage qa: 7 UNCHANGED\n/);

    await dev.gql('mutation($id: ID!) { updateAsset(id: $id, input: { description: "changed for the CLI" }) { id } }', { id: petstoreId }, devToken);
    const refused = await cli(promote('--to', 'qa', '--plan'));
    expect(refused.status).toBe(1);
    expect(refused.stdout).toMatch(/^stage qa: 6 UNCHANGED, 1 REFUSED\n/);
    expect(refused.stdout).toMatch(/^ {2}REFUSED +API +Swagger Petstore \([0-9a-f-]{36}\): exists on this stage with other content, and overwrite is off for API$/m);
    const update = await cli(promote('--to', 'qa', '--plan', '--overwrite-assets'));
    expect(update.status).toBe(0);
    expect(update.stdout).toMatch(/^ {2}UPDATE +API +Swagger Petstore /m);
  });

  it('exits 1 and lists the one failure when the API differs and nothing may be overwritten; identical assets are UNCHANGED', async () => {
    const run = await cli(promote('--name', 'again without overwrite', '--to', 'qa,prod', '--wait'));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^qa: FAILED: 1 of 7 assets failed on qa$/m);
    expect(run.stderr).toMatch(/^COMPLETED: failed on prod, qa$/m);
    expect(run.stdout).toMatch(/^promotion FAILURE: again without overwrite /);
    expect(run.stdout).toMatch(/^ {2}prod +FAILURE +7: 6 UNCHANGED, 1 FAILURE +IMPORT_FAILED: 1 of 7 assets failed on prod$/m);
    expect(run.stdout).toMatch(/^ {2}qa +FAILURE +7: 6 UNCHANGED, 1 FAILURE +IMPORT_FAILED: 1 of 7 assets failed on qa$/m);
    const failures = run.stdout.split('\n').filter((l) => /^ {2}(qa|prod) +FAILURE +[A-Z]+ /.test(l));
    expect(failures).toHaveLength(2);
    expect(run.stdout).toMatch(new RegExp(`^ {2}qa +FAILURE +API Swagger Petstore \\(${petstoreId}\\): exists on this stage with other content, and overwrite is off for API$`, 'm'));
  });

  it('prints the finished promotion as JSON with --json', async () => {
    const run = await cli(promote('--name', 'json', '--to', 'qa', '--wait', '--json', '--overwrite-assets', '--overwrite-aliases'));
    expect(run.status).toBe(0);
    const promotion = JSON.parse(run.stdout);
    expect(promotion).toMatchObject({ name: 'json', status: 'SUCCESS', targetStages: ['qa'], stages: [{ stageName: 'qa', status: 'SUCCESS', code: null }] });
    expect(promotion.stages[0].report.find((a: any) => a.name === 'Swagger Petstore')).toMatchObject({ assetId: petstoreId, status: 'REPLACED' });
    expect(progressLines(run.stderr).at(-1)).toBe('COMPLETED: all stages succeeded');
  });

  it('draws a bar per stage on a terminal', async () => {
    let stderr = '';
    let stdout = '';
    const sink = (write: (s: string) => void) =>
      new Writable({
        write(chunk, _enc, done) {
          write(String(chunk));
          done();
        },
      });
    const io: CliIO = {
      stdout: sink((s) => (stdout += s)),
      stderr: Object.assign(sink((s) => (stderr += s)), { isTTY: true, columns: 120 }),
      env: {},
    };
    const args = promote('--name', 'on a terminal', '--to', 'qa,prod', '--wait', '--overwrite-assets', '--overwrite-aliases').slice(1);
    const code = await runClientCommand(promoteCommand, args, io);
    expect(code).toBe(0);
    expect(stderr).toContain('\x1b[2A'); // redrawn in place: two stage lines
    // the last frame: both bars full, then the overall result
    const last = stderr.slice(stderr.lastIndexOf('\x1b[J') + 3);
    expect(last).toMatch(/^prod {2}\[#{20}\] {2}SUCCEEDED +7\/7 {2}7 assets promoted\nqa {4}\[#{20}\] {2}SUCCEEDED +7\/7 {2}7 assets promoted\nCOMPLETED: all stages succeeded\n$/);
    expect(stderr).not.toMatch(/^qa: ASSET/m); // no plain lines
    expect(stdout).toMatch(/^promotion SUCCESS: on a terminal /);
  });

  it('reconnects after the socket drops and resumes after the last event seen, losing none', async () => {
    const proxy = await dropFirstSubscription(new URL(dev.url), 3);
    try {
      const run = await cli(['promote', '--server', proxy.url, '--token', devToken, '--asset', petstoreId, '--name', 'through a flaky network', '--to', 'qa,prod', '--wait', '--overwrite-assets', '--overwrite-aliases']);
      expect(proxy.dropped()).toBe(true);
      // the cut arrives as an abnormal closure (1006), or as a reset when the client was writing
      expect(run.stderr).toMatch(/^progress stream lost \((closed with 1006|.*ECONNRESET.*)\); reconnecting in \d+\.\ds after event \d+$/m);
      expect(run.status).toBe(0);
      const id = run.stdout.match(/^promotion SUCCESS: through a flaky network \(([0-9a-f-]{36})\)$/m)?.[1];
      expect(id).toBeDefined();
      expect(progressLines(run.stderr)).toEqual(await storedProgress(id!));
    } finally {
      await proxy.close();
    }
  });
});

describe('stagecraft promote without --wait', () => {
  it('prints the promotion id and exits 0 at once; an idempotency key gives the same promotion', async () => {
    const args = promote('--name', 'fire and forget', '--to', 'prod', '--overwrite-assets', '--overwrite-aliases', '--idempotency-key', 'ci-run-7');
    const first = await cli(args);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(first.stderr).toBe('promotion "fire and forget" to prod: QUEUED\n');
    const id = first.stdout.trim();
    const json = await cli([...args, '--json']);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id, name: 'fire and forget', targetStages: ['prod'] });
    await finished(id);
  });
});

describe('stagecraft promote refusals', () => {
  it('exits 3 with the server code for a stage that does not exist, a wrong token, an unreachable server', async () => {
    for (const extra of [['--wait'], ['--plan'], []]) {
      const run = await cli(promote('--name', 'nowhere', '--to', 'qa,nowhere', ...extra));
      expect(run.stderr, extra.join(' ')).toBe('stagecraft: NOT_FOUND: unknown stages: nowhere\n');
      expect(run.stdout).toBe('');
      expect(run.status).toBe(3);
    }
    const wrongToken = await cli(['promote', '--server', dev.url, '--token', 'scs_not-a-token', '--asset', petstoreId, '--name', 'x', '--to', 'qa']);
    expect(wrongToken.stderr).toMatch(oneErrorLine('UNAUTHENTICATED'));
    expect(wrongToken.status).toBe(3);
    const viewer = await cli(['promote', '--server', dev.url, '--token', await dev.userWithRole('VIEWER'), '--asset', petstoreId, '--name', 'x', '--to', 'qa']);
    expect(viewer.stderr).toMatch(oneErrorLine('FORBIDDEN'));
    expect(viewer.status).toBe(3);

    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = await cli(['promote', '--server', `http://127.0.0.1:${port}/graphql`, '--token', 't', '--asset', petstoreId, '--name', 'x', '--to', 'qa']);
    expect(unreachable.stderr).toMatch(new RegExp(`^stagecraft: UNREACHABLE: cannot reach http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*\\n$`));
    expect(unreachable.status).toBe(3);
  });

  it('refuses a bad command line with exit 2 and a usage line, asking the server nothing', async () => {
    const before = (await dev.gql('{ promotions(first: 200) { totalCount } }', {}, devToken)).data!.promotions.totalCount;
    for (const args of [
      promote('--name', 'x', '--to', 'qa', '--bogus'),
      promote('--name', 'x', '--to', 'qa', '--wait=yes'),
      promote('--name', 'x', '--to', 'qa', 'extra'),
      promote('--to', 'qa'), // no name
      promote('--name', 'x'), // no stage
      ['promote', '--server', dev.url, '--token', devToken, '--name', 'x', '--to', 'qa'], // no asset
      promote('--name', 'x', '--to', 'qa', '--optional', 'sometimes'),
      promote('--name', 'x', '--to', 'qa', '--optional', 'selected'),
      promote('--name', 'x', '--to', 'qa', '--optional', 'all', '--optional-id', petstoreId),
      promote('--name', 'x', '--to', 'qa', '--plan', '--wait'),
      ['promote', '--server', dev.url, '--asset', petstoreId, '--name', 'x', '--to', 'qa'], // no token
    ]) {
      const run = await cli(args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(/^stagecraft: .+\nusage: stagecraft promote /);
    }
    expect((await dev.gql('{ promotions(first: 200) { totalCount } }', {}, devToken)).data!.promotions.totalCount).toBe(before);

    const help = await cli(['promote', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: stagecraft promote /);
    const usage = await cli(['help']);
    expect(usage.stdout).toMatch(/^ {2}promote +--name NAME --to STAGE/m);
  });
});

/**
 * A TCP proxy to `target` that cuts the first WebSocket connection after forwarding `frames`
 * graphql-ws `next` messages, mid-stream; everything else passes through untouched.
 */
async function dropFirstSubscription(target: URL, frames: number) {
  let dropped = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let watching: boolean | null = null;
    let headersDone = false;
    let pending = Buffer.alloc(0);
    let seen = 0;
    let cutting = false;
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      if (watching === null) watching = !dropped && /^upgrade: websocket\r?$/im.test(chunk.toString('latin1'));
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cutting) return;
      if (!watching) return void client.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      if (!headersDone) {
        const end = pending.indexOf('\r\n\r\n');
        if (end === -1) return;
        client.write(pending.subarray(0, end + 4));
        pending = pending.subarray(end + 4);
        headersDone = true;
      }
      // server frames are unmasked: 2 header bytes, then a 16- or 64-bit length when needed
      while (pending.length >= 2) {
        const short = pending[1]! & 0x7f;
        const header = short === 126 ? 4 : short === 127 ? 10 : 2;
        if (pending.length < header) return;
        const length = short === 126 ? pending.readUInt16BE(2) : short === 127 ? Number(pending.readBigUInt64BE(2)) : short;
        if (pending.length < header + length) return;
        const frame = pending.subarray(0, header + length);
        pending = pending.subarray(header + length);
        client.write(frame);
        if (frame.subarray(header).toString().includes('"type":"next"') && ++seen >= frames) {
          cutting = dropped = true;
          return void client.end(cut);
        }
      }
    });
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    dropped: () => dropped,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
