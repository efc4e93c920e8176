/**
 * Token buckets in memory, one per key (`line:<id>`, `platform:<type>`). Per process on purpose:
 * with several replicas each keeps its own share, which errs towards the platform's limit only
 * by the replica count; exactness would cost a database write per message.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly now: () => number) {}

  /** Milliseconds until every named bucket has a token (0 = now); takes the tokens only when 0. */
  take(limits: { key: string; perSecond: number; burst: number }[]): number {
    const t = this.now();
    let wait = 0;
    const states = limits.map((l) => {
      const b = this.#buckets.get(l.key) ?? { tokens: l.burst, at: t };
      const tokens = Math.min(l.burst, b.tokens + ((t - b.at) / 1000) * l.perSecond);
      if (tokens < 1) wait = Math.max(wait, Math.ceil(((1 - tokens) / l.perSecond) * 1000));
      return { l, tokens };
    });
    if (wait > 0) return wait;
    for (const { l, tokens } of states) this.#buckets.set(l.key, { tokens: tokens - 1, at: t });
    return 0;
  }
}
