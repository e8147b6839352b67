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
  type DocumentNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchema } from '../../src/graphql/schema.js';
import { createLogger } from '../../src/logger.js';
import { buildContext } from '../../src/server/auth-context.js';
import { compiledExecutor, defaultCompilePolicy } from '../../src/server/compiled-executor.js';
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
   * One document, answered by graphql-js and by the shipped executor, which has compiled it:
   * [interpreted, compiled].
   */
  function bothWays(query: string) {
    const document = parse(query);
    let compiled = 0;
    // Compiled at the first run whatever its size (the server's policy would leave these
    // documents, larger than 8 KiB, interpreted), so the second run is the compiled one.
    const executor = compiledExecutor(schema, { compileAfter: 1, maxCompiledText: Infinity, compilationsPerMinute: Infinity, onCompiled: () => compiled++ });
    const contextOf = (caller: 'admin' | 'viewer') => buildContext(server.app.services, log, tokens[caller], '127.0.0.1');
    return async (variables: Record<string, unknown>, caller: 'admin' | 'viewer' = 'admin') => {
      const request = { query, variables };
      const interpreted = await execute({ schema, document, variableValues: variables, contextValue: await contextOf(caller) });
      const answer = await executor({ document, request, context: await contextOf(caller) } as never);
      expect(compiled, 'the document was compiled').toBe(1);
      return [comparable(interpreted), comparable(answer)] as const;
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

  it('compiles a document on its third run, never one over 8 KiB, and at most 20 a minute', async () => {
    let clock = 0;
    const compiled: DocumentNode[] = [];
    const executor = compiledExecutor(schema, { ...defaultCompilePolicy, now: () => clock, onCompiled: (d) => compiled.push(d) });
    const context = await buildContext(server.app.services, log, tokens.admin, '127.0.0.1');
    const run = (query: string, document = parse(query)) => executor({ document, request: { query }, context } as never);
    const small = (n: number) => `query Q${n} { assets(first: 1) { totalCount } }`;

    const document = parse(small(0));
    await run(small(0), document);
    await run(small(0), document);
    expect(compiled).toEqual([]);
    await run(small(0), document);
    expect(compiled).toEqual([document]);

    const large = `query Large { assets(first: 1) { totalCount ${'edges { cursor } '.repeat(500)} } }`;
    expect(large.length).toBeGreaterThan(8 * 1024);
    const largeDocument = parse(large);
    for (let i = 0; i < 5; i++) await run(large, largeDocument);
    expect(compiled).not.toContain(largeDocument);

    // 19 tokens left: 25 documents run three times each compile 19, then one more a minute later.
    for (let n = 1; n <= 25; n++) {
      const d = parse(small(n));
      for (let i = 0; i < 3; i++) expect((await run(small(n), d)).errors).toBeUndefined();
    }
    expect(compiled).toHaveLength(20);
    clock += 3_000; // a twentieth of a minute: one token back
    const late = parse(small(99));
    for (let i = 0; i < 3; i++) await run(small(99), late);
    expect(compiled).toHaveLength(21);
  });
});
