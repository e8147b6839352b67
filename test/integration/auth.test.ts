import { sql as sqlOn } from '../support/database.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestServer, take, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const sql = (query: string, params: unknown[] = []) => sqlOn(server.databaseUrl, query, params);

describe('login and me', () => {
  it('signs the first-start admin in and tells who is asking', async () => {
    const res = await server.gql(
      'mutation($p: String!) { login(username: "admin", password: $p) { token expiresAt user { username role privileges } } }',
      { p: ADMIN_PASSWORD },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.login.user).toEqual({
      username: 'admin',
      role: 'SUPER_ADMIN',
      privileges: ['MANAGE_ASSETS', 'MANAGE_PROMOTIONS', 'EXPORT_IMPORT', 'EXPORT_ASSETS', 'IMPORT_ASSETS', 'MANAGE_GATEWAY_GROUPS', 'MANAGE_USERS'],
    });
    const me = await server.gql('{ me { username role } }', {}, res.data!.login.token);
    expect(me.data!.me).toEqual({ username: 'admin', role: 'SUPER_ADMIN' });
  });

  it('answers me with null when no token is sent', async () => {
    const res = await server.gql('{ me { username } }');
    expect(res.data).toEqual({ me: null });
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    for (const [u, p] of [['admin', 'wrong-password'], ['nobody', 'whatever-1']]) {
      const res = await server.gql('mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }', { u, p });
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(res.errors?.[0]?.message).toBe('invalid username or password');
    }
  });

  it('rejects an invalid bearer token with 401 UNAUTHENTICATED', async () => {
    const res = await server.gql('{ me { username } }', {}, 'scs_not-a-real-token');
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('stores passwords as argon2id hashes and tokens as digests only', async () => {
    const token = await server.login();
    const [user] = await sql('SELECT password_hash FROM users WHERE username = $1', ['admin']);
    expect(user.password_hash).toMatch(/^\$argon2id\$v=19\$/);
    expect(user.password_hash).not.toContain(ADMIN_PASSWORD);
    const rows = await sql('SELECT token_hash FROM access_tokens');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((r) => r.token_hash === token)).toBe(false);
  });

  it('logout revokes the session token', async () => {
    const token = await server.login();
    expect((await server.gql('mutation { logout }', {}, token)).data).toEqual({ logout: true });
    expect((await server.gql('{ me { username } }', {}, token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('users', () => {
  it('creates, updates and deletes users; the new user signs in with its role', async () => {
    const admin = await server.adminToken();
    const created = await server.gql(
      'mutation($i: CreateUserInput!) { createUser(input: $i) { id username role privileges } }',
      { i: { username: 'carol', password: 'carol-password', role: 'API_PROVIDER' } },
      admin,
    );
    expect(created.errors).toBeUndefined();
    expect(created.data!.createUser).toMatchObject({ username: 'carol', role: 'API_PROVIDER' });
    expect(created.data!.createUser.privileges).not.toContain('MANAGE_USERS');
    const id = created.data!.createUser.id;

    const carol = await server.login('carol', 'carol-password');
    expect((await server.gql('{ me { role } }', {}, carol)).data!.me.role).toBe('API_PROVIDER');

    const updated = await server.gql('mutation($id: ID!) { updateUser(id: $id, input: { role: VIEWER, password: "new-password" }) { role } }', { id }, admin);
    expect(updated.data!.updateUser.role).toBe('VIEWER');
    await expect(server.login('carol', 'carol-password')).rejects.toThrow(/login failed/);
    await server.login('carol', 'new-password');

    expect((await server.gql('mutation($id: ID!) { deleteUser(id: $id) }', { id }, admin)).data).toEqual({ deleteUser: true });
    await expect(server.login('carol', 'new-password')).rejects.toThrow(/login failed/);
    expect((await server.gql('{ me { role } }', {}, carol)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses bad input with a code and writes nothing', async () => {
    const admin = await server.adminToken();
    const before = await sql('SELECT count(*)::int AS n FROM users');
    const cases: [Record<string, unknown>, string, string][] = [
      [{ username: 'x', password: 'long-enough-1', role: 'VIEWER' }, 'BAD_USER_INPUT', 'username'],
      [{ username: 'dave', password: 'short', role: 'VIEWER' }, 'BAD_USER_INPUT', 'password'],
      [{ username: 'admin', password: 'long-enough-1', role: 'VIEWER' }, 'CONFLICT', 'username'],
    ];
    for (const [input, code, field] of cases) {
      const res = await server.gql('mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: input }, admin);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code, field });
    }
    const badRole = await server.gql('mutation { createUser(input: { username: "erin", password: "long-enough-1", role: KING }) { id } }', {}, admin);
    expect(badRole.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(await sql('SELECT count(*)::int AS n FROM users')).toEqual(before);
  });

  it('never removes or demotes the last SUPER_ADMIN, nor lets one delete themselves', async () => {
    const admin = await server.adminToken();
    const me = (await server.gql('{ me { id } }', {}, admin)).data!.me.id;
    const selfDelete = await server.gql('mutation($id: ID!) { deleteUser(id: $id) }', { id: me }, admin);
    expect(selfDelete.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const demote = await server.gql('mutation($id: ID!) { updateUser(id: $id, input: { role: VIEWER }) { role } }', { id: me }, admin);
    expect(demote.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await server.gql('{ me { role } }', {}, admin)).data!.me.role).toBe('SUPER_ADMIN');
  });
});

describe('API tokens', () => {
  it('are shown once, work as bearer tokens, are listed without the secret, and can be revoked', async () => {
    const viewer = await server.userWithRole('VIEWER');
    const created = await server.gql('mutation { createApiToken(input: { name: "ci" }) { id token name } }', {}, viewer);
    expect(created.errors).toBeUndefined();
    const { id, token } = created.data!.createApiToken;
    expect(token).toMatch(/^sct_/);
    expect((await server.gql('{ me { username } }', {}, token)).data!.me.username).toBe('viewer-user');

    const listed = await server.gql('{ apiTokens { id name lastUsedAt revokedAt } }', {}, viewer);
    expect(listed.data!.apiTokens).toEqual([expect.objectContaining({ id, name: 'ci', revokedAt: null })]);
    expect(JSON.stringify(listed)).not.toContain(token);

    const revoked = await server.gql('mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }', { id }, viewer);
    expect(revoked.data!.revokeApiToken.revokedAt).toBeTruthy();
    expect((await server.gql('{ me { username } }', {}, token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('cannot be revoked by another non-admin user', async () => {
    const viewer = await server.userWithRole('VIEWER');
    const provider = await server.userWithRole('API_PROVIDER');
    const { id } = (await server.gql('mutation { createApiToken(input: { name: "mine" }) { id } }', {}, viewer)).data!.createApiToken;
    const res = await server.gql('mutation($id: ID!) { revokeApiToken(id: $id) { id } }', { id }, provider);
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('rejects a blank name', async () => {
    const res = await server.gql('mutation { createApiToken(input: { name: "  " }) { id } }', {}, await server.adminToken());
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
  });
});

describe('audit log subscription', () => {
  it('streams user changes live and replays stored ones after a sequence', async () => {
    const admin = await server.adminToken();
    const client = server.wsClient(admin);
    const live = take(client, 'subscription { auditLog { sequence type actor details } }', {}, 1);
    await new Promise((r) => setTimeout(r, 300)); // let the subscription start listening
    await server.gql('mutation { createUser(input: { username: "frank", password: "frank-password", role: VIEWER }) { id } }', {}, admin);
    const [event] = await live;
    expect((event as any).data.auditLog).toMatchObject({ type: 'USER_CREATED', actor: 'admin', details: { username: 'frank' } });

    const replay = await take(server.wsClient(admin), 'subscription { auditLog(afterSequence: 0) { type } }', {}, 2);
    expect(replay.map((r: any) => r.data.auditLog.type)).toHaveLength(2);
  });
});
