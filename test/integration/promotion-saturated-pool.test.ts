/**
 * A promotion runs once under a saturated pool (issue 10, part 4): two real instances, 400 real
 * graphql-ws subscribers to the source's promotionProgress and nine of its ten pool connections
 * held by someone else while the promotion runs, with a half-second lease. Every event then wakes
 * 400 readers that queue for the one free connection; lease renewals must not queue with them.
 * The job runs once (attempts = 1), stores exactly one COMPLETED event, and succeeds.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from 'graphql-ws';
import type { QueryRunner } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { rawKey } from '../../src/graphql/node-id.js';

const SOCKETS = 8;
const PER_SOCKET = 50; // 400 subscribers
const LEASE_MS = 500; // the least STAGECRAFT_JOB_LEASE_MS allows
const HELD_CONNECTIONS = 9; // of the pool's 10

let dev: TestServer;
let prod: TestServer;
let gate: http.Server;
let holders: QueryRunner[] = [];

/** A stand-in for prod's address that forwards everything to prod, but holds imports until opened. */
function gateTo(target: string) {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  let arrived!: () => void;
  const importArrived = new Promise<void>((r) => (arrived = r));
  let imports = 0;
  const server = http.createServer((req, res) => {
    const forward = () => {
      const upstream = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', (err) => res.destroy(err));
      req.pipe(upstream);
    };
    if (req.url?.startsWith('/archive/import')) {
      imports++;
      arrived();
      void opened.then(forward);
    } else forward();
  });
  return { server, open, importArrived, imports: () => imports };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

beforeAll(async () => {
  [dev, prod] = await Promise.all([
    startTestServer({ env: { STAGECRAFT_STAGE: 'dev', STAGECRAFT_SEED: 'true', STAGECRAFT_JOB_LEASE_MS: String(LEASE_MS) } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'prod' } }),
  ]);
});
afterAll(async () => {
  await Promise.all(holders.filter((h) => !h.isReleased).map((h) => h.release()));
  gate?.closeAllConnections();
  gate?.close();
  await Promise.all([dev?.stop(), prod?.stop()]);
});

interface Watcher {
  phases: string[];
  sequences: number[];
  done: boolean;
  error: unknown;
}

describe('the job queue under a saturated pool', () => {
  it('runs the promotion once: attempts 1, one COMPLETED event, SUCCESS', async () => {
    const token = await dev.adminToken();
    const g = gateTo(prod.url);
    gate = g.server;
    await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r));
    const gateUrl = `http://127.0.0.1:${(gate.address() as AddressInfo).port}`;
    const staged = await dev.gql('mutation($i: CreateStageInput!) { createStage(input: $i) { name } }', { i: { name: 'prod', url: gateUrl, username: 'admin', password: 'admin-password-for-tests' } }, token);
    expect(staged.errors).toBeUndefined();
    const petstoreId = (await dev.gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { id } } } }', {}, token)).data!.assets.edges[0].node.id;

    const promoted = await dev.gql('mutation($input: PromoteInput!) { promote(input: $input) { id } }', { input: { name: 'under pressure', assetIds: [petstoreId], targetStages: ['prod'] } }, token);
    expect(promoted.errors).toBeUndefined();
    const id = rawKey(promoted.data!.promote.id as string); // the promotion's UUID (its stream and job key)
    const stream = `promotion:${id}`;
    // The job is running and waits for prod's answer.
    await g.importArrived;

    // 400 watchers, over several users' sockets (per-user caps stay out of the picture).
    const watchers: Watcher[] = [];
    const clients: Client[] = [];
    for (let s = 0; s < SOCKETS; s++) {
      const created = await dev.gql('mutation($input: CreateUserInput!) { createUser(input: $input) { id } }', { input: { username: `watcher-${s}`, password: 'watcher-password', role: 'API_PROVIDER' } }, token);
      expect(created.errors).toBeUndefined();
      const client = dev.wsClient(await dev.login(`watcher-${s}`, 'watcher-password'));
      clients.push(client);
      for (let i = 0; i < PER_SOCKET; i++) {
        const w: Watcher = { phases: [], sequences: [], done: false, error: undefined };
        watchers.push(w);
        client.subscribe<{ promotionProgress: { sequence: number; phase: string } }>(
          { query: 'subscription($id: ID!) { promotionProgress(promotionId: $id) { sequence phase } }', variables: { id } },
          {
            next: (r) => {
              if (r.errors) w.error = r.errors;
              if (r.data) {
                w.phases.push(r.data.promotionProgress.phase);
                w.sequences.push(r.data.promotionProgress.sequence);
              }
            },
            error: (err) => (w.error = err),
            complete: () => (w.done = true),
          },
        );
      }
    }
    // Everyone has caught up with the stored events (QUEUED, STARTED, EXPORTED).
    await waitFor('400 watchers to catch up', () => watchers.every((w) => w.phases.includes('EXPORTED')) || watchers.find((w) => w.error), 60_000);
    expect(watchers.filter((w) => w.error).map((w) => w.error)).toEqual([]);
    expect(dev.app.services.events.listenerCount(stream)).toBe(SOCKETS * PER_SOCKET);

    // Someone else holds nine of the ten pool connections from now until the promotion ends.
    holders = Array.from({ length: HELD_CONNECTIONS }, () => dev.app.services.db.createQueryRunner());
    await Promise.all(holders.map((h) => h.connect()));

    // Watch the lease from outside: it must never run out while the job runs.
    let minLeaseLeftMs = Infinity;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [row] = await sql(dev.databaseUrl, "SELECT extract(epoch FROM locked_until - clock_timestamp()) * 1000 AS left FROM jobs WHERE payload->>'promotionId' = $1 AND status = 'RUNNING'", [id]);
        if (row) minLeaseLeftMs = Math.min(minLeaseLeftMs, Number(row.left));
        await sleep(50);
      }
    })();

    const openedAt = Date.now();
    g.open();
    await waitFor('every watcher to see the promotion complete', () => watchers.every((w) => w.done || w.error), 120_000);
    const completedAt = Date.now();
    await Promise.all(holders.map((h) => h.release()));
    // Give a second run (the bug) time to show itself: several leases.
    await sleep(4 * LEASE_MS);
    sampling = false;
    await sampler;

    const [job] = await sql(dev.databaseUrl, "SELECT status, attempts FROM jobs WHERE payload->>'promotionId' = $1", [id]);
    expect(job).toEqual({ status: 'DONE', attempts: 1 });
    const completed = await sql(dev.databaseUrl, "SELECT sequence FROM events WHERE stream = $1 AND type = 'COMPLETED'", [stream]);
    expect(completed).toHaveLength(1);
    const promotion = (await dev.gql('query($id: ID!) { promotion(id: $id) { status stages { stageName status } } }', { id }, token)).data!.promotion;
    expect(promotion).toEqual({ status: 'SUCCESS', stages: [{ stageName: 'prod', status: 'SUCCESS' }] });
    expect(g.imports()).toBe(1);
    // The least lease left is reported, not asserted: this process also runs the 400 clients, and
    // on a loaded machine its event loop may stall past half a second. A lapse alone does no
    // harm (this runner never reclaims its own job); test/integration/job-queue.test.ts asserts
    // renewals under a fully held pool in a quiet process.
    expect(dev.logs.filter((l) => /lease/.test(String(l.msg)))).toEqual([]);
    // Every watcher saw one story, once, in order, ending with the one COMPLETED.
    expect(watchers.filter((w) => w.error).map((w) => w.error)).toEqual([]);
    for (const w of watchers) {
      expect(w.phases.filter((p) => p === 'COMPLETED')).toHaveLength(1);
      expect(w.phases.at(-1)).toBe('COMPLETED');
      expect(w.sequences).toEqual([...w.sequences].sort((a, b) => a - b));
      expect(new Set(w.sequences).size).toBe(w.sequences.length);
    }
    const events = (await sql(dev.databaseUrl, 'SELECT count(*)::int AS n FROM events WHERE stream = $1', [stream]))[0].n as number;
    console.info(
      `promotion-saturated-pool: ${watchers.length} subscribers, ${HELD_CONNECTIONS}/10 pool connections held, lease ${LEASE_MS} ms; ` +
        `${events} events fanned out in ${completedAt - openedAt} ms after the import was let through; least lease left ${Math.round(minLeaseLeftMs)} ms`,
    );
  });
});
