/**
 * A gateway instance (`stagecraft gateway`): joins its group with a token over graphql-ws,
 * receives the group's configuration (a full snapshot on connect and after every change) and
 * swaps it into the proxy, resolves service-registry upstreams, and heartbeats. When the control
 * plane is away it keeps serving the last configuration and reconnects with backoff.
 *
 * Its token refused:
 * - the group was deleted (a DELETED update on the stream, or the socket closed
 *   GROUP_DELETED_CLOSE, now or at any later reconnect — whichever comes first): it stops talking
 *   to the control plane and answers 503 GROUP_DELETED to every request;
 * - the token was revoked (closed 4403, on the open socket and at every reconnect): it keeps
 *   serving its last configuration and keeps retrying with backoff (up to 30 s apart), logging
 *   each refusal, so an operator can hand it a new token by restarting it — or stop it.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Logger } from '../logger.js';
import { GROUP_DELETED_CLOSE, type GatewayConfig, type UpstreamNode } from './config.js';
import { resolveNodes } from './discovery.js';
import { GatewayProxy, type GatewayProxyOptions } from './proxy.js';

export interface GatewayOptions {
  controlPlane: string;
  group: string;
  token: string;
  port: number;
  host?: string;
  heartbeatMs?: number;
  log: Logger;
  /** Metrics, metrics token and tracer for the proxy (README "Observability"). */
  observability?: Pick<GatewayProxyOptions, 'metrics' | 'metricsToken' | 'tracer'>;
}

export interface RunningGateway {
  instanceId: string;
  port: number;
  proxy: GatewayProxy;
  /** Resolves once the first configuration is in (or immediately if it already is), or the group is known to be deleted. */
  configured(): Promise<void>;
  stop(): Promise<void>;
}

const CONFIG_SUBSCRIPTION = 'subscription($g: String!) { gatewayConfig(group: $g) { revision deleted config } }';
const HEARTBEAT = 'mutation($id: ID!, $h: String!, $r: Int!) { gatewayHeartbeat(instanceId: $id, hostname: $h, revision: $r) }';

const closeCodeOf = (event: unknown): number | undefined =>
  event && typeof event === 'object' && typeof (event as { code?: unknown }).code === 'number' ? (event as { code: number }).code : undefined;

export function wsUrlOf(controlPlane: string): string {
  const url = new URL(controlPlane.replace(/\/graphql\/?$/, '') + '/graphql');
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** Re-resolves discovery upstreams on their registry's schedule; keeps the last nodes on failure. */
class DiscoveryLoop {
  private timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly proxy: GatewayProxy,
    private readonly log: Logger,
  ) {}

  update(config: GatewayConfig): void {
    const wanted = new Map(config.services.filter((s) => s.upstream.discovery).map((s) => [s.serviceVersionId, s.upstream.discovery!]));
    for (const [id, timer] of this.timers) {
      if (!wanted.has(id)) {
        clearInterval(timer);
        this.timers.delete(id);
      }
    }
    for (const [id, discovery] of wanted) {
      if (this.timers.has(id)) continue;
      // One lookup at a time: a registry slower than refreshMs is not asked again meanwhile
      // (nor does an older answer land after a newer one).
      let running = false;
      const refresh = async () => {
        if (running) return;
        running = true;
        try {
          const nodes: UpstreamNode[] = await resolveNodes(discovery);
          // not for a service that left the config (or a stopped gateway) while it was looked up
          if (this.timers.has(id)) this.proxy.setNodes(id, nodes);
        } catch (err) {
          this.log.warn({ err: (err as Error).message, registry: discovery.registry.name, serviceName: discovery.serviceName }, 'service discovery failed; keeping the last nodes');
        } finally {
          running = false;
        }
      };
      void refresh();
      this.timers.set(id, setInterval(refresh, discovery.registry.refreshMs));
    }
  }

  stop(): void {
    for (const timer of this.timers.values()) clearInterval(timer);
    this.timers.clear();
  }
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { log } = options;
  const instanceId = randomUUID();
  const host = hostname();
  const proxy = new GatewayProxy(log, options.observability);
  const port = await proxy.listen(options.port, options.host ?? '0.0.0.0');
  const discovery = new DiscoveryLoop(proxy, log);
  let firstConfig: () => void;
  const configuredOnce = new Promise<void>((resolve) => (firstConfig = resolve));

  const client: Client = createClient({
    url: wsUrlOf(options.controlPlane),
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${options.token}` },
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: (event) => closeCodeOf(event) !== GROUP_DELETED_CLOSE,
    // The one error that ends the connection loop is the deletion, handled by `closed`.
    onNonLazyError: (err) => {
      if (closeCodeOf(err) !== GROUP_DELETED_CLOSE) log.error({ err }, 'gave up connecting to the control plane');
    },
    // Exponential backoff with jitter, 0.5 s up to 30 s.
    retryWait: async (retries) => new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** retries) * (0.5 + Math.random() / 2))),
    on: {
      connected: () => log.info({ controlPlane: options.controlPlane }, 'connected to the control plane'),
      closed: (event) => {
        const code = closeCodeOf(event);
        if (code === GROUP_DELETED_CLOSE) return groupDeleted();
        if (code === 4403) return log.error({ code, reason: (event as { reason?: string }).reason }, 'the control plane refused the gateway token (revoked?); serving the last configuration and retrying');
        log.warn({ code }, 'control plane connection closed; serving the last configuration');
      },
    },
  });

  let stopped = false;
  let deleted = false;
  let resubscribe: NodeJS.Timeout | undefined;

  // One heartbeat in flight at a time: while the control plane is away, operations wait in the
  // client and would all be sent at once on reconnect. One asked for meanwhile follows it, with
  // the revision of that moment.
  let beating = false;
  let beatAgain = false;
  const heartbeat = (): void => {
    if (stopped) return;
    if (beating) return void (beatAgain = true);
    beating = true;
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      beating = false;
      if (beatAgain) {
        beatAgain = false;
        heartbeat();
      }
    };
    client.subscribe(
      { query: HEARTBEAT, variables: { id: instanceId, h: host, r: proxy.revision ?? -1 } },
      { next: () => undefined, error: (err) => (log.debug({ err }, 'heartbeat failed'), done()), complete: done },
    );
  };

  const subscribe = () => {
    if (stopped) return;
    client.subscribe<{ gatewayConfig: { revision: number; deleted: boolean; config: GatewayConfig } }>(
      { query: CONFIG_SUBSCRIPTION, variables: { g: options.group } },
      {
        next: ({ data, errors }) => {
          if (stopped) return; // arrived while stop() was disposing the client
          if (errors?.length || !data) return void log.error({ errors }, 'control plane refused the configuration subscription');
          if (data.gatewayConfig.deleted) return groupDeleted();
          const { config } = data.gatewayConfig;
          proxy.setConfig(config);
          discovery.update(config);
          log.info({ revision: config.revision, services: config.services.length }, 'configuration applied');
          firstConfig();
          heartbeat();
        },
        error: (err) => {
          if (stopped) return;
          log.error({ err }, 'configuration subscription failed; retrying');
          resubscribe = setTimeout(subscribe, 2_000);
        },
        complete: () => {
          if (!stopped) resubscribe = setTimeout(subscribe, 1_000);
        },
      },
    );
  };
  /**
   * The group is gone, and its join tokens with it: nothing will ever configure this instance
   * again. It stops talking to the control plane and answers 503 until an operator stops it.
   */
  const groupDeleted = () => {
    if (deleted) return; // told twice: by the stream and by the socket's close
    deleted = true;
    stopped = true;
    clearTimeout(resubscribe);
    clearInterval(timer);
    discovery.stop();
    proxy.groupDeleted(options.group);
    firstConfig();
    log.error({ group: options.group }, 'the gateway group was deleted on the control plane; answering 503 to every request');
    // Rejects when it interrupts a connection attempt (the one that brought the news): nothing to do.
    void Promise.resolve(client.dispose()).catch(() => undefined);
  };

  subscribe();
  const timer = setInterval(heartbeat, options.heartbeatMs ?? 5_000);

  return {
    instanceId,
    port,
    proxy,
    configured: () => configuredOnce,
    async stop() {
      stopped = true;
      clearTimeout(resubscribe);
      clearInterval(timer);
      discovery.stop();
      await Promise.resolve(client.dispose()).catch(() => undefined); // a connection attempt it interrupts rejects
      await proxy.close();
    },
  };
}
