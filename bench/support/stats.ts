/**
 * Timing for the benchmark: one monotonic clock shared by every thread of the process
 * (process.hrtime), in fractional milliseconds, so an enqueue time taken on the main thread and an
 * arrival time taken in the portal stub's thread can be subtracted.
 */
export function benchNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** The value below which `p` (0..1) of the sorted values fall (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank];
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
