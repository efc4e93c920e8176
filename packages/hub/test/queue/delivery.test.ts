import { describeEachDialect } from "@openlines/store/testing";
import { afterEach, expect, it } from "vitest";
import { type Fixture, fixture, items, nextEvent, untilEvents } from "./helpers.js";

describeEachDialect("queue delivery", (ctx) => {
  let f: Fixture;
  afterEach(async () => {
    await f?.close();
  });

  it("delivers a line's packets as one signed batch and deletes what the portal took", async () => {
    f = await fixture(ctx.url());
    const lc = await f.line("sales");
    const q = f.queue();
    const packets = [f.packet(lc), f.packet(lc), f.packet(lc)];
    await q.enqueue(items(packets));
    expect((await q.lineState(lc)).waiting).toBe(3);
    const delivered = nextEvent(q, "batch:delivered");
    await q.start();
    expect(await delivered).toMatchObject({
      lineConnectorId: lc,
      portalId: f.portalId,
      taken: 3,
      remaining: 0,
    });
    expect(f.stub.requests).toHaveLength(1);
    expect(f.stub.requests[0]?.body).toMatchObject({ version: 1, portal: f.portalId, line: "sales" });
    expect(f.stub.ids()).toEqual(packets.map((p) => p.id));
    expect(f.stub.rejected).toBe(0);
    expect(await q.lineState(lc)).toEqual({
      waiting: 0,
      attempts: 0,
      blockedUntil: null,
      firstFailureAt: null,
      deadLetters: 0,
    });
    const left = await f.database.db
      .selectFrom("packet")
      .select("id")
      .where("line_connector_id", "=", lc)
      .execute();
    expect(left).toEqual([]);
  });

  it("sends the ready lines of one portal in one request and settles each line by the ids it took", async () => {
    f = await fixture(ctx.url());
    const a = await f.line("line-a");
    const b = await f.line("line-b");
    const q = f.queue();
    const fromA = [f.packet(a), f.packet(a)];
    const fromB = [f.packet(b)];
    await q.enqueue(items([fromA[0], fromB[0], fromA[1]] as typeof fromA));
    // The portal takes line-a's packets and none of line-b's.
    f.stub.answer = () => ({ body: { taken: fromA.map((p) => p.id) } });
    const delivered = nextEvent(q, "batch:delivered");
    const failed = nextEvent(q, "batch:failed");
    await q.start();
    expect(await delivered).toMatchObject({ lineConnectorId: a, taken: 2, remaining: 0 });
    expect(await failed).toMatchObject({ lineConnectorId: b, reason: "the portal took none of the batch" });
    expect(f.stub.requests).toHaveLength(1);
    const request = f.stub.requests[0];
    // Several lines: no `line` on the request; each line's packets oldest first, line by line.
    expect(request?.body.line).toBeUndefined();
    expect([...(request?.lines ?? [])].sort()).toEqual(["line-a", "line-b"]);
    expect(request?.ids.filter((id) => fromA.some((p) => p.id === id))).toEqual(fromA.map((p) => p.id));
    expect(await q.lineState(a)).toMatchObject({ waiting: 0, attempts: 0, blockedUntil: null });
    expect(await q.lineState(b)).toMatchObject({
      waiting: 1,
      attempts: 1,
      blockedUntil: f.clock.now() + 60_000,
    });
  });

  it("splits a portal's lines over several requests at the byte limit", async () => {
    f = await fixture(ctx.url());
    const lines = [await f.line(), await f.line(), await f.line()];
    const text = "x".repeat(3000);
    const q = f.queue({ batchMaxBytes: 7000, concurrency: 1 });
    for (const lc of lines) await q.enqueue(items([f.packet(lc, { text }), f.packet(lc, { text })]));
    const done = untilEvents(q, ["batch:delivered"], async () => {
      for (const lc of lines) if ((await q.lineState(lc)).waiting > 0) return false;
      return true;
    });
    await q.start();
    await done;
    // Two packets of ~3.3 kB per line: one line per request, all in the one slot of the portal.
    expect(f.stub.requests).toHaveLength(3);
    for (const r of f.stub.requests) {
      expect(r.lines).toHaveLength(1);
      expect(r.body.line).toBe(r.lines[0]);
      expect(r.ids).toHaveLength(2);
    }
  });

  it("cuts batches at the packet count limit", async () => {
    f = await fixture(ctx.url());
    const lc = await f.line();
    const q = f.queue({ batchMaxPackets: 3 });
    await q.enqueue(items(Array.from({ length: 7 }, () => f.packet(lc))));
    const done = untilEvents(q, ["batch:delivered"], async () => (await q.lineState(lc)).waiting === 0);
    await q.start();
    await done;
    expect(f.stub.requests.map((r) => r.ids.length)).toEqual([3, 3, 1]);
  });

  it("cuts batches at the byte limit but always sends at least one packet", async () => {
    f = await fixture(ctx.url());
    const lc = await f.line();
    const big = "x".repeat(3000);
    const q = f.queue({ batchMaxBytes: 7000 });
    // Each packet is a little over 3000 bytes: two fit under 7000, a third does not.
    await q.enqueue(
      items([f.packet(lc, { text: big }), f.packet(lc, { text: big }), f.packet(lc, { text: big })]),
    );
    await q.enqueue(items([f.packet(lc, { text: "y".repeat(9000) })]));
    const done = untilEvents(q, ["batch:delivered"], async () => (await q.lineState(lc)).waiting === 0);
    await q.start();
    await done;
    expect(f.stub.requests.map((r) => r.ids.length)).toEqual([2, 1, 1]);
  });

  it("keeps the packets the portal did not take and sends them again at once, without a block", async () => {
    f = await fixture(ctx.url());
    const lc = await f.line();
    const packets = Array.from({ length: 5 }, () => f.packet(lc));
    let first = true;
    f.stub.answer = (req) => {
      if (first) {
        first = false;
        return { body: { taken: req.ids.slice(0, 2) } };
      }
      return { body: { taken: req.ids } };
    };
    const q = f.queue();
    await q.enqueue(items(packets));
    const partial = nextEvent(q, "batch:delivered");
    const done = untilEvents(q, ["batch:delivered"], async () => (await q.lineState(lc)).waiting === 0);
    await q.start();
    expect(await partial).toMatchObject({ taken: 2, remaining: 3 });
    await done;
    expect(f.stub.requests.map((r) => r.ids)).toEqual([
      packets.map((p) => p.id),
      packets.slice(2).map((p) => p.id),
    ]);
    expect((await q.lineState(lc)).attempts).toBe(0);
  });

  it("waits for an asynchronous ack after an 'accepted' answer, then sends the next batch", async () => {
    f = await fixture(ctx.url());
    const lc = await f.line();
    const q = f.queue({ batchMaxPackets: 2 });
    f.stub.answer = () => ({ body: { accepted: true } });
    const packets = Array.from({ length: 3 }, () => f.packet(lc));
    await q.enqueue(items(packets));
    const accepted = nextEvent(q, "batch:accepted");
    await q.start();
    const a = await accepted;
    expect(a.ids).toEqual(packets.slice(0, 2).map((p) => p.id));
    expect(f.stub.requests).toHaveLength(1);
    const sent = await f.database.db
      .selectFrom("packet")
      .select("sent_ms")
      .where("line_connector_id", "=", lc)
      .orderBy("seq")
      .execute();
    expect(sent.map((r) => r.sent_ms !== null)).toEqual([true, true, false]);

    const second = nextEvent(q, "batch:accepted");
    expect(await q.ack(f.portalId, a.ids)).toBe(2);
    const b = await second;
    expect(b.ids).toEqual([packets[2]?.id]);
    expect(await q.ack(f.portalId, b.ids)).toBe(1);
    await untilEvents(q, ["batch:delivered"], async () => (await q.lineState(lc)).waiting === 0);
    expect((await q.lineState(lc)).attempts).toBe(0);
  });

  it("counts a missed ack deadline as a failed try and sends the batch again after the block", async () => {
    f = await fixture(ctx.url());
    const lc = await f.line();
    const q = f.queue({ ackDeadlineMs: 30_000 });
    f.stub.answer = () => ({ body: { accepted: true } });
    const packet = f.packet(lc);
    await q.enqueue(items([packet]));
    const accepted = nextEvent(q, "batch:accepted");
    await q.start();
    await accepted;
    const failed = nextEvent(q, "batch:failed");
    const blocked = nextEvent(q, "line:blocked");
    const t0 = f.clock.now();
    f.clock.advance(29_999);
    expect(f.stub.requests).toHaveLength(1);
    f.clock.advance(1);
    expect((await failed).reason).toMatch(/no ack/);
    expect(await blocked).toMatchObject({ attempts: 1, blockedUntil: t0 + 30_000 + 60_000 });
    const sent = await f.database.db
      .selectFrom("packet")
      .select("sent_ms")
      .where("id", "=", packet.id)
      .execute();
    expect(sent).toEqual([{ sent_ms: null }]);
    f.stub.answer = (req) => ({ body: { taken: req.ids } });
    const delivered = nextEvent(q, "batch:delivered");
    f.clock.advance(60_000);
    await delivered;
    expect(f.stub.ids()).toEqual([packet.id, packet.id]);
    expect(await q.lineState(lc)).toMatchObject({ waiting: 0, attempts: 0, blockedUntil: null });
  });

  it("counts an error status, a body it does not understand, a bad answer signature and taking nothing as failed tries", async () => {
    f = await fixture(ctx.url());
    const q = f.queue();
    const answers = [
      { status: 500 },
      { raw: "not json" },
      { body: { ok: true } },
      { body: { taken: [] as string[] } },
      { sign: "bad" as const },
    ];
    // Each line of its own portal: one request each, each answered its own way.
    const lines: string[] = [];
    for (const _ of answers) lines.push(await f.line(undefined, await f.portal()));
    f.stub.answer = (req) => answers[Number(req.line.split("-")[1]) - 1] ?? {};
    const reasons: string[] = [];
    q.events.on("batch:failed", (e) => reasons.push(e.reason));
    for (const lc of lines) await q.enqueue(items([f.packet(lc)]));
    const done = untilEvents(q, ["batch:failed"], () => reasons.length === answers.length);
    await q.start();
    await done;
    expect(reasons.sort()).toEqual(
      [
        "the portal answered HTTP 500",
        "the answer is not JSON",
        "the answer is not a DeliveryResponse",
        "the portal took none of the batch",
        "bad signature in the answer",
      ].sort(),
    );
    for (const lc of lines) expect(await q.lineState(lc)).toMatchObject({ waiting: 1, attempts: 1 });
  });

  it("counts a request with no answer within the timeout as a failed try", async () => {
    f = await fixture(ctx.url(), { answer: () => ({ hang: true }) });
    const lc = await f.line();
    const q = f.queue({ requestTimeoutMs: 15_000 });
    await q.enqueue(items([f.packet(lc)]));
    await q.start();
    await f.stub.waitFor(() => f.stub.requests.length === 1);
    const failed = nextEvent(q, "batch:failed");
    f.clock.advance(15_000);
    expect((await failed).reason).toBe("no answer within 15000 ms");
    expect(await q.lineState(lc)).toMatchObject({ waiting: 1, attempts: 1 });
  });

  it("does not deliver to a disabled portal until it is enabled again", async () => {
    f = await fixture(ctx.url());
    const lc = await f.line();
    await f.database.db
      .updateTable("portal")
      .set({ state: "disabled" })
      .where("id", "=", f.portalId)
      .execute();
    const q = f.queue();
    const started = nextEvent(q, "worker:idle");
    await q.start();
    await started;
    const idle = nextEvent(q, "worker:idle");
    await q.enqueue(items([f.packet(lc)]));
    await idle;
    await q.stop();
    expect(f.stub.requests).toHaveLength(0);
    await f.database.db.updateTable("portal").set({ state: "active" }).where("id", "=", f.portalId).execute();
    const again = f.queue();
    const delivered = nextEvent(again, "batch:delivered");
    await again.start();
    await delivered;
    expect(f.stub.requests).toHaveLength(1);
  });

  it("accepts a correctly signed answer", async () => {
    f = await fixture(ctx.url(), { answer: (req) => ({ body: { taken: req.ids }, sign: true }) });
    const lc = await f.line();
    const q = f.queue();
    await q.enqueue(items([f.packet(lc)]));
    const delivered = nextEvent(q, "batch:delivered");
    await q.start();
    expect((await delivered).taken).toBe(1);
  });

  it("ignores a packet whose id is already queued, and refuses an unknown line alone", async () => {
    f = await fixture(ctx.url());
    const lc = await f.line();
    const q = f.queue();
    const p = f.packet(lc);
    await Promise.all([q.enqueue(items([p])), q.enqueue(items([p, p]))]);
    await q.enqueue(items([p]));
    expect((await q.lineState(lc)).waiting).toBe(1);
    const other = f.packet(lc);
    const results = await Promise.allSettled([
      q.enqueue([{ lineConnectorId: "lc-missing", packet: f.packet(lc) }]),
      q.enqueue(items([other])),
    ]);
    expect(results[0]).toMatchObject({ status: "rejected", reason: { code: "LINE_UNKNOWN" } });
    expect(results[1].status).toBe("fulfilled");
    expect((await q.lineState(lc)).waiting).toBe(2);
  });

  it("commits many concurrent callers' packets, each caller answered after its commit", async () => {
    f = await fixture(ctx.url());
    const lcs = [await f.line(), await f.line(), await f.line()];
    const q = f.queue();
    const calls = Array.from({ length: 60 }, (_, i) => q.enqueue(items([f.packet(lcs[i % 3] as string)])));
    await Promise.all(calls);
    for (const lc of lcs) expect((await q.lineState(lc)).waiting).toBe(20);
    const count = await f.database.db
      .selectFrom("packet")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("line_connector_id", "in", lcs)
      .executeTakeFirst();
    expect(Number(count?.n)).toBe(60);
  });

  it("keeps timers and sockets served while callers in this process enqueue back to back", async () => {
    f = await fixture(ctx.url());
    const lcs = [await f.line(), await f.line(), await f.line()];
    const q = f.queue();
    let done = 0;
    let doneWhenTimerRan = -1;
    setTimeout(() => {
      doneWhenTimerRan = done;
    }, 0);
    // Each caller enqueues again as soon as its commit is answered. On SQLite a commit waits on no
    // I/O, so unless the group commit yields, the timer (and every socket) waits for all of them.
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let k = 0; k < 20; k++) {
          await q.enqueue(items([f.packet(lcs[k % 3] as string)]));
          done++;
        }
      }),
    );
    expect(doneWhenTimerRan).toBeGreaterThanOrEqual(0);
    expect(doneWhenTimerRan).toBeLessThan(640);
  });
});
