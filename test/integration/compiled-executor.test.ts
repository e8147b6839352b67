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
  buildSchema,
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
import { compileCost } from '../../src/server/compilable.js';
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

/** A policy that compiles whatever may be compiled, at once. */
const unlimited = { compileAfter: 1, maxCompiledText: Infinity, maxExpandedFields: Infinity, compiledFieldsPerMinute: Infinity, maxCompiledDocuments: Infinity };

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
    // Compiled at the first run whatever its size (the server's policy would leave these large
    // documents interpreted), so the second run is the compiled one.
    const executor = compiledExecutor(schema, { ...unlimited, onCompiled: () => compiled++ });
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

  it('compiles a document on its third run, never one over 8 KiB or 1,000 fields, within 20,000 fields a minute', async () => {
    let clock = 0;
    const compiled: DocumentNode[] = [];
    const executor = compiledExecutor(schema, { ...defaultCompilePolicy, now: () => clock, onCompiled: (d) => compiled.push(d) });
    const context = await buildContext(server.app.services, log, tokens.admin, '127.0.0.1');
    const run = (query: string, document: DocumentNode, variables: Record<string, unknown> = {}) =>
      executor({ document, request: { query, variables }, context } as never);

    // Fields: assets, edges, node, and `width` leaves (x3 for the interface's nine types each).
    const sized = (n: number, width: number) => `query Q${n} { assets(first: 1) { edges { node { ${Array.from({ length: width }, (_, i) => `f${i}: name`).join(' ')} } } } }`;
    const small = sized(0, 3);
    const document = parse(small);
    await run(small, document);
    await run(small, document);
    expect(compiled).toEqual([]);
    await run(small, document);
    expect(compiled).toEqual([document]);

    const large = `query Large { assets(first: 1) { totalCount ${'edges { cursor } '.repeat(500)} } }`;
    expect(large.length).toBeGreaterThan(8 * 1024);
    const largeDocument = parse(large);
    for (let i = 0; i < 4; i++) await run(large, largeDocument);
    expect(compiled).not.toContain(largeDocument);

    // Nested fragments over Asset: 450 characters, ~13,500 fields once jit inlines them for every
    // asset type (compiling took 1.5 s; one level more, 16 s and 3 GB). @skip does not shrink it.
    const fragment = (level: number, inner: string) =>
      `fragment L${level} on Asset { id name dependents { ${inner} } teamAsset { ${inner} } ... on ApiAsset { versions { ${inner} } } }`;
    const bomb = `query Bomb($s: Boolean!) { me { username } assets(first: 1) @skip(if: $s) { edges { node { ...L1 } } } }
      ${fragment(1, '...L2')} ${fragment(2, '...L3')} ${fragment(3, 'id')}`;
    const bombDocument = parse(bomb);
    for (let i = 0; i < 4; i++) expect(await run(bomb, bombDocument, { s: true })).toEqual({ data: { me: { username: 'admin' } } });
    expect(compiled).not.toContain(bombDocument);

    // The budget: ~900-field documents (allowed one by one) until 20,000 fields a minute are spent.
    const before = compiled.length;
    for (let n = 1; n <= 30; n++) {
      const text = sized(n, 100);
      const d = parse(text);
      for (let i = 0; i < 3; i++) expect((await run(text, d)).errors).toBeUndefined();
    }
    const withinBudget = compiled.length - before;
    expect(withinBudget).toBeGreaterThanOrEqual(20);
    expect(withinBudget).toBeLessThan(30);
    clock += 60_000; // a minute later the budget is back
    const late = sized(99, 100);
    const lateDocument = parse(late);
    for (let i = 0; i < 3; i++) await run(late, lateDocument);
    expect(compiled).toContain(lateDocument);
  }, 60_000);

  it('never compiles a mutation: one failing root field still stops the ones after it', async () => {
    const compiled: DocumentNode[] = [];
    const executor = compiledExecutor(schema, { ...unlimited, onCompiled: (d) => compiled.push(d) });
    const query = 'mutation($taken: String!, $fresh: String!) { a: createAsset(input: { name: $taken, type: POLICY }) { name } b: createAsset(input: { name: $fresh, type: POLICY }) { name } }';
    const document = parse(query);
    const [taken] = await server.app.services.db.query<{ name: string }[]>("SELECT name FROM assets WHERE type = 'POLICY' LIMIT 1");
    for (let i = 0; i < 3; i++) {
      const fresh = `never-created-${i}`;
      const context = await buildContext(server.app.services, log, tokens.admin, '127.0.0.1');
      const answer = await executor({ document, request: { query, variables: { taken: taken!.name, fresh } }, context } as never);
      expect((answer.errors?.[0]?.originalError as { code?: string } | undefined)?.code).toBe('CONFLICT');
      expect(await server.app.services.db.query('SELECT 1 FROM assets WHERE name = $1', [fresh])).toEqual([]);
    }
    expect(compiled).toEqual([]);
  });

  it('never compiles what jit reads differently: variables in custom-scalar literals or in defaulted input fields, introspection', () => {
    const small = buildSchema(`scalar JSONObject enum D { ASC DESC } input Filter { k: String d: D = ASC }
      type Query { f(x: JSONObject): Int g(x: Filter): Int }`);
    const cost = (query: string) => compileCost(small, parse(query), undefined, 1_000);
    expect(cost('query($v: String) { f(x: { k: $v }) }')).toBeNull(); // jit parsed it without $v
    expect(cost('query($v: String) { f(x: { k: [1, { deeper: $v }] }) }')).toBeNull();
    expect(cost('query($d: D) { g(x: { k: "a", d: $d }) }')).toBeNull(); // jit: null instead of ASC when $d is not sent
    expect(cost('query($v: JSONObject) { f(x: $v) }')).toBe(1); // a whole variable is fine
    expect(cost('query { f(x: { k: "literal" }) }')).toBe(1);
    expect(cost('query($v: String) { g(x: { k: $v }) }')).toBe(1); // no default there: jit fills it per request
    expect(cost('{ __schema { types { name } } }')).toBe(Infinity); // introspection: never compiled
    // @skip/@include: jit marks the shared nodes of a skipped fragment, emptying its other spreads.
    expect(cost('query($s: Boolean!) { a: g ...F @skip(if: $s) } fragment F on Query { g }')).toBeNull();
    expect(cost('{ g @include(if: true) }')).toBeNull();
    expect(cost('mutation { __typename }')).toBeNull();
    // The real schema: the ordering input's direction defaults to ASC.
    expect(compileCost(schema, parse('query($f: AssetOrderField!, $d: OrderDirection) { assets(orderBy: { field: $f, direction: $d }) { totalCount } }'), undefined, 1_000)).toBeNull();
  });

  it('reports a null in a non-null field as graphql-js does: an internal error underneath, masked and logged', async () => {
    const small = buildSchema('type Query { a: String! items: [Int!]! ok: Int }');
    const fields = small.getQueryType()!.getFields();
    fields.a!.resolve = () => null;
    fields.items!.resolve = () => [1, null];
    fields.ok!.resolve = () => 1;
    for (const query of ['{ a }', '{ items }', '{ ok }']) {
      const document = parse(query);
      const interpreted = await execute({ schema: small, document });
      let compiled = 0;
      const executor = compiledExecutor(small, { ...unlimited, onCompiled: () => compiled++ });
      const answer = await executor({ document, request: { query }, context: {} } as never);
      expect(compiled).toBe(1);
      expect(comparable(answer)).toEqual(comparable(interpreted));
      for (const [i, error] of (answer.errors ?? []).entries()) {
        expect(error.originalError, query).toBeInstanceOf(Error);
        expect(error.originalError!.message).toBe(interpreted.errors![i]!.originalError!.message);
      }
    }
  });

  it('keeps at most maxCompiledDocuments compiled; one dropped compiles again when it comes back', async () => {
    const compiled: DocumentNode[] = [];
    const executor = compiledExecutor(schema, { ...unlimited, compileAfter: 2, maxCompiledDocuments: 2, onCompiled: (d) => compiled.push(d) });
    const context = await buildContext(server.app.services, log, tokens.admin, '127.0.0.1');
    const texts = [1, 2, 3].map((n) => `query K${n} { assets(first: ${n}) { totalCount } }`);
    const documents = texts.map((t) => parse(t));
    const run = async (i: number) => {
      const answer = await executor({ document: documents[i]!, request: { query: texts[i]! }, context } as never);
      expect(answer.errors).toBeUndefined();
    };
    for (const i of [0, 1, 2]) for (let k = 0; k < 2; k++) await run(i);
    expect(compiled).toEqual(documents); // the third pushed the first out
    await run(0); // interpreted again: earning its compilation anew
    expect(compiled).toHaveLength(3);
    await run(0);
    expect(compiled).toEqual([...documents, documents[0]]);
  });
});
