/**
 * A credential that stops counting stops every socket that uses it — on every replica. Two
 * replicas share one database; sockets are opened on replica B and the change is made through
 * replica A, so only the database (its NOTIFY) can tell B. For each way a credential ends, the
 * socket's live auditLog subscription completes and the socket closes 4403 within a second, and
 * an operation sent on the socket right after the change runs nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rawKey } from '../../src/graphql/node-id.js';
import { sql } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { bearer, connectAndInit, opened, type Closed, type Message, type Peer } from '../support/ws-peer.js';

const PASSWORD = 'revocation-password-1';
/** B's sessions are short-lived, for the expiry case; A's are not. */
const B_SESSION_TTL_MS = 2500;

let a: TestServer;
let b: TestServer;
let admin: string;
let users = 0;

beforeAll(async () => {
  a = await startTestServer();
  b = await startTestServer({ databaseUrl: a.databaseUrl, configure: (c) => void (c.auth.sessionTtlMs = B_SESSION_TTL_MS) });
  admin = await a.adminToken();
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
});
afterEach(() => {
  for (const ws of opened.splice(0)) ws.terminate();
});

/** A fresh user with `role`; returns its id and a session token issued by `via`. */
async function freshUser(role: 'SUPER_ADMIN' | 'VIEWER', via: TestServer = a): Promise<{ id: string; username: string; token: string }> {
  const username = `revoke-${++users}`;
  const res = await a.gql('mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: { username, password: PASSWORD, role } }, admin);
  expect(res.errors).toBeUndefined();
  return { id: res.data!.createUser.id, username, token: await via.login(username, PASSWORD) };
}

/** A socket on B with a running auditLog subscription (proven running by one replayed event). */
async function watchedSocket(token: string): Promise<Peer> {
  const [{ max }] = await sql(a.databaseUrl, "SELECT max(sequence)::int AS max FROM events WHERE stream = 'audit'");
  const peer = await connectAndInit(b.wsUrl, bearer(token));
  peer.send({ type: 'subscribe', id: 'audit', payload: { query: 'subscription($after: Int) { auditLog(afterSequence: $after) { sequence } }', variables: { after: max - 1 } } });
  expect(await peer.next()).toMatchObject({ id: 'audit', type: 'next', payload: { data: { auditLog: { sequence: String(max) } } } });
  return peer;
}

/** Messages until the server closes the socket, and the close. */
async function untilClosed(peer: Peer, timeoutMs = 3000): Promise<{ messages: Message[]; closed: Closed; at: number }> {
  const messages: Message[] = [];
  const closed = peer.closed(timeoutMs).then((c) => ({ ...c, at: Date.now() }));
  for (;;) {
    const next = await Promise.race([peer.next(timeoutMs).catch(() => null), closed.then(() => null)]);
    if (!next) break;
    messages.push(next);
  }
  const c = await closed;
  return { messages, closed: { code: c.code, reason: c.reason }, at: c.at };
}

const CREATE_PROBE = (name: string) => `mutation { createUser(input: { username: "${name}", password: "probe-password-1", role: VIEWER }) { id } }`;

/**
 * Runs `change` through replica A against a socket on B (watching auditLog) and a second socket
 * on B that sends a mutation the moment the change returns. Asserts both close 4403 within a
 * second, the subscription completes first, and the mutation wrote nothing.
 */
async function expectRevoked(token: string, change: () => Promise<void>, reason: RegExp): Promise<void> {
  const watched = await watchedSocket(token);
  const racer = await connectAndInit(b.wsUrl, bearer(token));
  const probe = `probe-${users}-${Math.random().toString(36).slice(2, 8)}`;
  const watchedOutcome = untilClosed(watched);
  const racerOutcome = untilClosed(racer);

  await change();
  const changedAt = Date.now();
  racer.send({ type: 'subscribe', id: 'probe', payload: { query: CREATE_PROBE(probe) } });

  const w = await watchedOutcome;
  expect(w.closed.code).toBe(4403);
  expect(w.closed.reason).toMatch(reason);
  expect(w.at - changedAt).toBeLessThan(1000);
  // The live subscription was completed by the server, not merely cut off.
  expect(w.messages.filter((m) => m.id === 'audit' && m.type !== 'next')).toEqual([{ id: 'audit', type: 'complete' }]);

  const r = await racerOutcome;
  expect(r.closed.code).toBe(4403);
  expect(r.messages.filter((m) => m.id === 'probe')).toEqual([]);
  expect(await sql(a.databaseUrl, 'SELECT 1 FROM users WHERE username = $1', [probe])).toEqual([]);
}

describe('a socket on replica B closes when its credential ends through replica A', () => {
  it('API token revoked', async () => {
    const user = await freshUser('SUPER_ADMIN');
    const created = await a.gql('mutation { createApiToken(input: { name: "ci" }) { id token } }', {}, user.token);
    const { id, token } = created.data!.createApiToken;
    await expectRevoked(token, async () => {
      const res = await a.gql('mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }', { id }, user.token);
      expect(res.errors).toBeUndefined();
    }, /^credential revoked or expired$/);
  });

  it('session logged out', async () => {
    const user = await freshUser('SUPER_ADMIN');
    await expectRevoked(user.token, async () => {
      expect((await a.gql('mutation { logout }', {}, user.token)).data).toEqual({ logout: true });
    }, /^credential revoked or expired$/);
  });

  it('role downgraded (privileges reduced)', async () => {
    const user = await freshUser('SUPER_ADMIN');
    await expectRevoked(user.token, async () => {
      const res = await a.gql('mutation($id: ID!) { updateUser(id: $id, input: { role: VIEWER }) { role } }', { id: user.id }, admin);
      expect(res.data!.updateUser.role).toBe('VIEWER');
      // Six privileges lost: the close reason (at most 123 bytes) may end cut short.
    }, /^privileges reduced \(lost MANAGE_ASSETS, MANAGE_PROMOTIONS, EXPORT_ASSETS, IMPORT_ASSETS, /);
  });

  /** A VIEWER whose MANAGE_USERS and MANAGE_ASSETS come from a custom profile through a group. */
  async function customProfileUser(): Promise<{ token: string; profileId: string; groupId: string }> {
    const user = await freshUser('VIEWER');
    const profile = await a.gql('mutation($i: CreateAccessProfileInput!) { createAccessProfile(input: $i) { id } }', { i: { name: `Auditors ${users}`, privileges: ['MANAGE_USERS', 'MANAGE_ASSETS'] } }, admin);
    expect(profile.errors).toBeUndefined();
    const profileId = profile.data!.createAccessProfile.id;
    const group = await a.gql('mutation($i: CreateUserGroupInput!) { createUserGroup(input: $i) { id } }', { i: { name: `Audit team ${users}`, profileIds: [profileId], memberIds: [user.id] } }, admin);
    expect(group.errors).toBeUndefined();
    // A token issued after the grant: the socket opens with the group's privileges.
    return { token: await b.login(user.username, PASSWORD), profileId, groupId: group.data!.createUserGroup.id };
  }

  it('a custom profile loses a privilege', async () => {
    const { token, profileId } = await customProfileUser();
    await expectRevoked(token, async () => {
      const res = await a.gql('mutation($id: ID!) { updateAccessProfile(id: $id, input: { privileges: [MANAGE_ASSETS] }) { privileges } }', { id: profileId }, admin);
      expect(res.data!.updateAccessProfile.privileges).toEqual(['MANAGE_ASSETS']);
    }, /^privileges reduced \(lost MANAGE_USERS\)$/);
  });

  it('the user leaves the group that held the profile', async () => {
    const { token, groupId } = await customProfileUser();
    await expectRevoked(token, async () => {
      const res = await a.gql('mutation($id: ID!) { updateUserGroup(id: $id, input: { memberIds: [] }) { members { id } } }', { id: groupId }, admin);
      expect(res.data!.updateUserGroup.members).toEqual([]);
    }, /^privileges reduced \(lost MANAGE_ASSETS, MANAGE_USERS\)$/);
  });

  it('the group is deleted', async () => {
    const { token, groupId } = await customProfileUser();
    await expectRevoked(token, async () => {
      expect((await a.gql('mutation($id: ID!) { deleteUserGroup(id: $id) }', { id: groupId }, admin)).data).toEqual({ deleteUserGroup: true });
    }, /^privileges reduced \(lost MANAGE_ASSETS, MANAGE_USERS\)$/);
  });

  it('user deleted', async () => {
    const user = await freshUser('SUPER_ADMIN');
    await expectRevoked(user.token, async () => {
      expect((await a.gql('mutation($id: ID!) { deleteUser(id: $id) }', { id: user.id }, admin)).data).toEqual({ deleteUser: true });
    }, /^credential revoked or expired$/);
  });

  it('password reset by an admin: the user’s sessions end, their API tokens stay', async () => {
    const user = await freshUser('SUPER_ADMIN');
    const apiToken = (await a.gql('mutation { createApiToken(input: { name: "ci" }) { token } }', {}, user.token)).data!.createApiToken.token;
    await expectRevoked(user.token, async () => {
      const res = await a.gql('mutation($id: ID!) { updateUser(id: $id, input: { password: "reset-password-1" }) { id } }', { id: user.id }, admin);
      expect(res.errors).toBeUndefined();
    }, /^credential revoked or expired$/);
    expect((await a.gql('{ me { username } }', {}, user.token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await b.gql('{ me { username } }', {}, apiToken)).data!.me.username).toBe(user.username);
  });

  it('password changed by the user: their other sessions end, the one that changed it stays', async () => {
    const user = await freshUser('SUPER_ADMIN');
    const other = await a.login(user.username, PASSWORD);
    await expectRevoked(other, async () => {
      const res = await a.gql('mutation { changePassword(currentPassword: "revocation-password-1", newPassword: "changed-password-1") }', {}, user.token);
      expect(res.data).toEqual({ changePassword: true });
    }, /^credential revoked or expired$/);
    expect((await b.gql('{ me { username } }', {}, user.token)).data!.me.username).toBe(user.username);
    await expect(a.login(user.username, PASSWORD)).rejects.toThrow(/login failed/);
    await a.login(user.username, 'changed-password-1');
  });

  it('session expired (B issues sessions for 2.5 s): closed within a second of the expiry', async () => {
    const user = await freshUser('SUPER_ADMIN');
    const login = await b.gql('mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token expiresAt } }', { u: user.username, p: PASSWORD });
    const { token, expiresAt } = login.data!.login;
    const watched = await watchedSocket(token);
    const outcome = await untilClosed(watched, B_SESSION_TTL_MS + 3000);
    expect(outcome.closed).toEqual({ code: 4403, reason: 'credential revoked or expired' });
    expect(outcome.messages.filter((m) => m.type !== 'next')).toEqual([{ id: 'audit', type: 'complete' }]);
    const late = outcome.at - Date.parse(expiresAt);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1000);
  });
});

describe('each operation re-checks the credential', () => {
  it('refuses an operation on a socket whose token was revoked without any notification', async () => {
    const user = await freshUser('SUPER_ADMIN');
    const peer = await watchedSocket(user.token);
    // Behind the server's back: no NOTIFY, as if it were lost. Only the per-operation check can see it.
    await sql(a.databaseUrl, 'UPDATE access_tokens SET revoked_at = now() WHERE user_id = $1', [rawKey(user.id)]);
    const outcome = untilClosed(peer);
    peer.send({ type: 'subscribe', id: 'probe', payload: { query: CREATE_PROBE(`silent-${users}`) } });
    const { messages, closed } = await outcome;
    expect(closed).toEqual({ code: 4403, reason: 'credential revoked or expired' });
    expect(messages.filter((m) => m.id === 'probe')).toEqual([]);
    expect(messages.filter((m) => m.id === 'audit' && m.type !== 'next')).toEqual([{ id: 'audit', type: 'complete' }]);
    expect(await sql(a.databaseUrl, 'SELECT 1 FROM users WHERE username = $1', [`silent-${users}`])).toEqual([]);
  });

  it('a raised role keeps the socket, and its next operation has the new privileges', async () => {
    const user = await freshUser('VIEWER');
    const peer = await connectAndInit(b.wsUrl, bearer(user.token));
    peer.send({ type: 'subscribe', id: '1', payload: { query: '{ users { username } }' } });
    expect((await peer.next()).payload.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(await peer.next()).toEqual({ id: '1', type: 'complete' });
    await a.gql('mutation($id: ID!) { updateUser(id: $id, input: { role: SUPER_ADMIN }) { role } }', { id: user.id }, admin);
    peer.send({ type: 'subscribe', id: '2', payload: { query: '{ users { username } }' } });
    const reply = await peer.next();
    expect(reply).toMatchObject({ id: '2', type: 'next' });
    expect(reply.payload.errors).toBeUndefined();
  });

  it('sockets of other users and anonymous sockets stay open through a revocation', async () => {
    const keeper = await freshUser('SUPER_ADMIN');
    const kept = await watchedSocket(keeper.token);
    const anonymous = await connectAndInit(b.wsUrl);
    const doomed = await freshUser('SUPER_ADMIN');
    await expectRevoked(doomed.token, async () => void (await a.gql('mutation { logout }', {}, doomed.token)), /revoked/);
    for (const peer of [kept, anonymous]) {
      peer.send({ type: 'ping' });
      let reply = await peer.next();
      while (reply.type === 'next') reply = await peer.next(); // audit events of the test itself
      expect(reply).toEqual({ type: 'pong' });
    }
  });
});
