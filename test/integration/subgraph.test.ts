/**
 * Stagecraft as an Apollo Federation 2 subgraph, composed by a real @apollo/gateway
 * (IntrospectAndCompose, which reads each subgraph's `_service { sdl }` over HTTP) with a second
 * subgraph written here: an "owners" service that adds `owner` to every Asset (by key, through
 * `@interfaceObject`) and lists the assets an owner has (references Stagecraft resolves). The
 * gateway forwards the client's Authorization header to both. The `_entities` guards and bounds
 * are checked against Stagecraft directly.
 */
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchema, printSubgraph } from '../../src/graphql/schema.js'; // first: it loads reflect-metadata
import { entityTypeNames } from '../../src/graphql/subgraph/entities.js';
import { promoteAndWait, registerStage } from '../support/promotion.js';
import { startTestServer, type TestServer } from '../support/server.js';

interface GatewayContext {
  authorization?: string;
}

let stagecraft: TestServer;
/** A second instance, stage "qa", for a real promotion and a registered stage. */
let qa: TestServer;
let admin: string;
let viewer: string;
let petstore: { id: string; name: string };
const owners = new Map<string, string>();
let ownersServer: ApolloServer;
let ownersUrl: string;
let gatewayServer: ApolloServer<GatewayContext>;
let gatewayUrl: string;
/** Authorization headers the owners subgraph received from the gateway. */
const ownersSaw: (string | undefined)[] = [];

/** The second subgraph: owners of assets, keyed by the asset id. */
async function startOwners(): Promise<void> {
  const typeDefs = parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@interfaceObject"])
    type Asset @key(fields: "id") @interfaceObject {
      id: ID!
      owner: String
    }
    type Query {
      ownedBy(owner: String!): [Asset!]!
    }
  `);
  const resolvers = {
    Asset: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, owner: owners.get(ref.id) ?? null }) },
    Query: { ownedBy: (_: unknown, { owner }: { owner: string }) => [...owners].filter(([, o]) => o === owner).map(([id]) => ({ id, owner })) },
  };
  ownersServer = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs, resolvers }) });
  ({ url: ownersUrl } = await startStandaloneServer(ownersServer, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => {
      ownersSaw.push(req.headers.authorization);
      return {};
    },
  }));
}

/** A gateway composing both subgraphs; it forwards each client's Authorization header. */
async function startGateway(): Promise<void> {
  const gateway = new ApolloGateway({
    supergraphSdl: new IntrospectAndCompose({
      subgraphs: [
        { name: 'stagecraft', url: stagecraft.graphqlUrl },
        { name: 'owners', url: ownersUrl },
      ],
      // `_service` needs a signed-in user, like introspection.
      introspectionHeaders: { authorization: `Bearer ${admin}` },
    }),
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<GatewayContext>({
        url,
        willSendRequest({ request, context }) {
          if (context.authorization) request.http!.headers.set('authorization', context.authorization);
        },
      }),
  });
  gatewayServer = new ApolloServer<GatewayContext>({ gateway });
  ({ url: gatewayUrl } = await startStandaloneServer(gatewayServer, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  }));
}

async function viaGateway(query: string, token?: string): Promise<{ data?: any; errors?: { message: string; extensions?: Record<string, any> }[] }> {
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as any;
}

beforeAll(async () => {
  [stagecraft, qa] = await Promise.all([startTestServer({ env: { STAGECRAFT_SEED: 'true' } }), startTestServer({ env: { STAGECRAFT_STAGE: 'qa' } })]);
  admin = await stagecraft.adminToken();
  viewer = await stagecraft.userWithRole('VIEWER');
  const found = await stagecraft.gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { id name } } } }', {}, admin);
  petstore = found.data!.assets.edges[0].node;
  owners.set(petstore.id, 'team-payments');
  await startOwners();
  await startGateway();
});

afterAll(async () => {
  await gatewayServer?.stop();
  await ownersServer?.stop();
  await Promise.all([stagecraft?.stop(), qa?.stop()]);
});

describe('composed with another subgraph behind @apollo/gateway', () => {
  it('joins Stagecraft → owners: an asset page with each asset’s owner', async () => {
    const res = await viaGateway('{ assets(filter: { types: [API] }, first: 5) { edges { node { id name owner } } } }', viewer);
    expect(res.errors).toBeUndefined();
    const nodes = res.data.assets.edges.map((e: any) => e.node);
    expect(nodes).toContainEqual({ id: petstore.id, name: petstore.name, owner: 'team-payments' });
    expect(ownersSaw.at(-1)).toBe(`Bearer ${viewer}`); // forwarded to the other subgraph too
  });

  it('joins owners → Stagecraft: the assets an owner has, with Stagecraft’s fields and concrete types', async () => {
    const res = await viaGateway('{ ownedBy(owner: "team-payments") { id owner name type ... on ApiAsset { version } teamAsset { name } } }', viewer);
    expect(res.errors).toBeUndefined();
    expect(res.data.ownedBy).toEqual([{ id: petstore.id, owner: 'team-payments', name: petstore.name, type: 'API', version: expect.any(String), teamAsset: expect.anything() }]);
  });

  it('passes authentication through: signed out, Stagecraft’s part is refused', async () => {
    const res = await viaGateway('{ ownedBy(owner: "team-payments") { id name } }');
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.data?.ownedBy ?? null).toBeNull();
  });
});

describe('the subgraph endpoint', () => {
  it('answers _service { sdl } with the @key entities, to signed-in users only', async () => {
    const signedIn = await stagecraft.gql('{ _service { sdl } }', {}, viewer);
    const sdl: string = signedIn.data!._service.sdl;
    expect(sdl).toBe((await printSubgraph()).trimEnd());
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.3"');
    for (const type of ['Asset', 'ApiAsset', 'TeamAsset', 'Stage', 'Promotion', 'GatewayGroup', 'ServiceVersion']) {
      expect(sdl).toMatch(new RegExp(`(type|interface) ${type}( implements [A-Za-z& ]+)?\\s+@key\\(fields: "id"\\)`));
    }
    const signedOut = await stagecraft.gql('{ _service { sdl } }');
    expect(signedOut.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('keys exactly the listed entity types', async () => {
    const schema = await createSchema();
    const keyed = Object.values(schema.getTypeMap())
      .filter((t) => t.astNode?.directives?.some((d) => d.name.value === 'key'))
      .map((t) => t.name)
      .sort();
    expect(keyed).toEqual([...entityTypeNames].sort());
  });

  const entities = (representations: unknown[], token?: string, selection = '__typename ... on Asset { id name } ... on Promotion { id name } ... on Stage { id name isLocal } ... on GatewayGroup { id name } ... on ServiceVersion { id version }') =>
    stagecraft.gql(`query($r: [_Any!]!) { _entities(representations: $r) { ${selection} } }`, { r: representations }, token);

  it('resolves every entity type by id through the same lookups as the queries', async () => {
    const group = (await stagecraft.gql('{ gatewayGroup(name: "default") { id name } }', {}, admin)).data!.gatewayGroup;
    const published = await stagecraft.gql(
      'mutation($i: PublishServiceInput!) { publishService(input: $i) { id version } }',
      { i: { assetId: petstore.id, gatewayGroup: 'default', upstream: { nodes: [{ host: '127.0.0.1', port: 9, weight: 1 }] } } },
      admin,
    );
    expect(published.errors).toBeUndefined();
    const version = published.data!.publishService;
    await registerStage(stagecraft, 'qa', qa);
    const qaStage = (await stagecraft.gql('{ stages { id name } }', {}, admin)).data!.stages.find((s: { name: string }) => s.name === 'qa');
    const localStage = (await stagecraft.gql('{ stage(name: "dev") { id } }', {}, admin)).data!.stage;
    const policy = (await stagecraft.gql('mutation { createAsset(input: { type: POLICY, name: "Entity policy" }) { id } }', {}, admin)).data!.createAsset;
    const promotion = await promoteAndWait(stagecraft, { name: 'entity promotion', assetIds: [policy.id], targetStages: ['qa'] });
    const missing = '00000000-0000-4000-8000-000000000000';
    const res = await entities(
      [
        { __typename: 'Asset', id: petstore.id },
        { __typename: 'ApiAsset', id: petstore.id },
        { __typename: 'PolicyAsset', id: petstore.id }, // the asset is not a policy
        { __typename: 'Asset', id: missing },
        { __typename: 'Asset', id: 'not-a-uuid' },
        { __typename: 'Stage', id: localStage.id },
        { __typename: 'GatewayGroup', id: group.id },
        { __typename: 'ServiceVersion', id: version.id },
        { __typename: 'Promotion', id: missing },
        { __typename: 'Promotion', id: promotion.id },
        { __typename: 'Stage', id: qaStage.id },
        { __typename: 'Stage', id: missing },
      ],
      viewer,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities).toEqual([
      { __typename: 'ApiAsset', id: petstore.id, name: petstore.name },
      { __typename: 'ApiAsset', id: petstore.id, name: petstore.name },
      null,
      null,
      null,
      { __typename: 'Stage', id: localStage.id, name: 'dev', isLocal: true },
      { __typename: 'GatewayGroup', id: group.id, name: 'default' },
      { __typename: 'ServiceVersion', id: version.id, version: version.version },
      null,
      { __typename: 'Promotion', id: promotion.id, name: 'entity promotion' },
      { __typename: 'Stage', id: qaStage.id, name: 'qa', isLocal: false },
      null,
    ]);
  });

  it('enforces the guards of the equivalent queries', async () => {
    const signedOut = await entities([{ __typename: 'Asset', id: petstore.id }]);
    expect(signedOut.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(JSON.stringify(signedOut.data ?? null)).not.toContain(petstore.name);
    const groupToken = (await stagecraft.gql('mutation { createGatewayInstanceToken(gatewayGroup: "default") { token } }', {}, admin)).data!.createGatewayInstanceToken.token;
    const asGateway = await entities([{ __typename: 'Asset', id: petstore.id }], groupToken);
    expect(asGateway.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(asGateway.data ?? null)).not.toContain(petstore.name);
  });

  it('refuses malformed and oversized representation lists with BAD_USER_INPUT, and bounds their cost', async () => {
    const refused = async (representations: unknown[], selection?: string) => {
      const res = await entities(representations, viewer, selection);
      expect(res.data?._entities ?? null).toBeNull();
      return res.errors?.[0];
    };
    expect((await refused([{ __typename: 'User', id: 'x' }]))?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await refused([{ __typename: 'Asset' }]))?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await refused([{ __typename: 'Asset', id: 7 }]))?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await refused([{ __typename: 'Asset', id: 'a\u0000b' }]))?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await refused([{ __typename: 'Asset', id: 'x'.repeat(2_000_000) }]))?.extensions?.code).toMatch(/BAD_USER_INPUT|PAYLOAD_TOO_LARGE/);
    const many = Array.from({ length: 1001 }, () => ({ __typename: 'Asset', id: petstore.id }));
    const tooMany = await refused(many, '__typename');
    expect(tooMany?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(tooMany?.message).toContain('at most 1000');
    // A selection costs once per reference: fine for one, over the limit for 1000.
    const slice = '... on Asset { id name description checksum team version type spec createdAt updatedAt createdBy updatedBy teamAsset { id name } dependencies { required { id name } optional { id name } } dependents { id name type } }';
    expect((await entities(many.slice(0, 1), viewer, slice)).errors).toBeUndefined();
    const costly = await refused(many.slice(0, 1000), slice);
    expect(costly?.message).toMatch(/cost \d+ exceeds the limit/);
  });
});
