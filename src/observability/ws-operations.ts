/**
 * GraphQL operations over graphql-ws, counted and timed under the same metric and label rules as
 * over HTTP (graphql-plugin.ts), with `transport="ws"`.
 *
 * - A query or mutation is timed from its `subscribe` message to its completion; its outcome is
 *   the first error's code of its result, or ok.
 * - A subscription counts once, when it starts (or is refused): its duration is the time to start,
 *   not its lifetime (the active ones are the `stagecraft_subscriptions_active` gauge).
 * - An operation refused before it runs (parse, validation, limits, credentials) counts with the
 *   refusal's code under the name the message gave (`operationName`, usually none: "anonymous",
 *   as over HTTP); like a signed-out one, it may not add a name (BoundedNames' `mayAdd`).
 *
 * Pending queries are kept per socket (a WeakMap on the socket's `extra`), so a socket that
 * closes mid-operation leaves nothing behind.
 */
import { getOperationAST, type ExecutionArgs, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import { codeLabel } from './bounded-labels.js';
import type { Observer } from './observer.js';

interface Pending {
  started: number;
  operation: string;
  type: string;
  outcome: string;
}

const outcomeOf = (errors: readonly GraphQLFormattedError[] | undefined): string => (errors?.length ? codeLabel(errors[0]!.extensions?.code) : 'ok');

/**
 * A refusal's code before it is formatted (formatting logs unexpected errors, and graphql-ws
 * formats it once more on its way out): its own code, or that of the AppError it wraps.
 */
const refusalOutcome = (error: GraphQLError | undefined): string =>
  codeLabel(error?.extensions?.code ?? (error?.originalError as { code?: unknown } | undefined)?.code ?? 'INTERNAL_SERVER_ERROR');

export class WsOperations {
  private readonly pending = new WeakMap<object, Map<string, Pending>>();

  constructor(private readonly observer: Observer) {}

  /**
   * `onSubscribe` has answered for operation `id` (started at `started`, from performance.now()):
   * `args` to run it, or the errors it was refused with.
   */
  subscribed(socketKey: object, id: string, started: number, name: string | null | undefined, answer: ExecutionArgs | readonly GraphQLError[]): void {
    const metrics = this.observer.metrics;
    if (Array.isArray(answer)) {
      return metrics.observeOperation(metrics.operationLabel(name, false), 'unknown', refusalOutcome((answer as readonly GraphQLError[])[0]), seconds(started), 'ws');
    }
    const args = answer as ExecutionArgs;
    // The name as Apollo resolves it over HTTP: the one asked for, else the document's only operation's.
    const ast = getOperationAST(args.document, args.operationName);
    const type = ast?.operation ?? 'unknown';
    const signedIn = !!(args.contextValue as { user?: unknown } | undefined)?.user;
    const operation = metrics.operationLabel(ast?.name?.value ?? name, signedIn);
    if (type === 'subscription') return metrics.observeOperation(operation, type, 'ok', seconds(started), 'ws');
    let bySocket = this.pending.get(socketKey);
    if (!bySocket) this.pending.set(socketKey, (bySocket = new Map()));
    bySocket.set(id, { started, operation, type, outcome: 'ok' });
  }

  /** A result of operation `id` went out (errors formatted): its outcome, if it is a query or mutation. */
  result(socketKey: object, id: string, errors: readonly GraphQLFormattedError[] | undefined): void {
    const entry = this.pending.get(socketKey)?.get(id);
    if (entry && entry.outcome === 'ok') entry.outcome = outcomeOf(errors);
  }

  /** Operation `id` completed (or the client cancelled it). */
  completed(socketKey: object, id: string): void {
    const bySocket = this.pending.get(socketKey);
    const entry = bySocket?.get(id);
    if (!entry) return;
    bySocket!.delete(id);
    this.observer.metrics.observeOperation(entry.operation, entry.type, entry.outcome, seconds(entry.started), 'ws');
  }
}

const seconds = (started: number) => (performance.now() - started) / 1000;
