/**
 * The plan predicts the run, exactly (DESIGN §2): over generated small catalogs (policies,
 * aliases with stage-bound variants, APIs referencing them), generated target states (absent,
 * identical, modified, another type under the same id) and generated overwrite flags, two real
 * instances; for every asset, the plan's action gives the report's status, with the same words.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseSpec } from '../../src/domain/asset-types.js';
import { assetChecksum } from '../../src/domain/checksum.js';
import { importArchive, zip } from '../support/archive.js';
import { expectPlanMatchesReport, planOf, promoteAndWait, registerStage } from '../support/promotion.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SEED = Number(process.env.FC_SEED ?? 1_010_010);
const RUNS = 15;

let src: TestServer;
let tgt: TestServer;

type State = 'absent' | 'identical' | 'modified' | 'otherType';
const state = fc.constantFrom<State>('absent', 'identical', 'modified', 'otherType');

const catalog = fc.record({
  policies: fc.array(state, { minLength: 1, maxLength: 3 }),
  // per alias name: which variants exist (unbound, bound to the target, to another stage, to the source) and the slot's state
  aliases: fc.array(
    fc.record({ variants: fc.uniqueArray(fc.constantFrom<string | null>(null, 'tgt', 'far', 'src'), { minLength: 1, maxLength: 3 }), state }),
    { minLength: 1, maxLength: 2 },
  ),
  apis: fc.array(fc.record({ policies: fc.array(fc.nat(2), { maxLength: 2 }), aliases: fc.array(fc.nat(1), { maxLength: 2 }), state }), { minLength: 1, maxLength: 2 }),
  overwriteAssets: fc.boolean(),
  overwriteAliases: fc.boolean(),
});

async function create(server: TestServer, input: Record<string, unknown>): Promise<string> {
  const res = await server.gql('mutation($i: CreateAssetInput!) { createAsset(input: $i) { assetId } }', { i: input }, await server.adminToken());
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.createAsset.assetId;
}

/** Puts a GROUP under `id` on the target, through an archive import as any client could. */
async function otherTypeUnder(id: string, name: string): Promise<void> {
  const spec = normaliseSpec('GROUP', {});
  const doc = { id, type: 'GROUP', name, description: '', team: null, version: null, spec, references: [], versionSetId: null, systemVersion: null, secretDigest: null, secret: null };
  const checksum = assetChecksum({ type: 'GROUP', name, description: '', team: null, version: null, spec, references: [], secretDigest: null });
  const manifest = { formatVersion: 1, productVersion: '0.0.1', sourceStage: 'elsewhere', exportedAt: new Date().toISOString(), secrets: null, entries: [{ type: 'GROUP', id, name, checksum }] };
  const res = await importArchive(tgt, await tgt.adminToken(), await zip({ 'manifest.json': JSON.stringify(manifest), [`assets/${id}.json`]: JSON.stringify(doc) }), 'overwrite=none');
  expect(res.body.status).toBe('SUCCESS');
}

beforeAll(async () => {
  [src, tgt] = await Promise.all([startTestServer({ env: { STAGECRAFT_STAGE: 'src' } }), startTestServer({ env: { STAGECRAFT_STAGE: 'tgt' } })]);
  await registerStage(src, 'tgt', tgt);
});
afterAll(async () => {
  await Promise.all([src?.stop(), tgt?.stop()]);
});

describe('plan = run', () => {
  it(`the plan's action predicts every asset's report status and reason (fast-check, seed ${SEED}, ${RUNS} runs)`, async () => {
    let run = 0;
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(catalog, async (g) => {
        const r = `r${run++}`;
        const wanted = new Map<string, State>();
        const policies: string[] = [];
        for (const [i, s] of g.policies.entries()) {
          const id = await create(src, { type: 'POLICY', name: `${r} policy ${i}`, spec: { kind: 'CORS', config: { allowOrigins: [`https://${r}-${i}.example`] } } });
          policies.push(id);
          wanted.set(id, s);
        }
        const slots: string[] = [];
        for (const [i, a] of g.aliases.entries()) {
          const ids = [];
          for (const stage of a.variants) ids.push(await create(src, { type: 'ALIAS', name: `${r}-alias-${i}`, spec: { value: `http://${stage ?? 'default'}.${r}.${i}`, stage } }));
          slots.push(ids[0]!);
          wanted.set(ids[0]!, a.state);
        }
        const apis: string[] = [];
        for (const [i, a] of g.apis.entries()) {
          const references = [...new Set([...a.policies.map((p) => policies[p % policies.length]!), ...a.aliases.map((x) => slots[x % slots.length]!)])];
          const id = await create(src, { type: 'API', name: `${r} api ${i}`, version: '1.0.0', spec: { basePath: `/${r}/${i}` }, references });
          apis.push(id);
          wanted.set(id, a.state);
        }
        const all = [...policies, ...slots, ...apis];

        // arrange the target: identical and modified ones (and what they require) by a setup promotion
        const present = all.filter((id) => ['identical', 'modified'].includes(wanted.get(id)!));
        if (present.length) await promoteAndWait(src, { name: `${r} setup`, assetIds: present, targetStages: ['tgt'], overwriteAssets: true, overwriteAliases: true });
        const tgtToken = await tgt.adminToken();
        const onTarget = async (id: string) => (await tgt.gql('query($id: ID!) { asset(id: $id) { id } }', { id }, tgtToken)).data!.asset !== null;
        for (const id of all) {
          if (wanted.get(id) === 'modified' && (await onTarget(id))) {
            await tgt.gql('mutation($id: ID!) { updateAsset(id: $id, input: { description: "modified on the target" }) { id } }', { id }, tgtToken);
          }
          if (wanted.get(id) === 'otherType' && !(await onTarget(id))) await otherTypeUnder(id, `${r} group ${id.slice(0, 8)}`);
        }

        const input = { assetIds: all, targetStages: ['tgt'], overwriteAssets: g.overwriteAssets, overwriteAliases: g.overwriteAliases };
        const [plan] = await planOf(src, input);
        expect(plan.error).toBeNull();
        const promotion = await promoteAndWait(src, { ...input, name: `${r} run` });
        expectPlanMatchesReport(plan, promotion.stages[0]);
        for (const item of plan.items) {
          seen.add(item.action);
          if (item.comment.startsWith('a GROUP with the same id')) expect(item.action).toBe('REFUSED');
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    // the generator reached every action
    expect([...seen].sort()).toEqual(['CREATE', 'REFUSED', 'UNCHANGED', 'UPDATE']);
  }, 300_000);
});
