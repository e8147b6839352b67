/**
 * Every request is bounded, and bad input is never a 500 (issue 11): each limit answered in
 * milliseconds with BAD_USER_INPUT (or 429) stating the limit and not echoing the input, while the
 * server keeps serving others; a database outage is 503; unknown operation ids NOT_FOUND at once.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, sql as sqlOn } from '../support/database.js';
import { exportArchive, importArchive, unzip, zip } from '../support/archive.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let admin: string;
beforeAll(async () => {
  server = await startTestServer({ env: { STAGECRAFT_MAX_CONCURRENT_IMPORTS: '1' } });
  admin = await server.adminToken();
});
afterAll(() => server?.stop());

const sql = (query: string) => sqlOn(server.databaseUrl, query);
const timed = async <T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> => {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
};
const CREATE = 'mutation($input: CreateAssetInput!) { createAsset(input: $input) { id } }';
const assetCount = async () => Number((await sql('SELECT count(*) AS n FROM assets'))[0].n);

describe('search keyword', () => {
  it('a 300 KB keyword is refused in milliseconds, stating the limit, while others are served', async () => {
    const keyword = 'pet*store|'.repeat(30_000); // 300,000 characters
    const others = Array.from({ length: 5 }, () => timed(() => server.gql('{ assets(first: 5) { totalCount } }', {}, admin)));
    const { result, ms } = await timed(() => server.gql('query($k: String) { assets(filter: { keyword: $k }) { totalCount } }', { k: keyword }, admin));
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toMatch(/at most (10000|256) characters/);
    expect(JSON.stringify(result).length).toBeLessThan(2_000);
    expect(ms).toBeLessThan(1_000);
    for (const other of await Promise.all(others)) {
      expect(other.result.data?.assets.totalCount).toBeGreaterThanOrEqual(0);
      expect(other.ms).toBeLessThan(2_000);
    }
    // No backend is left running a regex.
    expect(await sql("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%search_text ~*%' AND state = 'active' AND pid <> pg_backend_pid()")).toEqual([{ n: 0 }]);
  });

  it('bounds length, alternatives and wildcards of a keyword that fits the string limit', async () => {
    const ask = (k: string) => server.gql('query($k: String) { assets(filter: { keyword: $k }) { totalCount } }', { k }, admin);
    const cases: [string, RegExp][] = [
      ['p'.repeat(257), /keyword must be at most 256 characters/],
      [Array.from({ length: 17 }, (_, i) => `t${i}`).join('|'), /at most 16 alternatives/],
      ['a*b*c*d*e*f*g*h*i*j', /at most 8 wildcards/],
    ];
    for (const [keyword, message] of cases) {
      const res = await ask(keyword);
      expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'keyword' } });
      expect(res.errors?.[0]?.message).toMatch(message);
    }
    expect((await ask('pet*|swagger')).errors).toBeUndefined();
  });
});

describe('lists', () => {
  it('dependencyClosure with 25,000 ids: refused at once, stating the limit, echoing no id', async () => {
    const ids = Array.from({ length: 25_000 }, () => randomUUID());
    const rssBefore = process.memoryUsage().rss;
    const { result, ms } = await timed(() => server.gql('query($ids: [ID!]!) { dependencyClosure(assetIds: $ids) { id } }', { ids }, admin));
    const grewMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    console.log(`dependencyClosure 25k ids: ${Math.round(ms)} ms, RSS +${grewMb.toFixed(1)} MB`);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toBe('assetIds may hold at most 5000 items (got 25000)');
    expect(JSON.stringify(result)).not.toContain(ids[0]);
    expect(ms).toBeLessThan(2_000);
    expect(grewMb).toBeLessThan(100);
  });

  it('unknown ids within the limit: NOT_FOUND naming at most 10 of them', async () => {
    const ids = Array.from({ length: 50 }, () => randomUUID());
    const res = await server.gql('query($ids: [ID!]!) { dependencyClosure(assetIds: $ids) { id } }', { ids }, admin);
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(res.errors?.[0]?.message).toMatch(/and 40 more$/);
    expect(res.errors?.[0]?.extensions?.ids).toHaveLength(10);
  });
});

describe('ids, strings, numbers and URLs', () => {
  it('malformed ids are BAD_USER_INPUT or NOT_FOUND, never an internal error', async () => {
    const calls = [
      ['query($id: ID!) { asset(id: $id) { id } }', 'BAD_USER_INPUT'],
      ['mutation($id: ID!) { deleteAsset(id: $id) }', 'BAD_USER_INPUT'],
      ['mutation($id: ID!) { revokeApiToken(id: $id) { id } }', 'BAD_USER_INPUT'],
      ['mutation($id: ID!) { rollback(id: $id) { id } }', 'BAD_USER_INPUT'],
      ['mutation($id: ID!) { createApiVersion(fromId: $id, version: "2.0.0") { id } }', 'BAD_USER_INPUT'],
    ] as const;
    for (const [query, code] of calls) {
      for (const id of ['nope', "1' OR '1'='1", '00000000-0000-0000-0000-00000000000z']) {
        const res = await server.gql(query, { id }, admin);
        expect(res.errors?.[0]?.extensions?.code, `${query} ${id}`).toBe(code);
      }
    }
    // A well-formed id of nothing is NOT_FOUND; a forged cursor is BAD_USER_INPUT.
    expect((await server.gql('mutation($id: ID!) { deleteAsset(id: $id) }', { id: randomUUID() }, admin)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const cursor = Buffer.from(JSON.stringify(['a', 'not-a-uuid'])).toString('base64url');
    expect((await server.gql('query($c: String) { assets(after: $c) { totalCount } }', { c: cursor }, admin)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('NUL and lone surrogates are refused at the edge, naming the argument and not echoing it', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['mutation($u: String!) { login(username: $u, password: "x") { token } }', { u: 'ad\u0000min' }, 'username'],
      ['mutation { login(username: "ad\\u0000min", password: "x") { token } }', {}, 'username'],
      ['mutation($n: String!) { createApiToken(input: { name: $n }) { id } }', { n: 'tok\ud800en' }, 'name'],
      ['mutation($i: CreateAssetInput!) { createAsset(input: $i) { id } }', { i: { type: 'POLICY', name: 'P', spec: { config: { 'k\u0000ey': 1 } } } }, 'spec'],
    ];
    for (const [query, variables, field] of cases) {
      const res = await server.gql(query, variables, admin);
      expect(res.errors?.[0]?.extensions, query).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(res.errors?.[0]?.message).toMatch(/NUL|surrogate/);
      expect(JSON.stringify(res)).not.toMatch(/ad\\u0000min|tok\\ud800en/);
    }
  });

  it('bounds strings: a 900,000-character stage description and a 100,000-character username', async () => {
    const stage = await server.gql(
      'mutation($input: CreateStageInput!) { createStage(input: $input) { id } }',
      { input: { name: 'huge', url: 'http://127.0.0.1:1', username: 'u', password: 'p', description: 'd'.repeat(900_000) } },
      admin,
    );
    expect(stage.errors?.[0]).toMatchObject({ message: 'input.description must be at most 10000 characters', extensions: { code: 'BAD_USER_INPUT', field: 'description' } });
    expect(await sql("SELECT name FROM stages WHERE name = 'huge'")).toEqual([]);
    const login = await server.gql('mutation($u: String!) { login(username: $u, password: "x") { token } }', { u: 'u'.repeat(100_000) });
    expect(login.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(login.status).toBe(400);
  });

  it('first and last are bounded and non-negative everywhere', async () => {
    for (const query of ['{ auditEvents(first: -5) { sequence } }', '{ assets(first: -1) { totalCount } }', '{ rollbacks(first: 100000) { totalCount } }']) {
      const res = await server.gql(query, {}, admin);
      expect(res.errors?.[0]?.extensions, query).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    }
  });

  it('URLs in specs are http(s) with a valid port', async () => {
    const before = await assetCount();
    for (const spec of [{ redirectUris: ['javascript:alert(1)'] }, { redirectUris: ['http://example.com:99999/cb'] }, { redirectUris: ['data:text/html,x'] }]) {
      const res = await server.gql(CREATE, { input: { type: 'APPLICATION', name: `App ${randomBytes(3).toString('hex')}`, spec } }, admin);
      expect(res.errors?.[0]?.extensions, JSON.stringify(spec)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'spec.redirectUris.0' });
    }
    for (const spec of [{ url: 'javascript:alert(1)' }, { url: 'http://registry:99999' }]) {
      const res = await server.gql(CREATE, { input: { type: 'SERVICE_REGISTRY', name: 'Registry', spec } }, admin);
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(spec)).toBe('BAD_USER_INPUT');
    }
    expect(await assetCount()).toBe(before);
    const ok = await server.gql(CREATE, { input: { type: 'APPLICATION', name: 'Good App', spec: { redirectUris: ['https://app.example.com:8443/cb'] } } }, admin);
    expect(ok.errors).toBeUndefined();
  });
});

describe('JSON nesting and size', () => {
  const nested = (levels: number) => `${'{"n":'.repeat(levels)}1${'}'.repeat(levels)}`;
  const createRaw = (configJson: string) =>
    fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: `{"query":${JSON.stringify(CREATE)},"variables":{"input":{"type":"POLICY","name":"Deep ${randomBytes(3).toString('hex')}","spec":{"config":${configJson}}}}}`,
    });

  it('a 1,000-level spec is refused and not stored; 5,000 and 100,000 levels are not a 500', async () => {
    const before = await assetCount();
    for (const levels of [1_000, 5_000, 100_000]) {
      const { result: res, ms } = await timed(() => createRaw(nested(levels)));
      const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(res.status, `${levels} levels`).toBe(400);
      expect(body.errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
      expect(body.errors[0]!.message).toMatch(/nests deeper than 32 levels/);
      expect(ms).toBeLessThan(2_000);
    }
    expect(await assetCount()).toBe(before);
    // 20 levels are fine.
    expect(((await (await createRaw(nested(20))).json()) as { errors?: unknown }).errors).toBeUndefined();
  });

  it('a __proto__ key is refused, not silently dropped (it cannot survive a copy of the object)', async () => {
    const before = await assetCount();
    for (const config of ['{"__proto__":{"polluted":true}}', '{"rules":[{"__proto__":1}]}']) {
      const res = await createRaw(config);
      const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(res.status, config).toBe(400);
      expect(body.errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
      expect(body.errors[0]!.message).toMatch(/a key must not be __proto__/);
    }
    expect(await assetCount()).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('operations', () => {
  it('a subscription sent over HTTP is 400 with a GraphQL error', async () => {
    const res = await server.gql('subscription { auditLog { sequence } }', {}, admin);
    expect(res.status).toBe(400);
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_REQUEST' } });
    expect(res.errors?.[0]?.message).toMatch(/WebSocket/);
  });

  it('progress of an unknown operation is NOT_FOUND at once, not an endless wait', async () => {
    const client = server.wsClient(admin);
    const subscriptions = [
      ['subscription($id: ID!) { syncProgress(operationId: $id) { phase } }', { id: randomUUID() }],
      ['subscription($id: ID!) { promotionProgress(promotionId: $id) { phase } }', { id: randomUUID() }],
      ['subscription($id: ID!) { rollbackProgress(rollbackId: $id) { phase } }', { id: randomUUID() }],
    ] as const;
    for (const [query, variables] of subscriptions) {
      const started = performance.now();
      const errors = await new Promise<unknown>((resolve) => {
        client.subscribe({ query, variables }, { next: (r) => resolve(r.errors), error: resolve, complete: () => resolve('complete') });
        setTimeout(() => resolve('no answer'), 3_000);
      });
      expect(JSON.stringify(errors), query).toMatch(/NOT_FOUND/);
      expect(performance.now() - started).toBeLessThan(1_000);
    }
  });
});

describe('archives', () => {
  it('a manifest whose productVersion is not a strict semver is refused', async () => {
    const archive = await exportArchive(server, admin, { filter: {} });
    const files = await unzip(archive);
    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8'));
    files.set('manifest.json', Buffer.from(JSON.stringify({ ...manifest, productVersion: '0.1.0-x<script>' })));
    const res = await importArchive(server, admin, await zip(files));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(res.body.error.message).toMatch(/productVersion must be a semantic version/);
  });

  it('a small archive that expands past the limit is refused before anything is inflated', async () => {
    // 170 entries of 1.9 MB each, compressible ~100× (under the ratio limit): ~320 MB expanded.
    const chunk = randomBytes(10_000).toString('hex'); // 20,000 characters, poorly compressible
    const doc = Buffer.from(JSON.stringify({ description: `${chunk}${' '.repeat(1_880_000)}` }));
    const files = new Map<string, Buffer>([['manifest.json', Buffer.from('{}')]]);
    for (let i = 0; i < 170; i++) files.set(`assets/${randomUUID()}.json`, doc);
    const archive = await zip(files);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const { result, ms } = await timed(() => importArchive(server, admin, archive));
    const grewMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    console.log(`bomb archive ${(archive.length / 1024 / 1024).toFixed(1)} MB: ${Math.round(ms)} ms, RSS +${grewMb.toFixed(1)} MB`);
    expect(result.status).toBe(400);
    expect(result.body.error.message).toMatch(/archive expands to more than 134217728 bytes/);
    expect(grewMb).toBeLessThan(150);
  });

  it('imports beyond the concurrency limit are answered 429 at once', async () => {
    // A slow upload holds the one import slot (STAGECRAFT_MAX_CONCURRENT_IMPORTS=1 here).
    const url = new URL(`${server.url}/archive/import?overwrite=none`);
    const slow = net.connect(Number(url.port), url.hostname);
    await new Promise((r) => slow.once('connect', r));
    slow.write(
      `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${admin}\r\nContent-Type: application/zip\r\nContent-Length: 100000\r\n\r\nPK`,
    );
    await new Promise((r) => setTimeout(r, 300));
    try {
      const { result, ms } = await timed(() => importArchive(server, admin, Buffer.from('PK not really a zip')));
      expect(result.status).toBe(429);
      expect(result.body.error).toMatchObject({ code: 'TOO_MANY_REQUESTS', limit: 1 });
      expect(ms).toBeLessThan(1_000);
    } finally {
      slow.destroy();
    }
    // Once the slow one is gone, the slot is free again.
    await new Promise((r) => setTimeout(r, 300));
    expect((await importArchive(server, admin, Buffer.from('PK not really a zip'))).status).toBe(400);
  });
});

describe('database outage', () => {
  it('is answered 503 SERVICE_UNAVAILABLE, and the server recovers with the database', async () => {
    const database = await createTestDatabase();
    const target = new URL(database.url);
    const sockets = new Set<net.Socket>();
    const listen = (port: number) =>
      new Promise<net.Server>((resolve) => {
        const proxy = net.createServer((client) => {
          const upstream = net.connect(Number(target.port || 5432), target.hostname);
          for (const s of [client, upstream]) {
            sockets.add(s);
            s.on('close', () => sockets.delete(s));
            s.on('error', () => s.destroy());
          }
          client.pipe(upstream).pipe(client);
        });
        proxy.listen(port, '127.0.0.1', () => resolve(proxy));
      });
    let proxy = await listen(0);
    const port = (proxy.address() as net.AddressInfo).port;
    const proxied = new URL(database.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(port);
    const replica = await startTestServer({ databaseUrl: proxied.toString() });
    try {
      const token = await replica.adminToken();
      expect((await replica.gql('{ me { username } }', {}, token)).data?.me.username).toBe('admin');

      const closed = new Promise((r) => proxy.close(r));
      for (const s of sockets) s.destroy();
      await closed;
      for (const query of ['{ me { username } }', '{ assets { totalCount } }']) {
        const { result, ms } = await timed(() => replica.gql(query, {}, token));
        expect(result.status, query).toBe(503);
        expect(result.errors?.[0], query).toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
        expect(JSON.stringify(result)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stack/);
        expect(ms).toBeLessThan(5_000);
      }
      const rest = await fetch(`${replica.url}/archive/import-reports/${randomUUID()}.json`, { headers: { authorization: `Bearer ${token}` } });
      expect(rest.status).toBe(503);

      proxy = await listen(port);
      expect((await replica.gql('{ me { username } }', {}, token)).data?.me.username).toBe('admin');
    } finally {
      await replica.stop();
      proxy.close();
      for (const s of sockets) s.destroy();
      await database.drop();
    }
  });
});
