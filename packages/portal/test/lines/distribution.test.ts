import { describeEachDialect } from "@openlines/store/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { startTestPortal, type TestPortal } from "../support/lines-harness.js";

describeEachDialect("session distribution", (db) => {
  let p: TestPortal;
  beforeEach(async () => {
    p = await startTestPortal(db.url());
  });
  afterEach(async () => {
    await p.close();
  });

  const offeredTo = async (chatId: string) => {
    const s = await p.router.latestOfChat(chatId);
    return (await p.router.offers(s!.id)).map((o) => o.operatorId);
  };

  it("offers new sessions round robin in the line's operator order", async () => {
    const a = await p.operator({ name: "a" });
    const b = await p.operator({ name: "b" });
    const c = await p.operator({ name: "c" });
    const line = await p.line({ distribution: "roundRobin" }, [a.id, b.id, c.id]);
    const order: string[][] = [];
    for (const chat of ["rr1", "rr2", "rr3", "rr4"]) {
      await p.customerWrites(`${line}-${chat}`, line, "hello");
      order.push(await offeredTo(`${line}-${chat}`));
    }
    expect(order).toEqual([[a.id], [b.id], [c.id], [a.id]]);
  });

  it("never offers more sessions than the cap and keeps the rest queued", async () => {
    const a = await p.operator({ name: "a" });
    const b = await p.operator({ name: "b", maxChats: 5 });
    const line = await p.line({ distribution: "roundRobin", maxChatsPerOperator: 1 }, [a.id, b.id]);
    await p.customerWrites(`${line}-1`, line, "hi");
    const s1 = (await p.router.latestOfChat(`${line}-1`))!;
    await p.router.take(s1.id, a.id);
    await p.customerWrites(`${line}-2`, line, "hi");
    expect(await offeredTo(`${line}-2`)).toEqual([b.id]);
    await p.customerWrites(`${line}-3`, line, "hi");
    const s3 = (await p.router.latestOfChat(`${line}-3`))!;
    expect(s3.state).toBe("queued");
    expect(await offeredTo(`${line}-3`)).toEqual([]);
    // A closes a session: the waiting one goes to A at once.
    await p.router.close(s1.id, "operator", a.id);
    await p.settled();
    expect(await offeredTo(`${line}-3`)).toEqual([a.id]);
  });

  it("passes an unanswered offer to the next operator after the line's timeout", async () => {
    const a = await p.operator({ name: "a" });
    const b = await p.operator({ name: "b" });
    const line = await p.line({ distribution: "roundRobin", noAnswerTimeoutMs: 60_000 }, [a.id, b.id]);
    await p.customerWrites(`${line}-x`, line, "anyone?");
    expect(await offeredTo(`${line}-x`)).toEqual([a.id]);
    await p.advance(59_000);
    expect(await offeredTo(`${line}-x`)).toEqual([a.id]);
    await p.advance(1_000);
    expect(await offeredTo(`${line}-x`)).toEqual([b.id]);
    await p.advance(60_000);
    expect(await offeredTo(`${line}-x`)).toEqual([a.id]);
    const s = (await p.router.latestOfChat(`${line}-x`))!;
    const events = (await p.router.events(s.id)).map((e) => e.type);
    expect(events.filter((t) => t === "passOn")).toHaveLength(2);
  });

  it("restores offer timers from the database after a restart", async () => {
    const a = await p.operator({ name: "a" });
    const b = await p.operator({ name: "b" });
    const line = await p.line({ noAnswerTimeoutMs: 30_000 }, [a.id, b.id]);
    await p.customerWrites(`${line}-r`, line, "hello");
    expect(await offeredTo(`${line}-r`)).toEqual([a.id]);
    const clock = p.clock;
    await p.close();
    p = await startTestPortal(db.url(), { clock });
    await p.settled();
    await p.advance(30_000);
    expect(await offeredTo(`${line}-r`)).toEqual([b.id]);
  });

  it("offers a session to all free operators and the first to take it wins", async () => {
    const a = await p.operator({ name: "a" });
    const b = await p.operator({ name: "b" });
    const c = await p.operator({ name: "c" });
    const line = await p.line({ distribution: "all" }, [a.id, b.id, c.id]);
    await p.customerWrites(`${line}-all`, line, "hello");
    expect((await offeredTo(`${line}-all`)).sort()).toEqual([a.id, b.id, c.id].sort());
    const s = (await p.router.latestOfChat(`${line}-all`))!;
    const told: string[][] = [];
    p.ctx.bus.on("session.changed", (e) => void told.push(e.operatorIds));
    const taken = await p.router.take(s.id, b.id);
    // Everyone who had the offer on screen learns that it is gone.
    expect(told.at(-1)!.sort()).toEqual([a.id, b.id, c.id].sort());
    expect(taken).toMatchObject({ state: "active", operatorId: b.id });
    await expect(p.router.take(s.id, a.id)).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await p.router.offers(s.id)).toEqual([]);
  });

  it("gives a new session to the least busy operator", async () => {
    const a = await p.operator({ name: "a" });
    const b = await p.operator({ name: "b" });
    const c = await p.operator({ name: "c" });
    const line = await p.line({ distribution: "leastBusy" }, [a.id, b.id, c.id]);
    const give = async (chat: string, op: string) => {
      await p.customerWrites(`${line}-${chat}`, line, "hi");
      const s = (await p.router.latestOfChat(`${line}-${chat}`))!;
      await p.router.transfer(s.id, op, { operatorId: op });
    };
    await give("a1", a.id);
    await give("a2", a.id);
    await give("c1", c.id);
    await p.customerWrites(`${line}-new`, line, "hi");
    expect(await offeredTo(`${line}-new`)).toEqual([b.id]);
  });

  it("skips operators who are away or offline, and offers when one comes online", async () => {
    const a = await p.operator({ name: "a", online: false });
    const b = await p.operator({ name: "b" });
    const line = await p.line({}, [a.id, b.id]);
    await p.router.setPresence(b.id, "away");
    await p.customerWrites(`${line}-p`, line, "hello");
    expect((await p.router.latestOfChat(`${line}-p`))!.state).toBe("queued");
    await p.router.setPresence(a.id, "online");
    await p.settled();
    expect(await offeredTo(`${line}-p`)).toEqual([a.id]);
    // Going away hands the pending offer back to the queue.
    await p.router.setPresence(a.id, "away");
    await p.settled();
    expect((await p.router.latestOfChat(`${line}-p`))!.state).toBe("queued");
  });

  it("offers a session that waits on an offer-to-all line to operators who come online meanwhile", async () => {
    const a = await p.operator({ name: "a" });
    const b = await p.operator({ name: "b", online: false });
    const line = await p.line({ distribution: "all", noAnswerTimeoutMs: 60_000 }, [a.id, b.id]);
    await p.customerWrites(`${line}-late`, line, "hello");
    expect(await offeredTo(`${line}-late`)).toEqual([a.id]);
    await p.advance(10_000);
    await p.router.setPresence(b.id, "online");
    await p.settled();
    expect((await offeredTo(`${line}-late`)).sort()).toEqual([a.id, b.id].sort());
    const s = (await p.router.latestOfChat(`${line}-late`))!;
    // The newcomer's offer ends with the others'.
    expect(new Set((await p.router.offers(s.id)).map((o) => o.deadline)).size).toBe(1);
  });

  it("hands on offers of an operator removed from the line and returns a disabled operator's sessions to the queue", async () => {
    const a = await p.operator({ name: "a" });
    const b = await p.operator({ name: "b" });
    const line = await p.line({}, [a.id, b.id]);
    await p.customerWrites(`${line}-1`, line, "hello");
    expect(await offeredTo(`${line}-1`)).toEqual([a.id]);
    await p.ctx.services.lines.store.setOperators(line, [b.id]);
    await p.router.lineOperatorsChanged(line);
    expect(await offeredTo(`${line}-1`)).toEqual([b.id]);
    const s = (await p.router.latestOfChat(`${line}-1`))!;
    await p.router.take(s.id, b.id);
    await p.ctx.services.lines.store.setOperators(line, [a.id, b.id]);
    await p.router.releaseOperator(b.id);
    await p.settled();
    expect((await p.router.session(s.id))!.state).toBe("offered");
    expect(await offeredTo(`${line}-1`)).toEqual([a.id]);
  });
});
