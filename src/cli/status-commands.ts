/**
 * `stagecraft whoami` (who the token signs in as, and where) and `stagecraft ping` (is the server
 * up and ready, which version, how long a round trip takes): the first two commands a pipeline
 * runs to check its settings.
 */
import { performance } from 'node:perf_hooks';
import { CliError, EXIT, parseCommandArgs, printable, usageError, type CliIO } from './command.js';
import { graphqlRequest, unexpectedResponse } from './graphql.js';
import { connectionHelp, connectionOptions, resolveConnection, serverRequest, type Connection } from './http.js';

// ---------------------------------------------------------------------------------------------
// whoami

export const whoamiUsage = 'usage: stagecraft whoami --server URL --token TOKEN [--json]';

const whoamiHelp = `${whoamiUsage}

Prints the user the token signs in as (name, role, privileges) and the server's stage and
Stagecraft version. --json prints them as JSON: { user, server }.
${connectionHelp}

Exit status: 0 signed in, 2 bad command line, 3 the server refused the token or could not be reached.
`;

const WHOAMI = 'query StagecraftWhoami { me { username role privileges } serverInfo { stage productVersion } }';

interface Whoami {
  me: { username: string; role: string; privileges: string[] } | null;
  serverInfo: { stage: string; productVersion: string };
}

export async function whoamiCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { ...connectionOptions, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const, whoamiUsage, true);
  if (values.help) {
    io.stdout.write(whoamiHelp);
    return EXIT.OK;
  }
  if (positionals.length) throw usageError(`whoami takes no arguments (got "${printable(positionals[0]!)}")`, whoamiUsage);
  const conn = resolveConnection(values, io, whoamiUsage);
  const { me, serverInfo } = await graphqlRequest<Whoami>(conn, WHOAMI);
  // A token the server does not know is refused before this; null would mean it signed nobody in.
  if (!me) throw new CliError(EXIT.FAILED, 'UNAUTHENTICATED', 'the server signed nobody in with this token');
  if (!serverInfo || !Array.isArray(me.privileges)) throw unexpectedResponse('the signed-in user');
  const server = { url: conn.base.toString(), stage: serverInfo.stage, productVersion: serverInfo.productVersion };
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ user: me, server }, null, 2)}\n`);
    return EXIT.OK;
  }
  io.stdout.write(
    `user:       ${printable(me.username)}\n` +
      `role:       ${printable(me.role)}\n` +
      `privileges: ${me.privileges.length ? me.privileges.map(printable).join(', ') : '(none)'}\n` +
      `server:     ${printable(server.url)} (stage ${printable(server.stage)}, Stagecraft ${printable(server.productVersion)})\n`,
  );
  return EXIT.OK;
}

// ---------------------------------------------------------------------------------------------
// ping

export const pingUsage = 'usage: stagecraft ping --server URL [--token TOKEN] [--count N] [--json]';

const pingHelp = `${pingUsage}

Checks that the server answers (GET /healthz, --count times, default 3, at most 100) and is
ready (GET /readyz: database reachable, no migration pending), and prints the round trips
(min, median, max). With a token it also prints the server's stage and Stagecraft version
(Query.serverInfo); without one it needs no account at all.
--json prints { server, reachable, ready, reason, stage, productVersion, latencyMs }.
${connectionHelp}

Exit status: 0 up and ready, 1 up but not ready (the reason is printed), 2 bad command line,
3 unreachable, not a Stagecraft server, or the token was refused.
`;

const pingOptions = {
  ...connectionOptions,
  count: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface PingResult {
  server: string;
  reachable: true;
  ready: boolean;
  reason: string | null;
  stage: string | null;
  productVersion: string | null;
  latencyMs: { min: number; median: number; max: number; samples: number[] };
}

export async function pingCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, pingOptions, pingUsage, true);
  if (values.help) {
    io.stdout.write(pingHelp);
    return EXIT.OK;
  }
  if (positionals.length) throw usageError(`ping takes no arguments (got "${printable(positionals[0]!)}")`, pingUsage);
  const count = values.count === undefined ? 3 : Number(values.count);
  if (!/^\d+$/.test(values.count ?? '3') || !Number.isInteger(count) || count < 1 || count > 100) {
    throw usageError(`--count must be a whole number from 1 to 100 (got "${printable(values.count ?? '')}")`, pingUsage);
  }
  const conn = resolveConnection(values, io, pingUsage, true);
  const result = await ping(conn, count);
  io.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatPing(result));
  return result.ready ? EXIT.OK : EXIT.INCOMPLETE;
}

async function ping(conn: Connection, count: number): Promise<PingResult> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const res = await serverRequest(conn, 'healthz', { method: 'GET', headers: { accept: 'application/json' } });
    const body = (await res.json().catch(() => null)) as { status?: unknown } | null;
    samples.push(Math.round((performance.now() - started) * 10) / 10);
    if (body?.status !== 'ok') throw new CliError(EXIT.FAILED, 'UNEXPECTED_RESPONSE', `${conn.base.origin} answered /healthz, but not as a Stagecraft server`);
  }
  const readyz = await serverRequest(conn, 'readyz', { method: 'GET', headers: { accept: 'application/json' } }, [503]);
  const readiness = (await readyz.json().catch(() => null)) as { status?: unknown; reason?: unknown } | null;
  const ready = readyz.status === 200 && readiness?.status === 'ready';
  const reason = ready ? null : typeof readiness?.reason === 'string' ? readiness.reason : `HTTP ${readyz.status}`;
  let info: { stage: string; productVersion: string } | null = null;
  if (conn.token) info = (await graphqlRequest<{ serverInfo: { stage: string; productVersion: string } }>(conn, '{ serverInfo { stage productVersion } }')).serverInfo;
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    server: conn.base.toString(),
    reachable: true,
    ready,
    reason,
    stage: info?.stage ?? null,
    productVersion: info?.productVersion ?? null,
    latencyMs: { min: sorted[0]!, median: sorted[Math.floor((sorted.length - 1) / 2)]!, max: sorted.at(-1)!, samples },
  };
}

export function formatPing(r: PingResult): string {
  const who = r.productVersion ? `Stagecraft ${printable(r.productVersion)} (stage ${printable(r.stage ?? '?')})` : 'version unknown (give --token to see it)';
  const { min, median, max, samples } = r.latencyMs;
  const ready = r.ready ? 'ready' : `NOT READY: ${printable(r.reason ?? '')}`;
  return `${printable(r.server)}: up, ${ready}, ${who}\n  ${samples.length} round trip${samples.length === 1 ? '' : 's'}: min ${min} ms, median ${median} ms, max ${max} ms\n`;
}
