/** A gateway instance's metrics, metrics token and tracer, from the environment (`stagecraft gateway`). */
import type { Tracer } from '@opentelemetry/api';
import { ConfigError, metricsTokenFrom, otlpTracesUrl } from '../config.js';
import { GatewayMetrics } from './gateway-metrics.js';

export interface GatewayObservability {
  metrics: GatewayMetrics;
  metricsToken: string | undefined;
  tracer: Tracer | null;
  /** Exports the spans still buffered. */
  shutdown(): Promise<void>;
}

export async function gatewayObservability(env: NodeJS.ProcessEnv, group: string): Promise<GatewayObservability> {
  let metricsToken: string | undefined;
  try {
    metricsToken = metricsTokenFrom(env);
  } catch (err) {
    if (err instanceof ConfigError) throw Object.assign(new Error(`invalid configuration: ${err.message}`), { exitCode: 2 });
    throw err;
  }
  const url = otlpTracesUrl(env);
  const tracing = url ? (await import('./tracing-sdk.js')).startTracing(url, 'stagecraft-gateway', { 'stagecraft.gateway_group': group }) : null;
  return {
    metrics: new GatewayMetrics(),
    metricsToken,
    tracer: tracing?.tracer ?? null,
    shutdown: async () => tracing?.shutdown(),
  };
}
