import type { Clock } from './clock.ts';
import { realClock } from './clock.ts';

/** A FIFO token bucket: `take()` resolves when a token is available. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private turn: Promise<void> = Promise.resolve();
  private readonly clock: Clock;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    clock?: Clock,
  ) {
    this.clock = clock ?? realClock;
    this.tokens = burst;
    this.updatedAt = this.clock.now();
  }

  /** Takes a token if one is there now; never waits. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  take(): Promise<void> {
    const mine = this.turn.then(() => this.wait());
    this.turn = mine;
    return mine;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond);
    this.updatedAt = now;
  }

  private async wait(): Promise<void> {
    for (;;) {
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      const ms = Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
      await new Promise<void>((resolve) => this.clock.setTimer(resolve, ms));
    }
  }
}
