import type { EcsPowerSchedule, EcsPowerScheduleSpec } from '../../api/schedule-types.ts';
import { compileSchedule, InvalidScheduleError, type CompiledSchedule } from '../../schedule/evaluate.ts';

/** A schedule parsed once, or why it cannot be. */
export type Compiled = CompiledSchedule | InvalidScheduleError;

/** compileSchedule() that returns the error naming the field instead of throwing it. */
export function compileOrInvalid(spec: EcsPowerScheduleSpec): Compiled {
  try {
    return compileSchedule(spec);
  } catch (err) {
    if (err instanceof InvalidScheduleError) return err;
    // anything else the parser trips on is still a spec it cannot use, not a reason to retry
    return new InvalidScheduleError('spec', err instanceof Error ? err.message : String(err));
  }
}

/**
 * Each schedule compiled once per generation (a pure memo keyed by uid and generation, not
 * reconciler state): evaluating a compiled schedule reuses its window memo too.
 */
export class CompiledSchedules {
  private readonly entries = new Map<string, { uid: string | undefined; generation: number | undefined; compiled: Compiled }>();

  get(key: string, schedule: EcsPowerSchedule): Compiled {
    const { uid, generation } = schedule.metadata;
    const memo = this.entries.get(key);
    if (memo && memo.uid === uid && memo.generation === generation) return memo.compiled;
    const compiled = compileOrInvalid(schedule.spec);
    this.entries.set(key, { uid, generation, compiled });
    return compiled;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
