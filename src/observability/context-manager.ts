/**
 * The OpenTelemetry context (active span, and which Stagecraft instance a piece of work belongs
 * to) carried through async calls by Node's AsyncLocalStorage. The SDK's own manager lives in a
 * package we do not depend on directly; this is the part of it we need.
 *
 * Callback-style emitters (a request body read with `on('data')`) do not carry it: the HTTP
 * middleware re-enters the request's context after body parsing (see request-context.ts).
 *
 * Installed only with tracing (tracing-sdk.ts): on Node 20 an AsyncLocalStorage in use hooks
 * every promise of the process (a store copied onto each), a tenth of the CPU of a large query.
 * Without it, `context.with` just calls its function and `context.active()` is the root context;
 * whatever needs the instance's observer then gets it from its owner (StageService → RemoteStage).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { context, ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';

class AsyncLocalContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.storage.run(ctx, () => fn.apply(thisArg, args));
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const manager = this;
    return function (this: unknown, ...args: unknown[]) {
      return manager.with(ctx, () => fn.apply(this, args));
    } as unknown as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    return this;
  }
}

let installed = false;

/** Installs the process-wide context manager once (several instances may run in one process). */
export function ensureContextManager(): void {
  if (installed) return;
  installed = true;
  context.setGlobalContextManager(new AsyncLocalContextManager());
}
