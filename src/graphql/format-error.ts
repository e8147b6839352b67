/**
 * The one mapping from thrown errors to what clients see, for HTTP and WebSocket alike.
 * AppErrors keep their code and message; GraphQL's own errors (syntax, validation, variables)
 * pass through; anything else is masked as INTERNAL_SERVER_ERROR with an id that is in the log.
 */
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';

/** graphql-js suggests field and type names ("Did you mean …?"): schema details for strangers. */
export function stripSuggestions(message: string): string {
  return message.replace(/ ?Did you mean .+\?$/, '');
}

export function createErrorFormatter(log: Logger, development: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    let original = unwrapResolverError(error);
    // Apollo also wraps errors thrown by plugins and context functions in a GraphQLError; what
    // decides whether we may show it is the error underneath.
    while (original instanceof GraphQLError && original.originalError) original = original.originalError;
    if (original instanceof AppError) {
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: original.code, ...original.details },
      };
    }
    if (original instanceof GraphQLError) {
      // GraphQL's own errors (syntax, validation, variable coercion) describe the request, not us.
      const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
      return development
        ? formatted
        : { ...formatted, message: stripSuggestions(formatted.message), extensions };
    }
    const errorId = randomUUID();
    log.error({ errorId, err: original, path: formatted.path }, 'unexpected error');
    return {
      message: development && original instanceof Error ? original.message : 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR', errorId },
    };
  };
}
