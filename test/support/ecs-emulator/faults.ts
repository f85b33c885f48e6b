/**
 * Injected faults: the first fault matching a call (by action, by an instance the call names, and
 * by parameter values) is consumed; `count` calls later it is gone.
 */
import { instanceIdsOf } from './params.ts';
import type { Fault } from './types.ts';

interface ActiveFault extends Fault {
  remaining: number;
}

export class FaultBoard {
  private faults: ActiveFault[] = [];

  inject(f: Fault): void {
    const count = f.count ?? 1;
    if (!(count > 0)) throw new Error('injectFault: count must be > 0');
    this.faults.push({ ...f, remaining: count });
  }

  clear(): void {
    this.faults = [];
  }

  /** The fault that shapes this call, if any (consumed). */
  take(action: string, params: Record<string, string>): Fault | undefined {
    if (this.faults.length === 0) return undefined;
    let ids: string[] | undefined;
    const idx = this.faults.findIndex((f) => {
      if (f.action !== undefined && f.action !== action) return false;
      if (f.instanceId !== undefined) {
        ids ??= instanceIdsOf(params);
        if (!ids.includes(f.instanceId)) return false;
      }
      if (f.params && Object.entries(f.params).some(([k, v]) => params[k] !== v)) return false;
      return true;
    });
    const f = idx < 0 ? undefined : this.faults[idx];
    if (!f) return undefined;
    f.remaining -= 1;
    if (f.remaining <= 0) this.faults.splice(idx, 1);
    return f;
  }
}
