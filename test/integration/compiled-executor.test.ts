/**
 * graphql-jit runs a document from its second execution on (src/server/compiled-executor.ts), so
 * the same request is answered by two executors. They must agree: for generated documents (every
 * Query field, selected to depth 3 with a fragment per possible type of each interface), for every
 * asset of a seeded catalog, for a caller who may read and one who may not, and for refused
 * variables, the compiled answers equal the interpreted one, error for error.
 */
import {
  getNamedType,
  isAbstractType,
  isInterfaceType,
  isLeafType,
  isObjectType,
  isRequiredArgument,
  execute,
  parse,
  type GraphQLCompositeType,
  type GraphQLSchema,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchema } from '../../src/graphql/schema.js';
import { createLogger } from '../../src/logger.js';
import { buildContext } from '../../src/server/auth-context.js';
import { compiledExecutor } from '../../src/server/compiled-executor.js';
import { seedDemoCatalog } from '../../src/services/seed.js';
import { buildOperation, rootFields } from '../support/schema-walk.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** Fields whose value changes between two identical requests (the request itself updates them). */
const VOLATILE = new Set(['lastUsedAt', 'checkedAt', 'latencyMs', 'requestId']);

/** A selection of every argument-free field of `type`, `depth` levels down, fragments for abstract types. */
function selectionOf(schema: GraphQLSchema, type: GraphQLCompositeType, depth: number): string {
  const fieldsOf = (object: GraphQLCompositeType) =>
    isObjectType(object) || isInterfaceType(object)
      ? Object.values(object.getFields())
          .filter((f) => !f.args.some(isRequiredArgument) && !VOLATILE.has(f.name))
          .flatMap((f) => {
            const named = getNamedType(f.type);
            if (isLeafType(named)) return [f.name];
            return depth > 1 ? [`${f.name} ${selectionOf(schema, named, depth - 1)}`] : [];
          })
      : [];
  const fragments = isAbstractType(type)
    ? schema.getPossibleTypes(type).map((t) => `... on ${t.name} { ${['__typename', ...fieldsOf(t)].join(' ')} }`)
    : [];
  return `{ ${['__typename', ...fieldsOf(type), ...fragments].join(' ')} }`;
}

/** The answer with what legitimately differs between two executions blanked: error ids. */
function comparable(result: unknown): unknown {
  return JSON.parse(JSON.stringify(result), (key, value) => (key === 'errorId' ? '<errorId>' : value));
}

describe('compiled execution', () => {
  let server: TestServer;
  let schema: GraphQLSchema;
  let tokens: Record<'admin' | 'viewer', string>;
  const log = createLogger('silent', process.stderr);

  beforeAll(async () => {
    server = await startTestServer();
    schema = await createSchema();
    await seedDemoCatalog(server.app.services, await server.app.services.users.firstSuperAdmin());
    tokens = { admin: await server.adminToken(), viewer: await server.userWithRole('VIEWER') };
  }, 60_000);
  afterAll(() => server?.stop());

  /**
   * One document, answered by graphql-js and by the shipped executor once it has compiled the
   * document (its first run, interpreted, is spent on the first call): [interpreted, compiled].
   */
  function bothWays(query: string) {
    const executor = compiledExecutor(schema);
    const document = parse(query);
    let warmedUp = false;
    const contextOf = (caller: 'admin' | 'viewer') => buildContext(server.app.services, log, tokens[caller], '127.0.0.1');
    return async (variables: Record<string, unknown>, caller: 'admin' | 'viewer' = 'admin') => {
      const request = { query, variables };
      if (!warmedUp) await executor({ document, request, context: await contextOf(caller) } as never);
      warmedUp = true;
      const interpreted = await execute({ schema, document, variableValues: variables, contextValue: await contextOf(caller) });
      const compiled = await executor({ document, request, context: await contextOf(caller) } as never);
      return [comparable(interpreted), comparable(compiled)] as const;
    };
  }

  it('answers every Query field, fully selected, the same compiled as interpreted, for each caller', async () => {
    let withData = 0;
    const roots = rootFields(schema).filter((r) => r.kind === 'Query' && !r.name.startsWith('_'));
    expect(roots.length).toBeGreaterThan(20);
    for (const root of roots) {
      const { query: shallow, variables } = buildOperation(root);
      const named = getNamedType(root.field.type);
      const query = isLeafType(named) ? shallow : shallow.replace('{ __typename }', selectionOf(schema, named, 3));
      const answer = bothWays(query);
      for (const caller of ['admin', 'viewer'] as const) {
        const [interpreted, compiled] = await answer(variables, caller);
        expect(compiled, `${root.id} as ${caller}`).toEqual(interpreted);
        if ((interpreted as { data?: Record<string, unknown> | null }).data?.[root.name] != null) withData++;
      }
    }
    // Not only refusals and NOT_FOUNDs were compared: many fields answered with data.
    expect(withData).toBeGreaterThan(roots.length / 2);
  }, 120_000);

  it('answers assets of every type, by asset(id) and node(id), the same compiled as interpreted', async () => {
    // Two of each type the seeded catalog holds.
    const assets = await server.app.services.db.query<{ id: string; type: string }[]>(
      'SELECT id, type FROM (SELECT id, type, row_number() OVER (PARTITION BY type ORDER BY name) AS n FROM assets) a WHERE n <= 2',
    );
    expect(new Set(assets.map((a) => a.type)).size).toBeGreaterThan(5);
    const query = `query($id: ID!) { asset(id: $id) ${selectionOf(schema, schema.getType('Asset') as GraphQLCompositeType, 3)} }`;
    const byNode = `query($id: ID!) { node(id: $id) ${selectionOf(schema, schema.getType('Node') as GraphQLCompositeType, 2)} }`;
    const [assetAnswer, nodeAnswer] = [bothWays(query), bothWays(byNode)];
    for (const { id, type } of assets) {
      const [interpreted, compiled] = await assetAnswer({ id });
      const found = (interpreted as { data: { asset: { __typename: string; id: string } | null } }).data.asset;
      expect(found, type).not.toBeNull();
      expect(compiled, `${type} ${id}`).toEqual(interpreted);
      // node(id) resolves the Node interface to the asset's own type.
      const [viaNode, compiledViaNode] = await nodeAnswer({ id: found!.id });
      expect((viaNode as { data: { node: { __typename: string } } }).data.node.__typename).toBe(found!.__typename);
      expect(compiledViaNode, `node ${type} ${id}`).toEqual(viaNode);
    }
  }, 120_000);

  it('refuses bad variables with graphql-js’s errors both times', async () => {
    const answer = bothWays('query($first: Int) { assets(first: $first) { totalCount } }');
    for (const first of ['ten', 2 ** 40, { n: 1 }, [1], 'x\u0000y']) {
      const [interpreted, compiled] = await answer({ first });
      expect(JSON.stringify(interpreted)).toMatch(/Variable \\"\$first\\" got invalid value/);
      expect(compiled).toEqual(interpreted);
    }
  });
});
