/**
 * Live promotion progress: the events of promotionProgress folded into one state per stage, and
 * the last sequence seen, so a reloaded page resumes with afterSequence and misses nothing.
 */
export interface ProgressEventLike {
  sequence: number;
  phase: string;
  stageName?: string | null;
  message: string;
  completed?: number | null;
  total?: number | null;
}

export interface StageProgress {
  stageName: string;
  phase: string;
  message: string;
  completed: number;
  total: number | null;
  done: boolean;
  failed: boolean;
}

export interface ProgressState {
  lastSequence: number;
  stages: Record<string, StageProgress>;
  /** The final COMPLETED event (stageName null) arrived. */
  completed: boolean;
  log: ProgressEventLike[];
}

export const emptyProgress = (): ProgressState => ({ lastSequence: 0, stages: {}, completed: false, log: [] });

const LOG_LIMIT = 200;

/** Applies one event; events at or below the last sequence (replays) change nothing. */
export function applyProgress(state: ProgressState, event: ProgressEventLike): ProgressState {
  if (event.sequence <= state.lastSequence) return state;
  const next: ProgressState = { ...state, lastSequence: event.sequence, log: [...state.log, event].slice(-LOG_LIMIT) };
  if (!event.stageName) {
    if (event.phase === 'COMPLETED') next.completed = true;
    return next;
  }
  const before = state.stages[event.stageName] ?? { stageName: event.stageName, phase: 'QUEUED', message: '', completed: 0, total: null, done: false, failed: false };
  next.stages = {
    ...state.stages,
    [event.stageName]: {
      ...before,
      phase: event.phase,
      message: event.message,
      completed: event.completed ?? before.completed,
      total: event.total ?? before.total,
      done: before.done || event.phase === 'SUCCEEDED' || event.phase === 'FAILED',
      failed: before.failed || event.phase === 'FAILED',
    },
  };
  return next;
}

/** 0–100 for a progress bar: finished stages are full, others by assets done. */
export function percent(stage: StageProgress): number {
  if (stage.done) return 100;
  if (!stage.total) return stage.phase === 'QUEUED' ? 0 : 10;
  return Math.min(99, Math.round((100 * stage.completed) / stage.total));
}

/** Saved between reloads (sessionStorage); anything unreadable starts afresh. */
export function restoreProgress(saved: string | null): ProgressState {
  if (!saved) return emptyProgress();
  try {
    const value = JSON.parse(saved) as ProgressState;
    if (typeof value.lastSequence !== 'number' || typeof value.stages !== 'object' || !Array.isArray(value.log)) return emptyProgress();
    return value;
  } catch {
    return emptyProgress();
  }
}
