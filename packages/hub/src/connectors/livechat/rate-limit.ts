import type { Clock } from "@openlines/protocol";

/**
 * Token buckets by key (a visitor, an IP address): `capacity` tokens, refilled evenly over
 * `perMs`. Buckets are refilled lazily on use, so idle keys cost nothing but memory, and the map
 * is capped: past `maxKeys` the oldest key is forgotten (it starts again with a full bucket).
 */
export class RateLimiter {
  readonly #clock: Clock;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(clock: Clock, options: { maxKeys?: number } = {}) {
    this.#clock = clock;
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  /** Takes one token for `key`; false when the bucket is empty (the request is refused). */
  take(key: string, capacity: number, perMs: number): boolean {
    const now = this.#clock.now();
    let b = this.#buckets.get(key);
    if (b) {
      this.#buckets.delete(key);
      b.tokens = Math.min(capacity, b.tokens + ((now - b.at) * capacity) / perMs);
      b.at = now;
    } else {
      b = { tokens: capacity, at: now };
      if (this.#buckets.size >= this.#maxKeys) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
    }
    this.#buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
