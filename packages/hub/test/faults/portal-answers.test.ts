import { describeEachDialect } from "@openlines/store/testing";
import { afterEach, expect, it } from "vitest";
import type { QueueEvents } from "../../src/queue/index.js";
import { pollUntil } from "../queue/helpers.js";
import { duplicates, type Fault, type FaultRig, startFaultRig } from "./rig.js";

/**
 * The portal misbehaves while a real queue delivers to a real portal: it answers too late, drops
 * the connection after committing, answers 500 (before or after committing), signs its answer with
 * a wrong secret, or acknowledges only part of a batch. Each ends with every enqueued packet taken
 * by the portal exactly once (its input drops the redelivered duplicates) and nothing left queued.
 */
describeEachDialect("queue faults at the portal", (ctx) => {
  let rig: FaultRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  async function run(fault: Fault, badDeliveries: number, o: { expectFailures: boolean }) {
    rig = await startFaultRig(ctx.url());
    const r = rig;
    r.fault = (n) => (n <= badDeliveries ? fault : "none");
    const q = r.queue({ batchMaxPackets: 10 });
    const failures: QueueEvents["batch:failed"][] = [];
    const blocks: QueueEvents["line:blocked"][] = [];
    q.events.on("batch:failed", (e) => failures.push(e));
    q.events.on("line:blocked", (e) => blocks.push(e));
    // The suite's tests share one database: count what this test adds.
    const before = await r.portalCounts();
    const lines = [await r.line("sales"), await r.line("support")];
    const items = Array.from({ length: 30 }, (_, i) =>
      r.packet(lines[i % 2] as string, i % 2 ? "support" : "sales", `message ${i}`),
    );
    await q.enqueue(items.slice(0, 20));
    await q.start();
    // More packets arrive while the line is failing: they go out with a later batch.
    await q.enqueue(items.slice(20));
    const ids = items.map((i) => i.packet.id);
    await pollUntil(async () => {
      const taken = await r.takenIds();
      if (!ids.every((id) => taken.has(id))) return false;
      const left = await r.database.db.selectFrom("packet").select("id").execute();
      return left.length === 0;
    }, 20_000);
    const counts = await r.portalCounts();
    const dups = duplicates(r.forwarded);
    console.log(
      `fault ${fault} [${ctx.dialect}]: ${ids.length} packets, ${r.deliveries} deliveries, ` +
        `${failures.length} failed tries, ${dups} duplicates delivered and dropped by the portal`,
    );
    // Exactly once for the operator: one message per packet, whatever was redelivered.
    expect({ messages: counts.messages - before.messages, taken: counts.taken - before.taken }).toEqual({
      messages: ids.length,
      taken: ids.length,
    });
    if (o.expectFailures) {
      expect(failures.length).toBeGreaterThanOrEqual(1);
      expect(blocks.length).toBeGreaterThanOrEqual(1);
    } else {
      // A timeout of a busy machine's portal is a failed try of its own; nothing else may fail.
      expect(failures.filter((f) => !/no answer within/.test(f.reason))).toEqual([]);
    }
    for (const l of lines) expect(await q.lineState(l)).toMatchObject({ waiting: 0, attempts: 0 });
    return { failures, dups, lines };
  }

  it("counts an answer slower than the request timeout as a failed try, blocks, and delivers once the portal is quick again", async () => {
    const { failures, dups } = await run("slow", 2, { expectFailures: true });
    expect(failures.some((f) => /no answer within/.test(f.reason))).toBe(true);
    // The portal committed the batch it answered too late: the redelivery is a real duplicate.
    expect(dups).toBeGreaterThan(0);
  });

  it("redelivers a batch whose connection the portal dropped after committing it, and the portal drops the repeat", async () => {
    const { failures, dups } = await run("drop", 2, { expectFailures: true });
    expect(failures.some((f) => /could not be reached/.test(f.reason))).toBe(true);
    expect(dups).toBeGreaterThan(0);
  });

  it("blocks the line on HTTP 500 and delivers everything after the portal recovers", async () => {
    const { failures, lines } = await run("500", 3, { expectFailures: true });
    // Both lines (one portal) travel in each request: three failed tries each.
    for (const line of lines)
      expect(failures.filter((f) => f.lineConnectorId === line && /HTTP 500/.test(f.reason))).toHaveLength(3);
  });

  it("treats a 500 after the portal committed as a failed try, and the portal drops the redelivered packets", async () => {
    const { dups } = await run("500-after", 2, { expectFailures: true });
    expect(dups).toBeGreaterThan(0);
  });

  it("refuses an answer signed with the wrong secret as a failed try, and the portal drops the redelivery", async () => {
    const { failures, dups } = await run("bad-signature", 2, { expectFailures: true });
    expect(failures.some((f) => f.reason === "bad signature in the answer")).toBe(true);
    expect(dups).toBeGreaterThan(0);
  });

  it("resends at once what a partial acknowledgement left out, without a failed try, and loses nothing", async () => {
    const { dups } = await run("partial", 4, { expectFailures: false });
    expect(dups).toBeGreaterThan(0);
  });
});
