/** The console's pure logic: routes, plan summaries, live progress, selections, errors, archives. */
import { describe, expect, it } from 'vitest';
import { downloadName, importQuery } from '../../console/src/lib/archive.js';
import { errorsOf, hasCode } from '../../console/src/lib/errors.js';
import { ago, newestFirst } from '../../console/src/lib/history.js';
import { countActions, describeStagePlan, planHasRefusals } from '../../console/src/lib/plan.js';
import { can } from '../../console/src/lib/privileges.js';
import { applyProgress, emptyProgress, percent, restoreProgress } from '../../console/src/lib/progress.js';
import { href, parseRoute } from '../../console/src/lib/route.js';
import { optionalArguments, parseNodes, toggle } from '../../console/src/lib/selection.js';

describe('routes', () => {
  it('round-trips segments and parameters, encoded', () => {
    const to = href('gateway', 'Production Group', { q: 'a|b', assets: ['x', 'y'], empty: '' });
    expect(to).toBe('#/gateway/Production%20Group?q=a%7Cb&assets=x&assets=y');
    const route = parseRoute(to);
    expect(route.parts).toEqual(['gateway', 'Production Group']);
    expect(route.params.getAll('assets')).toEqual(['x', 'y']);
    expect(route.params.get('q')).toBe('a|b');
  });
  it('survives malformed escapes and an empty hash', () => {
    expect(parseRoute('#/assets/%E0%A4%A').parts).toEqual(['assets', '%E0%A4%A']);
    expect(parseRoute('').parts).toEqual([]);
  });
});

describe('plan summaries', () => {
  const items = [{ action: 'CREATE' }, { action: 'CREATE' }, { action: 'UPDATE' }, { action: 'UNCHANGED' }, { action: 'REFUSED' }];
  it('counts actions and says them per stage', () => {
    expect(countActions(items)).toEqual({ CREATE: 2, UPDATE: 1, UNCHANGED: 1, REFUSED: 1 });
    expect(describeStagePlan({ stageName: 'prod', items })).toBe('prod: 2 to create, 1 to update, 1 unchanged, 1 refused');
    expect(describeStagePlan({ stageName: 'qa', items: [] })).toBe('qa: nothing to do');
    expect(describeStagePlan({ stageName: 'qa', error: 'unreachable', items: [] })).toBe('qa: refused — unreachable');
  });
  it('flags refusals of an asset or a whole stage', () => {
    expect(planHasRefusals([{ stageName: 'a', items: [{ action: 'CREATE' }] }])).toBe(false);
    expect(planHasRefusals([{ stageName: 'a', items: [{ action: 'REFUSED' }] }])).toBe(true);
    expect(planHasRefusals([{ stageName: 'a', error: 'LOCKED', items: [] }])).toBe(true);
  });
});

describe('live progress', () => {
  const ev = (sequence: number, phase: string, stageName: string | null = 'prod', extra = {}) => ({ sequence, phase, stageName, message: phase, ...extra });
  it('folds events per stage and ignores replays', () => {
    let s = emptyProgress();
    s = applyProgress(s, ev(1, 'STARTED'));
    s = applyProgress(s, ev(2, 'ASSET', 'prod', { completed: 3, total: 8 }));
    expect(percent(s.stages.prod!)).toBe(38);
    const before = s;
    expect(applyProgress(s, ev(2, 'FAILED'))).toBe(before); // a replayed event
    s = applyProgress(s, ev(3, 'SUCCEEDED', 'prod', { completed: 8, total: 8 }));
    s = applyProgress(s, ev(4, 'FAILED', 'qa'));
    s = applyProgress(s, ev(5, 'COMPLETED', null));
    expect(s.lastSequence).toBe(5);
    expect(s.completed).toBe(true);
    expect(s.stages.prod).toMatchObject({ done: true, failed: false });
    expect(s.stages.qa).toMatchObject({ done: true, failed: true });
    expect(percent(s.stages.prod!)).toBe(100);
  });
  it('restores what was saved and starts afresh from anything else', () => {
    const s = applyProgress(emptyProgress(), ev(7, 'STARTED'));
    expect(restoreProgress(JSON.stringify(s)).lastSequence).toBe(7);
    expect(restoreProgress('{"lastSequence":"x"}')).toEqual(emptyProgress());
    expect(restoreProgress('not json')).toEqual(emptyProgress());
    expect(restoreProgress(null)).toEqual(emptyProgress());
  });
  it('keeps a bounded log', () => {
    let s = emptyProgress();
    for (let i = 1; i <= 500; i++) s = applyProgress(s, ev(i, 'ASSET'));
    expect(s.log.length).toBe(200);
    expect(s.log[0]!.sequence).toBe(301);
  });
});

describe('selections', () => {
  it('turns the optional choice into API arguments; an empty selection is NONE', () => {
    expect(optionalArguments('ALL', new Set(['a']))).toEqual({ optional: 'ALL', optionalIds: [] });
    expect(optionalArguments('SELECTED', new Set())).toEqual({ optional: 'NONE', optionalIds: [] });
    expect(optionalArguments('SELECTED', new Set(['b', 'a']))).toEqual({ optional: 'SELECTED', optionalIds: ['a', 'b'] });
  });
  it('toggles without mutating', () => {
    const s = new Set(['a']);
    expect([...toggle(s, 'b')]).toEqual(['a', 'b']);
    expect([...toggle(s, 'a')]).toEqual([]);
    expect([...s]).toEqual(['a']);
  });
  it('parses upstream nodes and names the bad lines', () => {
    expect(parseNodes('127.0.0.1:8080\npets.internal:80:5, bad, x:0, y:99999, :80')).toEqual({
      nodes: [{ host: '127.0.0.1', port: 8080, weight: 1 }, { host: 'pets.internal', port: 80, weight: 5 }],
      bad: ['bad', 'x:0', 'y:99999', ':80'],
    });
  });
});

describe('errors', () => {
  it('shows GraphQL errors with their code', () => {
    const e = { errors: [{ message: 'nope', extensions: { code: 'FORBIDDEN' } }, { message: 'odd' }] };
    expect(errorsOf(e)).toEqual([{ code: 'FORBIDDEN', message: 'nope' }, { code: 'ERROR', message: 'odd' }]);
    expect(hasCode(e, 'FORBIDDEN')).toBe(true);
  });
  it('reads REST and non-2xx bodies, and plain network errors', () => {
    expect(errorsOf({ bodyText: '{"error":{"code":"BAD_USER_INPUT","message":"bad zip"}}', statusCode: 400 })).toEqual([{ code: 'BAD_USER_INPUT', message: 'bad zip' }]);
    expect(errorsOf({ bodyText: '{"errors":[{"message":"m","extensions":{"code":"UNAUTHENTICATED"}}]}' })).toEqual([{ code: 'UNAUTHENTICATED', message: 'm' }]);
    expect(errorsOf(new Error('Failed to fetch'))).toEqual([{ code: 'NETWORK_ERROR', message: 'Failed to fetch' }]);
    expect(errorsOf(null)).toEqual([]);
  });
});

describe('histories, privileges, archives', () => {
  it('sorts newest first, undated last', () => {
    const rows = [{ n: 'a', t: '2026-01-01T00:00:00Z' }, { n: 'b', t: null }, { n: 'c', t: '2026-03-01T00:00:00Z' }];
    expect(newestFirst(rows, (r) => r.t).map((r) => r.n)).toEqual(['c', 'a', 'b']);
  });
  it('says how long ago', () => {
    const now = Date.parse('2026-01-02T00:00:00Z');
    expect(ago('2026-01-01T23:59:30Z', now)).toBe('30 s ago');
    expect(ago('2026-01-01T23:00:00Z', now)).toBe('1 h ago');
    expect(ago('2025-12-01T00:00:00Z', now)).toBe('2025-12-01');
    expect(ago(null, now)).toBe('—');
  });
  it('checks privileges of a user, and of nobody', () => {
    expect(can({ username: 'v', role: 'VIEWER', privileges: [] }, 'MANAGE_PROMOTIONS')).toBe(false);
    expect(can({ username: 'a', role: 'SUPER_ADMIN', privileges: ['MANAGE_PROMOTIONS'] }, 'MANAGE_PROMOTIONS')).toBe(true);
    expect(can(null, 'EXPORT_IMPORT')).toBe(false);
  });
  it('builds the import query and the download name', () => {
    expect(importQuery('custom', ['POLICY', 'API'], true)).toBe('overwrite=custom&types=API%2CPOLICY&fixMissingVersions=true');
    expect(importQuery('none', ['API'], false)).toBe('overwrite=none');
    expect(downloadName('attachment; filename="stagecraft-dev-1.zip"')).toBe('stagecraft-dev-1.zip');
    expect(downloadName(null)).toBe('stagecraft-archive.zip');
  });
});
