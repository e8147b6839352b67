/**
 * Talking to a running Stagecraft server: the `--server` / `--token` options (or
 * STAGECRAFT_SERVER / STAGECRAFT_TOKEN; flags win), bearer-token requests with Node's fetch, and
 * the server's JSON errors turned into one `stagecraft: <code>: <message>` line.
 */
import { productVersion } from '../version.js';
import { CliError, EXIT, usageError, type CliIO } from './command.js';

export const connectionOptions = {
  server: { type: 'string' },
  token: { type: 'string' },
} as const;

export const connectionUsage = '--server URL --token TOKEN';
export const connectionHelp =
  'STAGECRAFT_SERVER and STAGECRAFT_TOKEN stand in for --server and --token (flags win); STAGECRAFT_TIMEOUT (seconds, default 300) bounds each request.';

/** How long one request to the server may take, whole (a big import included), unless STAGECRAFT_TIMEOUT says otherwise. */
const DEFAULT_TIMEOUT_SECONDS = 300;

export interface Connection {
  /** The server's base URL, ending in `/` (a trailing `/graphql` is dropped). */
  base: URL;
  token: string;
  /** Each request is aborted after this long (a server that never answers must not hang a pipeline). */
  timeoutMs: number;
}

/** `tokenOptional`: the command also works signed out (ping); the token is then empty. */
export function resolveConnection(values: { server?: string; token?: string }, io: CliIO, usage: string, tokenOptional = false): Connection {
  const server = (values.server ?? io.env.STAGECRAFT_SERVER ?? '').trim();
  const token = (values.token ?? io.env.STAGECRAFT_TOKEN ?? '').trim();
  if (!server) throw usageError('missing --server URL (or STAGECRAFT_SERVER)', usage);
  if (!token && !tokenOptional) throw usageError('missing --token TOKEN (or STAGECRAFT_TOKEN)', usage);
  const timeoutText = (io.env.STAGECRAFT_TIMEOUT ?? '').trim();
  const timeoutSeconds = timeoutText === '' ? DEFAULT_TIMEOUT_SECONDS : Number(timeoutText);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 86_400) throw usageError('STAGECRAFT_TIMEOUT must be a number of seconds from 1 to 86400', usage);
  let base: URL;
  try {
    base = new URL(server);
  } catch {
    throw usageError(`--server must be an http(s) URL (got "${server}")`, usage);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw usageError(`--server must be an http(s) URL (got "${server}")`, usage);
  base.search = '';
  base.hash = '';
  // People paste the GraphQL address `serve` prints; the REST endpoints live next to it.
  base.pathname = `${base.pathname.replace(/\/+$/, '').replace(/\/graphql$/, '')}/`;
  return { base, token, timeoutMs: timeoutSeconds * 1000 };
}

/**
 * The server's answer on success (or with one of `alsoAccept`'s statuses); a CliError (exit 3)
 * with the server's code otherwise. Signed out when the connection has no token.
 */
export async function serverRequest(conn: Connection, path: string, init: RequestInit & { duplex?: 'half' }, alsoAccept: readonly number[] = []): Promise<Response> {
  const url = new URL(path.replace(/^\/+/, ''), conn.base);
  let res: Response;
  try {
    res = await fetch(url, {
      ...init,
      // A redirect is refused, never followed: following would re-send the request (an archive, a
      // password) to wherever the answer points.
      redirect: 'manual',
      signal: AbortSignal.timeout(conn.timeoutMs),
      headers: { ...(init.headers as Record<string, string>), ...(conn.token ? { authorization: `Bearer ${conn.token}` } : {}), 'user-agent': `stagecraft-cli/${productVersion}` },
    });
  } catch (err) {
    if ((err as Error)?.name === 'TimeoutError') throw new CliError(EXIT.FAILED, 'TIMEOUT', `${url.origin} did not answer within ${conn.timeoutMs / 1000} s (STAGECRAFT_TIMEOUT)`);
    throw new CliError(EXIT.FAILED, 'UNREACHABLE', `cannot reach ${url.origin}: ${describeNetworkError(err)}`);
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => undefined);
    throw new CliError(EXIT.FAILED, 'REDIRECT_REFUSED', `${url.origin} answered a redirect (HTTP ${res.status}); give the server's own address as --server`);
  }
  if (!res.ok && !alsoAccept.includes(res.status)) throw await responseError(res);
  return res;
}

/** `{ error: { code, message } }` (REST) or `{ errors: [{ message, extensions: { code } }] }` (GraphQL). */
export async function responseError(res: Response): Promise<CliError> {
  const text = await res.text().catch(() => '');
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  const rest = body?.error;
  if (rest && typeof rest.code === 'string' && typeof rest.message === 'string') return new CliError(EXIT.FAILED, rest.code, rest.message);
  const gql = Array.isArray(body?.errors) ? body.errors[0] : null;
  if (gql && typeof gql.message === 'string') return new CliError(EXIT.FAILED, typeof gql.extensions?.code === 'string' ? gql.extensions.code : `HTTP_${res.status}`, gql.message);
  return new CliError(EXIT.FAILED, `HTTP_${res.status}`, `${res.statusText || 'error'} from ${new URL(res.url).origin} (not a Stagecraft error response)`);
}

/** fetch hides the socket error in `cause`; show that ("connect ECONNREFUSED 127.0.0.1:1"). */
export function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: unknown })?.cause;
  if (cause instanceof Error && cause.message) return cause.message;
  if (cause && typeof cause === 'object' && Array.isArray((cause as AggregateError).errors)) return String((cause as AggregateError).errors[0]?.message ?? cause);
  return err instanceof Error ? err.message : String(err);
}
