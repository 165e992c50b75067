/**
 * A token bucket refilled continuously at `ratePerSec` up to `burst`. `take` spends tokens
 * and says how long until it could succeed; `charge` spends without asking and may leave
 * the bucket in debt, which later `take`s wait out (how a byte quota meters bodies whose
 * size is only known as they arrive).
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.refilledAt = now;
  }

  /** Spends `cost` tokens and returns 0, or returns the ms until `cost` tokens are there (spending nothing). */
  take(now: number, cost = 1): number {
    this.refill(now);
    if (this.tokens >= cost) {
      this.tokens -= cost;
      return 0;
    }
    return Math.ceil(((cost - this.tokens) * 1000) / this.ratePerSec);
  }

  /**
   * Admits while the bucket is not in debt and then spends the whole `cost`, so one large
   * item may overdraw it; returns 0, or the ms until the debt is repaid.
   */
  takeOverdraft(now: number, cost: number): number {
    this.refill(now);
    if (this.tokens <= 0) return Math.ceil((-this.tokens * 1000) / this.ratePerSec) || 1;
    this.tokens -= cost;
    return 0;
  }

  /** Spends `cost` tokens unconditionally. */
  charge(now: number, cost: number): void {
    this.refill(now);
    this.tokens -= cost;
  }

  /** Tokens available at `now` (negative while in debt). */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  private refill(now: number): void {
    const elapsed = now - this.refilledAt;
    if (elapsed <= 0) return;
    this.refilledAt = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSec) / 1000);
  }
}
