/**
 * The privilege matrix. Every root field must carry a guard (`@Requires(...)` or `@Public()`, see
 * src/graphql/guard.ts), the guard must match the table below, and the running server must
 * enforce it for every kind of caller, over HTTP (queries, mutations) and graphql-ws
 * (subscriptions). The test walks the schema, so new fields are picked up automatically: add a
 * field, and this file fails until the table says what the field needs.
 */
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privilegesOf, roles, type Privilege, type Role } from '../../src/domain/privileges.js';
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
    importReports: ['EXPORT_IMPORT'],
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
    importReport: ['EXPORT_IMPORT'],
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

const CALLERS = ['anonymous', 'VIEWER', 'API_PROVIDER', 'SUPER_ADMIN'] as const;
type Caller = (typeof CALLERS)[number];

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
  const held = privilegesOf[caller];
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
const usernameOf = (role: Role) => `matrix-${role.toLowerCase().replace(/_/g, '-')}`;

beforeAll(async () => {
  schema = await createSchema();
  server = await startTestServer();
  const admin = await server.adminToken();
  for (const role of roles) {
    const res = await server.gql(
      'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }',
      { input: { username: usernameOf(role), password: MATRIX_PASSWORD, role } },
      admin,
    );
    if (res.errors) throw new Error(`createUser ${role} failed: ${JSON.stringify(res.errors)}`);
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
    expect(users.data?.users.map((u) => u.username)).toEqual(expect.arrayContaining(['admin', ...roles.map(usernameOf)]));
    for (const role of roles) await expect(server.login(usernameOf(role), MATRIX_PASSWORD)).resolves.toMatch(/^scs_/);
  });

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
