/** Summaries of a promotion plan: what each stage will do, in counts and in words. */
export type PlanAction = 'CREATE' | 'UPDATE' | 'UNCHANGED' | 'REFUSED';

export interface PlanItemLike {
  action: PlanAction | string;
}
export interface StagePlanLike {
  stageName: string;
  error?: string | null;
  items: readonly PlanItemLike[];
}

export type PlanCounts = Record<PlanAction, number>;

export function countActions(items: readonly PlanItemLike[]): PlanCounts {
  const counts: PlanCounts = { CREATE: 0, UPDATE: 0, UNCHANGED: 0, REFUSED: 0 };
  for (const item of items) if (item.action in counts) counts[item.action as PlanAction]++;
  return counts;
}

/** One line per stage: "prod: 3 to create, 1 to update, 2 unchanged" or the stage's refusal. */
export function describeStagePlan(stage: StagePlanLike): string {
  if (stage.error) return `${stage.stageName}: refused — ${stage.error}`;
  const c = countActions(stage.items);
  const parts = [
    c.CREATE && `${c.CREATE} to create`,
    c.UPDATE && `${c.UPDATE} to update`,
    c.UNCHANGED && `${c.UNCHANGED} unchanged`,
    c.REFUSED && `${c.REFUSED} refused`,
  ].filter(Boolean);
  return `${stage.stageName}: ${parts.length ? parts.join(', ') : 'nothing to do'}`;
}

/** A plan the run would partly refuse: the wizard asks for a confirmation before promoting. */
export const planHasRefusals = (stages: readonly StagePlanLike[]): boolean =>
  stages.some((s) => !!s.error || s.items.some((i) => i.action === 'REFUSED'));
