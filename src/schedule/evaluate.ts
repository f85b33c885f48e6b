// The desired state of an EcsPowerSchedule at an instant, and its next transition: a pure
// function of the spec and the instant (SCHEDULES.md).
import type { DesiredState } from '../api/types.ts';
import type { EcsPowerScheduleSpec } from '../api/schedule-types.ts';
import { compileSchedule, type CompiledException, type CompiledSchedule } from './compile.ts';
import { WindowTimeline } from './windows.ts';

/** What decided the state: an exception, a running window, or being outside every window. */
export type EvaluationSource =
  | { kind: 'exception'; index: number; reason?: string }
  | { kind: 'window'; index: number }
  | { kind: 'outsideWindows' };

export interface StateAt {
  desiredState: DesiredState;
  source: EvaluationSource;
}

export interface Evaluation extends StateAt {
  /** The earliest instant after the evaluated one at which the state differs; absent when it never changes. */
  next?: StateAt & { time: Date };
}

/**
 * Evaluates a schedule at an instant. Throws InvalidScheduleError (naming the field) for an
 * invalid spec; check with validateSchedule() first to report it instead. Evaluating one
 * schedule often (many resources, many instants): compile it once and use evaluateCompiled().
 */
export function evaluate(schedule: EcsPowerScheduleSpec, instant: Date | number): Evaluation {
  return evaluateCompiled(compileSchedule(schedule), instant);
}

/** Window boundaries resolved per local date are memoised per compiled schedule. */
const timelines = new WeakMap<CompiledSchedule, WindowTimeline>();

export function evaluateCompiled(schedule: CompiledSchedule, instant: Date | number): Evaluation {
  const t = typeof instant === 'number' ? instant : instant.getTime();
  if (!Number.isFinite(t)) throw new RangeError(`invalid instant ${String(instant)}`);
  let timeline = timelines.get(schedule);
  if (!timeline) {
    timeline = new WindowTimeline(schedule);
    timelines.set(schedule, timeline);
  }
  const now = stateAt(schedule, timeline, t);
  const next = nextTransition(schedule, timeline, t, now.desiredState);
  return next ? { ...now, next } : now;
}

function stateAt(schedule: CompiledSchedule, timeline: WindowTimeline, t: number): StateAt {
  const exception = winningException(schedule.exceptions, t);
  if (exception) return { desiredState: exception.desiredState, source: exceptionSource(exception) };
  const window = timeline.windowAt(t);
  return window === undefined
    ? { desiredState: 'Stopped', source: { kind: 'outsideWindows' } }
    : { desiredState: 'Running', source: { kind: 'window', index: window } };
}

/** The last exception in the list whose span [from, to) contains t. */
function winningException(exceptions: readonly CompiledException[], t: number): CompiledException | undefined {
  for (let i = exceptions.length - 1; i >= 0; i--) {
    const e = exceptions[i]!;
    if (e.from <= t && t < e.to) return e;
  }
  return undefined;
}

/**
 * Walks forward from t over the instants at which the state can change, each found exactly:
 * inside a winning exception the state holds until it ends or a later-listed exception starts;
 * outside every exception it holds until an exception starts or the windows change. The first
 * such instant with a different state is the transition. Exceptions are finite and the windows
 * repeat weekly, so the walk ends (see WindowTimeline.nextChange for the windows' horizon).
 */
function nextTransition(schedule: CompiledSchedule, timeline: WindowTimeline, t: number, current: DesiredState): Evaluation['next'] {
  const { exceptions } = schedule;
  let at = t;
  // each step passes an exception boundary or ends the walk, so this bound is never reached
  for (let step = 0; step <= 2 * exceptions.length + 2; step++) {
    const winner = winningException(exceptions, at);
    let boundary: number;
    if (winner) {
      boundary = winner.to;
      for (const e of exceptions) if (e.index > winner.index && e.from > at && e.from < boundary) boundary = e.from;
    } else {
      let nextStart = Infinity;
      for (const e of exceptions) if (e.from > at && e.from < nextStart) nextStart = e.from;
      boundary = timeline.nextChange(at, nextStart) ?? nextStart;
    }
    if (boundary === Infinity) return undefined;
    const then = stateAt(schedule, timeline, boundary);
    if (then.desiredState !== current) return { ...then, time: new Date(boundary) };
    at = boundary;
  }
  return undefined;
}

function exceptionSource(e: CompiledException): EvaluationSource {
  return e.reason === undefined ? { kind: 'exception', index: e.index } : { kind: 'exception', index: e.index, reason: e.reason };
}

/** For messages and events: `exceptions[1] (National Day)`, `running[0]`, `outside all running windows`. */
export function describeSource(source: EvaluationSource): string {
  switch (source.kind) {
    case 'exception':
      return `exceptions[${source.index}]${source.reason ? ` (${source.reason})` : ''}`;
    case 'window':
      return `running[${source.index}]`;
    case 'outsideWindows':
      return 'outside all running windows';
  }
}

export { compileSchedule, validateSchedule, InvalidScheduleError, type CompiledSchedule } from './compile.ts';
