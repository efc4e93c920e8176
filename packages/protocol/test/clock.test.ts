import { describe, expect, it } from "vitest";
import { ManualClock, systemClock } from "../src/clock.js";

describe("ManualClock", () => {
  it("moves only when advanced and fires due timers in time order", () => {
    const clock = new ManualClock(1_000);
    const fired: [string, number][] = [];
    clock.setTimer(300, () => fired.push(["b", clock.now()]));
    clock.setTimer(100, () => fired.push(["a", clock.now()]));
    clock.setTimer(1_000, () => fired.push(["c", clock.now()]));
    expect(clock.now()).toBe(1_000);
    clock.advance(500);
    expect(fired).toEqual([
      ["a", 1_100],
      ["b", 1_300],
    ]);
    expect(clock.now()).toBe(1_500);
  });

  it("fires a timer set by a timer within the same advance, and never a cancelled one", () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimer(10, () => {
      fired.push("first");
      clock.setTimer(10, () => fired.push("chained"));
    });
    const cancelled = clock.setTimer(5, () => fired.push("cancelled"));
    cancelled.cancel();
    clock.advance(20);
    expect(fired).toEqual(["first", "chained"]);
  });

  it("treats a negative delay as due at once", () => {
    const clock = new ManualClock(0);
    let fired = false;
    clock.setTimer(-5, () => {
      fired = true;
    });
    clock.advance(0);
    expect(fired).toBe(true);
  });
});

describe("systemClock", () => {
  it("fires a timer and can cancel one", async () => {
    const cancelled = systemClock.setTimer(1, () => {
      throw new Error("a cancelled timer fired");
    });
    cancelled.cancel();
    await new Promise<void>((resolve) => systemClock.setTimer(1, resolve));
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(1_000);
  });
});
