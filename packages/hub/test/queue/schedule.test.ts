import { describeEachDialect } from "@openlines/store/testing";
import { afterEach, expect, it } from "vitest";
import { queueDefaults } from "../../src/queue/index.js";
import { type Fixture, fixture, items, nextEvent } from "./helpers.js";

const MIN = 60_000;
const HOUR = 60 * MIN;

describeEachDialect("queue schedule", (ctx) => {
  let f: Fixture;
  afterEach(async () => {
    await f?.close();
  });

  it("blocks a failing line 1, 5, 15, 30 min, 1, 2, 4, 8 h, then until 24 h after the first failure, then moves its packets to dead letters and lifts the block", async () => {
    f = await fixture(ctx.url(), { answer: () => ({ status: 503 }) });
    const lc = await f.line("support");
    const q = f.queue();
    const first = f.packet(lc, { chat: "a" });
    await q.enqueue(items([first]));
    const t0 = f.clock.now();
    const tries: number[] = [];
    const blocks: number[] = [];
    q.events.on("batch:failed", () => tries.push(f.clock.now() - t0));
    q.events.on("line:blocked", (e) => blocks.push(e.blockedUntil - t0));

    let blocked = nextEvent(q, "line:blocked");
    await q.start();
    await blocked;
    const expected = [0];
    let at = 0;
    for (const b of queueDefaults.blocksMs) {
      at += b;
      expected.push(at);
    }
    // After each block, exactly at its end, one more try fails.
    for (let i = 1; i < expected.length; i++) {
      const wait = (expected[i] as number) - (f.clock.now() - t0);
      f.clock.advance(wait - 1);
      expect(tries).toHaveLength(i);
      blocked = nextEvent(q, "line:blocked");
      f.clock.advance(1);
      await blocked;
    }
    expect(tries).toEqual(expected);
    // A packet arriving during a block waits for it.
    const late = f.packet(lc, { chat: "b" });
    await q.enqueue(items([late]));
    expect(f.stub.requests).toHaveLength(expected.length);
    // Blocks grow 1, 5, 15, 30 min, 1, 2, 4, 8 h; the 9th failure (at 15 h 51 min) earns the 12-hour
    // final block, which the 24-hour limit cuts short.
    const cumulative = expected.slice(1);
    expect(blocks.slice(0, 8)).toEqual(cumulative);
    expect(expected.at(-1)).toBe(951 * MIN);
    expect(blocks.at(-1)).toBe(24 * HOUR);
    expect(await q.lineState(lc)).toMatchObject({
      waiting: 2,
      attempts: 9,
      blockedUntil: t0 + 24 * HOUR,
      firstFailureAt: t0,
    });

    const expired = nextEvent(q, "packet:expired");
    f.clock.advance(24 * HOUR - (f.clock.now() - t0));
    expect((await expired).ids).toEqual([first.id, late.id]);
    expect(f.stub.requests).toHaveLength(9);
    expect(await q.lineState(lc)).toEqual({
      waiting: 0,
      attempts: 0,
      blockedUntil: null,
      firstFailureAt: null,
      deadLetters: 2,
    });
    const dead = await q.deadLetters(f.portalId, { lineId: "support" });
    expect(dead.map((d) => d.id)).toEqual([first.id, late.id]);
    expect(dead[0]).toMatchObject({
      line: "support",
      connector: "telegram",
      type: "messages",
      expiredAt: t0 + 24 * HOUR,
      packet: { id: first.id, data: { chat: { id: "a" } } },
    });

    // The block is lifted: a new packet goes out at once.
    f.stub.answer = (req) => ({ body: { taken: req.ids } });
    const fresh = f.packet(lc);
    const delivered = nextEvent(q, "batch:delivered");
    await q.enqueue(items([fresh]));
    await delivered;
    expect(f.stub.requests.at(-1)?.ids).toEqual([fresh.id]);
  });

  it("gives the failure after the last regular block the 12-hour final block when expiry allows it", async () => {
    f = await fixture(ctx.url(), { answer: () => ({ status: 500 }) });
    const lc = await f.line();
    const q = f.queue({ schedule: { expireAfterMs: 48 * HOUR } });
    await q.enqueue(items([f.packet(lc)]));
    const lengths: number[] = [];
    q.events.on("line:blocked", (e) => lengths.push(e.blockedUntil - f.clock.now()));
    let blocked = nextEvent(q, "line:blocked");
    await q.start();
    await blocked;
    while (lengths.length < 10) {
      blocked = nextEvent(q, "line:blocked");
      f.clock.advance(lengths.at(-1) as number);
      await blocked;
    }
    expect(lengths).toEqual([...queueDefaults.blocksMs, 12 * HOUR, 12 * HOUR]);
  });

  it("repeats the final block after the regular ones until the expiry, as configured", async () => {
    f = await fixture(ctx.url(), { answer: () => ({ status: 500 }) });
    const lc = await f.line();
    const q = f.queue({ schedule: { blocksMs: [1000, 2000], finalBlockMs: 5000, expireAfterMs: 20_000 } });
    await q.enqueue(items([f.packet(lc)]));
    const t0 = f.clock.now();
    const blocks: number[] = [];
    q.events.on("line:blocked", (e) => blocks.push(e.blockedUntil - t0));
    let blocked = nextEvent(q, "line:blocked");
    await q.start();
    await blocked;
    for (;;) {
      const until = blocks.at(-1) as number;
      if (until >= 20_000) break;
      blocked = nextEvent(q, "line:blocked");
      f.clock.advance(until - (f.clock.now() - t0));
      await blocked;
    }
    // tries at 0, 1 s, 3 s, 8 s, 13 s, 18 s; the last block is cut at 20 s.
    expect(blocks).toEqual([1000, 3000, 8000, 13_000, 18_000, 20_000]);
    const expired = nextEvent(q, "packet:expired");
    f.clock.advance(20_000 - (f.clock.now() - t0));
    await expired;
    expect((await q.lineState(lc)).deadLetters).toBe(1);
  });

  it("re-drives dead letters into the queue, by line or by id, and delivers them", async () => {
    f = await fixture(ctx.url(), { answer: () => ({ status: 500 }) });
    const a = await f.line("a");
    const b = await f.line("b");
    const q = f.queue({ schedule: { blocksMs: [], finalBlockMs: 1000, expireAfterMs: 1000 } });
    const pa = [f.packet(a), f.packet(a)];
    const pb = [f.packet(b)];
    await q.enqueue(items([...pa, ...pb]));
    let expiredCount = 0;
    const bothExpired = new Promise<void>((resolve) =>
      q.events.on("packet:expired", () => {
        if (++expiredCount === 2) resolve();
      }),
    );
    const failures = new Promise<void>((resolve) => {
      let n = 0;
      q.events.on("line:blocked", () => {
        if (++n === 2) resolve();
      });
    });
    await q.start();
    await failures;
    f.clock.advance(1000);
    await bothExpired;
    expect((await q.deadLetters(f.portalId)).map((d) => d.id).sort()).toEqual(
      [...pa, ...pb].map((p) => p.id).sort(),
    );
    expect(await q.deadLetters(f.portalId, { limit: 1 })).toHaveLength(1);
    expect(await q.deadLetters("another-portal")).toEqual([]);

    f.stub.answer = (req) => ({ body: { taken: req.ids } });
    const deliveredA = nextEvent(q, "batch:delivered", (e) => e.lineConnectorId === a);
    expect(await q.redrive(f.portalId, { lineId: "a" })).toBe(2);
    await deliveredA;
    expect(f.stub.requests.at(-1)?.ids).toEqual(pa.map((p) => p.id));
    expect((await q.lineState(a)).deadLetters).toBe(0);
    expect((await q.lineState(b)).deadLetters).toBe(1);

    expect(await q.redrive("another-portal")).toBe(0);
    const deliveredB = nextEvent(q, "batch:delivered", (e) => e.lineConnectorId === b);
    expect(await q.redrive(f.portalId, { ids: [pb[0]?.id as string] })).toBe(1);
    await deliveredB;
    expect(await q.deadLetters(f.portalId)).toEqual([]);
  });
});
