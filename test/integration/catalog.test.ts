import { sql as sqlOn } from '../support/database.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statementCounter } from '../../src/db/data-source.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let admin: string;
beforeAll(async () => {
  server = await startTestServer();
  admin = await server.adminToken();
});
afterAll(() => server?.stop());

const CREATE = `mutation($input: CreateAssetInput!) { createAsset(input: $input) { assetId type name checksum version spec } }`;

async function create(input: Record<string, unknown>): Promise<any> {
  const res = await server.gql(CREATE, { input }, admin);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  // `id` here is the UUID (what SQL, error details and pipelines use); id arguments take it too.
  const { assetId, ...asset } = res.data!.createAsset;
  return { id: assetId, ...asset };
}

const sql = (query: string, params: unknown[] = []) => sqlOn(server.databaseUrl, query, params);

const assetCount = async () => (await sql('SELECT count(*)::int AS n FROM assets'))[0].n as number;

describe('creating assets', () => {
  it('accepts spec {} for types with defaults and returns typed fields', async () => {
    const policy = await create({ type: 'POLICY', name: 'Default Policy' });
    expect(policy.spec).toEqual({ kind: 'CUSTOM', phase: 'REQUEST', config: {} });
    expect(policy.checksum).toMatch(/^[0-9a-f]{64}$/);
    const res = await server.gql(
      `query($id: ID!) { asset(id: $id) { id type createdBy updatedBy createdAt ... on PolicyAsset { kind phase } } }`,
      { id: policy.id },
      admin,
    );
    expect(res.data!.asset).toMatchObject({ type: 'POLICY', kind: 'CUSTOM', phase: 'REQUEST', createdBy: 'admin', updatedBy: 'admin' });
  });

  it('refuses bad input with BAD_USER_INPUT naming the field, and writes nothing', async () => {
    const policy = await create({ type: 'POLICY', name: 'Ref Target' });
    const group = await create({ type: 'GROUP', name: 'Some Group' });
    const before = await assetCount();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ type: 'POLICY', name: 'P', spec: { colour: 'red' } }, 'BAD_USER_INPUT', 'spec.colour'],
      [{ type: 'POLICY', name: 'P', spec: { kind: 42 } }, 'BAD_USER_INPUT', 'spec.kind'],
      [{ type: 'API', name: 'No Version' }, 'BAD_USER_INPUT', 'version'],
      [{ type: 'POLICY', name: 'P', version: '1.0' }, 'BAD_USER_INPUT', 'version'],
      [{ type: 'POLICY', name: '  ' }, 'BAD_USER_INPUT', 'name'],
      [{ type: 'API', name: 'A', version: '1', references: [group.id] }, 'BAD_USER_INPUT', 'references'],
      [{ type: 'API', name: 'A', version: '1', references: ['00000000-0000-4000-8000-000000000000'] }, 'BAD_USER_INPUT', 'references'],
      [{ type: 'POLICY', name: 'Ref Target' }, 'CONFLICT', 'name'],
      [{ type: 'PLAN', name: 'Plan', references: [policy.id], spec: { rateLimit: { requests: 0 } } }, 'BAD_USER_INPUT', 'spec.rateLimit.requests'],
      [{ type: 'POLICY', name: 'nul\u0000name' }, 'BAD_USER_INPUT', 'name'],
      [{ type: 'POLICY', name: 'P', description: 'lone \ud800 surrogate' }, 'BAD_USER_INPUT', 'description'],
      [{ type: 'POLICY', name: 'P', spec: { config: { note: 'x\u0000y' } } }, 'BAD_USER_INPUT', 'spec'],
    ];
    for (const [input, code, field] of cases) {
      const res = await server.gql(CREATE, { input }, admin);
      expect(res.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({ code, field });
    }
    expect(await assetCount()).toBe(before);
  });

  it('keeps the checksum when the same content is saved in another key order or with explicit defaults', async () => {
    const a = await create({ type: 'POLICY', name: 'Checksum Policy', spec: { kind: 'CORS', config: { b: 1, a: 2 } } });
    const updated = await server.gql(
      `mutation($id: ID!, $input: UpdateAssetInput!) { updateAsset(id: $id, input: $input) { checksum } }`,
      { id: a.id, input: { spec: { config: { a: 2, b: 1 }, phase: 'REQUEST', kind: 'CORS' } } },
      admin,
    );
    expect(updated.data!.updateAsset.checksum).toBe(a.checksum);
    const changed = await server.gql(
      `mutation($id: ID!) { updateAsset(id: $id, input: { description: "now different" }) { checksum } }`,
      { id: a.id },
      admin,
    );
    expect(changed.data!.updateAsset.checksum).not.toBe(a.checksum);
  });
});

describe('dependencies', () => {
  it('classifies references by the table and refuses to delete a required asset, listing its dependents', async () => {
    const policy = await create({ type: 'POLICY', name: 'Dep Policy' });
    const alias = await create({ type: 'ALIAS', name: 'dep-alias', spec: { value: 'x' } });
    const app = await create({ type: 'APPLICATION', name: 'Dep App' });
    const api = await create({ type: 'API', name: 'Dep API', version: '1.0.0', references: [policy.id, alias.id, app.id] });
    const res = await server.gql(
      `query($id: ID!) { asset(id: $id) { dependencies { required { id name } optional { id name } } } }`,
      { id: api.id },
      admin,
    );
    expect(res.data!.asset.dependencies.required.map((a: any) => a.name).sort()).toEqual(['Dep Policy', 'dep-alias']);
    expect(res.data!.asset.dependencies.optional.map((a: any) => a.name)).toEqual(['Dep App']);

    const del = await server.gql('mutation($id: ID!) { deleteAsset(id: $id) }', { id: policy.id }, admin);
    expect(del.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(del.errors?.[0]?.extensions?.dependents).toEqual([{ id: api.id, type: 'API', name: 'Dep API' }]);
    expect(await sql('SELECT id FROM assets WHERE id = $1', [policy.id])).toHaveLength(1);

    // an optional target can go; the reference goes with it
    expect((await server.gql('mutation($id: ID!) { deleteAsset(id: $id) }', { id: app.id }, admin)).data).toEqual({ deleteAsset: true });
    expect(await sql('SELECT * FROM asset_references WHERE to_id = $1', [app.id])).toEqual([]);
    // once the dependent is gone, so can the policy
    await server.gql('mutation($id: ID!) { deleteAsset(id: $id) }', { id: api.id }, admin);
    expect((await server.gql('mutation($id: ID!) { deleteAsset(id: $id) }', { id: policy.id }, admin)).data).toEqual({ deleteAsset: true });
  });

  it('returns the transitive closure in apply order, with optional choices and cycles', async () => {
    const policy = await create({ type: 'POLICY', name: 'Closure Policy' });
    const alias = await create({ type: 'ALIAS', name: 'closure-alias' });
    const api = await create({ type: 'API', name: 'Closure API', version: '1.0.0', references: [policy.id, alias.id] });
    const plan = await create({ type: 'PLAN', name: 'Closure Plan', references: [policy.id] });
    const pkg = await create({ type: 'PACKAGE', name: 'Closure Package', references: [api.id, plan.id, policy.id] });
    const sub = await create({ type: 'SUBSCRIPTION', name: 'Closure Sub', references: [pkg.id, plan.id] });
    await server.gql('mutation($id: ID!, $refs: [ID!]) { updateAsset(id: $id, input: { references: $refs }) { id } }', { id: pkg.id, refs: [api.id, plan.id, policy.id, sub.id] }, admin);

    const closure = async (optional: string, optionalIds: string[] = []) => {
      const res = await server.gql(
        'query($ids: [ID!]!, $o: OptionalDependencies!, $oi: [ID!]) { dependencyClosure(assetIds: $ids, optional: $o, optionalIds: $oi) { id name } }',
        { ids: [pkg.id], o: optional, oi: optionalIds },
        admin,
      );
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      return res.data!.dependencyClosure.map((a: any) => a.name) as string[];
    };
    const none = await closure('NONE');
    expect(none.sort()).toEqual(['Closure API', 'Closure Package', 'Closure Plan', 'Closure Policy', 'closure-alias']);
    const ordered = await closure('NONE');
    expect(ordered.indexOf('Closure Policy')).toBeLessThan(ordered.indexOf('Closure Plan'));
    expect(ordered.indexOf('Closure API')).toBeLessThan(ordered.indexOf('Closure Package'));
    expect(ordered.at(-1)).toBe('Closure Package');
    expect(await closure('ALL')).toContain('Closure Sub');
    expect(await closure('SELECTED', [sub.id])).toContain('Closure Sub');
    expect(await closure('SELECTED', [])).not.toContain('Closure Sub');

    const missing = await server.gql('query { dependencyClosure(assetIds: ["00000000-0000-4000-8000-000000000000"]) { id } }', {}, admin);
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('aliases', () => {
  it('resolve per stage: bound variant, else unbound', async () => {
    await create({ type: 'ALIAS', name: 'gw-url', spec: { value: 'http://default' } });
    await create({ type: 'ALIAS', name: 'gw-url', spec: { value: 'http://prod', stage: 'prod' } });
    const query = 'query($s: String!) { aliasFor(name: "gw-url", stage: $s) { value stage secure } }';
    expect((await server.gql(query, { s: 'prod' }, admin)).data!.aliasFor).toEqual({ value: 'http://prod', stage: 'prod', secure: false });
    expect((await server.gql(query, { s: 'qa' }, admin)).data!.aliasFor).toEqual({ value: 'http://default', stage: null, secure: false });
    const dup = await server.gql(CREATE, { input: { type: 'ALIAS', name: 'gw-url', spec: { value: 'again', stage: 'prod' } } }, admin);
    expect(dup.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const none = await server.gql('{ aliasFor(name: "nope", stage: "qa") { value } }', {}, admin);
    expect(none.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('store secure values sealed and never return them', async () => {
    const secret = 'hunter2-very-secret';
    const alias = await create({ type: 'ALIAS', name: 'db-password', spec: { value: secret, secure: true } });
    expect(JSON.stringify(alias)).not.toContain(secret);
    const read = await server.gql(
      'query($id: ID!) { asset(id: $id) { spec ... on Alias { value secure } } }',
      { id: alias.id },
      admin,
    );
    expect(read.data!.asset.value).toBeNull();
    expect(read.data!.asset.secure).toBe(true);
    expect(JSON.stringify(read)).not.toContain(secret);
    const [row] = await sql('SELECT * FROM assets WHERE id = $1', [alias.id]);
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row.sealed_secret).toMatch(/^sc1:1:/);
    expect(server.app.services.secrets.open(row.sealed_secret, `asset:${alias.id}`)).toBe(secret);

    // re-saving without a value keeps the secret; a new value changes the checksum
    const kept = await server.gql('mutation($id: ID!) { updateAsset(id: $id, input: { description: "d" }) { id } }', { id: alias.id }, admin);
    expect(kept.errors).toBeUndefined();
    expect((await sql('SELECT sealed_secret FROM assets WHERE id = $1', [alias.id]))[0].sealed_secret).toBeTruthy();
    const before = (await sql('SELECT checksum FROM assets WHERE id = $1', [alias.id]))[0].checksum;
    await server.gql('mutation($id: ID!) { updateAsset(id: $id, input: { spec: { value: "new-secret", secure: true } }) { id } }', { id: alias.id }, admin);
    expect((await sql('SELECT checksum FROM assets WHERE id = $1', [alias.id]))[0].checksum).not.toBe(before);
    expect(server.logs.some((l) => JSON.stringify(l).includes(secret))).toBe(false);
  });

  it('seal the secure fields of other types and alias kinds alike, and search never finds them', async () => {
    const secret = 'kerberos-keytab-secret-42';
    const kerberos = await create({ type: 'KERBEROS', name: 'Corp Kerberos', spec: { realm: 'CORP.EXAMPLE', password: secret } });
    expect(kerberos.spec).toMatchObject({ realm: 'CORP.EXAMPLE', password: '', keytab: '' });
    const aws = await create({ type: 'ALIAS', name: 'aws-prod', spec: { kind: 'AWS_CONFIGURATION', attributes: { region: 'eu-west-1', secretAccessKey: secret } } });
    const read = await server.gql('query($id: ID!) { asset(id: $id) { spec ... on Alias { aliasKind attributes } } }', { id: aws.id }, admin);
    expect(read.data!.asset).toMatchObject({ aliasKind: 'AWS_CONFIGURATION', attributes: { region: 'eu-west-1', secretAccessKey: '' } });
    const rows = await sql('SELECT * FROM assets WHERE id = ANY($1::uuid[])', [[kerberos.id, aws.id]]);
    expect(JSON.stringify(rows)).not.toContain(secret);
    for (const row of rows) expect(server.app.services.secrets.open(row.sealed_secret, `asset:${row.id}`)).toContain(secret);
    // found by what may be shown, never by the secret
    const found = async (keyword: string) => (await server.gql('query($k: String) { assets(filter: { keyword: $k }) { edges { node { name } } } }', { k: keyword }, admin)).data!.assets.edges.map((e: any) => e.node.name);
    expect(await found('CORP.EXAMPLE')).toEqual(['Corp Kerberos']);
    expect(await found(secret)).toEqual([]);
    // re-saving without the password keeps it
    await server.gql('mutation($id: ID!) { updateAsset(id: $id, input: { spec: { realm: "CORP.EXAMPLE", kdc: "kdc.corp" } }) { id } }', { id: kerberos.id }, admin);
    const [kept] = await sql('SELECT sealed_secret FROM assets WHERE id = $1', [kerberos.id]);
    expect(server.app.services.secrets.open(kept.sealed_secret, `asset:${kerberos.id}`)).toContain(secret);
    // unknown fields of the new kinds are refused naming the path, writing nothing
    const count = await assetCount();
    const bad = await server.gql(CREATE, { input: { type: 'ALIAS', name: 'aws-bad', spec: { kind: 'AWS_CONFIGURATION', attributes: { secretKey: 'x' } } } }, admin);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'spec.attributes.secretKey' });
    expect(await assetCount()).toBe(count);
  });
});

describe('API versions', () => {
  it('chain in a version set with system versions', async () => {
    const v1 = await create({ type: 'API', name: 'Versioned API', version: '1.0.0' });
    const v2 = await server.gql('mutation($id: ID!) { createApiVersion(fromId: $id, version: "2.0.0") { id version systemVersion } }', { id: v1.id }, admin);
    expect(v2.data!.createApiVersion).toMatchObject({ version: '2.0.0', systemVersion: 2 });
    const dup = await server.gql('mutation($id: ID!) { createApiVersion(fromId: $id, version: "2.0.0") { id } }', { id: v1.id }, admin);
    expect(dup.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const chain = await server.gql('query($id: ID!) { asset(id: $id) { ... on ApiAsset { versions { version systemVersion } } } }', { id: v1.id }, admin);
    expect(chain.data!.asset.versions).toEqual([
      { version: '1.0.0', systemVersion: 1 },
      { version: '2.0.0', systemVersion: 2 },
    ]);
    const policy = await create({ type: 'POLICY', name: 'Not An API' });
    const bad = await server.gql('mutation($id: ID!) { createApiVersion(fromId: $id, version: "2") { id } }', { id: policy.id }, admin);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'fromId' });
  });
});

describe('search', () => {
  let names: string[];
  beforeAll(async () => {
    await create({ type: 'GROUP', name: 'search-group' });
    for (const [name, team, description] of [
      ['Pet Clinic', 'Vets', 'pets'],
      ['Test Bench', 'QA', 'testing'],
      ['GraphQL Orders', 'Shop', 'orders over GraphQL'],
      ['Orders Graph', 'Shop', 'more orders'],
      ['Inventory', 'Shop', 'stock levels for the petshop'],
    ]) {
      await create({ type: 'POLICY', name: name!, team, description, spec: { config: { owner: `${name} owner` } } });
    }
  });

  const search = async (filter: Record<string, unknown>, first = 100, after?: string) => {
    const res = await server.gql(
      'query($f: AssetFilter, $first: Int!, $after: String) { assets(filter: $f, first: $first, after: $after) { totalCount edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }',
      { f: filter, first, after },
      admin,
    );
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data!.assets;
  };
  names = [];

  it('matches any string attribute, with | alternatives and * wildcards', async () => {
    const found = async (keyword: string) => (await search({ keyword, types: ['POLICY'] })).edges.map((e: any) => e.node.name);
    expect(await found('pet|test')).toEqual(['Inventory', 'Pet Clinic', 'Test Bench']); // Inventory: "petshop" in its description
    expect(await found('graph*')).toEqual(['GraphQL Orders']);
    expect(await found('*graph')).toEqual(['Orders Graph']);
    expect(await found('CLINIC OWNER')).toEqual(['Pet Clinic']); // a spec string
  });

  it('filters by type and team, counts, and pages in a stable order', async () => {
    const shop = await search({ teams: ['Shop'] });
    expect(shop.totalCount).toBe(3);
    expect(shop.edges.map((e: any) => e.node.name)).toEqual(['GraphQL Orders', 'Inventory', 'Orders Graph']);
    const all = await search({ types: ['POLICY', 'GROUP'] }, 500);
    names = all.edges.map((e: any) => e.node.name);
    const paged: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await search({ types: ['POLICY', 'GROUP'] }, 2, after);
      expect(page.totalCount).toBe(all.totalCount);
      paged.push(...page.edges.map((e: any) => e.node.name));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(paged).toEqual(names);
    const bad = await server.gql('{ assets(after: "garbage") { totalCount } }', {}, admin);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});

describe('teams', () => {
  it('are assets with groups, reachable from the assets they own', async () => {
    const group = await create({ type: 'GROUP', name: 'team-devs', spec: { members: ['ann'] } });
    await create({ type: 'TEAM', name: 'Team Rocket', spec: { email: 'rocket@example.com' }, references: [group.id] });
    const owned = await create({ type: 'POLICY', name: 'Rocket Policy', team: 'Team Rocket' });
    const res = await server.gql('query($id: ID!) { asset(id: $id) { teamAsset { name email groups { name } } } }', { id: owned.id }, admin);
    expect(res.data!.asset.teamAsset).toEqual({ name: 'Team Rocket', email: 'rocket@example.com', groups: [{ name: 'team-devs' }] });
  });
});

describe('no N+1', () => {
  it('runs the portal query with the same small number of statements for 10 and 200 assets', async () => {
    const policy = await create({ type: 'POLICY', name: 'N1 Policy', team: 'N1 Team' });
    const group = await create({ type: 'GROUP', name: 'N1 Group' });
    await create({ type: 'TEAM', name: 'N1 Team', references: [group.id] });
    for (let i = 0; i < 200; i++) {
      const api = await create({ type: 'API', name: `N1 API ${String(i).padStart(3, '0')}`, version: '1.0.0', team: 'N1 Team', references: [policy.id] });
      if (i % 2 === 0) await server.gql('mutation($id: ID!) { createApiVersion(fromId: $id, version: "1.1.0") { id } }', { id: api.id }, admin);
    }
    const portal = `query($n: Int!) { assets(first: $n, filter: { keyword: "N1 API*", types: [API] }) {
      totalCount edges { node { id name version team teamAsset { name groups { name } }
        dependencies { required { id name type } optional { id name } }
        dependents { id }
        ... on ApiAsset { versions { id version systemVersion } } } } } }`;
    const counter = statementCounter(server.app.services.db);
    const statementsFor = async (n: number) => {
      const { result: res, statements } = await counter.record(() => server.gql(portal, { n }, admin));
      expect(res.errors).toBeUndefined();
      expect(res.data!.assets.edges).toHaveLength(n);
      // The job runner's background poll may land in the window; it is not part of the request.
      return statements.filter((s) => !/\bjobs\b/.test(s.query)).length;
    };
    const small = await statementsFor(10);
    const large = await statementsFor(200);
    console.log(`portal query: ${small} SQL statements for 10 assets, ${large} for 200`);
    expect(large).toBe(small);
    // Token lookup, the page (with its count), the lookups hanging off the page, the teams' groups.
    expect(small).toBeLessThanOrEqual(5);
  });

  it('answers the portal page (team, dependencies, dependents, versions) in at most 5 statements, token lookup included', async () => {
    // The benchmark's portal query (bench/catalog.mjs), over what the previous test created.
    const portal = `query Portal { assets(first: 100, filter: { types: [API], keyword: "N1 API*" }) {
      totalCount
      edges { node {
        id name version team
        teamAsset { name }
        dependencies { required { id name type } optional { id name } }
        dependents { id }
        ... on ApiAsset { versions { id version } }
      } } } }`;
    const counter = statementCounter(server.app.services.db);
    await server.gql(portal, {}, admin); // the token's last-used time is refreshed at most once a minute: not this time
    const { result: res, statements } = await counter.record(() => server.gql(portal, {}, admin));
    expect(res.errors).toBeUndefined();
    const { totalCount, edges } = res.data!.assets;
    expect(totalCount).toBe(300);
    expect(edges).toHaveLength(100);
    const first = edges[0].node;
    expect(first).toMatchObject({ name: 'N1 API 000', team: 'N1 Team', teamAsset: { name: 'N1 Team' }, dependencies: { required: [{ name: 'N1 Policy', type: 'POLICY' }], optional: [] } });
    expect(first.versions.map((v: { version: string }) => v.version)).toEqual(['1.0.0', '1.1.0']);
    const sent = statements.filter((s) => !/\bjobs\b/.test(s.query));
    console.log(`portal page: ${sent.length} SQL statements:\n${sent.map((s) => `  ${s.query.slice(0, 160)}`).join('\n')}`);
    expect(sent.filter((s) => /\baccess_tokens\b/.test(s.query))).toHaveLength(1);
    expect(sent.length).toBeLessThanOrEqual(5);
    // Columns the portal never shows are not read (search_text may filter, but is not selected).
    expect(sent.filter((s) => /sealed_secret|secret_digest|search_text"?\s+AS\b/i.test(s.query))).toEqual([]);
  });
});
