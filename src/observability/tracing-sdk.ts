/**
 * OpenTelemetry tracing, on when OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT) is set:
 * the official SDK's tracer provider with a batch span processor and the OTLP/HTTP exporter
 * (JSON). One provider per Stagecraft instance or gateway, never registered globally, so two
 * instances in one process (tests, the demo) keep their own resource (service name, stage).
 */
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { productVersion } from '../version.js';
import { ensureContextManager } from './context-manager.js';

export interface Tracing {
  tracer: Tracer;
  /** Sends the spans still buffered. */
  flush(): Promise<void>;
  /** Flushes and stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * @param url the OTLP/HTTP traces endpoint (config.ts otlpTracesUrl)
 * @param attributes resource attributes beside service.name/version (e.g. the stage)
 */
export function startTracing(url: string, serviceName: string, attributes: Record<string, string> = {}): Tracing {
  ensureContextManager();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName, [ATTR_SERVICE_VERSION]: productVersion, ...attributes }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 1000 })],
  });
  return {
    tracer: provider.getTracer('stagecraft', productVersion),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

