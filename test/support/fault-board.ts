// Standing (count: Infinity) emulator faults that can be lifted one instance at a time.
//
// The emulator's fault API is count-based and `clearFaults()` clears everything. Tests that run
// several fault scenarios at once keep their standing faults here: `lift(instanceId)` clears all
// faults and re-arms the standing faults of the other instances, synchronously (the emulator runs
// in this process, so no call can slip in between).
//
// Count-limited faults injected with `emu.injectFault` directly and not yet consumed are lost on
// a lift: arm them only when no lift can happen before they are consumed.

import type { EcsEmulator, Fault } from './ecs-emulator/index.ts';

export class FaultBoard {
  private standing: Fault[] = [];

  constructor(private readonly emu: EcsEmulator) {}

  /** A fault that answers every matching call until lifted. Scope it with `instanceId`. */
  arm(f: Omit<Fault, 'count'>): void {
    const full: Fault = { ...f, count: Infinity };
    this.standing.push(full);
    this.emu.injectFault(full);
  }

  /** Removes the standing faults of one instance; the others stay armed. */
  lift(instanceId: string): void {
    this.standing = this.standing.filter((f) => f.instanceId !== instanceId);
    this.rearm();
  }

  liftAll(): void {
    this.standing = [];
    this.emu.clearFaults();
  }

  armed(): readonly Fault[] {
    return this.standing;
  }

  private rearm(): void {
    this.emu.clearFaults();
    for (const f of this.standing) this.emu.injectFault(f);
  }
}
