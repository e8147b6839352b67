import { sql as sqlOn } from '../support/database.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, take, type TestServer } from '../support/server.js';

let server: TestServer;
let admin: string;
beforeAll(async () => {
  server = await startTestServer();
  admin = await server.adminToken();
});
afterAll(() => server?.stop());

const sql = (query: string) => sqlOn(server.databaseUrl, query);

describe('unexpected errors', () => {
  it('are masked with an id that is in the log, and the failed operation writes nothing', async () => {
    await sql('ALTER TABLE events RENAME TO events_gone'); // the audit append inside createUser will fail
    try {
      const res = await server.gql('mutation { createUser(input: { username: "ghost", password: "ghost-password", role: VIEWER }) { id } }', {}, admin);
      const error = res.errors?.[0];
      expect(error?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(error?.message).toBe('Internal server error');
      expect(JSON.stringify(res)).not.toMatch(/events|relation|stack/i);
      const logged = server.logs.find((l) => l.errorId === error?.extensions?.errorId);
      expect(logged?.msg).toBe('unexpected error');
      expect(JSON.stringify(logged)).toMatch(/events/);
    } finally {
      await sql('ALTER TABLE events_gone RENAME TO events');
    }
    expect(await sql("SELECT id FROM users WHERE username = 'ghost'")).toEqual([]);
  });

  it('are masked when authentication itself fails', async () => {
    await sql('ALTER TABLE access_tokens RENAME TO access_tokens_gone');
    try {
      const res = await server.gql('{ me { id } }', {}, admin);
      expect(res.status).toBe(500);
      expect(res.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(res)).not.toMatch(/access_tokens|relation/);
      expect(server.logs.some((l) => l.errorId === res.errors?.[0]?.extensions?.errorId)).toBe(true);
    } finally {
      await sql('ALTER TABLE access_tokens_gone RENAME TO access_tokens');
    }
  });
});

describe('schema details stay private outside development', () => {
  it('gives no field suggestions and no stack traces', async () => {
    const res = await server.gql('{ mee { id } }', {}, admin);
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0]?.message).not.toMatch(/Did you mean/);
    const bad = await server.gql('mutation { createApiToken(input: { name: "" }) { id } }', {}, admin);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    for (const r of [res, bad]) expect(JSON.stringify(r)).not.toMatch(/stacktrace|at .*\.ts:/);
  });

  it('needs a signed-in user for introspection', async () => {
    const anonymous = await server.gql('{ __schema { queryType { name } } }');
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(anonymous.data ?? null).toBeNull();
    const signedIn = await server.gql('{ __schema { queryType { name } } }', {}, admin);
    expect(signedIn.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    expect((await server.gql('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('opens introspection and suggestions in development', async () => {
    const dev = await startTestServer({ env: { NODE_ENV: 'development' } });
    try {
      expect((await dev.gql('{ __schema { queryType { name } } }')).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
      expect((await dev.gql('{ mee { id } }')).errors?.[0]?.message).toMatch(/Did you mean "me"/);
    } finally {
      await dev.stop();
    }
  });
});

describe('request hygiene', () => {
  it('prevents CSRF: simple requests without a preflight-forcing header are refused', async () => {
    const textPlain = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"query":"{ __typename }"}' });
    expect(textPlain.status).toBe(400);
    const simpleGet = await fetch(`${server.graphqlUrl}?query=${encodeURIComponent('{ __typename }')}`);
    expect(simpleGet.status).toBe(400);
    expect(await simpleGet.text()).toMatch(/CSRF/i);
    const preflighted = await fetch(`${server.graphqlUrl}?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(preflighted.status).toBe(200);
  });

  it('refuses an oversize body with 413 and a JSON error', async () => {
    const body = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(server.config.limits.bodyBytes + 10) } });
    const res = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers a badly typed variable with 400 BAD_USER_INPUT, not a server error', async () => {
    const res = await server.gql('mutation($n: String!) { createApiToken(input: { name: $n }) { id } }', { n: 5 }, admin);
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(/Variable "\$n" got invalid value 5/);
  });

  it('answers an operation name the document lacks with 400, not a server error', async () => {
    const res = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: '{ me { username } }', operationName: 'Me' }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).errors[0]).toMatchObject({ message: 'Unknown operation named "Me".', extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } });
  });

  it('answers malformed JSON with 400 in GraphQL error shape', async () => {
    const res = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).errors[0].extensions.code).toBe('BAD_REQUEST');
  });
});

describe('cost limit', () => {
  const expensive = `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: auditEvents(first: 500) { sequence type actor details at }`).join(' ')} }`;
  const expensiveSubscription = `subscription { auditLog { sequence type actor details at } }`;

  it('refuses an over-budget query over HTTP', async () => {
    const res = await server.gql(expensive, {}, admin);
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.message).toMatch(/query cost \d+ exceeds the limit of 20000/);
  });

  it('applies the same rule over WebSocket', async () => {
    const client = server.wsClient(admin);
    await expect(take(client, expensive, {}, 1)).rejects.toSatisfy((errors: any) => /query cost \d+ exceeds/.test(JSON.stringify(errors)));
    // a cheap subscription on the same socket is fine
    const live = take(server.wsClient(admin), expensiveSubscription, {}, 1);
    await new Promise((r) => setTimeout(r, 300));
    await server.gql('mutation { createApiToken(input: { name: "cost" }) { id } }', {}, admin);
    expect(((await live)[0] as any).data.auditLog.type).toBe('API_TOKEN_CREATED');
  });
});
