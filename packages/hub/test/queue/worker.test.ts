import { generateSecret } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { afterEach, expect, it, vi } from "vitest";
import { PortalRepository } from "../../src/portals/index.js";
import { startPortalStub } from "../support/portal-stub.js";
import {
  box,
  type Fixture,
  fixture,
  items,
  nextEvent,
  openHubDatabase,
  pollUntil,
  untilEvents,
} from "./helpers.js";

describeEachDialect("queue worker", (ctx) => {
  let f: Fixture;
  afterEach(async () => {
    await f?.close();
  });

  /** Another hub instance on the same database, through its own connection. */
  const otherInstance = async (instanceId: string) =>
    f.queue({ database: await openHubDatabase(ctx.url()), instanceId, crossInstanceCheckMs: 1000 });

  /** PostgreSQL hears another instance at once (NOTIFY); the others at their next check, 1 s on. */
  const untilOthersHear = async () => {
    if (ctx.dialect === "postgres") return;
    await new Promise((r) => setImmediate(r));
    f.clock.advance(1000);
  };

  it("delivers each line in queue order, one batch in flight at a time, packets of one chat in order", async () => {
    f = await fixture(ctx.url(), { answer: (req) => ({ body: { taken: req.ids }, delayMs: 5 }) });
    const lc = await f.line();
    const q = f.queue({ batchMaxPackets: 7, concurrency: 4 });
    const sent: string[] = [];
    const calls: Promise<void>[] = [];
    // Enqueued from many concurrent callers, interleaving three chats, while delivery runs.
    await q.start();
    for (let i = 0; i < 40; i++) {
      const p = f.packet(lc, { chat: `chat-${i % 3}` });
      sent.push(p.id);
      calls.push(q.enqueue(items([p])));
    }
    await Promise.all(calls);
    await untilEvents(q, ["batch:delivered"], async () => (await q.lineState(lc)).waiting === 0);
    expect(f.stub.ids()).toEqual(sent);
    expect(f.stub.maxParallelPerLine.get("line-1")).toBe(1);
    for (const r of f.stub.requests) expect(r.ids.length).toBeLessThanOrEqual(7);
  });

  it("serves a line with one packet promptly while a line with many packets drains", async () => {
    f = await fixture(ctx.url());
    const big = await f.line("big");
    const small = await f.line("small");
    const q = f.queue({ batchMaxPackets: 10, concurrency: 1 });
    await q.enqueue(items(Array.from({ length: 300 }, () => f.packet(big))));
    await q.enqueue(items([f.packet(small)]));
    const done = untilEvents(q, ["batch:delivered"], async () => (await q.lineState(big)).waiting === 0);
    await q.start();
    await done;
    // Both lines are the portal's: the first request carries the big line's first batch and the
    // small line's packet; the big line never sends more than its batch per request.
    const requests = f.stub.requests;
    expect(requests).toHaveLength(30);
    expect([...(requests[0]?.lines ?? [])].sort()).toEqual(["big", "small"]);
    for (const r of requests)
      expect(r.body.packets.filter((p) => p.line === "big").length).toBeLessThanOrEqual(10);
  });

  it("wakes on a new packet with no timer armed, and an idle queue keeps no timer", async () => {
    f = await fixture(ctx.url());
    const lines = [];
    for (let i = 0; i < 50; i++) lines.push(await f.line());
    const q = f.queue();
    const started = nextEvent(q, "worker:idle");
    await q.start();
    await started;
    // Drive the worker through one full pass by delivering one packet, then look at the clock.
    const idle = nextEvent(q, "worker:idle");
    await q.enqueue(items([f.packet(lines[7] as string)]));
    expect(await idle).toEqual({ timerAt: null });
    expect(f.stub.requests).toHaveLength(1);
    expect(f.clock.armed).toBe(0);
    // Time does not move; the enqueue alone makes the worker deliver.
    const delivered = nextEvent(q, "batch:delivered");
    await q.enqueue(items([f.packet(lines[42] as string)]));
    expect((await delivered).lineConnectorId).toBe(lines[42]);
    expect(f.stub.requests).toHaveLength(2);
  });

  it("once caught up, waits lingerMs before claiming again, so packets arriving together share a request", async () => {
    f = await fixture(ctx.url());
    const [a, b, c] = [await f.line(), await f.line(), await f.line()];
    const q = f.queue({ lingerMs: 400 });
    await q.enqueue(items([f.packet(a)]));
    const first = nextEvent(q, "batch:delivered");
    await q.start();
    await first;
    // The claim that found line a found nothing else: the worker has caught up. b and c come in
    // two commits a moment apart; the next claim, 400 ms after the last, takes both.
    await q.enqueue(items([f.packet(b)]));
    await q.enqueue(items([f.packet(c)]));
    await untilEvents(q, ["batch:delivered"], async () => (await q.lineState(c)).waiting === 0);
    expect(f.stub.requests).toHaveLength(2);
    expect([...(f.stub.requests[1]?.lines ?? [])].sort()).toEqual(["line-2", "line-3"]);
  });

  it("drains a backlog batch after batch without lingering between them", async () => {
    f = await fixture(ctx.url());
    const big = await f.line();
    const small = await f.line("line-other", await f.portal());
    // A linger far longer than the test: only a batch that leaves more behind may skip it.
    const q = f.queue({ lingerMs: 600_000, batchMaxPackets: 100 });
    await q.enqueue(items(Array.from({ length: 250 }, () => f.packet(big))));
    await q.enqueue(items([f.packet(small)]));
    const drained = untilEvents(q, ["batch:delivered"], async () => (await q.lineState(big)).waiting === 0);
    // The first claim finds two portals, fewer than it has room for: the worker has caught up.
    await q.start();
    await drained;
    expect(f.stub.requests.filter((r) => r.lines.includes("line-1")).map((r) => r.ids.length)).toEqual([
      100, 100, 50,
    ]);
  });

  it("keeps a single timer for the cross-instance check where there is no NOTIFY, none on PostgreSQL", async () => {
    f = await fixture(ctx.url());
    for (let i = 0; i < 20; i++) await f.line();
    const q = f.queue({ crossInstanceCheckMs: 1000 });
    await q.start();
    expect(f.clock.armed).toBe(ctx.dialect === "postgres" ? 0 : 1);
    f.clock.advance(10_000);
    // The check arms its next read once the current read has finished.
    await vi.waitFor(() => expect(f.clock.armed).toBe(ctx.dialect === "postgres" ? 0 : 1));
  });

  it("hears packets enqueued by another instance (NOTIFY on PostgreSQL, the change check elsewhere)", async () => {
    f = await fixture(ctx.url());
    const lc = await f.line();
    const worker = f.queue({ crossInstanceCheckMs: 1000 });
    const writer = f.queue({ database: await openHubDatabase(ctx.url()) });
    await worker.start();
    const delivered = nextEvent(worker, "batch:delivered");
    await writer.enqueue(items([f.packet(lc)]));
    await untilOthersHear();
    await delivered;
    expect(f.stub.requests).toHaveLength(1);
  });

  it("never lets two instances deliver the same line at once, and loses nothing between them", async () => {
    f = await fixture(ctx.url(), { answer: (req) => ({ body: { taken: req.ids }, delayMs: 3 }) });
    const lines: string[] = [];
    for (let i = 0; i < 6; i++) lines.push(await f.line());
    const a = f.queue({ batchMaxPackets: 5, concurrency: 4, instanceId: "hub-a" });
    const b = f.queue({
      database: await openHubDatabase(ctx.url()),
      batchMaxPackets: 5,
      concurrency: 4,
      instanceId: "hub-b",
    });
    const all = lines.flatMap((lc) => Array.from({ length: 30 }, () => f.packet(lc)));
    await a.enqueue(items(all));
    await Promise.all([a.start(), b.start()]);
    await f.stub.waitFor(() => new Set(f.stub.ids()).size === all.length);
    await pollUntil(async () => {
      for (const lc of lines) if ((await a.lineState(lc)).waiting !== 0) return false;
      return true;
    });
    for (const line of f.stub.maxParallelPerLine.values()) expect(line).toBe(1);
    expect(f.stub.maxParallelPerLine.size).toBe(6);
    // At most 5 packets of a line per request: 36 line batches at least.
    expect(f.stub.requests.reduce((n, r) => n + r.lines.length, 0)).toBeGreaterThanOrEqual(36);
  });

  it("does not let a portal that hangs hold every slot: a slow request frees its slot", async () => {
    f = await fixture(ctx.url(), { answer: () => ({ hang: true }) });
    // Three portals that hang (one request each) and a healthy one.
    const hung = [
      await f.line(),
      await f.line(undefined, await f.portal()),
      await f.line(undefined, await f.portal()),
    ];
    const secret = generateSecret();
    const healthy = await startPortalStub({ secret, now: () => f.clock.now() });
    try {
      await new PortalRepository(f.database.db, box, () => f.clock.now()).create({
        id: `${f.portalId}-2`,
        name: "Healthy",
        baseUrl: healthy.url,
        secret,
        state: "active",
      });
      const healthyLine = await f.line("healthy", `${f.portalId}-2`);
      const q = f.queue({ concurrency: 2, slowRequestMs: 2000, requestTimeoutMs: 15_000 });
      for (const lc of hung) await q.enqueue(items([f.packet(lc)]));
      await q.start();
      await f.stub.waitFor(() => f.stub.requests.length === 2);
      await q.enqueue([{ lineConnectorId: healthyLine, packet: f.packet(hung[0] as string) }]);
      expect(healthy.requests).toHaveLength(0);
      const delivered = nextEvent(q, "batch:delivered");
      f.clock.advance(2000);
      // Both slots freed: the third hung line and the healthy line go out; the healthy one is answered.
      expect((await delivered).portalId).toBe(`${f.portalId}-2`);
      await f.stub.waitFor(() => f.stub.requests.length === 3);
      expect(healthy.requests).toHaveLength(1);
      const stopping = q.stop();
      f.clock.advance(10_000);
      await stopping;
    } finally {
      // Its packets stay queued for portals that are gone: keep later tests of this database clear.
      await f.database.db.updateTable("portal").set({ state: "disabled" }).execute();
      await healthy.close();
    }
  });

  it("takes over a line leased by an instance that died, once the lease has run out", async () => {
    f = await fixture(ctx.url());
    const lc = await f.line();
    const q = f.queue({ leaseMs: 30_000 });
    await q.enqueue(items([f.packet(lc)]));
    // Another instance claimed the line and died: its lease runs until now + 30 s.
    await f.database.db
      .updateTable("line_connector")
      .set({ lease_owner: "hub-dead", lease_until: f.clock.now() + 30_000 })
      .where("id", "=", lc)
      .execute();
    const idle = nextEvent(q, "worker:idle");
    await q.start();
    expect(await idle).toEqual({ timerAt: f.clock.now() + 30_001 });
    expect(f.stub.requests).toHaveLength(0);
    const delivered = nextEvent(q, "batch:delivered");
    f.clock.advance(30_000);
    expect(f.stub.requests).toHaveLength(0);
    f.clock.advance(1);
    await delivered;
    expect(f.stub.requests).toHaveLength(1);
  });

  it("stops with work safely queued: a batch awaiting its ack stays, leases are released, a new instance resends", async () => {
    f = await fixture(ctx.url(), { answer: () => ({ body: { accepted: true } }) });
    const lc = await f.line();
    const q = f.queue({ instanceId: "hub-old" });
    const packets = [f.packet(lc), f.packet(lc)];
    await q.enqueue(items(packets));
    const accepted = nextEvent(q, "batch:accepted");
    await q.start();
    await accepted;
    await q.stop();
    const row = await f.database.db
      .selectFrom("line_connector")
      .select(["waiting", "lease_owner", "attempts"])
      .where("id", "=", lc)
      .executeTakeFirst();
    expect(row).toEqual({ waiting: 2, lease_owner: null, attempts: 0 });
    f.stub.answer = (req) => ({ body: { taken: req.ids } });
    const next = f.queue({ instanceId: "hub-new" });
    const delivered = nextEvent(next, "batch:delivered");
    await next.start();
    expect((await delivered).taken).toBe(2);
    expect(f.stub.ids()).toEqual([...packets, ...packets].map((p) => p.id));
  });

  it("tells the other instances when it stops, so a running one takes its lines over at once", async () => {
    f = await fixture(ctx.url(), { answer: () => ({ body: { accepted: true } }) });
    const lc = await f.line();
    const old = f.queue({ instanceId: "hub-old" });
    const other = await otherInstance("hub-other");
    const packets = [f.packet(lc)];
    await old.enqueue(items(packets));
    const accepted = nextEvent(old, "batch:accepted");
    await old.start();
    await accepted;
    const idle = nextEvent(other, "worker:idle");
    await other.start();
    // The line is leased to hub-old for 30 s: hub-other waits for the lease, no sooner.
    expect(await idle).toEqual({ timerAt: f.clock.now() + 30_001 });
    f.stub.answer = (req) => ({ body: { taken: req.ids } });
    const delivered = nextEvent(other, "batch:delivered");
    await old.stop();
    await untilOthersHear();
    expect((await delivered).taken).toBe(1);
    expect(f.stub.ids()).toEqual([packets[0]?.id, packets[0]?.id]);
  });

  it("tells the other instances of a block, so they wake at its end even if the blocking one dies", async () => {
    f = await fixture(ctx.url(), { answer: () => ({ status: 503, delayMs: 300 }) });
    const lc = await f.line();
    const failing = f.queue({ instanceId: "hub-failing" });
    const other = await otherInstance("hub-other");
    await failing.enqueue(items([f.packet(lc)]));
    const blocked = nextEvent(failing, "line:blocked");
    await failing.start();
    await f.stub.waitFor(() => f.stub.requests.length === 1);
    // While hub-failing's request is out, hub-other sees the line leased and waits for the lease.
    const started = nextEvent(other, "worker:idle");
    await other.start();
    expect(await started).toEqual({ timerAt: f.clock.now() + 30_001 });
    const heard = nextEvent(other, "worker:idle");
    const { blockedUntil } = await blocked;
    await untilOthersHear();
    // hub-other now keeps a timer for the block's end: it does not need hub-failing to live.
    expect((await heard).timerAt).toBe(blockedUntil);
  });

  it("stops while a request hangs: waits a bounded time, then abandons it without a failed try", async () => {
    f = await fixture(ctx.url(), { answer: () => ({ hang: true }) });
    const lc = await f.line();
    const q = f.queue({ stopTimeoutMs: 5000 });
    let failed = 0;
    q.events.on("batch:failed", () => failed++);
    await q.enqueue(items([f.packet(lc)]));
    await q.start();
    await f.stub.waitFor(() => f.stub.requests.length === 1);
    const stopped = q.stop();
    f.clock.advance(5000);
    await stopped;
    expect(failed).toBe(0);
    expect(await q.lineState(lc)).toMatchObject({ waiting: 1, attempts: 0, blockedUntil: null });
    // Enqueue keeps working after stop: packets are stored, the worker just does not run.
    await q.enqueue(items([f.packet(lc)]));
    expect((await q.lineState(lc)).waiting).toBe(2);
  });
});
