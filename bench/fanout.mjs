/**
 * Fan-out benchmark: 1,000 graphql-ws subscribers of one stream against a raw `ws` server that
 * broadcasts one pre-serialised frame to 1,000 clients.
 *
 * Product: one Stagecraft instance in-process; 1,000 sockets (connection_init → ack → subscribe
 * `auditLog`) and events appended through the product's own append path (`appendEvent`, in a
 * transaction, NOTIFY at commit), so each event goes database → NOTIFY → the stream's reader →
 * every subscriber. Baseline: a `ws` server in the same process that answers the same handshake
 * and, per event, sends one JSON frame of the same shape and size, serialised once, to every
 * client, each socket corked for the batch (as the product corks for a tick). The clients are the
 * same code for both (a worker thread, its own event loop).
 *
 * Two figures, each side measured in the same round, sides alternating, ROUNDS rounds:
 * - throughput: BURST events published back to back in batches of BATCH (one transaction per
 *   batch for the product, one tick per batch for the baseline); delivered events/s = subscribers
 *   × events / (last delivery − first publish).
 * - p99: PACED events at 100 events/s; publish → receive latency over every (subscriber, event).
 *
 * Prints, last, `fanout-throughput: ratio X (…)` and `fanout-p99: …`. Uses DATABASE_URL when set
 * (a fresh database, dropped at the end), otherwise an embedded PostgreSQL.
 */
import { once } from 'node:events';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { WebSocketServer } from 'ws';
import { appendEvent } from '../dist/src/events/event-log.js';
import { login, now, progress, round, sleep, startBenchServer, withCleanup } from './lib.mjs';

export const name = 'fanout';

const SUBSCRIBERS = Number(process.env.FANOUT_SUBSCRIBERS ?? 1000);
const ROUNDS = Number(process.env.FANOUT_ROUNDS ?? 2);
const BURST = 1000;
const BATCH = 50;
const PACED = 300;
const RATE = 100;
const ADMIN_PASSWORD = 'bench-admin-password';
const QUERY = 'subscription { auditLog { sequence type actor at details } }';

export const run = () => withCleanup(benchmark);

async function benchmark(cleanup) {
  const { app } = await startBenchServer(cleanup, {
    env: { STAGECRAFT_STAGE: 'dev', STAGECRAFT_ADMIN_PASSWORD: ADMIN_PASSWORD },
    // A thousand dashboards of one user: lift the per-user socket and subscription caps.
    configure: (config) => Object.assign(config.auth, { socketsPerUser: SUBSCRIBERS + 10, subscriptionsPerUser: SUBSCRIBERS + 10 }),
  });
  const token = await login(app.url, ADMIN_PASSWORD);
  const baseline = await rawBroadcaster(cleanup);
  const clients = await clientPool(cleanup);

  const product = {
    label: 'product',
    url: app.url.replace(/^http/, 'ws') + '/graphql',
    ready: () => waitFor(() => app.services.events.readerStats('audit')?.live === SUBSCRIBERS),
    publish: (batch) =>
      app.services.db.transaction(async (tx) => {
        for (const e of batch) await appendEvent(tx, 'audit', 'BENCH', { actor: 'bench', n: e.n, t: now() });
      }),
  };
  const raw = {
    label: 'baseline',
    url: baseline.url,
    ready: () => waitFor(() => baseline.subscribers() === SUBSCRIBERS),
    publish: async (batch) => baseline.broadcast(batch),
  };

  const results = { subscribers: SUBSCRIBERS, rounds: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? [product, raw] : [raw, product];
    const row = {};
    for (const side of order) {
      progress(`round ${r + 1}: ${side.label}: connecting ${SUBSCRIBERS} subscribers`);
      await clients.ask({ op: 'connect', url: side.url, token, count: SUBSCRIBERS, query: QUERY });
      await side.ready();
      row[side.label] = { throughput: await throughput(side, clients), p99Ms: await latency(side, clients) };
      progress(`round ${r + 1}: ${side.label}: ${Math.round(row[side.label].throughput)} delivered events/s, p99 ${row[side.label].p99Ms} ms`);
      await clients.ask({ op: 'close' });
      await sleep(500);
    }
    results.rounds.push(row);
  }
  return results;
}

async function throughput(side, clients) {
  await clients.ask({ op: 'count', expected: BURST });
  const expect = clients.next();
  const started = now();
  for (let n = 0; n < BURST; n += BATCH) await side.publish(Array.from({ length: BATCH }, (_, i) => ({ n: n + i })));
  const { lastMs } = await expect;
  return (SUBSCRIBERS * BURST) / ((lastMs - started) / 1000);
}

async function latency(side, clients) {
  await clients.ask({ op: 'latency', expected: PACED });
  const expect = clients.next();
  const started = now();
  for (let n = 0; n < PACED; n++) {
    const due = started + (n * 1000) / RATE;
    if (due > now()) await sleep(due - now());
    void side.publish([{ n }]);
  }
  const { p99 } = await expect;
  return round(p99, 1);
}

async function waitFor(probe, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the subscribers to join');
    await sleep(50);
  }
}

/** The baseline: graphql-transport-ws's handshake, then one frame per event, serialised once, sent to all. */
async function rawBroadcaster(cleanup) {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, path: '/graphql' });
  const subscribed = new Set();
  let sequence = 0;
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (m.type === 'connection_init') socket.send('{"type":"connection_ack"}');
      else if (m.type === 'subscribe') subscribed.add(socket);
    });
    socket.on('close', () => subscribed.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.defer('baseline server', () => new Promise((r) => (wss.close(), server.closeAllConnections(), server.close(r))));
  return {
    url: `ws://127.0.0.1:${server.address().port}/graphql`,
    subscribers: () => subscribed.size,
    broadcast(batch) {
      // Corked for the batch, as the product corks each socket for a tick: a batch of frames leaves
      // each socket in one write on both sides, so the ratio compares fan-out, not syscall counts.
      for (const socket of subscribed) socket._socket.cork();
      for (const e of batch) {
        const at = new Date();
        const frame = JSON.stringify({
          id: '1',
          type: 'next',
          payload: { data: { auditLog: { sequence: String(++sequence), type: 'BENCH', actor: 'bench', at: at.toISOString(), details: { actor: 'bench', n: e.n, t: now() } } } },
        });
        for (const socket of subscribed) socket.send(frame);
      }
      for (const socket of subscribed) socket._socket.uncork();
    },
  };
}

/** The subscribers, in a worker thread: the same client code against both servers. */
const CLIENT_WORKER = `
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import WebSocket from '%WS%';
// Wall-clock milliseconds with sub-ms precision, comparable across threads (as bench/lib.mjs's now).
const now = () => performance.timeOrigin + performance.now();
let sockets = [];
let onMessage = () => {};
function connect(url, token, query) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'graphql-transport-ws');
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: 'Bearer ' + token } })));
    ws.once('message', () => {
      ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
      ws.on('message', (data) => onMessage(ws, data));
      resolve(ws);
    });
  });
}
parentPort.on('message', async (m) => {
  try {
    if (m.op === 'connect') {
      for (let i = 0; i < m.count; i += 20) sockets.push(...(await Promise.all(Array.from({ length: Math.min(20, m.count - i) }, () => connect(m.url, m.token, m.query)))));
      parentPort.postMessage({ op: 'connected' });
    } else if (m.op === 'count') {
      const counts = new Map();
      let done = 0, lastMs = 0;
      onMessage = (ws, data) => {
        const c = (counts.get(ws) ?? 0) + 1;
        counts.set(ws, c);
        if (c === m.expected) {
          lastMs = now();
          if (++done === sockets.length) parentPort.postMessage({ op: 'counted', lastMs });
        }
      };
      parentPort.postMessage({ op: 'armed' });
    } else if (m.op === 'latency') {
      const counts = new Map();
      const delays = [];
      let done = 0;
      onMessage = (ws, data) => {
        const t = now();
        const details = JSON.parse(String(data)).payload.data.auditLog.details;
        delays.push(t - details.t);
        const c = (counts.get(ws) ?? 0) + 1;
        counts.set(ws, c);
        if (c === m.expected && ++done === sockets.length) {
          delays.sort((a, b) => a - b);
          parentPort.postMessage({ op: 'latencies', p99: delays[Math.floor(delays.length * 0.99)] });
        }
      };
      parentPort.postMessage({ op: 'armed' });
    } else if (m.op === 'close') {
      for (const ws of sockets) ws.terminate();
      sockets = [];
      parentPort.postMessage({ op: 'closed' });
    }
  } catch (err) {
    parentPort.postMessage({ op: 'error', message: err?.message ?? String(err) });
  }
});
`;

async function clientPool(cleanup) {
  const code = CLIENT_WORKER.replace('%WS%', import.meta.resolve('ws'));
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { name: 'fanout-clients' });
  cleanup.defer('client worker', () => worker.terminate());
  const next = () =>
    new Promise((resolve, reject) => {
      const onMessage = (m) => {
        worker.off('error', reject);
        if (m.op === 'error') reject(new Error(`client worker: ${m.message}`));
        else resolve(m);
      };
      worker.once('message', onMessage);
      worker.once('error', reject);
    });
  return {
    next,
    ask(message) {
      const reply = next();
      worker.postMessage(message);
      return reply;
    },
  };
}

const range = (values) => {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return { lo, hi, text: (digits, unit = '') => (round(lo, digits) === round(hi, digits) ? `${round(lo, digits)}${unit}` : `${round(lo, digits)}–${round(hi, digits)}${unit}`) };
};

export function report(result) {
  const lines = [`fanout: ${result.subscribers} subscribers, ${result.rounds.length} rounds (product and baseline alternating)`];
  for (const [i, r] of result.rounds.entries()) {
    lines.push(
      `  round ${i + 1}: product ${Math.round(r.product.throughput)} events/s, p99 ${r.product.p99Ms} ms; baseline ${Math.round(r.baseline.throughput)} events/s, p99 ${r.baseline.p99Ms} ms`,
    );
  }
  const ratios = range(result.rounds.map((r) => r.product.throughput / r.baseline.throughput));
  const product = range(result.rounds.map((r) => r.product.throughput));
  const baseline = range(result.rounds.map((r) => r.baseline.throughput));
  const p99 = range(result.rounds.map((r) => r.product.p99Ms));
  const p99Raw = range(result.rounds.map((r) => r.baseline.p99Ms));
  lines.push(`fanout-throughput: ratio ${ratios.text(2)} (product ${product.text(0)} delivered events/s vs baseline raw ws broadcast ${baseline.text(0)})`);
  lines.push(`fanout-p99: ${p99.text(1, ' ms')} at ${RATE} events/s (baseline raw ws broadcast ${p99Raw.text(1, ' ms')})`);
  return lines.join('\n');
}
