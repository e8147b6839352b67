/**
 * Which Stagecraft instance a piece of work belongs to, carried in the OpenTelemetry context:
 * code deep in a use case (a call to another stage) records its metrics and spans with the
 * instance that runs it, without the observer threaded through every constructor, and two
 * instances in one process (tests, the demo) never count each other's work.
 */
import { context, createContextKey, type Context } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import type { ControlPlaneMetrics } from './control-plane-metrics.js';

export interface Observer {
  metrics: ControlPlaneMetrics;
  /** null: tracing is off. */
  tracer: Tracer | null;
}

const OBSERVER = createContextKey('stagecraft.observer');

export function withObserver(ctx: Context, observer: Observer): Context {
  return ctx.setValue(OBSERVER, observer);
}

/** The observer of the instance whose work is running, if it is one of ours (only while tracing is on: context-manager.ts). */
export function currentObserver(): Observer | undefined {
  return context.active().getValue(OBSERVER) as Observer | undefined;
}
