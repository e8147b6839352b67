/**
 * One typed, validated configuration built from command-line flags and the environment.
 * Flags win over env. A bad value stops start-up with one line naming the setting.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { z } from 'zod';
import { AllowListError, parseAllowList } from './domain/outbound-url.js';

export interface Config {
  /** HTTP port; 0 picks a free one. */
  port: number;
  host: string;
  /** Name of the stage this instance is (dev, qa, prod …). */
  stage: string;
  /** Holds the embedded PostgreSQL cluster and the secret key file. */
  dataDir: string;
  /** External PostgreSQL; when absent an embedded cluster is started under dataDir. */
  databaseUrl?: string;
  /** Password for the first `admin` user (secret). */
  adminPassword?: string;
  /** Base64 AES-256 key(s) from env instead of the key file (secret). */
  secretKey?: string;
  seed: boolean;
  /** webMethods' enableImportBackup: an import that overwrites an API keeps the replaced version (listable, restorable). */
  enableImportBackup: boolean;
  /** webMethods' enableTeamWork: a team's TEAM asset (with its groups and their users) travels as an optional dependency of the team's assets. */
  enableTeamWork: boolean;
  graphiql: boolean;
  /** Development mode: stack traces, field suggestions and open introspection. */
  development: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How long a replica holds a job without renewing; a job of a dead replica is retried after it. */
  jobLeaseMs: number;
  /** How often every registered stage is checked for Stage.status (one check per stage per interval). */
  stageCheckMs: number;
  /**
   * Hosts, addresses and CIDRs outbound calls (stages, registries, upstreams) may reach although
   * the outbound rule refuses them (link-local, metadata …): `STAGECRAFT_ALLOWED_HOSTS`.
   */
  allowedHosts: string[];
  /** Bearer token /metrics requires (secret); unset: loopback clients only (README "Observability"). */
  metricsToken?: string;
  /** OTLP/HTTP traces endpoint from OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT; null: tracing off. */
  otlpTracesUrl: string | null;
  /**
   * Browser origins (exact `scheme://host[:port]`) whose pages may call /graphql, the archive
   * endpoints and open WebSockets: `--cors-origin` / `STAGECRAFT_CORS_ORIGINS`. Empty: none.
   */
  corsOrigins: string[];
  /** Let allowed origins send credentials (cookies, HTTP auth): `STAGECRAFT_CORS_CREDENTIALS`, off by default. */
  corsCredentials: boolean;
  limits: Limits;
  auth: AuthLimits;
}

/**
 * Bounds on sessions, sockets and sign-ins. Socket and subscription caps count per replica;
 * login throttling counts in the database, so it holds across replicas.
 */
export interface AuthLimits {
  /** How long a `login` session lives. */
  sessionTtlMs: number;
  /** Open graphql-ws sockets per principal (user, API token's user, gateway token; anonymous: per client address). */
  socketsPerUser: number;
  /** Open graphql-ws sockets per gateway join token (one per gateway instance of the group). */
  socketsPerGatewayToken: number;
  /** Running subscriptions on one socket. */
  subscriptionsPerSocket: number;
  /** Running subscriptions of one principal over all its sockets. */
  subscriptionsPerUser: number;
  /** Failed sign-ins per username before each further one waits (back-off doubles from lockoutBaseMs). */
  loginFailuresPerUsername: number;
  /** Failed sign-ins per client address before back-off (the TCP peer: behind a shared NAT or proxy, its users share it). */
  loginFailuresPerAddress: number;
  /** First lockout after the free failures; doubles with each further failure. */
  loginLockoutBaseMs: number;
  /** The longest lockout. */
  loginLockoutMaxMs: number;
  /** Failures older than this are forgotten. */
  loginFailureWindowMs: number;
  /** argon2 hashes computed at once (each takes one core for ~0.1–0.5 s and 64 MB). */
  passwordHashConcurrency: number;
  /** Sign-ins that may wait for a hashing slot; more are answered TOO_MANY_REQUESTS. */
  passwordHashQueue: number;
}

export const defaultAuthLimits: AuthLimits = {
  sessionTtlMs: 12 * 60 * 60 * 1000,
  socketsPerUser: 20,
  socketsPerGatewayToken: 1000,
  subscriptionsPerSocket: 50,
  subscriptionsPerUser: 100,
  loginFailuresPerUsername: 5,
  loginFailuresPerAddress: 5,
  loginLockoutBaseMs: 1000,
  loginLockoutMaxMs: 15 * 60 * 1000,
  loginFailureWindowMs: 15 * 60 * 1000,
  // Half the cores at most, so sign-ins can never take all of them from other requests.
  passwordHashConcurrency: Math.max(1, Math.floor(availableParallelism() / 2)),
  passwordHashQueue: 4,
};

/** What one request may ask for. Every one is refused with the limit in the message (README "Limits"). */
export interface Limits {
  /** Largest GraphQL request body (HTTP) or WebSocket message. */
  bodyBytes: number;
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxCost: number;
  /** graphql-ws: how long a socket may stay open without connection_init. */
  wsInitTimeoutMs: number;
  /** Longest string any argument or input field may hold (characters). */
  maxStringChars: number;
  /** Most items any list argument or input field may hold. */
  maxListItems: number;
  /** Deepest nesting of a JSON argument (specs, settings). */
  maxJsonDepth: number;
  /** Largest `first` / `last` of a list field. */
  maxPageSize: number;
  /** Search keyword: characters, `|` alternatives and `*` wildcards. */
  maxKeywordChars: number;
  maxKeywordAlternatives: number;
  maxKeywordWildcards: number;
  /** Largest archive upload (compressed bytes) and what it may expand to. */
  archiveBytes: number;
  archiveExpandedBytes: number;
  archiveEntries: number;
  /** Archive imports running at once in this process; more are answered 429. */
  concurrentImports: number;
  /**
   * Longest an archive upload may go without sending a byte: a stalled upload is answered 408
   * and frees its import slot (else it held one until Node's 5-minute request timeout).
   */
  uploadIdleMs: number;
  /** Events a subscription may leave waiting before it is dropped as too slow. */
  subscriberQueue: number;
  /** Bytes a WebSocket may leave unsent before it is closed as too slow (1013, resubscribe). */
  subscriberBufferBytes: number;
  /**
   * ONLINE instances one gateway join token may hold; a heartbeat for one more is answered
   * TOO_MANY_REQUESTS. Also how many OFFLINE instances of a token are kept as history.
   */
  instancesPerGatewayToken: number;
}

export const defaultLimits: Limits = {
  bodyBytes: 1024 * 1024,
  maxDepth: 12,
  maxAliases: 30,
  maxTokens: 5000,
  maxCost: 20000,
  wsInitTimeoutMs: 3000,
  maxStringChars: 10_000,
  maxListItems: 5000,
  maxJsonDepth: 32,
  maxPageSize: 500,
  maxKeywordChars: 256,
  maxKeywordAlternatives: 16,
  maxKeywordWildcards: 8,
  archiveBytes: 64 * 1024 * 1024,
  archiveExpandedBytes: 128 * 1024 * 1024,
  archiveEntries: 100_001,
  concurrentImports: 2,
  uploadIdleMs: 30_000,
  subscriberQueue: 10_000,
  subscriberBufferBytes: 4 * 1024 * 1024,
  instancesPerGatewayToken: 1000,
};

/** The environment variable that overrides each limit an operator may want to change. */
export const limitSettings: Partial<Record<keyof Limits, string>> = {
  bodyBytes: 'STAGECRAFT_MAX_BODY_BYTES',
  maxDepth: 'STAGECRAFT_MAX_QUERY_DEPTH',
  maxAliases: 'STAGECRAFT_MAX_ALIASES',
  maxTokens: 'STAGECRAFT_MAX_TOKENS',
  maxCost: 'STAGECRAFT_MAX_COST',
  maxStringChars: 'STAGECRAFT_MAX_STRING_CHARS',
  maxListItems: 'STAGECRAFT_MAX_LIST_ITEMS',
  maxJsonDepth: 'STAGECRAFT_MAX_JSON_DEPTH',
  maxPageSize: 'STAGECRAFT_MAX_PAGE_SIZE',
  maxKeywordChars: 'STAGECRAFT_MAX_KEYWORD_CHARS',
  archiveBytes: 'STAGECRAFT_ARCHIVE_MAX_BYTES',
  archiveExpandedBytes: 'STAGECRAFT_ARCHIVE_MAX_EXPANDED_BYTES',
  archiveEntries: 'STAGECRAFT_ARCHIVE_MAX_ENTRIES',
  concurrentImports: 'STAGECRAFT_MAX_CONCURRENT_IMPORTS',
  uploadIdleMs: 'STAGECRAFT_UPLOAD_IDLE_TIMEOUT_MS',
  subscriberQueue: 'STAGECRAFT_SUBSCRIBER_QUEUE',
  subscriberBufferBytes: 'STAGECRAFT_SUBSCRIBER_BUFFER_BYTES',
  instancesPerGatewayToken: 'STAGECRAFT_MAX_INSTANCES_PER_GATEWAY_TOKEN',
};

/** Limits from the environment over the defaults; a bad value stops start-up naming the setting. */
function loadLimits(env: NodeJS.ProcessEnv): Limits {
  const limits = { ...defaultLimits };
  for (const [key, name] of Object.entries(limitSettings) as [keyof Limits, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${name} must be a positive integer (got ${JSON.stringify(raw)})`);
    limits[key] = value;
  }
  return limits;
}

/** Names of settings whose values must never be printed. */
export const secretSettings = ['adminPassword', 'secretKey', 'databaseUrl', 'metricsToken'] as const;

/** Where spans go: the traces endpoint as given, or `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`; null = tracing off. */
export function otlpTracesUrl(env: NodeJS.ProcessEnv): string | null {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!base) return null;
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** STAGECRAFT_METRICS_TOKEN, checked: long enough not to be guessed, printable, no spaces. */
export function metricsTokenFrom(env: NodeJS.ProcessEnv): string | undefined {
  const token = env.STAGECRAFT_METRICS_TOKEN;
  if (token === undefined || token === '') return undefined;
  if (!/^[\x21-\x7e]{16,512}$/.test(token)) throw new ConfigError('STAGECRAFT_METRICS_TOKEN must be 16 to 512 printable characters without spaces');
  return token;
}

export class ConfigError extends Error {}

/** More origins than any real deployment lists; bounds the header check. */
const MAX_CORS_ORIGINS = 100;

/**
 * The CORS allowlist from one or more comma-separated lists. Each entry must be an exact origin
 * (`https://portal.example.com`, `http://localhost:3000`): no path, no wildcard. `*` and `null`
 * are refused — `*` would let any site's pages call the API (and connect WebSockets) with a
 * token they got hold of; `null` is what sandboxed iframes and file:// pages send, so any
 * site can produce it.
 */
export function parseCorsOrigins(lists: readonly string[], source = '--cors-origin / STAGECRAFT_CORS_ORIGINS'): string[] {
  const origins = new Set<string>();
  for (const entry of lists.flatMap((list) => list.split(',')).map((e) => e.trim()).filter(Boolean)) {
    const shown = JSON.stringify(entry.slice(0, 200));
    if (entry === '*' || entry.includes('*')) throw new ConfigError(`${source}: wildcards are not accepted (got ${shown}); list each origin, e.g. https://portal.example.com`);
    if (entry.toLowerCase() === 'null') throw new ConfigError(`${source}: "null" is not accepted: sandboxed iframes and file:// pages of any site send it`);
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new ConfigError(`${source} must list origins like https://portal.example.com (got ${shown})`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${source}: only http and https origins (got ${shown})`);
    // An origin is scheme, host and port only: anything else would never match a browser's Origin header.
    if (url.origin !== entry.replace(/\/$/, '').toLowerCase()) {
      throw new ConfigError(`${source}: ${shown} is not an origin (scheme://host[:port], no path, query or credentials); did you mean ${url.origin}?`);
    }
    origins.add(url.origin);
  }
  if (origins.size > MAX_CORS_ORIGINS) throw new ConfigError(`${source}: at most ${MAX_CORS_ORIGINS} origins (got ${origins.size})`);
  return [...origins];
}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const schema = z.object({
  port: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535'),
  host: z.string().min(1),
  stage: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be lower-case letters, digits and dashes, starting with a letter'),
  dataDir: z.string().min(1, 'must not be empty'),
  databaseUrl: z
    .string()
    .refine((v) => /^postgres(ql)?:\/\/.+/.test(v), 'must be a postgres:// or postgresql:// URL')
    .optional(),
  adminPassword: z.string().min(8, 'must be at least 8 characters').optional(),
  secretKey: z.string().optional(),
  seed: bool,
  enableImportBackup: bool,
  enableTeamWork: bool,
  graphiql: bool,
  development: z.boolean(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  jobLeaseMs: z.coerce.number({ message: 'must be a number' }).int('must be an integer').min(500, 'must be at least 500').max(3_600_000, 'must be at most 3600000'),
  stageCheckMs: z.coerce.number({ message: 'must be a number' }).int('must be an integer').min(100, 'must be at least 100').max(86_400_000, 'must be at most 86400000'),
  allowedHosts: z.string().superRefine((text, ctx) => {
    try {
      parseAllowList(text);
    } catch (err) {
      if (!(err instanceof AllowListError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
    }
  }),
  corsCredentials: bool,
  sessionTtlMs: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(1000, 'must be at least 1000')
    .max(31 * 86_400_000, 'must be at most 2678400000 (31 days)'),
});

/** Where each setting comes from, for messages that name what the user typed. */
const sources: Record<string, string> = {
  port: '--port / PORT',
  host: '--host / HOST',
  stage: '--stage / STAGECRAFT_STAGE',
  dataDir: '--data-dir / STAGECRAFT_DATA_DIR',
  databaseUrl: '--database-url / DATABASE_URL',
  adminPassword: 'STAGECRAFT_ADMIN_PASSWORD',
  secretKey: 'STAGECRAFT_SECRET_KEY',
  seed: '--seed / STAGECRAFT_SEED',
  enableImportBackup: 'STAGECRAFT_ENABLE_IMPORT_BACKUP',
  enableTeamWork: 'STAGECRAFT_ENABLE_TEAM_WORK',
  graphiql: '--no-graphiql / STAGECRAFT_GRAPHIQL',
  logLevel: 'LOG_LEVEL',
  jobLeaseMs: 'STAGECRAFT_JOB_LEASE_MS',
  stageCheckMs: 'STAGECRAFT_STAGE_CHECK_MS',
  allowedHosts: 'STAGECRAFT_ALLOWED_HOSTS',
  corsCredentials: '--cors-credentials / STAGECRAFT_CORS_CREDENTIALS',
  sessionTtlMs: 'STAGECRAFT_SESSION_TTL_MS',
};

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  let flags;
  try {
    flags = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        stage: { type: 'string' },
        'data-dir': { type: 'string' },
        'database-url': { type: 'string' },
        seed: { type: 'boolean' },
        'no-graphiql': { type: 'boolean' },
        'cors-origin': { type: 'string', multiple: true },
        'cors-credentials': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const emptyToUndefined = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  const raw = {
    port: flags.port ?? env.PORT ?? '4000',
    host: flags.host ?? env.HOST ?? '0.0.0.0',
    stage: flags.stage ?? env.STAGECRAFT_STAGE ?? 'dev',
    dataDir: flags['data-dir'] ?? env.STAGECRAFT_DATA_DIR ?? './.stagecraft',
    databaseUrl: emptyToUndefined(flags['database-url'] ?? env.DATABASE_URL),
    adminPassword: emptyToUndefined(env.STAGECRAFT_ADMIN_PASSWORD),
    secretKey: emptyToUndefined(env.STAGECRAFT_SECRET_KEY),
    seed: flags.seed ? 'true' : (env.STAGECRAFT_SEED ?? 'false'),
    enableImportBackup: env.STAGECRAFT_ENABLE_IMPORT_BACKUP ?? 'false',
    enableTeamWork: env.STAGECRAFT_ENABLE_TEAM_WORK ?? 'false',
    graphiql: flags['no-graphiql'] ? 'false' : (env.STAGECRAFT_GRAPHIQL ?? 'true'),
    development: env.NODE_ENV === 'development',
    logLevel: env.LOG_LEVEL ?? 'info',
    jobLeaseMs: env.STAGECRAFT_JOB_LEASE_MS ?? '30000',
    stageCheckMs: env.STAGECRAFT_STAGE_CHECK_MS ?? '30000',
    allowedHosts: env.STAGECRAFT_ALLOWED_HOSTS ?? '',
    corsCredentials: flags['cors-credentials'] ? 'true' : (env.STAGECRAFT_CORS_CREDENTIALS ?? 'false'),
    sessionTtlMs: env.STAGECRAFT_SESSION_TTL_MS ?? String(defaultAuthLimits.sessionTtlMs),
  };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0]);
    const shown = (secretSettings as readonly string[]).includes(key) ? '' : ` (got ${JSON.stringify((raw as Record<string, unknown>)[key])})`;
    throw new ConfigError(`${sources[key] ?? key} ${issue.message}${shown}`);
  }
  const { sessionTtlMs, ...settings } = parsed.data;
  return {
    ...settings,
    dataDir: path.resolve(parsed.data.dataDir),
    allowedHosts: parseAllowList(parsed.data.allowedHosts).entries.slice(),
    corsOrigins: parseCorsOrigins(flags['cors-origin'] ?? (env.STAGECRAFT_CORS_ORIGINS ? [env.STAGECRAFT_CORS_ORIGINS] : [])),
    metricsToken: metricsTokenFrom(env),
    otlpTracesUrl: otlpTracesUrl(env),
    limits: loadLimits(env),
    auth: { ...defaultAuthLimits, sessionTtlMs },
  };
}

/** The config with secrets replaced, safe to log. */
export function redactConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const key of secretSettings) if (out[key] !== undefined) out[key] = '[redacted]';
  return out;
}
