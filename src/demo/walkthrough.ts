/**
 * The end-to-end walkthrough (`npm run demo`, and a test): Swagger Petstore 1.0.0 published in
 * `default` with a Petstore upstream, a `Production Group` with one gateway instance, the sync
 * with nodes, then `GET /pet/1` through the gateway; then the same with service discovery.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startStagecraft, type Stagecraft } from '../app.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { startNacosRegistry, startPetstore } from './petstore.js';

export interface WalkthroughOptions {
  /** Port of the Production Group's gateway instance. */
  gatewayPort: number;
  /** Narration, one line per step. */
  say: (line: string) => void;
  databaseUrl?: string;
  /**
   * Aborts the run (Ctrl-C during set-up): it stops at the next step or wait, undoes what it
   * started, removes its data directory, and rejects with WalkthroughAborted.
   */
  signal?: AbortSignal;
}

export class WalkthroughAborted extends Error {
  constructor() {
    super('the walkthrough was stopped');
    this.name = 'WalkthroughAborted';
  }
}

export interface WalkthroughResult {
  controlPlane: string;
  /** Password of the demo's `admin` (random per run). */
  adminPassword: string;
  /** The run's temporary data directory (database included); stop() removes it. */
  dataDir: string;
  viaNodes: unknown;
  /** The bytes the gateway answered to GET /pet/1. */
  viaNodesBody: Buffer;
  viaDiscovery: unknown;
  /** Stops everything the run started and removes its data directory; safe to call twice. */
  stop(): Promise<void>;
}

/** dist/cli.js, from src/demo (tests) or dist/src/demo (npm run demo). */
function cliPath(): string {
  for (const candidate of ['../../cli.js', '../../dist/cli.js']) {
    const file = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(file)) return file;
  }
  throw new Error('dist/cli.js not found: run npm run build first');
}

async function gql(url: string, token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(`${query.split('(')[0]!.trim()}: ${body.errors.map((e) => e.message).join('; ')}`);
  return body.data;
}

/** Follows syncProgress until COMPLETED (or throws on FAILED). */
async function awaitSync(url: string, token: string, operationId: string, say: (l: string) => void, signal?: AbortSignal): Promise<void> {
  const client = createClient({ url: url.replace(/^http/, 'ws') + '/graphql', webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${token}` }, retryAttempts: 0 });
  const onAbort = () => void client.dispose(); // ends the iteration below
  signal?.addEventListener('abort', onAbort);
  try {
    for await (const event of client.iterate<{ syncProgress: { phase: string; message: string } }>({
      query: 'subscription($id: ID!) { syncProgress(operationId: $id) { phase message } }',
      variables: { id: operationId },
    })) {
      const { phase, message } = event.data!.syncProgress;
      say(`   sync ${phase}: ${message}`);
      if (phase === 'FAILED') throw new Error(message);
      if (phase === 'COMPLETED') return;
    }
    if (signal?.aborted) throw new WalkthroughAborted();
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await client.dispose();
  }
}

/** GETs through the gateway until it answers 200 (the new revision may take a moment); the body's bytes. */
async function getThroughGateway(port: number, path: string, signal?: AbortSignal, timeoutMs = 20_000): Promise<Buffer> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (signal?.aborted) throw new WalkthroughAborted();
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      if (res.status === 200) return Buffer.from(await res.arrayBuffer());
      last = `HTTP ${res.status} ${await res.text()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gateway did not serve ${path}: ${last}`);
}

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves once `child` has exited. A child killed by a
 * signal has a null exitCode: its signalCode says it is gone (Ctrl-C reaches the whole process
 * group, so the gateway may have died before we stop it), and its `exit` will not come again.
 */
function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function runWalkthrough(options: WalkthroughOptions): Promise<WalkthroughResult> {
  const { signal } = options;
  const aborted = () => {
    if (signal?.aborted) throw new WalkthroughAborted();
  };
  // Every step starts with a line of narration: that is where an abort is noticed.
  const say = (line: string) => {
    aborted();
    options.say(line);
  };
  const cleanup: (() => Promise<unknown> | void)[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => undefined);
    })());
  try {
    aborted();
    const password = randomBytes(12).toString('base64url');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'stagecraft-demo-'));
    // Registered first, so it runs last: after the embedded PostgreSQL living in it has stopped.
    cleanup.push(() => rm(dataDir, { recursive: true, force: true, maxRetries: 3 }));
    const config = loadConfig([], {
      PORT: '0',
      HOST: '127.0.0.1',
      STAGECRAFT_DATA_DIR: dataDir,
      STAGECRAFT_ADMIN_PASSWORD: password,
      STAGECRAFT_SEED: 'true',
      LOG_LEVEL: 'warn',
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    });
    say(`0. Data directory ${dataDir} (removed when the demo stops)`);
    say('1. Starting Stagecraft with the demo catalog (Swagger Petstore 1.0.0 and friends)');
    const app: Stagecraft = await startStagecraft(config, { log: createLogger('warn'), signal });
    cleanup.push(() => app.stop());
    const cp = app.url;
    const petstore = await startPetstore();
    cleanup.push(() => petstore.close());
    say(`   control plane ${cp}/graphql; Petstore upstream on 127.0.0.1:${petstore.port}`);
    say(`   GraphiQL: ${cp}/graphql (open in a browser)   user: admin   password: ${password}`);

    const token = (await gql(cp, null, 'mutation($p: String!) { login(username: "admin", password: $p) { token } }', { p: password })).login.token as string;
    const petstoreId = (await gql(cp, token, '{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { id } } } }')).assets.edges[0].node.id;

    say('2. Publishing Swagger Petstore 1.0.0 in the default group');
    const nodes = { nodes: [{ host: '127.0.0.1', port: petstore.port, weight: 1 }] };
    const published = (await gql(cp, token, 'mutation($i: PublishServiceInput!) { publishService(input: $i) { id version } }', {
      i: { assetId: petstoreId, gatewayGroup: 'default', version: '1.0.0', upstream: nodes },
    })).publishService;

    say('3. Creating the Production Group and one gateway instance for it');
    await gql(cp, token, 'mutation { createGatewayGroup(input: { name: "Production Group", description: "live traffic" }) { name } }');
    const joinToken = (await gql(cp, token, 'mutation { createGatewayInstanceToken(gatewayGroup: "Production Group") { token } }')).createGatewayInstanceToken.token;
    const gateway: ChildProcess = spawn(
      process.execPath,
      [cliPath(), 'gateway', '--control-plane', cp, '--group', 'Production Group', '--port', String(options.gatewayPort), '--host', '127.0.0.1'],
      { env: { ...process.env, STAGECRAFT_GATEWAY_TOKEN: joinToken, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    cleanup.push(() => stopChild(gateway));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      gateway.stdout!.resume(); // its JSON log
      gateway.stderr!.on('data', (d) => {
        out += d;
        if (out.includes('listening')) resolve();
      });
      gateway.once('exit', (code, sig) => reject(signal?.aborted ? new WalkthroughAborted() : new Error(`gateway exited with ${code ?? sig}: ${out}`)));
      signal?.addEventListener('abort', () => reject(new WalkthroughAborted()), { once: true });
    });
    say(`   gateway instance listening on 127.0.0.1:${options.gatewayPort}`);
    for (let waited = 0; ; waited += 200) {
      aborted();
      const { instances } = (await gql(cp, token, '{ gatewayGroup(name: "Production Group") { instances { status } } }')).gatewayGroup;
      if (instances.some((i: { status: string }) => i.status === 'ONLINE')) break;
      if (waited > 20_000) throw new Error('the gateway instance never came ONLINE');
      await new Promise((r) => setTimeout(r, 200));
    }
    say('   it joined the group and is ONLINE');

    say('4. Syncing the running version 1.0.0 to the Production Group, upstream by nodes');
    const sync = (await gql(cp, token, 'mutation($i: SyncServiceVersionInput!) { syncServiceVersion(input: $i) { id } }', {
      i: { serviceVersionId: published.id, targetGroup: 'Production Group', upstream: nodes },
    })).syncServiceVersion;
    await awaitSync(cp, token, sync.id, say, signal);
    const viaNodesBody = await getThroughGateway(options.gatewayPort, '/pet/1', signal);
    say(`5. curl http://127.0.0.1:${options.gatewayPort}/pet/1 → ${viaNodesBody.toString('utf8')}`);

    say('6. The same with service discovery: a Nacos registry lists the Petstore');
    const nacos = await startNacosRegistry({ petstore: [{ ip: '127.0.0.1', port: petstore.port }] });
    cleanup.push(() => nacos.close());
    await gql(cp, token, 'mutation($a: String!) { createServiceRegistry(input: { gatewayGroup: "Production Group", name: "nacos", type: "NACOS", address: $a, refreshMs: 1000 }) { name } }', { a: nacos.url });
    const next = (await gql(cp, token, 'mutation($i: PublishServiceInput!) { publishService(input: $i) { id version } }', {
      i: { assetId: petstoreId, gatewayGroup: 'default', upstream: nodes },
    })).publishService;
    say(`   published ${next.version} in default; syncing it with discovery (registry nacos, service petstore)`);
    const viaRegistry = (await gql(cp, token, 'mutation($i: SyncServiceVersionInput!) { syncServiceVersion(input: $i) { id } }', {
      i: { serviceVersionId: next.id, targetGroup: 'Production Group', upstream: { discovery: { registry: 'nacos', namespace: 'public', serviceName: 'petstore' } } },
    })).syncServiceVersion;
    await awaitSync(cp, token, viaRegistry.id, say, signal);
    const viaDiscoveryBody = await getThroughGateway(options.gatewayPort, '/pet/2', signal);
    say(`7. curl http://127.0.0.1:${options.gatewayPort}/pet/2 → ${viaDiscoveryBody.toString('utf8')}`);
    return {
      controlPlane: cp,
      adminPassword: password,
      dataDir,
      viaNodes: JSON.parse(viaNodesBody.toString('utf8')) as unknown,
      viaNodesBody,
      viaDiscovery: JSON.parse(viaDiscoveryBody.toString('utf8')) as unknown,
      stop,
    };
  } catch (err) {
    await stop();
    // A step that failed because of the interruption (PostgreSQL stopped by the same Ctrl-C …)
    throw signal?.aborted ? new WalkthroughAborted() : err;
  }
}
