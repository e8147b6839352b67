/**
 * enableTeamWork: with the setting on, an asset owned by a team takes the team's TEAM asset (and
 * the groups it requires, with their users) along as an optional dependency; off, it does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportArchive, manifestOf } from '../support/archive.js';
import { startTestServer, type TestServer } from '../support/server.js';

let on: TestServer;
let off: TestServer;

beforeAll(async () => {
  [on, off] = await Promise.all([startTestServer({ env: { STAGECRAFT_ENABLE_TEAM_WORK: 'true' } }), startTestServer()]);
});
afterAll(() => Promise.all([on?.stop(), off?.stop()]));

async function teamCatalog(server: TestServer, token: string): Promise<{ api: string; team: string; group: string }> {
  const create = async (input: Record<string, unknown>) => {
    const res = await server.gql('mutation($i: CreateAssetInput!) { createAsset(input: $i) { id } }', { i: input }, token);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data!.createAsset.id as string;
  };
  const group = await create({ type: 'GROUP', name: 'Payments developers', spec: { members: ['alice', 'bob'] } });
  const team = await create({ type: 'TEAM', name: 'Payments Team', references: [group] });
  const api = await create({ type: 'API', name: 'Payments API', version: '1.0', team: 'Payments Team' });
  return { api, team, group };
}

const CLOSURE = 'query($ids: [ID!]!, $o: OptionalDependencies!, $oi: [ID!]) { dependencyClosure(assetIds: $ids, optional: $o, optionalIds: $oi) { id type } }';

describe('enableTeamWork', () => {
  it('on: the team and its groups travel as optional dependencies of the team’s assets', async () => {
    const token = await on.adminToken();
    const { api, team, group } = await teamCatalog(on, token);
    const closure = async (o: string, oi: string[] = []) => (await on.gql(CLOSURE, { ids: [api], o, oi }, token)).data!.dependencyClosure.map((a: { id: string }) => a.id);
    expect(await closure('NONE')).toEqual([api]);
    expect(await closure('ALL')).toEqual([group, team, api]);
    expect(await closure('SELECTED', [team])).toEqual([group, team, api]);
    const archive = await exportArchive(on, token, { assetIds: [api], optional: 'ALL' });
    expect((await manifestOf(archive)).entries.map((e: { type: string }) => e.type).sort()).toEqual(['API', 'GROUP', 'TEAM']);
  });

  it('off: the team stays home', async () => {
    const token = await off.adminToken();
    const { api } = await teamCatalog(off, token);
    expect((await off.gql(CLOSURE, { ids: [api], o: 'ALL' }, token)).data!.dependencyClosure).toEqual([{ id: api, type: 'API' }]);
  });
});
