/**
 * The privilege matrix. Every root field must carry a guard (`@Requires(...)` or `@Public()`, see
 * src/graphql/guard.ts), the guard must match the table below, and the running server must
 * enforce it for every kind of caller, over HTTP (queries, mutations) and graphql-ws
 * (subscriptions). The test walks the schema, so new fields are picked up automatically: add a
 * field, and this file fails until the table says what the field needs.
 */
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privilegesOf, roles, type Privilege } from '../../src/domain/privileges.js';
import type { GuardExtension } from '../../src/graphql/guard.js';
import { createSchema } from '../../src/graphql/schema.js';
import { buildOperation, classify, classifyOverWebSocket, guardOf, ROOT_KINDS, rootFields, type Outcome, type RootField, type RootKind, type Verdict } from '../support/schema-walk.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../support/server.js';

// ---------------------------------------------------------------------------------------------
// The expected table: what each root field needs. Keep it complete; the test checks both ways.
// ---------------------------------------------------------------------------------------------

type Need = 'PUBLIC' | 'SIGNED_IN' | readonly Privilege[];

const expected: Record<RootKind, Record<string, Need>> = {
  Query: {
    me: 'PUBLIC',
    users: ['MANAGE_USERS'],
    apiTokens: 'SIGNED_IN',
    auditEvents: ['MANAGE_USERS'],
    asset: 'SIGNED_IN',
    assets: 'SIGNED_IN',
    dependencyClosure: 'SIGNED_IN',
    aliasFor: 'SIGNED_IN',
    importReports: ['IMPORT_ASSETS'],
    accessProfiles: ['MANAGE_USERS'],
    userGroups: ['MANAGE_USERS'],
    assetsByIds: 'SIGNED_IN',
    serverInfo: 'SIGNED_IN',
    node: 'SIGNED_IN',
    nodes: 'SIGNED_IN',
    stages: 'SIGNED_IN',
    stage: 'SIGNED_IN',
    promotions: 'SIGNED_IN',
    promotion: 'SIGNED_IN',
    promotionEvents: 'SIGNED_IN',
    promotionPlan: ['MANAGE_PROMOTIONS'],
    rollbacks: 'SIGNED_IN',
    assetMatrix: 'SIGNED_IN',
    gatewayGroups: 'SIGNED_IN',
    gatewayGroup: 'SIGNED_IN',
    serviceRegistries: 'SIGNED_IN',
    gatewayInstanceTokens: ['MANAGE_GATEWAY_GROUPS'],
    rollback: 'SIGNED_IN',
    importReport: ['IMPORT_ASSETS'],
    importBackups: ['IMPORT_ASSETS'],
    // Federation (src/graphql/subgraph/): the subgraph SDL, like introspection, needs a user;
    // each _entities reference is also held to the guard of its equivalent query.
    _service: 'SIGNED_IN',
    _entities: 'SIGNED_IN',
  },
  Mutation: {
    login: 'PUBLIC',
    logout: 'SIGNED_IN',
    changePassword: 'SIGNED_IN',
    createApiToken: 'SIGNED_IN',
    revokeApiToken: 'SIGNED_IN',
    createUser: ['MANAGE_USERS'],
    updateUser: ['MANAGE_USERS'],
    deleteUser: ['MANAGE_USERS'],
    createAccessProfile: ['MANAGE_USERS'],
    updateAccessProfile: ['MANAGE_USERS'],
    deleteAccessProfile: ['MANAGE_USERS'],
    createUserGroup: ['MANAGE_USERS'],
    updateUserGroup: ['MANAGE_USERS'],
    deleteUserGroup: ['MANAGE_USERS'],
    restoreImportBackup: ['IMPORT_ASSETS'],
    createAsset: ['MANAGE_ASSETS'],
    updateAsset: ['MANAGE_ASSETS'],
    deleteAsset: ['MANAGE_ASSETS'],
    createApiVersion: ['MANAGE_ASSETS'],
    createStage: ['MANAGE_PROMOTIONS'],
    updateStage: ['MANAGE_PROMOTIONS'],
    deleteStage: ['MANAGE_PROMOTIONS'],
    testStage: ['MANAGE_PROMOTIONS'],
    promote: ['MANAGE_PROMOTIONS'],
    repromote: ['MANAGE_PROMOTIONS'],
    deletePromotion: ['MANAGE_PROMOTIONS'],
    rollbackPromotion: ['MANAGE_PROMOTIONS'],
    rollback: ['MANAGE_PROMOTIONS'],
    deleteRollback: ['MANAGE_PROMOTIONS'],
    createGatewayGroup: ['MANAGE_GATEWAY_GROUPS'],
    updateGatewayGroup: ['MANAGE_GATEWAY_GROUPS'],
    deleteGatewayGroup: ['MANAGE_GATEWAY_GROUPS'],
    createGatewayInstanceToken: ['MANAGE_GATEWAY_GROUPS'],
    revokeGatewayInstanceToken: ['MANAGE_GATEWAY_GROUPS'],
    unpublishService: ['MANAGE_GATEWAY_GROUPS'],
    publishService: ['MANAGE_GATEWAY_GROUPS'],
    rollbackService: ['MANAGE_GATEWAY_GROUPS'],
    syncServiceVersion: ['MANAGE_GATEWAY_GROUPS'],
    createServiceRegistry: ['MANAGE_GATEWAY_GROUPS'],
    gatewayHeartbeat: ['GATEWAY_AGENT'],
  },
  Subscription: {
    auditLog: ['MANAGE_USERS'],
    promotionProgress: ['MANAGE_PROMOTIONS'],
    rollbackProgress: ['MANAGE_PROMOTIONS'],
    gatewayConfig: ['GATEWAY_AGENT'],
    syncProgress: ['MANAGE_GATEWAY_GROUPS'],
  },
};

/** The only mutation or subscription anyone may call without signing in. */
const PUBLIC_OPERATIONS_ALLOWED = new Set(['Mutation.login']);

/**
 * Argument values that replace the generated dummies. `login` with made-up credentials fails with
 * the resolver's own UNAUTHENTICATED ("invalid username or password"), which would be
 * indistinguishable from a guard refusal; with real credentials it shows the field is open.
 */
const argumentOverrides: Record<string, Record<string, unknown>> = {
  'Mutation.login': { username: 'admin', password: ADMIN_PASSWORD },
  // Any signed-in user may ask about this stage; remote stages need MANAGE_PROMOTIONS (stage-safety.test.ts).
  'Query.assetMatrix': { stages: ['dev'] },
};

/**
 * Custom access profiles, held through groups by users whose role is VIEWER (which grants
 * nothing): what each caller holds is written out by hand, not computed by the code under test.
 * RELEASE holds two groups (their union counts); PORTER's profile names the old EXPORT_IMPORT.
 */
const customCallers = {
  RELEASE: { groups: [{ profile: 'Release managers', privileges: ['MANAGE_PROMOTIONS'] }, { profile: 'Exporters', privileges: ['EXPORT_ASSETS'] }], holds: ['MANAGE_PROMOTIONS', 'EXPORT_ASSETS'] },
  USER_ADMIN: { groups: [{ profile: 'User admins', privileges: ['MANAGE_USERS', 'IMPORT_ASSETS'] }], holds: ['MANAGE_USERS', 'IMPORT_ASSETS'] },
  PORTER: { groups: [{ profile: 'Gateway porters', privileges: ['EXPORT_IMPORT', 'MANAGE_GATEWAY_GROUPS'] }], holds: ['EXPORT_IMPORT', 'EXPORT_ASSETS', 'IMPORT_ASSETS', 'MANAGE_GATEWAY_GROUPS'] },
} satisfies Record<string, { groups: { profile: string; privileges: Privilege[] }[]; holds: Privilege[] }>;
type CustomCaller = keyof typeof customCallers;

const CALLERS = ['anonymous', 'VIEWER', 'API_PROVIDER', 'SUPER_ADMIN', ...(Object.keys(customCallers) as CustomCaller[])] as const;
type Caller = (typeof CALLERS)[number];
const isCustom = (caller: Caller): caller is CustomCaller => caller in customCallers;

/** The table's notation as the guard extension it stands for (privileges sorted for comparison). */
function needAsGuard(need: Need): GuardExtension {
  if (need === 'PUBLIC') return { public: true, privileges: [] };
  if (need === 'SIGNED_IN') return { public: false, privileges: [] };
  return { public: false, privileges: [...need].sort() };
}

function normalizeGuard(guard: GuardExtension): GuardExtension {
  return { public: guard.public, privileges: [...guard.privileges].sort() };
}

function describeNeed(need: Need | undefined): string {
  return need === undefined ? '(missing)' : typeof need === 'string' ? need : `[${need.join(', ')}]`;
}

function describeGuard(guard: GuardExtension | undefined): string {
  if (!guard) return '(no guard extension)';
  if (guard.public) return guard.privileges.length ? `PUBLIC + [${guard.privileges.join(', ')}] (inconsistent)` : 'PUBLIC';
  return guard.privileges.length ? `[${guard.privileges.join(', ')}]` : 'SIGNED_IN';
}

function expectedVerdict(need: Need, caller: Caller): Verdict {
  if (need === 'PUBLIC') return 'ALLOWED';
  if (caller === 'anonymous') return 'UNAUTHENTICATED';
  if (need === 'SIGNED_IN') return 'ALLOWED';
  const held: readonly Privilege[] = isCustom(caller) ? customCallers[caller].holds : privilegesOf[caller];
  return need.every((p) => held.includes(p)) ? 'ALLOWED' : 'FORBIDDEN';
}

interface Cell {
  field: string;
  caller: Caller;
  expected: Verdict;
  got: Outcome;
}

const isMismatch = (c: Cell) => c.got.verdict !== c.expected;

function renderMatrix(cells: Cell[], title: string): string {
  const fields = [...new Set(cells.map((c) => c.field))];
  const text = (c: Cell | undefined): string => {
    if (!c) return '-';
    const got = c.got.verdict + (c.got.detail && c.got.verdict !== c.got.detail ? ` (${c.got.detail})` : '');
    return isMismatch(c) ? `✗ ${got} ≠ ${c.expected}` : `✓ ${got}`;
  };
  const rows = [['field', ...CALLERS], ...fields.map((f) => [f, ...CALLERS.map((caller) => text(cells.find((c) => c.field === f && c.caller === caller)))])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const bad = cells.filter(isMismatch).length;
  return `\n${title}: ${bad} of ${cells.length} cells wrong (got ≠ expected)\n${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

let schema: GraphQLSchema;
let server: TestServer;
const MATRIX_PASSWORD = 'matrix-password-123';
const usernameOf = (caller: Exclude<Caller, 'anonymous'>) => `matrix-${caller.toLowerCase().replace(/_/g, '-')}`;

beforeAll(async () => {
  schema = await createSchema();
  // Every signed-in caller runs changePassword with a made-up current password (a failed sign-in
  // from this address): seven callers would trip the per-address lockout the matrix is not about.
  server = await startTestServer({ configure: (c) => void (c.auth.loginFailuresPerAddress = 100) });
  const admin = await server.adminToken();
  for (const role of roles) {
    const res = await server.gql(
      'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }',
      { input: { username: usernameOf(role), password: MATRIX_PASSWORD, role } },
      admin,
    );
    if (res.errors) throw new Error(`createUser ${role} failed: ${JSON.stringify(res.errors)}`);
  }
  for (const [caller, { groups }] of Object.entries(customCallers) as [CustomCaller, (typeof customCallers)[CustomCaller]][]) {
    const user = await server.gql('mutation($input: CreateUserInput!) { createUser(input: $input) { id } }', { input: { username: usernameOf(caller), password: MATRIX_PASSWORD, role: 'VIEWER' } }, admin);
    if (user.errors) throw new Error(`createUser ${caller} failed: ${JSON.stringify(user.errors)}`);
    for (const { profile, privileges } of groups) {
      const created = await server.gql('mutation($i: CreateAccessProfileInput!) { createAccessProfile(input: $i) { id } }', { i: { name: profile, privileges } }, admin);
      if (created.errors) throw new Error(`createAccessProfile ${profile} failed: ${JSON.stringify(created.errors)}`);
      const group = await server.gql(
        'mutation($i: CreateUserGroupInput!) { createUserGroup(input: $i) { id } }',
        { i: { name: `${profile} group`, profileIds: [created.data!.createAccessProfile.id], memberIds: [user.data!.createUser.id] } },
        admin,
      );
      if (group.errors) throw new Error(`createUserGroup ${profile} failed: ${JSON.stringify(group.errors)}`);
    }
  }
});
afterAll(() => server?.stop());

const sessions = new Map<Caller, string>();

/**
 * A working session token for the caller: a fresh one whenever the last check spoiled it
 * (`logout` revokes the token it was called with), so no check inherits a revoked token.
 */
async function tokenFor(caller: Caller): Promise<string | undefined> {
  if (caller === 'anonymous') return undefined;
  const current = sessions.get(caller);
  if (current && !(await server.gql('{ me { __typename } }', {}, current)).errors) return current;
  const fresh = await server.login(usernameOf(caller), MATRIX_PASSWORD);
  sessions.set(caller, fresh);
  return fresh;
}

/** What the live matrix holds the field to: the table, or (for a field the table lacks) its own guard. */
function needFor(root: RootField): Need | undefined {
  const listed = expected[root.kind][root.name];
  if (listed) return listed;
  const guard = guardOf(root.field);
  if (!guard) return undefined;
  return guard.public ? 'PUBLIC' : guard.privileges.length ? guard.privileges : 'SIGNED_IN';
}

function cellFor(root: RootField, caller: Caller, got: Outcome): Cell {
  const need = needFor(root);
  // A field with neither a table entry nor a guard: nobody is expected to get in.
  const want: Verdict = need ? expectedVerdict(need, caller) : caller === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN';
  return { field: root.id, caller, expected: want, got };
}

async function viaHttp(root: RootField, caller: Caller): Promise<Outcome> {
  const { query, variables } = buildOperation(root, argumentOverrides[root.id]);
  const res = await server.gql(query, variables, await tokenFor(caller));
  return classify(root.name, res.data, res.errors as GraphQLFormattedError[] | undefined);
}

async function viaWebSocket(root: RootField, caller: Caller): Promise<Outcome> {
  return classifyOverWebSocket(server.wsClient(await tokenFor(caller)), root, buildOperation(root, argumentOverrides[root.id]));
}

describe('privilege table', () => {
  it('every root field carries a guard extension equal to the expected table', () => {
    const problems: string[] = [];
    for (const root of rootFields(schema)) {
      const guard = guardOf(root.field);
      const need = expected[root.kind][root.name];
      const matches = guard !== undefined && need !== undefined && JSON.stringify(normalizeGuard(guard)) === JSON.stringify(needAsGuard(need));
      if (!matches) problems.push(`${root.id}: schema says ${describeGuard(guard)}, table says ${describeNeed(need)}`);
    }
    expect(rootFields(schema).length).toBeGreaterThan(0);
    expect(problems, `\nroot fields whose guard differs from the table:\n  ${problems.join('\n  ')}\n`).toEqual([]);
  });

  it('the table lists no field the schema lacks', () => {
    const inSchema = new Set(rootFields(schema).map((r) => r.id));
    const stale = ROOT_KINDS.flatMap((kind) => Object.keys(expected[kind]).map((name) => `${kind}.${name}`)).filter((id) => !inSchema.has(id));
    expect(stale, `table entries without a field in the schema: ${stale.join(', ')}`).toEqual([]);
  });

  it('no mutation or subscription but login is public', () => {
    const open = rootFields(schema)
      .filter((r) => r.kind !== 'Query' && !PUBLIC_OPERATIONS_ALLOWED.has(r.id))
      // No guard extension at all means no @Requires either: as open as @Public().
      .filter((r) => guardOf(r.field)?.public !== false)
      .map((r) => `${r.id} (${describeGuard(guardOf(r.field))})`);
    expect(open, `mutations/subscriptions open to anonymous callers: ${open.join(', ')}`).toEqual([]);
  });
});

describe('live privilege matrix', () => {
  it('queries and mutations over HTTP: each caller gets exactly what the table allows', async () => {
    const roots = rootFields(schema).filter((r) => r.kind !== 'Subscription');
    const cells: Cell[] = [];
    for (const root of roots) {
      for (const caller of CALLERS) cells.push(cellFor(root, caller, await viaHttp(root, caller)));
    }
    expect(cells).toHaveLength(roots.length * CALLERS.length);
    expect(cells.filter(isMismatch), renderMatrix(cells, 'HTTP privilege matrix')).toEqual([]);

    // The dummy IDs hit nobody: every user is still there, and the matrix users can still sign in.
    const users = await server.gql<{ users: { username: string }[] }>('{ users { username } }', {}, await server.login());
    const signedIn = CALLERS.filter((c): c is Exclude<Caller, 'anonymous'> => c !== 'anonymous');
    expect(users.data?.users.map((u) => u.username)).toEqual(expect.arrayContaining(['admin', ...signedIn.map(usernameOf)]));
    for (const caller of signedIn) await expect(server.login(usernameOf(caller), MATRIX_PASSWORD)).resolves.toMatch(/^scs_/);
  }, 300_000); // 7 callers × every root field, on a machine shared with other work

  it('subscriptions over graphql-ws: each caller gets exactly what the table allows', async () => {
    const roots = rootFields(schema).filter((r) => r.kind === 'Subscription');
    const cells: Cell[] = [];
    for (const root of roots) {
      for (const caller of CALLERS) cells.push(cellFor(root, caller, await viaWebSocket(root, caller)));
    }
    expect(cells).toHaveLength(roots.length * CALLERS.length);
    expect(cells.filter(isMismatch), renderMatrix(cells, 'graphql-ws privilege matrix')).toEqual([]);
  });
});

describe('custom access profiles', () => {
  it('each custom caller holds exactly the union of its groups’ profiles (me.privileges)', async () => {
    for (const caller of Object.keys(customCallers) as CustomCaller[]) {
      const me = await server.gql<{ me: { role: string; privileges: string[] } }>('{ me { role privileges } }', {}, await tokenFor(caller));
      expect(me.data?.me, caller).toEqual({ role: 'VIEWER', privileges: expect.arrayContaining(customCallers[caller].holds) });
      expect(me.data?.me.privileges, caller).toHaveLength(customCallers[caller].holds.length);
    }
  });

  /** What the archive endpoints answer a caller: the status only (a body they may read is not the point). */
  async function archiveStatuses(caller: Caller): Promise<Record<string, number>> {
    const token = await tokenFor(caller);
    const auth: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
    // An empty selection: past the guard, the export answers 400 (nothing to export).
    const exportRes = await fetch(`${server.url}/archive/export`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ assetIds: [] }) });
    await exportRes.arrayBuffer();
    // A body that is not a ZIP: past the guard, the import answers 400; before it, 401 or 403.
    const importAs = async (headers: Record<string, string>) => {
      const res = await fetch(`${server.url}/archive/import`, { method: 'POST', headers: { ...auth, ...headers, 'Content-Type': 'text/plain' }, body: 'not a zip' });
      await res.arrayBuffer();
      return res.status;
    };
    const promotion = Buffer.from(JSON.stringify({ id: '00000000-0000-4000-8000-000000000001', name: 'p', description: '', promotedBy: 'dev-user' })).toString('base64url');
    const report = await fetch(`${server.url}/archive/import-reports/00000000-0000-4000-8000-000000000001.json`, { headers: auth });
    await report.arrayBuffer();
    return { export: exportRes.status, import: await importAs({}), promotionImport: await importAs({ 'X-Stagecraft-Promotion': promotion }), report: report.status };
  }

  it('the archive endpoints: export needs EXPORT_ASSETS, import and reports IMPORT_ASSETS, a promotion’s import MANAGE_PROMOTIONS or MANAGE_ASSETS too', async () => {
    const expectedStatuses: Record<Caller, Record<string, number>> = {
      anonymous: { export: 401, import: 401, promotionImport: 401, report: 401 },
      VIEWER: { export: 403, import: 403, promotionImport: 403, report: 403 },
      API_PROVIDER: { export: 400, import: 400, promotionImport: 400, report: 404 },
      SUPER_ADMIN: { export: 400, import: 400, promotionImport: 400, report: 404 },
      RELEASE: { export: 400, import: 403, promotionImport: 400, report: 403 },
      USER_ADMIN: { export: 403, import: 400, promotionImport: 400, report: 404 },
      PORTER: { export: 400, import: 400, promotionImport: 400, report: 404 },
    };
    const got: Record<string, Record<string, number>> = {};
    for (const caller of CALLERS) got[caller] = await archiveStatuses(caller);
    expect(got).toEqual(expectedStatuses);
  });

  it('refuses bad profiles and groups with BAD_USER_INPUT, built-in profiles with CONFLICT, and writes nothing', async () => {
    const admin = await tokenFor('SUPER_ADMIN');
    const before = await server.gql<{ accessProfiles: unknown[]; userGroups: unknown[] }>('{ accessProfiles { id name privileges } userGroups { id name } }', {}, admin);
    const create = (i: Record<string, unknown>) => server.gql('mutation($i: CreateAccessProfileInput!) { createAccessProfile(input: $i) { id } }', { i }, admin);
    for (const [input, field] of [
      [{ name: '', privileges: [] }, 'name'],
      [{ name: '   ', privileges: [] }, 'name'],
      [{ name: 'x'.repeat(101), privileges: [] }, 'name'],
      [{ name: 'bad\u0000name', privileges: [] }, 'name'],
      [{ name: 'line\nbreak', privileges: [] }, 'name'],
      [{ name: 'agents', privileges: ['GATEWAY_AGENT'] }, 'privileges'],
      [{ name: 'long', description: 'd'.repeat(1001), privileges: [] }, 'description'],
    ] as const) {
      const res = await create(input);
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(input).slice(0, 80)).toBe('BAD_USER_INPUT');
      if (res.errors?.[0]?.extensions?.field) expect(res.errors[0].extensions.field).toBe(field);
    }
    const group = (i: Record<string, unknown>) => server.gql('mutation($i: CreateUserGroupInput!) { createUserGroup(input: $i) { id } }', { i }, admin);
    expect((await group({ name: 'ghosts', memberIds: ['00000000-0000-4000-8000-000000000009'] })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await group({ name: 'ghosts', profileIds: ['not-an-id'] })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await group({ name: 'crowd', memberIds: Array.from({ length: 1001 }, () => '00000000-0000-4000-8000-000000000009') })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const profiles = before.data!.accessProfiles as { id: string; name: string }[];
    const viewer = profiles.find((p) => p.name === 'VIEWER')!;
    const edit = await server.gql('mutation($id: ID!) { updateAccessProfile(id: $id, input: { privileges: [MANAGE_USERS] }) { id } }', { id: viewer.id }, admin);
    expect(edit.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await server.gql('mutation($id: ID!) { deleteAccessProfile(id: $id) }', { id: viewer.id }, admin)).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    // A profile a group holds is not deleted.
    const held = profiles.find((p) => p.name === 'User admins')!;
    expect((await server.gql('mutation($id: ID!) { deleteAccessProfile(id: $id) }', { id: held.id }, admin)).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    // Names clash as typed (trimmed): CONFLICT.
    expect((await create({ name: '  User admins ', privileges: [] })).errors?.[0]?.extensions?.code).toBe('CONFLICT');

    const after = await server.gql('{ accessProfiles { id name privileges } userGroups { id name } }', {}, admin);
    expect(after.data).toEqual(before.data);
  });

  it('names as users type them: spaces are kept, built-in profiles come first', async () => {
    const admin = await tokenFor('SUPER_ADMIN');
    const created = await server.gql<{ createAccessProfile: { name: string; privileges: string[]; builtIn: boolean } }>(
      'mutation { createAccessProfile(input: { name: "  Registry for Test editors ", privileges: [MANAGE_ASSETS, EXPORT_IMPORT] }) { name privileges builtIn } }',
      {},
      admin,
    );
    expect(created.data?.createAccessProfile).toEqual({ name: 'Registry for Test editors', privileges: ['EXPORT_IMPORT', 'EXPORT_ASSETS', 'IMPORT_ASSETS', 'MANAGE_ASSETS'].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b)), builtIn: false });
    const list = await server.gql<{ accessProfiles: { name: string; builtIn: boolean }[] }>('{ accessProfiles { name builtIn } }', {}, admin);
    expect(list.data!.accessProfiles.slice(0, 3)).toEqual([
      { name: 'API_PROVIDER', builtIn: true },
      { name: 'SUPER_ADMIN', builtIn: true },
      { name: 'VIEWER', builtIn: true },
    ]);
  });
});

/** The canonical order of privileges (the GraphQL enum's). */
const ORDER = ['MANAGE_ASSETS', 'MANAGE_PROMOTIONS', 'EXPORT_IMPORT', 'EXPORT_ASSETS', 'IMPORT_ASSETS', 'MANAGE_GATEWAY_GROUPS', 'MANAGE_USERS'];
