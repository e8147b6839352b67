/**
 * Span helpers over the OpenTelemetry API; a null tracer (tracing off) costs nothing. The SDK
 * is loaded only when tracing is on (tracing-sdk.ts).
 *
 * W3C trace context travels in `traceparent` headers: a promotion's import request to the
 * target stage, and the gateway's request to an upstream.
 */
import { context, trace, SpanKind, SpanStatusCode, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

export { SpanKind, SpanStatusCode, type Span, type Tracer };

const w3c = new W3CTraceContextPropagator();

const headerGetter = {
  keys: (carrier: Record<string, string | string[] | undefined>) => Object.keys(carrier),
  get: (carrier: Record<string, string | string[] | undefined>, key: string) => carrier[key],
};

/** The context a `traceparent` (and `tracestate`) header names as parent, over `base`. */
export function extractTraceContext(headers: Record<string, string | string[] | undefined>, base: Context = context.active()): Context {
  return w3c.extract(base, headers, headerGetter);
}

/** `traceparent` / `tracestate` for the span active in `ctx` (nothing when there is none). */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const out: Record<string, string> = {};
  w3c.inject(ctx, out, { set: (carrier, key, value) => void (carrier[key] = value) });
  return out;
}

/** Ends a span with the outcome: an error status (and its code) for anything but 'ok'. */
export function endSpan(span: Span, outcome: string, attributes: Record<string, string | number> = {}): void {
  span.setAttributes(attributes);
  if (outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
  span.end();
}

/** A child of the active span, made active while `fn` runs, ended with its outcome. */
export async function inSpan<T>(tracer: Tracer | null, name: string, kind: SpanKind, attributes: Record<string, string | number>, fn: (span: Span | null) => Promise<T>, parent: Context = context.active()): Promise<T> {
  if (!tracer) return fn(null);
  const span = tracer.startSpan(name, { kind, attributes }, parent);
  try {
    const result = await context.with(trace.setSpan(parent, span), () => fn(span));
    span.end();
    return result;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    endSpan(span, typeof code === 'string' ? code : 'error');
    throw err;
  }
}
