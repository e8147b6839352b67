/**
 * GraphQL over HTTP for the client commands: `data` of an operation, or the server's first error
 * (with its `extensions.code`) as a CliError that exits 3.
 */
import { CliError, EXIT } from './command.js';
import { serverRequest, type Connection } from './http.js';

export async function graphqlRequest<T>(conn: Connection, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await serverRequest(conn, 'graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: { data?: unknown; errors?: unknown } | null;
  try {
    body = JSON.parse(text) as { data?: unknown; errors?: unknown };
  } catch {
    body = null;
  }
  if (Array.isArray(body?.errors) && body.errors.length) throw graphqlError(body.errors);
  if (!body?.data || typeof body.data !== 'object') throw unexpectedResponse('GraphQL data');
  return body.data as T;
}

export function graphqlError(errors: readonly { message?: unknown; extensions?: { code?: unknown } }[]): CliError {
  const first = errors[0]!;
  const code = typeof first.extensions?.code === 'string' ? first.extensions.code : 'GRAPHQL_ERROR';
  const message = typeof first.message === 'string' ? first.message : 'the server refused the request';
  return new CliError(EXIT.FAILED, code, errors.length > 1 ? `${message} (and ${errors.length - 1} more errors)` : message);
}

/** The server answered, but not with what this command asked for (exit 3). */
export const unexpectedResponse = (what: string) => new CliError(EXIT.FAILED, 'UNEXPECTED_RESPONSE', `the server did not answer with ${what}`);
