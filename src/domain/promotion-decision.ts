/**
 * The one decision behind promotion plans, promotion runs and archive imports (DESIGN §2): per
 * asset and target, CREATE, UPDATE, UNCHANGED or REFUSED (with the reason), and per target
 * stage, whether the stage refuses the promotion as a whole. Pure: the callers read the target's
 * state and act on the answer. A plan is the target's import run with `dryRun`, so the plan and
 * the report come out of this same function, with the same reason text.
 */
import { compareVersions } from './versions.js';

export type AssetAction = 'CREATE' | 'UPDATE' | 'UNCHANGED' | 'REFUSED';

/**
 * What the import report says of an asset: the action done, or WARNING when it was done with a
 * caveat (a secure value left out), or FAILURE when it was refused.
 */
export type AssetOutcome = 'CREATED' | 'REPLACED' | 'UNCHANGED' | 'WARNING' | 'FAILURE';

export const outcomeOf = (action: AssetAction, warned: boolean): AssetOutcome =>
  action === 'REFUSED' ? 'FAILURE' : action === 'UNCHANGED' ? 'UNCHANGED' : warned ? 'WARNING' : action === 'CREATE' ? 'CREATED' : 'REPLACED';

export type OverwriteMode = 'NONE' | 'ALL' | 'CUSTOM';

/** Which existing, differing assets an import may replace. */
export interface OverwriteRule {
  mode: OverwriteMode;
  /** With CUSTOM: the types that may be replaced. */
  types: readonly string[];
}

export const mayOverwrite = (rule: OverwriteRule, type: string): boolean =>
  rule.mode === 'ALL' || (rule.mode === 'CUSTOM' && rule.types.includes(type));

/**
 * A promotion's two flags as an import rule (the one mapping): aliases follow overwriteAliases,
 * every other type overwriteAssets.
 */
export function promotionOverwriteRule(overwriteAssets: boolean, overwriteAliases: boolean, allTypes: readonly string[]): OverwriteRule {
  if (overwriteAssets && overwriteAliases) return { mode: 'ALL', types: [] };
  if (!overwriteAssets && !overwriteAliases) return { mode: 'NONE', types: [] };
  return { mode: 'CUSTOM', types: overwriteAliases ? ['ALIAS'] : allTypes.filter((t) => t !== 'ALIAS') };
}

export interface AssetRef {
  type: string;
  name: string;
}

export interface AssetDecisionInput {
  /** The document the source sent: its type, name and content checksum. */
  incoming: AssetRef & { checksum: string };
  /**
   * Why the source could not send this asset for the target (an alias with no value for the
   * stage); null when it was sent.
   */
  unavailable: string | null;
  /** The asset with the same id on the target, or null when absent. */
  target: { type: string; checksum: string } | null;
  rule: OverwriteRule;
  /** A required dependency that was refused (and is not on the target), with its reason. */
  failedDependency: (AssetRef & { reason: string; unavailable: boolean }) | null;
  /** A required reference that is neither sent nor on the target. */
  missingReference: Partial<AssetRef> | null;
}

export interface AssetDecision {
  action: AssetAction;
  /** Why, for REFUSED (and for an unavailable alias kept UNCHANGED); null otherwise. */
  reason: string | null;
}

const refused = (reason: string): AssetDecision => ({ action: 'REFUSED', reason });

export const describeAsset = (a: Partial<AssetRef>): string => (a.type && a.name ? `${a.type} ${a.name}` : a.name ? a.name : 'an unknown asset');

export function decideAsset(input: AssetDecisionInput): AssetDecision {
  const { incoming, target } = input;
  if (input.unavailable !== null) {
    // Nothing was sent: what the target holds stays; with nothing there, the asset cannot be.
    return target ? { action: 'UNCHANGED', reason: `kept as on this stage: ${input.unavailable}` } : refused(input.unavailable);
  }
  if (target && target.type !== incoming.type) return refused(`a ${target.type} with the same id exists on this stage`);
  // Identical content is never a failure, whatever the flags: re-running anything is safe.
  if (target && target.checksum === incoming.checksum) return { action: 'UNCHANGED', reason: null };
  const dep = input.failedDependency;
  // An asset that needs an alias the source had no value for fails with that alias's own reason.
  if (dep) return refused(dep.unavailable ? dep.reason : `depends on ${describeAsset(dep)}, which failed`);
  if (input.missingReference) return refused(`requires ${describeAsset(input.missingReference)}, which is neither in the archive nor on this stage`);
  if (target && !mayOverwrite(input.rule, incoming.type)) return refused(`exists on this stage with other content, and overwrite is off for ${incoming.type}`);
  return { action: target ? 'UPDATE' : 'CREATE', reason: null };
}

/** The reason an alias cannot be sent to `stage`: the source has no value for it. */
export const noAliasValue = (name: string, stage: string, sourceStage: string): string =>
  `no value of alias ${name} for stage ${stage}: bind one for ${stage} on ${sourceStage}`;

export interface StageRefusal {
  code: 'LOCKED' | 'VERSION_DOWNGRADE';
  message: string;
  details: Record<string, unknown>;
}

export interface StageCheckInput {
  stageName: string;
  /** Another promotion active (queued or running) on that stage, if any. */
  busyWith: { id: string; name: string } | null;
  /** The product version the target runs; null when not asked (yet). */
  targetVersion: string | null;
  sourceVersion: string;
}

/**
 * Whether a stage refuses a promotion as a whole, before any asset is looked at. The run and
 * the plan both ask this (the plan shows it as the stage's error, with the same code and text).
 * Unreachable stages and refused credentials come from the transport, identically in both.
 */
export function stageRefusal(input: StageCheckInput): StageRefusal | null {
  if (input.busyWith) {
    return {
      code: 'LOCKED',
      message: `stage ${input.stageName} is busy with promotion "${input.busyWith.name}" (${input.busyWith.id})`,
      details: { stage: input.stageName, promotionId: input.busyWith.id },
    };
  }
  if (input.targetVersion !== null && compareVersions(input.targetVersion, input.sourceVersion) < 0) {
    return {
      code: 'VERSION_DOWNGRADE',
      message: `stage ${input.stageName} runs Stagecraft ${input.targetVersion}, older than this ${input.sourceVersion}`,
      details: { stage: input.stageName, targetVersion: input.targetVersion, productVersion: input.sourceVersion },
    };
  }
  return null;
}

/** "1 asset", "2 assets". */
export const countOf = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
