/**
 * Per-asset progress, batched for the event stream. A stage's per-asset detail is its report (a
 * query away); the stream only has to show headway, so a 10,000-asset promotion is not 10,000
 * events for every watcher. A run gives at most `maxEvents` ASSET events per stage, each saying
 * how far it got (`completed` of `total`); the last one always has completed == total. Runs of up
 * to `maxEvents` assets still get one event per asset, worded as before.
 */
import { countOf } from './promotion-decision.js';

export const MAX_ASSET_EVENTS = 50;

export interface AssetOutcome {
  type: string;
  name: string;
  status: string;
}

export interface AssetProgress {
  completed: number;
  total: number;
  message: string;
}

export function assetProgress(outcomes: readonly AssetOutcome[], maxEvents = MAX_ASSET_EVENTS): AssetProgress[] {
  const total = outcomes.length;
  const size = Math.max(1, Math.ceil(total / Math.max(1, maxEvents)));
  const events: AssetProgress[] = [];
  for (let start = 0; start < total; start += size) {
    const batch = outcomes.slice(start, start + size);
    events.push({ completed: start + batch.length, total, message: describe(batch) });
  }
  return events;
}

/** `API Petstore: CREATED` for one asset; `200 assets: 198 CREATED, 2 UNCHANGED (API a … API b)` for more. */
function describe(batch: readonly AssetOutcome[]): string {
  const one = (a: AssetOutcome) => `${a.type} ${a.name}`;
  if (batch.length === 1) return `${one(batch[0])}: ${batch[0].status}`;
  const byStatus = new Map<string, number>();
  for (const a of batch) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
  const counts = [...byStatus].map(([status, n]) => `${n} ${status}`).join(', ');
  return `${countOf(batch.length, 'asset')}: ${counts} (${one(batch[0])} … ${one(batch[batch.length - 1])})`;
}
