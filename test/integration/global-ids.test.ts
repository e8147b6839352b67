/**
 * Identity across stages (the Relay global id contract): a client cache never merges dev's copy of
 * an asset with prod's, `node(id)` / `nodes(ids)` find any object again (a remote stage's too),
 * every id argument takes the raw key or a global id of the stage it reads, and anything else is
 * BAD_USER_INPUT. The cache is Apollo Client 4's default InMemoryCache, talking to real servers.
 */
import { randomUUID } from 'node:crypto';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalId, encodeGlobalId } from '../../src/graphql/node-id.js';
import { promoteAndWait, registerStage } from '../support/promotion.js';
import { freePort } from '../../src/db/embedded.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../support/server.js';

let dev: TestServer;
let prod: TestServer;
let token: string;
/** The Petstore API's UUID (the same on both stages) and its global ids as dev shows them. */
let assetId: string;
let devId: string;
let prodId: string;
let promotionId: string;

const ASSET = `id assetId name description checksum`;

beforeAll(async () => {
  [dev, prod] = await Promise.all([startTestServer({ env: { STAGECRAFT_STAGE: 'dev', STAGECRAFT_SEED: 'true' } }), startTestServer({ env: { STAGECRAFT_STAGE: 'production' } })]);
  token = await dev.adminToken();
  // dev calls the production instance "prod": ids of its objects, read through dev, name "prod".
  await registerStage(dev, 'prod', prod);
  await dev.gql('mutation($i: CreateStageInput!) { createStage(input: $i) { name } }', { i: { name: 'down', url: `http://127.0.0.1:${await freePort()}`, username: 'admin', password: ADMIN_PASSWORD } }, token);
  const found = await dev.gql(`{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { ${ASSET} } } } }`, {}, token);
  ({ assetId, id: devId } = found.data!.assets.edges[0].node);
  const promotion = await promoteAndWait(dev, { name: 'Petstore to prod', assetIds: [assetId], targetStages: ['prod'] });
  expect(promotion.status).toBe('SUCCESS');
  promotionId = promotion.id;
  const drifted = await dev.gql('mutation($id: ID!) { updateAsset(id: $id, input: { description: "changed on dev only" }) { id } }', { id: devId }, token);
  expect(drifted.errors).toBeUndefined();
  prodId = (await dev.gql(`query($id: ID!) { stage(name: "prod") { asset(id: $id) { id } } }`, { id: assetId }, token)).data!.stage.asset.id;
});
afterAll(() => Promise.all([dev?.stop(), prod?.stop()]));

const client = () =>
  new ApolloClient({
    cache: new InMemoryCache({ possibleTypes: { Asset: ['ApiAsset', 'PolicyAsset', 'Alias', 'GenericAsset'], Node: ['ApiAsset', 'PolicyAsset', 'Alias', 'GenericAsset', 'Promotion', 'Stage'] } }),
    link: new HttpLink({ uri: dev.graphqlUrl, headers: { authorization: `Bearer ${token}` } }),
  });

describe('a client cache', () => {
  it('keeps dev’s and prod’s copies of one drifted asset apart', async () => {
    const apollo = client();
    const STAGE_ASSET = gql`query StageAsset($stage: String!, $id: ID!) { stage(name: $stage) { id name asset(id: $id) { ${ASSET} } } }`;
    const onDev = await apollo.query({ query: STAGE_ASSET, variables: { stage: 'dev', id: assetId } });
    const onProd = await apollo.query({ query: STAGE_ASSET, variables: { stage: 'prod', id: assetId } });
    const devAsset = (onDev.data as any).stage.asset;
    const prodAsset = (onProd.data as any).stage.asset;
    expect(devAsset.assetId).toBe(assetId);
    expect(prodAsset.assetId).toBe(assetId);
    expect(devAsset.id).not.toBe(prodAsset.id);
    expect(devAsset.description).toBe('changed on dev only');
    expect(prodAsset.description).not.toBe('changed on dev only');
    expect(devAsset.checksum).not.toBe(prodAsset.checksum);

    // Read back from the cache alone: the dev answer was not overwritten by prod's.
    const cached = apollo.readQuery({ query: STAGE_ASSET, variables: { stage: 'dev', id: assetId } }) as any;
    expect(cached.stage.asset).toMatchObject({ description: 'changed on dev only', checksum: devAsset.checksum });
    const fragment = gql`fragment F on Asset { description checksum }`;
    expect(apollo.readFragment({ id: apollo.cache.identify(devAsset), fragment })).toMatchObject({ checksum: devAsset.checksum });
    expect(apollo.readFragment({ id: apollo.cache.identify(prodAsset), fragment })).toMatchObject({ checksum: prodAsset.checksum });

    // The drift matrix agrees with what the cache shows.
    const matrix = await apollo.query({ query: gql`query($ids: [ID!]) { assetMatrix(assetIds: $ids, stages: ["prod"]) { assetId cells { state } } }`, variables: { ids: [devId] } });
    expect((matrix.data as any).assetMatrix).toEqual([{ __typename: 'MatrixRow', assetId, cells: [{ __typename: 'MatrixCell', state: 'DRIFTED' }] }]);
  });
});

describe('node and nodes', () => {
  const NODE = `query($id: ID!) { node(id: $id) { __typename id ... on Asset { assetId description checksum } ... on Promotion { name } ... on Stage { name isLocal } } }`;

  it('find this stage’s objects and a remote stage’s again by their id', async () => {
    const local = await dev.gql(NODE, { id: devId }, token);
    expect(local.errors).toBeUndefined();
    expect(local.data!.node).toMatchObject({ __typename: 'ApiAsset', id: devId, assetId, description: 'changed on dev only' });

    const remote = await dev.gql(NODE, { id: prodId }, token);
    expect(remote.errors).toBeUndefined();
    // Re-encoded with the name dev knows the stage by, not the name it gives itself ("production").
    expect(remote.data!.node).toMatchObject({ __typename: 'ApiAsset', id: prodId, assetId });
    expect(remote.data!.node.description).not.toBe('changed on dev only');

    const stages = await dev.gql('{ stages: stage(name: "prod") { id } stage(name: "dev") { id } }', {}, token);
    const all = await dev.gql(
      `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Asset { assetId } ... on Promotion { name } ... on Stage { name isLocal } } }`,
      { ids: [prodId, promotionId, stages.data!.stages.id, stages.data!.stage.id, devId, encodeGlobalId('Asset', 'dev', '00000000-0000-4000-8000-000000000000')] },
      token,
    );
    expect(all.errors).toBeUndefined();
    expect(all.data!.nodes).toEqual([
      { __typename: 'ApiAsset', id: prodId, assetId },
      { __typename: 'Promotion', id: promotionId, name: 'Petstore to prod' },
      { __typename: 'Stage', id: stages.data!.stages.id, name: 'prod', isLocal: false },
      { __typename: 'Stage', id: stages.data!.stage.id, name: 'dev', isLocal: true },
      { __typename: 'ApiAsset', id: devId, assetId },
      null,
    ]);
  });

  it('gives an item of an unreachable stage an error of its own, and the others their objects', async () => {
    const res = await dev.gql('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: [devId, encodeGlobalId('Asset', 'down', assetId), prodId] }, token);
    expect(res.data!.nodes).toEqual([{ id: devId }, null, { id: prodId }]);
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatchObject({ path: ['nodes', 1], extensions: { code: 'STAGE_UNREACHABLE' } });
  });

  it('needs MANAGE_PROMOTIONS for a remote stage’s object, like stage(name) fields', async () => {
    const viewer = await dev.userWithRole('VIEWER');
    expect((await dev.gql(NODE, { id: devId }, viewer)).data!.node.assetId).toBe(assetId);
    const res = await dev.gql(NODE, { id: prodId }, viewer);
    expect(res.errors![0].extensions!.code).toBe('FORBIDDEN');
  });

  it('asks a remote stage (with the stored promoter credentials) only for what the caller may read here', async () => {
    // An API_PROVIDER holds MANAGE_PROMOTIONS but not MANAGE_USERS: prod's users, profiles and the
    // promoter's tokens must not come back through node() just because the promoter may read them.
    const provider = await dev.userWithRole('API_PROVIDER');
    const prodMe = decodeGlobalId((await prod.gql('{ me { id } }', {}, await prod.adminToken())).data!.me.id)!;
    const prodUser = encodeGlobalId('User', 'prod', prodMe.key);
    for (const id of [prodUser, encodeGlobalId('ApiToken', 'prod', randomUUID()), encodeGlobalId('AccessProfile', 'prod', randomUUID())]) {
      const res = await dev.gql('query($id: ID!) { node(id: $id) { id ... on User { username } } }', { id }, provider);
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(res)).toBe('FORBIDDEN');
      expect(res.data!.node).toBeNull();
    }
    expect((await dev.gql(NODE, { id: prodId }, provider)).data!.node.assetId).toBe(assetId);
    // An administrator (MANAGE_USERS here) still reads prod's users; nobody reads the promoter's tokens.
    expect((await dev.gql('query($id: ID!) { node(id: $id) { ... on User { username } } }', { id: prodUser }, token)).data!.node.username).toBe('admin');
    expect((await dev.gql('query($id: ID!) { node(id: $id) { id } }', { id: encodeGlobalId('ApiToken', 'prod', randomUUID()) }, token)).errors![0].extensions!.code).toBe('FORBIDDEN');
  });

  it('refuses garbage, huge, raw and foreign ids as BAD_USER_INPUT', async () => {
    const refused = async (query: string, variables: Record<string, unknown>) => {
      const res = await dev.gql(query, variables, token);
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(res.errors)).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(res.errors)).not.toContain('\u0000');
    };
    for (const id of ['garbage!', 'x'.repeat(200_000), 'QXNzZXQ6ZGV2Om5vdC1hLXV1aWQ', assetId, `${devId}\u0000`, encodeGlobalId('Asset', 'nowhere', assetId), Buffer.from(`Asset:dev:${assetId}:x`).toString('base64url')]) {
      await refused(NODE, { id });
    }
    await refused('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: Array.from({ length: 5001 }, () => devId) });
    // Id arguments of local objects: another stage's id, or another kind's, is refused with a clear message.
    await refused('query($id: ID!) { asset(id: $id) { id } }', { id: prodId });
    await refused('query($id: ID!) { promotion(id: $id) { id } }', { id: devId });
    await refused('query($id: ID!) { stage(name: "prod") { asset(id: $id) { id } } }', { id: devId });
    const wrongKind = await dev.gql('query($id: ID!) { promotion(id: $id) { id } }', { id: devId }, token);
    expect(wrongKind.errors![0].message).toMatch(/id of a Asset, not of a Promotion/);
  });
});

describe('id arguments', () => {
  it('take the raw key or a global id of the stage they read', async () => {
    for (const id of [assetId, devId]) {
      expect((await dev.gql('query($id: ID!) { asset(id: $id) { id } }', { id }, token)).data!.asset.id).toBe(devId);
    }
    for (const id of [assetId, prodId]) {
      const res = await dev.gql('query($id: ID!) { stage(name: "prod") { asset(id: $id) { id assetId } } }', { id }, token);
      expect(res.errors).toBeUndefined();
      expect(res.data!.stage.asset).toEqual({ id: prodId, assetId });
    }
    const raw = (await dev.gql('query($id: ID!) { promotion(id: $id) { id assetIds } }', { id: promotionId }, token)).data!.promotion;
    expect(raw).toEqual({ id: promotionId, assetIds: [assetId] });
    // The target stage's rollback, asked of it: its id names that stage and finds it again.
    const rollback = (await dev.gql('query($id: ID!) { promotion(id: $id) { stages { rollback { id name } } } }', { id: promotionId }, token)).data!.promotion.stages[0].rollback;
    expect(rollback.name).toBe('Petstore to prod');
    const again = await dev.gql('query($id: ID!) { node(id: $id) { id ... on Rollback { name } } }', { id: rollback.id }, token);
    expect(again.errors, JSON.stringify(again.errors)).toBeUndefined();
    expect(again.data!.node).toEqual(rollback);
  });
});

describe('administration objects', () => {
  it('access profiles and user groups have global ids that node, updates and group inputs take', async () => {
    const profile = await dev.gql('mutation { createAccessProfile(input: { name: "Release managers", privileges: [MANAGE_PROMOTIONS] }) { id name } }', {}, token);
    expect(profile.errors, JSON.stringify(profile.errors)).toBeUndefined();
    const profileId = profile.data!.createAccessProfile.id as string;
    expect(profileId).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(profileId, 'base64url').toString()).toMatch(/^AccessProfile:dev:[0-9a-f-]{36}$/);
    const me = (await dev.gql('{ me { id } }', {}, token)).data!.me.id as string;
    const group = await dev.gql('mutation($p: [ID!], $m: [ID!]) { createUserGroup(input: { name: "Release team", profileIds: $p, memberIds: $m }) { id profiles { id } members { id } } }', { p: [profileId], m: [me] }, token);
    expect(group.errors, JSON.stringify(group.errors)).toBeUndefined();
    const created = group.data!.createUserGroup;
    expect(created.profiles).toEqual([{ id: profileId }]);
    expect(created.members).toEqual([{ id: me }]);
    const found = await dev.gql('query($ids: [ID!]!) { nodes(ids: $ids) { id ... on AccessProfile { name } ... on UserGroup { name } } }', { ids: [profileId, created.id] }, token);
    expect(found.errors, JSON.stringify(found.errors)).toBeUndefined();
    expect(found.data!.nodes).toEqual([{ id: profileId, name: 'Release managers' }, { id: created.id, name: 'Release team' }]);
    const renamed = await dev.gql('mutation($id: ID!) { updateAccessProfile(id: $id, input: { name: "Releasers" }) { id name } }', { id: profileId }, token);
    expect(renamed.data!.updateAccessProfile).toEqual({ id: profileId, name: 'Releasers' });
    // A user's id where a profile's is expected is refused, naming the kinds.
    const wrong = await dev.gql('mutation($id: ID!) { deleteAccessProfile(id: $id) }', { id: me }, token);
    expect(wrong.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
    expect(wrong.errors![0].message).toMatch(/id of a User, not of a AccessProfile/);
  });
});
