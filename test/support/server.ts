/**
 * Boots the real Stagecraft server in this process on a free port against a fresh database, and
 * talks to it over HTTP and WebSocket as a client would.
 */
import { mkdtemp, rm, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startStagecraft, type Stagecraft } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase } from './database.js';

export const ADMIN_PASSWORD = 'admin-password-for-tests';

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[];
}

export interface TestServer {
  app: Stagecraft;
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  config: Config;
  databaseUrl: string;
  /** Structured log lines the server wrote (pino JSON, parsed). */
  logs: Record<string, any>[];
  /** POST a GraphQL operation; `token` signs it. */
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse<T>>;
  login(username?: string, password?: string): Promise<string>;
  /** A token for the admin user (cached). */
  adminToken(): Promise<string>;
  /** Creates a user with the role and returns a session token for it. */
  userWithRole(role: 'SUPER_ADMIN' | 'API_PROVIDER' | 'VIEWER'): Promise<string>;
  /** A graphql-ws client signed in with `token` (disposed on stop). */
  wsClient(token?: string): Client;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  /** Share this database (a second replica) instead of creating a fresh one. */
  databaseUrl?: string;
  configure?: (config: Config) => void;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const database = options.databaseUrl
    ? { url: options.databaseUrl, drop: async () => undefined }
    : await createTestDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'stagecraft-test-'));
  await chmod(dataDir, 0o755);
  const config = loadConfig([], {
    STAGECRAFT_ADMIN_PASSWORD: ADMIN_PASSWORD,
    STAGECRAFT_DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...options.env,
  });
  options.configure?.(config);

  const logs: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const app = await startStagecraft(config, { log: createLogger(config.logLevel, sink), onAdminPassword: () => undefined });
  const graphqlUrl = `${app.url}/graphql`;
  const wsUrl = graphqlUrl.replace(/^http/, 'ws');
  const clients: Client[] = [];
  const tokens = new Map<string, string>();

  const gql: TestServer['gql'] = async (query, variables, token) => {
    const res = await fetch(graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as GraphQLResponse;
    return { ...body, status: res.status } as any;
  };

  const login = async (username = 'admin', password = ADMIN_PASSWORD) => {
    const res = await gql<{ login: { token: string } }>(
      'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }',
      { u: username, p: password },
    );
    if (!res.data?.login) throw new Error(`login failed: ${JSON.stringify(res.errors)}`);
    return res.data.login.token;
  };

  const server: TestServer = {
    app,
    url: app.url,
    graphqlUrl,
    wsUrl,
    config,
    databaseUrl: database.url,
    logs,
    gql,
    login,
    async adminToken() {
      if (!tokens.has('admin')) tokens.set('admin', await login());
      return tokens.get('admin')!;
    },
    async userWithRole(role) {
      if (!tokens.has(role)) {
        const username = `${role.toLowerCase().replace('_', '-')}-user`;
        const res = await gql(
          'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }',
          { input: { username, password: 'password-123', role } },
          await server.adminToken(),
        );
        if (res.errors) throw new Error(`createUser failed: ${JSON.stringify(res.errors)}`);
        tokens.set(role, await login(username, 'password-123'));
      }
      return tokens.get(role)!;
    },
    wsClient(token) {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.dispose()));
      await app.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Collects `count` results of a subscription, or fails after `timeoutMs`. */
export async function take<T = any>(client: Client, query: string, variables: Record<string, unknown>, count: number, timeoutMs = 10_000): Promise<T[]> {
  const results: T[] = [];
  const iterator = client.iterate<T>({ query, variables });
  const timer = setTimeout(() => iterator.return?.(), timeoutMs);
  try {
    for await (const result of iterator) {
      results.push(result as T);
      if (results.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    await iterator.return?.();
  }
  return results;
}
