import { describe, expect, it } from "vitest";
import { Coalescer } from "../../src/queue/coalesce.js";

describe("coalescer", () => {
  it("puts the calls made in one turn (the lines of one answered request) into one run", async () => {
    const runs: number[][] = [];
    const c = new Coalescer<number, number>(async (items) => {
      runs.push(items);
      return items.map((i) => i * 10);
    });
    expect(await Promise.all([1, 2, 3].map((i) => c.call(i)))).toEqual([10, 20, 30]);
    expect(runs).toEqual([[1, 2, 3]]);
  });

  it("takes the calls that come while a run is going in the next run, and reports a failure to that run's callers only", async () => {
    const runs: number[][] = [];
    let release: () => void = () => {};
    const c = new Coalescer<number, number>(async (items) => {
      runs.push(items);
      if (runs.length === 1) await new Promise<void>((r) => (release = r));
      if (items.includes(5)) throw new Error("the store refused");
      return items;
    });
    const first = c.call(1);
    await Promise.resolve();
    await Promise.resolve();
    const later = [4, 5].map((i) => c.call(i));
    release();
    expect(await first).toBe(1);
    const settled = await Promise.allSettled(later);
    expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected"]);
    expect(runs).toEqual([[1], [4, 5]]);
  });
});
