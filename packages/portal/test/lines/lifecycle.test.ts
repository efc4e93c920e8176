import { describeEachDialect } from "@openlines/store/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isOpen } from "../../src/lines/hours.js";
import { renderNotice } from "../../src/lines/queue-notice.js";
import { startTestPortal, type TestPortal } from "../support/lines-harness.js";

const weekdays = {
  timezone: "Europe/Berlin",
  intervals: [1, 2, 3, 4, 5].map((day) => ({ day, from: "09:00", to: "18:00" })),
};

describe("working hours", () => {
  it("are open inside an interval in the line's time zone and closed outside it", () => {
    expect(isOpen(weekdays, Date.UTC(2026, 0, 5, 8, 0))).toBe(true); // Monday 09:00 Berlin
    expect(isOpen(weekdays, Date.UTC(2026, 0, 5, 7, 59))).toBe(false); // Monday 08:59 Berlin
    expect(isOpen(weekdays, Date.UTC(2026, 0, 5, 17, 0))).toBe(false); // Monday 18:00 Berlin
    expect(isOpen(weekdays, Date.UTC(2026, 0, 10, 12, 0))).toBe(false); // Saturday
    expect(isOpen(null, Date.UTC(2026, 0, 10, 12, 0))).toBe(true);
  });
});

describe("queue notice text", () => {
  it("fills place and wait into the template", () => {
    expect(renderNotice("You are number {place}; wait {wait} ({minutes} min) {other}", 3, 6 * 60_000)).toBe(
      "You are number 3; wait about 6 minutes (6 min) {other}",
    );
    expect(renderNotice("{wait}", 1, 20_000)).toBe("less than a minute");
  });
});

describeEachDialect("session lifecycle", (db) => {
  let p: TestPortal;
  beforeEach(async () => {
    p = await startTestPortal(db.url());
  });
  afterEach(async () => {
    await p.close();
  });

  it("welcomes inside working hours and answers with the out-of-hours text outside them", async () => {
    const a = await p.operator();
    const line = await p.line(
      {
        workingHours: weekdays,
        welcomeText: "Welcome!",
        outOfHoursText: "We are closed; we answer on Monday.",
      },
      [a.id],
    );
    await p.customerWrites(`${line}-in`, line, "hello"); // Monday 11:00 Berlin
    expect(p.messages.textsTo(`${line}-in`)).toEqual(["Welcome!"]);
    await p.advance(5 * 24 * 3600_000); // Saturday
    await p.customerWrites(`${line}-out`, line, "hello?");
    expect(p.messages.textsTo(`${line}-out`)).toEqual(["We are closed; we answer on Monday."]);
    expect((await p.router.latestOfChat(`${line}-out`))!.state).not.toBe("closed");
  });

  it("closes an idle session, asks for a rating and stores the customer's answer", async () => {
    const a = await p.operator();
    const line = await p.line({ inactivityTimeoutMs: 3600_000, ratingText: "Rate us 1-5" }, [a.id]);
    const chat = `${line}-rate`;
    await p.customerWrites(chat, line, "hello");
    const s = (await p.router.latestOfChat(chat))!;
    await p.router.take(s.id, a.id);
    await p.advance(30 * 60_000);
    await p.customerWrites(chat, line, "still there?"); // activity moves the deadline
    await p.advance(45 * 60_000);
    expect((await p.router.session(s.id))!.state).toBe("active");
    await p.advance(15 * 60_000);
    const closed = (await p.router.session(s.id))!;
    expect(closed).toMatchObject({ state: "closed", closeReason: "inactivity" });
    expect(p.messages.textsTo(chat).at(-1)).toBe("Rate us 1-5");
    await p.customerWrites(chat, line, "5");
    expect((await p.router.session(s.id))!.rating).toBe(5);
    expect((await p.router.latestOfChat(chat))!.id).toBe(s.id);
    // A later message opens a new session; the closed one keeps its rating.
    await p.customerWrites(chat, line, "one more question");
    const next = (await p.router.latestOfChat(chat))!;
    expect(next.id).not.toBe(s.id);
    expect(next.state).toBe("offered");
  });

  it("does not take a number as a rating after the rating window", async () => {
    const a = await p.operator();
    const line = await p.line({ ratingWindowMs: 60_000 }, [a.id]);
    const chat = `${line}-late`;
    await p.customerWrites(chat, line, "hello");
    const s = (await p.router.latestOfChat(chat))!;
    await p.router.take(s.id, a.id);
    await p.router.close(s.id, "operator", a.id);
    await p.advance(61_000);
    await p.customerWrites(chat, line, "4");
    expect((await p.router.session(s.id))!.rating).toBeNull();
    expect((await p.router.latestOfChat(chat))!.id).not.toBe(s.id);
  });

  it("transfers a session to another operator and to another line", async () => {
    const a = await p.operator({ name: "a" });
    const b = await p.operator({ name: "b" });
    const c = await p.operator({ name: "c" });
    const sales = await p.line({ name: "Sales" }, [c.id]);
    const line = await p.line({}, [a.id, b.id]);
    const chat = `${line}-t`;
    await p.customerWrites(chat, line, "hello");
    const s = (await p.router.latestOfChat(chat))!;
    await p.router.take(s.id, a.id);
    const toB = await p.router.transfer(s.id, a.id, { operatorId: b.id });
    expect(toB).toMatchObject({ state: "active", operatorId: b.id, lineId: line });
    const toSales = await p.router.transfer(s.id, b.id, { lineId: sales });
    expect(toSales).toMatchObject({ lineId: sales, state: "offered", operatorId: null });
    expect((await p.router.offers(s.id)).map((o) => o.operatorId)).toEqual([c.id]);
    const transfers = (await p.router.events(s.id)).filter((e) => e.type === "transfer").map((e) => e.data);
    expect(transfers).toEqual([
      { fromOperator: a.id, toOperator: b.id },
      { fromLine: line, toLine: sales, fromOperator: b.id },
    ]);
  });

  it("tells a waiting customer their place and estimated wait, and again when the wait grows long", async () => {
    const a = await p.operator({ online: false });
    const line = await p.line(
      {
        queueNotice: {
          enabled: true,
          template: "You are number {place}. Wait: {wait}.",
          longWaitMs: 10 * 60_000,
          longWaitTemplate: "Still waiting, number {place}.",
          sampleSize: 20,
          defaultAnswerMs: 2 * 60_000,
        },
      },
      [a.id],
    );
    await p.customerWrites(`${line}-q1`, line, "hello");
    await p.customerWrites(`${line}-q2`, line, "hello");
    expect(p.messages.textsTo(`${line}-q1`)).toEqual(["You are number 1. Wait: about 2 minutes."]);
    expect(p.messages.textsTo(`${line}-q2`)).toEqual(["You are number 2. Wait: about 4 minutes."]);
    // Answer q1 after 6 minutes: the line's median first-answer time becomes 6 minutes.
    await p.advance(6 * 60_000);
    await p.router.setPresence(a.id, "online");
    await p.settled();
    const s1 = (await p.router.latestOfChat(`${line}-q1`))!;
    await p.router.take(s1.id, a.id);
    await p.router.setPresence(a.id, "away");
    await p.settled();
    await p.customerWrites(`${line}-q3`, line, "hello");
    // q2 waits (its offer was handed back when A went away), q3 is second: 2 × 6 minutes.
    expect(p.messages.textsTo(`${line}-q3`)).toEqual(["You are number 2. Wait: about 12 minutes."]);
    await p.advance(4 * 60_000); // q2 has now waited 10 minutes
    expect(p.messages.textsTo(`${line}-q2`)).toEqual([
      "You are number 2. Wait: about 4 minutes.",
      "Still waiting, number 1.",
    ]);
    expect(p.messages.textsTo(`${line}-q1`)).toHaveLength(1);
  });

  it("closes an idle session on time after a restart, from the deadline stored in the database", async () => {
    const a = await p.operator();
    const line = await p.line({ inactivityTimeoutMs: 3600_000, ratingEnabled: false }, [a.id]);
    const chat = `${line}-restart`;
    await p.customerWrites(chat, line, "hello");
    const s = (await p.router.latestOfChat(chat))!;
    await p.router.take(s.id, a.id);
    await p.advance(20 * 60_000);
    const clock = p.clock;
    await p.close();
    p = await startTestPortal(db.url(), { clock });
    await p.advance(39 * 60_000);
    expect((await p.router.session(s.id))!.state).toBe("active");
    await p.advance(60_000);
    expect((await p.router.session(s.id))!).toMatchObject({ state: "closed", closeReason: "inactivity" });
    expect(p.messages.textsTo(chat)).toEqual([]);
  });
});
