import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aliasShipments, type AliasRow } from '../../src/domain/aliases.js';
import {
  countOf,
  decideAsset,
  mayOverwrite,
  noAliasValue,
  outcomeOf,
  promotionOverwriteRule,
  stageRefusal,
  type AssetDecisionInput,
  type OverwriteRule,
} from '../../src/domain/promotion-decision.js';

const NONE: OverwriteRule = { mode: 'NONE', types: [] };
const ALL: OverwriteRule = { mode: 'ALL', types: [] };
const base: AssetDecisionInput = {
  incoming: { type: 'POLICY', name: 'cors', checksum: 'a' },
  unavailable: null,
  target: null,
  rule: NONE,
  failedDependency: null,
  missingReference: null,
};

describe('decideAsset', () => {
  it('creates what is absent and leaves what is identical UNCHANGED, whatever the flags', () => {
    expect(decideAsset(base)).toEqual({ action: 'CREATE', reason: null });
    for (const rule of [NONE, ALL, { mode: 'CUSTOM', types: ['API'] } as const]) {
      expect(decideAsset({ ...base, rule, target: { type: 'POLICY', checksum: 'a' } })).toEqual({ action: 'UNCHANGED', reason: null });
    }
  });

  it('replaces a differing asset only when the rule allows its type', () => {
    const differing = { ...base, target: { type: 'POLICY', checksum: 'b' } };
    expect(decideAsset(differing)).toEqual({ action: 'REFUSED', reason: 'exists on this stage with other content, and overwrite is off for POLICY' });
    expect(decideAsset({ ...differing, rule: ALL }).action).toBe('UPDATE');
    expect(decideAsset({ ...differing, rule: { mode: 'CUSTOM', types: ['POLICY'] } }).action).toBe('UPDATE');
    expect(decideAsset({ ...differing, rule: { mode: 'CUSTOM', types: ['ALIAS'] } }).action).toBe('REFUSED');
  });

  it('refuses another type under the same id, a failed dependency and a missing reference, naming them by type and name', () => {
    expect(decideAsset({ ...base, rule: ALL, target: { type: 'API', checksum: 'a' } }).reason).toBe('a API with the same id exists on this stage');
    expect(decideAsset({ ...base, failedDependency: { type: 'ALIAS', name: 'x', reason: 'r', unavailable: false } }).reason).toBe('depends on ALIAS x, which failed');
    expect(decideAsset({ ...base, failedDependency: { type: 'ALIAS', name: 'x', reason: 'no value of alias x', unavailable: true } }).reason).toBe('no value of alias x');
    expect(decideAsset({ ...base, missingReference: { type: 'POLICY', name: 'p' } }).reason).toBe('requires POLICY p, which is neither in the archive nor on this stage');
  });

  it('keeps an alias the source has no value for when the target holds it, and refuses it otherwise', () => {
    const reason = noAliasValue('backend', 'prod', 'qa');
    expect(reason).toBe('no value of alias backend for stage prod: bind one for prod on qa');
    expect(decideAsset({ ...base, unavailable: reason })).toEqual({ action: 'REFUSED', reason });
    expect(decideAsset({ ...base, unavailable: reason, target: { type: 'ALIAS', checksum: '' } }).action).toBe('UNCHANGED');
  });

  it('never fails an identical asset and never writes a refused one (property)', () => {
    const arb = fc.record({
      same: fc.boolean(),
      present: fc.boolean(),
      otherType: fc.boolean(),
      mode: fc.constantFrom('NONE', 'ALL', 'CUSTOM'),
      dep: fc.boolean(),
      missing: fc.boolean(),
    });
    fc.assert(
      fc.property(arb, (g) => {
        const target = g.present ? { type: g.otherType ? 'API' : 'POLICY', checksum: g.same ? 'a' : 'b' } : null;
        const d = decideAsset({
          ...base,
          target,
          rule: { mode: g.mode as OverwriteRule['mode'], types: ['POLICY'] },
          failedDependency: g.dep ? { type: 'POLICY', name: 'p', reason: 'x', unavailable: false } : null,
          missingReference: g.missing ? { type: 'POLICY', name: 'q' } : null,
        });
        if (target && !g.otherType && g.same) expect(d.action).toBe('UNCHANGED');
        if (d.action === 'REFUSED') expect(d.reason).toBeTruthy();
        if (d.action === 'CREATE') expect(target).toBeNull();
        if (d.action === 'UPDATE') expect(target && !g.otherType && !g.same && g.mode !== 'NONE').toBeTruthy();
      }),
    );
  });

  it('maps actions onto report statuses one to one', () => {
    expect(['CREATE', 'UPDATE', 'UNCHANGED', 'REFUSED'].map((a) => outcomeOf(a as never, false))).toEqual(['CREATED', 'REPLACED', 'UNCHANGED', 'FAILURE']);
    expect(outcomeOf('CREATE', true)).toBe('WARNING');
    expect(outcomeOf('UNCHANGED', true)).toBe('UNCHANGED');
  });
});

describe('promotion flags and stage checks', () => {
  it('map overwriteAssets/overwriteAliases onto one import rule', () => {
    const types = ['API', 'POLICY', 'ALIAS'];
    expect(promotionOverwriteRule(false, false, types)).toEqual(NONE);
    expect(promotionOverwriteRule(true, true, types)).toEqual(ALL);
    const assets = promotionOverwriteRule(true, false, types);
    expect([mayOverwrite(assets, 'API'), mayOverwrite(assets, 'ALIAS')]).toEqual([true, false]);
    const aliases = promotionOverwriteRule(false, true, types);
    expect([mayOverwrite(aliases, 'API'), mayOverwrite(aliases, 'ALIAS')]).toEqual([false, true]);
  });

  it('refuse a stage that is busy (LOCKED) or runs an older product (VERSION_DOWNGRADE)', () => {
    expect(stageRefusal({ stageName: 'qa', busyWith: null, targetVersion: '1.0.0', sourceVersion: '1.0.0' })).toBeNull();
    expect(stageRefusal({ stageName: 'qa', busyWith: null, targetVersion: null, sourceVersion: '1.0.0' })).toBeNull();
    expect(stageRefusal({ stageName: 'qa', busyWith: { id: 'p1', name: 'held' }, targetVersion: null, sourceVersion: '1.0.0' })).toMatchObject({
      code: 'LOCKED',
      message: 'stage qa is busy with promotion "held" (p1)',
    });
    expect(stageRefusal({ stageName: 'old', busyWith: null, targetVersion: '0.0.1', sourceVersion: '1.0.0' })).toMatchObject({
      code: 'VERSION_DOWNGRADE',
      message: 'stage old runs Stagecraft 0.0.1, older than this 1.0.0',
    });
  });

  it('count with the right plural', () => {
    expect([countOf(0, 'asset'), countOf(1, 'asset'), countOf(2, 'asset')]).toEqual(['0 assets', '1 asset', '2 assets']);
  });
});

describe('aliases down a chain', () => {
  const v = (id: string, stage: string | null): AliasRow => ({ id, name: 'backend', stage });
  const unbound = v('u', null);
  const dev = v('d', 'dev');
  const qa = v('q', 'qa');
  const prod = v('p', 'prod');

  it('dev → qa: the slot carries the qa value, prod travels inert, dev stays home', () => {
    expect(aliasShipments([unbound], [unbound, dev, qa, prod], new Set(['u']), 'dev', 'qa')).toEqual([
      { id: 'p', kind: 'AS_IS' },
      { id: 'u', kind: 'SLOT', contentOf: 'q' },
    ]);
  });

  it('qa → prod: the slot (bound to qa there) carries the prod value; nothing bound to qa leaves', () => {
    const slotOnQa = v('u', 'qa');
    expect(aliasShipments([slotOnQa], [slotOnQa, prod], new Set(['u']), 'qa', 'prod')).toEqual([{ id: 'u', kind: 'SLOT', contentOf: 'p' }]);
  });

  it('no value for the target: UNAVAILABLE, never another stage’s value', () => {
    const slotOnQa = v('u', 'qa');
    expect(aliasShipments([slotOnQa], [slotOnQa], new Set(['u']), 'qa', 'prod')).toEqual([{ id: 'u', kind: 'UNAVAILABLE', name: 'backend' }]);
  });

  it('every variant selected: one slot, the target’s variant merged into it, others inert', () => {
    const shipped = aliasShipments([unbound, dev, qa, prod], [unbound, dev, qa, prod], new Set(['u']), 'dev', 'prod');
    expect(shipped).toEqual([
      { id: 'u', kind: 'SLOT', contentOf: 'p' },
      { id: 'q', kind: 'AS_IS' },
    ]);
  });

  it('never sends a variant bound to another stage as the value for the target (property)', () => {
    const stages = ['dev', 'qa', 'prod', 'perf'];
    const arb = fc.record({
      variants: fc.uniqueArray(fc.constantFrom<string | null>(null, ...stages), { minLength: 1 }),
      source: fc.constantFrom(...stages),
      target: fc.constantFrom(...stages),
    });
    fc.assert(
      fc.property(arb, ({ variants, source, target }) => {
        fc.pre(source !== target);
        const rows = variants.map((stage, i) => v(`id${i}`, stage));
        const slot = rows[0]!;
        for (const s of aliasShipments([slot], rows, new Set([slot.id]), source, target)) {
          // the variant bound to the target, else the unbound one
          const bound = rows.find((r) => r.stage === target);
          if (s.kind === 'SLOT') expect(rows.find((r) => r.id === s.contentOf)!.stage).toBe(bound ? target : null);
          if (s.kind === 'AS_IS' && s.id === slot.id) expect([null, target]).toContain(slot.stage);
          if (s.kind === 'AS_IS' && s.id !== slot.id) expect([null, source, target]).not.toContain(rows.find((r) => r.id === s.id)!.stage);
          if (s.kind === 'UNAVAILABLE') expect(rows.some((r) => r.stage === target || r.stage === null)).toBe(false);
        }
      }),
    );
  });
});
