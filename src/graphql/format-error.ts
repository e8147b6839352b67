/**
 * The one mapping from thrown errors to what clients see, for HTTP and WebSocket alike.
 * AppErrors keep their code and message; GraphQL's own errors (syntax, validation, variables)
 * pass through; anything else is masked as INTERNAL_SERVER_ERROR with an id that is in the log.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { randomUUID } from 'node:crypto';
import { isDatabaseUnavailable } from '../db/errors.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';

/** graphql-js suggests field and type names ("Did you mean …?"): schema details for strangers. */
export function stripSuggestions(message: string): string {
  return message.replace(/ ?Did you mean .+\?$/, '');
}

export const DATABASE_UNAVAILABLE = 'the database is unavailable; try again shortly';

/** The error underneath Apollo's and graphql-js's wrappers. */
function underlying(error: unknown): unknown {
  let original = unwrapResolverError(error);
  while (original instanceof GraphQLError && original.originalError) original = original.originalError;
  return original;
}

/**
 * An operation that failed because the database is unreachable is answered 503 (retry later),
 * not 500: the formatter above gives its errors the code, this gives the response the status.
 */
export const databaseOutagePlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async didEncounterErrors({ errors, response }) {
        if (errors.some((e) => isDatabaseUnavailable(underlying(e)))) response.http.status = 503;
      },
    };
  },
};

export function createErrorFormatter(log: Logger, development: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    // Apollo also wraps errors thrown by plugins and context functions in a GraphQLError; what
    // decides whether we may show it is the error underneath.
    const original = underlying(error);
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
    if (isDatabaseUnavailable(original)) {
      log.warn({ err: original, path: formatted.path }, 'database unavailable');
      return { message: DATABASE_UNAVAILABLE, locations: formatted.locations, path: formatted.path, extensions: { code: 'SERVICE_UNAVAILABLE' } };
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
