/**
 * GraphQL operations over HTTP (over WebSocket: ws-operations.ts), counted and timed by name, type and outcome (ok, or the first
 * error's code), each in a span under the request's server span.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { codeLabel } from './bounded-labels.js';
import type { Observer } from './observer.js';
import { endSpan, SpanKind } from './tracing.js';

export function observeOperations<C extends object>(observer: Observer): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ request }) {
      const started = performance.now();
      let name: string | null | undefined = request.operationName;
      let type = 'unknown';
      let valid = false;
      const span = observer.tracer?.startSpan('graphql', { kind: SpanKind.INTERNAL });
      return {
        async didResolveOperation({ operationName, operation }) {
          name = operationName ?? name;
          type = operation?.operation ?? type;
          valid = true;
        },
        async willSendResponse({ response, contextValue }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const outcome = errors?.length ? codeLabel(errors[0]!.extensions?.code) : 'ok';
          const signedIn = !!(contextValue as { user?: unknown } | undefined)?.user;
          const operation = observer.metrics.operationLabel(name, valid && signedIn);
          observer.metrics.observeOperation(operation, type, outcome, (performance.now() - started) / 1000, 'http');
          if (span) {
            span.updateName(`graphql ${type} ${operation}`);
            endSpan(span, outcome, { 'graphql.operation.name': operation, 'graphql.operation.type': type });
          }
        },
      };
    },
  };
}
