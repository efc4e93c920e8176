import { randomBytes } from "node:crypto";
import { OpenlinesError } from "@openlines/protocol";
import { sql } from "kysely";
import type { Presence } from "../auth/accounts.js";
import type { PortalContext } from "../context.js";
import type { ChatView, MessageView } from "../messages/types.js";
import type { SessionTable } from "../store/lines-schema.js";
import { isOpen } from "./hours.js";
import { KeyedMutex } from "./mutex.js";
import { median, renderNotice } from "./queue-notice.js";
import type { Line } from "./settings.js";
import { type LineStore, type SessionView, toSession } from "./store.js";

type Timer = { cancel(): void };

let idCounter = 0;
/**
 * Session ids sort by creation: queue order ties (two sessions in the same millisecond) are
 * broken by id, so it must follow arrival, not chance.
 */
function sessionId(now: number): string {
  idCounter = (idCounter + 1) % 36 ** 4;
  return `${now.toString(36).padStart(9, "0")}${idCounter.toString(36).padStart(4, "0")}${randomBytes(6).toString("hex")}`;
}
const RATING = /^\s*([1-5])\s*[.!]?\s*$/;

/**
 * The session router (issue 5, items 5 and 7). It opens a session for a chat's first message (or
 * the first after a closed one), answers with the welcome or out-of-hours text, queues it on the
 * chat's line and offers it to operators by the line's rule; it passes an unanswered offer on,
 * closes idle sessions, asks for and stores the rating, and tells waiting customers their place.
 *
 * Waiting is done with one clock timer per pending offer, per active session (inactivity) and per
 * waiting session (long-wait notice). Deadlines live in the database, so `restore()` re-arms the
 * timers after a restart; an idle portal has no timers and does no work. An inactivity timer
 * is not moved on every message: when it fires it reads the current deadline and re-arms if the
 * session was active since, which keeps message handling free of timer churn.
 */
export class SessionRouter {
  readonly #ctx: PortalContext;
  readonly #lines: LineStore;
  readonly #locks = new KeyedMutex();
  readonly #timers = new Map<string, Timer>();
  readonly #tasks = new Set<Promise<unknown>>();
  #stopped = false;

  constructor(ctx: PortalContext, lines: LineStore) {
    this.#ctx = ctx;
    this.#lines = lines;
  }

  get #db() {
    return this.#ctx.database.db;
  }
  #now() {
    return this.#ctx.clock.now();
  }

  // ---- background bookkeeping -------------------------------------------------------------

  /** Runs work started by a timer or an event, logging its failure; tests await `settled()`. */
  background(what: string, fn: () => Promise<unknown>): void {
    this.#background(what, fn);
  }

  #background(what: string, fn: () => Promise<unknown>): void {
    const p = fn().catch((err) => this.#ctx.log.error({ err, what }, "session router task failed"));
    this.#tasks.add(p);
    p.finally(() => this.#tasks.delete(p));
  }

  /** Resolves when every task started so far (and those they started) has finished. */
  async settled(): Promise<void> {
    for (;;) {
      await this.#locks.idle();
      if (this.#tasks.size === 0) return;
      await Promise.all([...this.#tasks]);
    }
  }

  #arm(key: string, at: number, fn: () => Promise<unknown>): void {
    if (this.#stopped) return;
    this.#timers.get(key)?.cancel();
    const t = this.#ctx.clock.setTimer(Math.max(0, at - this.#now()), () => {
      this.#timers.delete(key);
      this.#background(key, fn);
    });
    this.#timers.set(key, t);
  }

  #disarm(key: string): void {
    this.#timers.get(key)?.cancel();
    this.#timers.delete(key);
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers.values()) t.cancel();
    this.#timers.clear();
  }

  /** Re-arms every timer from the deadlines stored in the database, and distributes waiting sessions. */
  async restore(): Promise<void> {
    const offers = await this.#db
      .selectFrom("session_offer")
      .selectAll()
      .where("state", "=", "pending")
      .execute();
    for (const o of offers)
      this.#arm(`offer:${o.session_id}:${o.operator_id}`, Number(o.deadline_ms), () =>
        this.expireOffer(o.session_id, o.operator_id),
      );
    const open = await this.#db.selectFrom("session").selectAll().where("state", "!=", "closed").execute();
    const lines = new Set<string>();
    for (const s of open) {
      if (s.state === "active" && s.inactivity_deadline_ms !== null)
        this.#armInactivity(s.id, Number(s.inactivity_deadline_ms));
      if (s.state !== "active" && s.long_wait_deadline_ms !== null)
        this.#armLongWait(s.id, Number(s.long_wait_deadline_ms));
      if (s.state === "queued") lines.add(s.line_id);
    }
    for (const l of lines) await this.distribute(l);
  }

  // ---- reading ------------------------------------------------------------------------------

  async session(id: string): Promise<SessionView | undefined> {
    const r = await this.#db.selectFrom("session").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toSession(r) : undefined;
  }

  async getSession(id: string): Promise<SessionView> {
    const s = await this.session(id);
    if (!s) throw new OpenlinesError("NOT_FOUND", "No session has this id.");
    return s;
  }

  /** The chat's newest session, open or closed. */
  async latestOfChat(chatId: string): Promise<SessionView | undefined> {
    const r = await this.#db
      .selectFrom("session")
      .selectAll()
      .where("chat_id", "=", chatId)
      .orderBy("opened_ms", "desc")
      .orderBy("id", "desc")
      .limit(1)
      .executeTakeFirst();
    return r ? toSession(r) : undefined;
  }

  /** Operators who should see what happens in a session: its operator, or while it waits, the line's. */
  async concerned(s: SessionView): Promise<string[]> {
    if (s.state === "active" && s.operatorId) return [s.operatorId];
    const ids = await this.#lines.operatorIds(s.lineId);
    if (s.operatorId && !ids.includes(s.operatorId)) ids.push(s.operatorId);
    return ids;
  }

  async #event(sessionId: string, type: string, operatorId: string | null, data?: unknown): Promise<void> {
    await this.#db
      .insertInto("session_event")
      .values({
        session_id: sessionId,
        type,
        operator_id: operatorId,
        data: data === undefined ? null : JSON.stringify(data),
        at_ms: this.#now(),
      })
      .execute();
  }

  async events(sessionId: string) {
    const rows = await this.#db
      .selectFrom("session_event")
      .selectAll()
      .where("session_id", "=", sessionId)
      .orderBy("seq")
      .execute();
    return rows.map((r) => ({
      type: r.type,
      operatorId: r.operator_id,
      data: r.data ? JSON.parse(r.data) : null,
      at: Number(r.at_ms),
    }));
  }

  /** Publishes `session.changed` to the operators concerned, and to `also` (who just lost it or its offer). */
  async #changed(
    id: string,
    reason: string,
    also: Array<string | null> = [],
  ): Promise<SessionView | undefined> {
    const s = await this.session(id);
    if (s) {
      const ids = new Set([...(await this.concerned(s)), ...also.filter((x): x is string => !!x)]);
      this.#ctx.bus.emit("session.changed", { session: s, reason, operatorIds: [...ids] });
    }
    return s;
  }

  async #system(chatId: string, text: string | null | undefined): Promise<void> {
    if (!text) return;
    const messages = this.#ctx.services.messages;
    if (!messages) return;
    try {
      await messages.sendSystem({ chatId, text });
    } catch (err) {
      this.#ctx.log.warn({ err, chatId }, "system message not sent");
    }
  }

  // ---- incoming messages --------------------------------------------------------------------

  /** `message.received`: a customer wrote. Opens a session or adds to the open one; takes a rating. */
  async onMessage(message: MessageView, chat: ChatView): Promise<void> {
    if (message.direction !== "in") return;
    await this.#locks.run(`chat:${chat.id}`, async () => {
      const last = await this.latestOfChat(chat.id);
      const now = this.#now();
      if (last && last.state !== "closed") {
        await this.#db
          .updateTable("session")
          .set({ last_activity_ms: now, unread: sql`unread + 1` as any })
          .where("id", "=", last.id)
          .execute();
        if (last.state === "active") await this.#pushInactivity(last.id, last.lineId);
        const s = (await this.session(last.id))!;
        this.#ctx.bus.emit("session.message", { session: s, message, operatorIds: await this.concerned(s) });
        return;
      }
      if (last && (await this.#takeRating(last, message))) return;
      const line = await this.#lines.find(chat.lineId);
      if (!line) {
        this.#ctx.log.warn(
          { line: chat.lineId, chat: chat.id },
          "message for a line the portal does not know",
        );
        return;
      }
      const s = await this.#open(line, chat, message);
      this.#ctx.bus.emit("session.message", { session: s, message, operatorIds: await this.concerned(s) });
    });
  }

  async #takeRating(last: SessionView, message: MessageView): Promise<boolean> {
    const row = await this.#db
      .selectFrom("session")
      .select(["rating", "rating_deadline_ms"])
      .where("id", "=", last.id)
      .executeTakeFirstOrThrow();
    const m = RATING.exec(message.text);
    if (
      !m ||
      row.rating !== null ||
      row.rating_deadline_ms === null ||
      Number(row.rating_deadline_ms) < this.#now()
    )
      return false;
    const rating = Number(m[1]);
    const r = await this.#db
      .updateTable("session")
      .set({ rating, rating_deadline_ms: null })
      .where("id", "=", last.id)
      .where("rating", "is", null)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return false;
    await this.#event(last.id, "rating", null, { rating });
    await this.#changed(last.id, "rating");
    return true;
  }

  async #open(line: Line, chat: ChatView, message: MessageView): Promise<SessionView> {
    const now = this.#now();
    const row: SessionTable = {
      id: sessionId(now),
      chat_id: chat.id,
      line_id: line.id,
      contact_id: chat.contactId ?? message.contactId ?? null,
      operator_id: null,
      state: "queued",
      opened_ms: now,
      queued_ms: now,
      answered_ms: null,
      closed_ms: null,
      close_reason: null,
      last_activity_ms: now,
      inactivity_deadline_ms: null,
      long_wait_deadline_ms:
        line.queueNotice.enabled && line.queueNotice.longWaitMs > 0
          ? now + line.queueNotice.longWaitMs
          : null,
      rating: null,
      rating_deadline_ms: null,
      unread: 1,
    };
    await this.#db.insertInto("session").values(row).execute();
    await this.#event(row.id, "open", null, { line: line.id });
    const open = isOpen(line.workingHours, now);
    if (open) await this.#system(chat.id, line.welcomeText);
    else await this.#system(chat.id, line.outOfHoursText);
    await this.distribute(line.id);
    const s = (await this.session(row.id))!;
    if (s.state === "queued" && open) await this.#queueNotice(s, line, line.queueNotice.template);
    if (row.long_wait_deadline_ms !== null && s.state !== "active")
      this.#armLongWait(s.id, row.long_wait_deadline_ms);
    return s;
  }

  // ---- queue position (item 7) --------------------------------------------------------------

  /** Place in the line's queue (1 = next) of a waiting session, and the estimated wait. */
  async queuePosition(s: SessionView, line: Line): Promise<{ place: number; waitMs: number }> {
    const ahead = await this.#db
      .selectFrom("session")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("line_id", "=", s.lineId)
      .where("state", "in", ["queued", "offered"])
      .where((eb) =>
        eb.or([
          eb("queued_ms", "<", s.queuedAt),
          eb.and([eb("queued_ms", "=", s.queuedAt), eb("id", "<", s.id)]),
        ]),
      )
      .executeTakeFirst();
    const place = Number(ahead?.n ?? 0) + 1;
    const recent = await this.#db
      .selectFrom("session")
      .select(["answered_ms", "queued_ms"])
      .where("line_id", "=", s.lineId)
      .where("answered_ms", "is not", null)
      .orderBy("answered_ms", "desc")
      .limit(line.queueNotice.sampleSize)
      .execute();
    const typical =
      median(recent.map((r) => Number(r.answered_ms) - Number(r.queued_ms))) ??
      line.queueNotice.defaultAnswerMs;
    return { place, waitMs: typical * place };
  }

  async #queueNotice(s: SessionView, line: Line, template: string): Promise<void> {
    if (!line.queueNotice.enabled) return;
    const { place, waitMs } = await this.queuePosition(s, line);
    await this.#system(s.chatId, renderNotice(template, place, waitMs));
    await this.#event(s.id, "queueNotice", null, { place, waitMs });
  }

  #armLongWait(sessionId: string, at: number): void {
    this.#arm(`wait:${sessionId}`, at, async () => {
      const s = await this.session(sessionId);
      if (!s || (s.state !== "queued" && s.state !== "offered")) return;
      const r = await this.#db
        .updateTable("session")
        .set({ long_wait_deadline_ms: null })
        .where("id", "=", sessionId)
        .where("long_wait_deadline_ms", "is not", null)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return;
      const line = await this.#lines.find(s.lineId);
      if (line) await this.#queueNotice(s, line, line.queueNotice.longWaitTemplate);
    });
  }

  // ---- distribution ---------------------------------------------------------------------------

  /** The line's operators in round robin order with their load and whether they can take one more. */
  async candidates(line: Line): Promise<Array<{ id: string; load: number; free: boolean }>> {
    if (line.operatorIds.length === 0) return [];
    const ops = await this.#db
      .selectFrom("operator")
      .select(["id", "presence", "status", "max_chats"])
      .where("id", "in", line.operatorIds)
      .execute();
    const active = await this.#db
      .selectFrom("session")
      .select(["operator_id", (eb) => eb.fn.countAll().as("n")])
      .where("operator_id", "in", line.operatorIds)
      .where("state", "=", "active")
      .groupBy("operator_id")
      .execute();
    const offered = await this.#db
      .selectFrom("session_offer")
      .select(["operator_id", (eb) => eb.fn.countAll().as("n")])
      .where("operator_id", "in", line.operatorIds)
      .where("state", "=", "pending")
      .where("exclusive", "=", 1)
      .groupBy("operator_id")
      .execute();
    const count = (list: Array<{ operator_id: string | null; n: unknown }>, id: string) =>
      Number(list.find((r) => r.operator_id === id)?.n ?? 0);
    const out: Array<{ id: string; load: number; free: boolean }> = [];
    for (const id of line.operatorIds) {
      const op = ops.find((o) => o.id === id);
      if (op?.status !== "active" || op.presence !== "online") continue;
      const load = count(active, id) + count(offered, id);
      const caps = [op.max_chats, line.maxChatsPerOperator]
        .filter((c): c is number => c !== null)
        .map(Number);
      out.push({ id, load, free: load < Math.min(Infinity, ...caps) });
    }
    return out;
  }

  /** Offers every waiting session of the line, oldest first, while operators can take them. */
  distribute(lineId: string): Promise<void> {
    return this.#locks.run(`line:${lineId}`, async () => {
      const line = await this.#lines.find(lineId);
      if (!line) return;
      const queued = await this.#db
        .selectFrom("session")
        .select("id")
        .where("line_id", "=", lineId)
        .where("state", "=", "queued")
        .orderBy("queued_ms")
        .orderBy("id")
        .execute();
      for (const q of queued) if (!(await this.#offer(q.id, line))) break;
      if (line.distribution === "all") await this.#widenOffers(line);
    });
  }

  /** Offer-to-all: operators who became free since a session was offered get it too, until its deadline. */
  async #widenOffers(line: Line): Promise<void> {
    const offered = await this.#db
      .selectFrom("session")
      .select("id")
      .where("line_id", "=", line.id)
      .where("state", "=", "offered")
      .execute();
    if (offered.length === 0) return;
    const free = (await this.candidates(line)).filter((c) => c.free).map((c) => c.id);
    if (free.length === 0) return;
    for (const { id } of offered) {
      const pending = await this.offers(id);
      const joiners = free.filter((op) => !pending.some((o) => o.operatorId === op));
      if (joiners.length === 0 || pending.length === 0) continue;
      const deadline = Math.max(...pending.map((o) => o.deadline));
      await this.#db
        .deleteFrom("session_offer")
        .where("session_id", "=", id)
        .where("operator_id", "in", joiners)
        .execute();
      await this.#db
        .insertInto("session_offer")
        .values(
          joiners.map((operator_id) => ({
            session_id: id,
            operator_id,
            state: "pending",
            exclusive: 0,
            offered_ms: this.#now(),
            deadline_ms: deadline,
          })),
        )
        .execute();
      for (const op of joiners) this.#arm(`offer:${id}:${op}`, deadline, () => this.expireOffer(id, op));
      this.#ctx.bus.emit("session.offered", {
        session: (await this.session(id))!,
        operatorIds: joiners,
        deadline,
      });
    }
  }

  /**
   * The line's operators changed: offers to operators no longer on it pass on, and waiting
   * sessions are offered to the new ones.
   */
  async lineOperatorsChanged(lineId: string): Promise<void> {
    const members = await this.#lines.operatorIds(lineId);
    const stale = await this.#db
      .selectFrom("session_offer")
      .innerJoin("session", "session.id", "session_offer.session_id")
      .select(["session_offer.session_id as sessionId", "session_offer.operator_id as operatorId"])
      .where("session.line_id", "=", lineId)
      .where("session_offer.state", "=", "pending")
      .execute();
    for (const o of stale)
      if (!members.includes(o.operatorId))
        await this.expireOffer(o.sessionId, o.operatorId, "removedFromLine");
    await this.distribute(lineId);
  }

  /**
   * An operator was disabled or deleted: their offers pass on and their active sessions go back to
   * their lines' queues.
   */
  async releaseOperator(operatorId: string): Promise<void> {
    await this.setPresence(operatorId, "offline");
    const active = await this.#db
      .selectFrom("session")
      .select(["id", "line_id"])
      .where("operator_id", "=", operatorId)
      .where("state", "=", "active")
      .execute();
    for (const s of active) {
      this.#disarm(`inactivity:${s.id}`);
      await this.#db
        .updateTable("session")
        .set({ state: "queued", operator_id: null, inactivity_deadline_ms: null })
        .where("id", "=", s.id)
        .where("state", "=", "active")
        .execute();
      await this.#event(s.id, "release", operatorId);
      await this.#changed(s.id, "release", [operatorId]);
    }
    for (const lineId of new Set(active.map((s) => s.line_id))) await this.distribute(lineId);
  }

  /** Sessions of the line that are not closed (a line with open sessions is not deleted). */
  async openSessions(lineId: string): Promise<number> {
    const r = await this.#db
      .selectFrom("session")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("line_id", "=", lineId)
      .where("state", "!=", "closed")
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async #offer(sessionId: string, line: Line): Promise<boolean> {
    const all = await this.candidates(line);
    const tried = await this.#db
      .selectFrom("session_offer")
      .select("operator_id")
      .where("session_id", "=", sessionId)
      .where("state", "!=", "pending")
      .execute();
    const passed = new Set(tried.map((t) => t.operator_id));
    let free = all.filter((c) => c.free && !passed.has(c.id));
    if (free.length === 0 && passed.size > 0 && all.some((c) => c.free)) {
      // Everyone free has had a chance: start a new round with all of them.
      await this.#db
        .deleteFrom("session_offer")
        .where("session_id", "=", sessionId)
        .where("state", "!=", "pending")
        .execute();
      free = all.filter((c) => c.free);
    }
    if (free.length === 0) return false;
    let chosen: string[];
    if (line.distribution === "all") chosen = free.map((c) => c.id);
    else {
      const pointer = await this.#lines.roundRobinPointer(line.id);
      const start = pointer ? line.operatorIds.indexOf(pointer) + 1 : 0;
      const order = [...line.operatorIds.slice(start), ...line.operatorIds.slice(0, start)];
      const ranked = order.map((id) => free.find((c) => c.id === id)).filter((c) => c !== undefined);
      if (line.distribution === "leastBusy") {
        const least = Math.min(...ranked.map((c) => c.load));
        chosen = [ranked.find((c) => c.load === least)!.id];
      } else chosen = [ranked[0].id];
      await this.#lines.setRoundRobinPointer(line.id, chosen[0]);
    }
    const now = this.#now();
    const deadline = now + line.noAnswerTimeoutMs;
    const exclusive = line.distribution === "all" ? 0 : 1;
    const r = await this.#db
      .updateTable("session")
      .set({ state: "offered" })
      .where("id", "=", sessionId)
      .where("state", "=", "queued")
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return true;
    await this.#db
      .deleteFrom("session_offer")
      .where("session_id", "=", sessionId)
      .where("operator_id", "in", chosen)
      .execute();
    await this.#db
      .insertInto("session_offer")
      .values(
        chosen.map((operator_id) => ({
          session_id: sessionId,
          operator_id,
          state: "pending",
          exclusive,
          offered_ms: now,
          deadline_ms: deadline,
        })),
      )
      .execute();
    await this.#event(sessionId, "offer", null, { operators: chosen, distribution: line.distribution });
    for (const op of chosen)
      this.#arm(`offer:${sessionId}:${op}`, deadline, () => this.expireOffer(sessionId, op));
    const s = (await this.session(sessionId))!;
    this.#ctx.bus.emit("session.offered", { session: s, operatorIds: chosen, deadline });
    return true;
  }

  /** Pending offers of a session, with their deadlines. */
  async offers(sessionId: string) {
    const rows = await this.#db
      .selectFrom("session_offer")
      .selectAll()
      .where("session_id", "=", sessionId)
      .where("state", "=", "pending")
      .execute();
    return rows.map((r) => ({ operatorId: r.operator_id, deadline: Number(r.deadline_ms) }));
  }

  /** An offer's time ran out (or its operator went away): when no offer is left, the session passes on. */
  async expireOffer(sessionId: string, operatorId: string, reason = "noAnswer"): Promise<void> {
    const s = await this.session(sessionId);
    if (!s) return;
    await this.#locks.run(`line:${s.lineId}`, async () => {
      const r = await this.#db
        .updateTable("session_offer")
        .set({ state: "expired" })
        .where("session_id", "=", sessionId)
        .where("operator_id", "=", operatorId)
        .where("state", "=", "pending")
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return;
      this.#disarm(`offer:${sessionId}:${operatorId}`);
      const left = await this.offers(sessionId);
      if (left.length > 0) return;
      const back = await this.#db
        .updateTable("session")
        .set({ state: "queued" })
        .where("id", "=", sessionId)
        .where("state", "=", "offered")
        .executeTakeFirst();
      if (Number(back.numUpdatedRows) === 0) return;
      await this.#event(sessionId, "passOn", operatorId, { reason });
    });
    await this.#changed(sessionId, "passOn", [operatorId]);
    await this.distribute(s.lineId);
  }

  async #clearOffers(sessionId: string): Promise<void> {
    const pending = await this.offers(sessionId);
    for (const o of pending) this.#disarm(`offer:${sessionId}:${o.operatorId}`);
    await this.#db.deleteFrom("session_offer").where("session_id", "=", sessionId).execute();
  }

  // ---- operator actions -------------------------------------------------------------------------

  /** An operator takes a waiting session (or answers it, which takes it). CONFLICT when someone was faster. */
  async take(sessionId: string, operatorId: string): Promise<SessionView> {
    const s = await this.getSession(sessionId);
    if (s.state === "active" && s.operatorId === operatorId) return s;
    const now = this.#now();
    const line = await this.#lines.get(s.lineId);
    const r = await this.#db
      .updateTable("session")
      .set({
        state: "active",
        operator_id: operatorId,
        answered_ms: s.answeredAt ?? now,
        last_activity_ms: now,
        long_wait_deadline_ms: null,
        inactivity_deadline_ms: line.inactivityTimeoutMs > 0 ? now + line.inactivityTimeoutMs : null,
      })
      .where("id", "=", sessionId)
      .where("state", "in", ["queued", "offered"])
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0)
      throw new OpenlinesError("CONFLICT", "This session was already taken or closed.", {
        details: { state: s.state },
      });
    const offeredTo = (await this.offers(sessionId)).map((o) => o.operatorId);
    await this.#clearOffers(sessionId);
    this.#disarm(`wait:${sessionId}`);
    if (line.inactivityTimeoutMs > 0) this.#armInactivity(sessionId, now + line.inactivityTimeoutMs);
    await this.#event(sessionId, "take", operatorId);
    const out = (await this.#changed(sessionId, "take", offeredTo))!;
    return out;
  }

  /** An operator wrote in an active session: it counts as activity (inactivity close moves on). */
  async touch(sessionId: string): Promise<void> {
    const s = await this.session(sessionId);
    if (s?.state !== "active") return;
    await this.#db
      .updateTable("session")
      .set({ last_activity_ms: this.#now() })
      .where("id", "=", sessionId)
      .execute();
    await this.#pushInactivity(sessionId, s.lineId);
  }

  async markRead(sessionId: string): Promise<void> {
    await this.#db.updateTable("session").set({ unread: 0 }).where("id", "=", sessionId).execute();
  }

  /** Hands the session to another operator (it becomes theirs at once) or to another line's queue. */
  async transfer(
    sessionId: string,
    by: string,
    to: { operatorId?: string; lineId?: string },
  ): Promise<SessionView> {
    const s = await this.getSession(sessionId);
    if (s.state === "closed") throw new OpenlinesError("CONFLICT", "The session is closed.");
    const now = this.#now();
    if (to.lineId && to.lineId !== s.lineId) {
      const line = await this.#lines.get(to.lineId);
      await this.#clearOffers(sessionId);
      this.#disarm(`inactivity:${sessionId}`);
      if (to.operatorId) {
        await this.#db.updateTable("session").set({ line_id: line.id }).where("id", "=", sessionId).execute();
        return this.#assign(sessionId, to.operatorId, by, s);
      }
      await this.#db
        .updateTable("session")
        .set({
          line_id: line.id,
          state: "queued",
          operator_id: null,
          queued_ms: now,
          inactivity_deadline_ms: null,
        })
        .where("id", "=", sessionId)
        .execute();
      await this.#event(sessionId, "transfer", by, {
        fromLine: s.lineId,
        toLine: line.id,
        fromOperator: s.operatorId,
      });
      await this.#changed(sessionId, "transfer", [s.operatorId]);
      await this.distribute(line.id);
      await this.distribute(s.lineId);
      return this.getSession(sessionId);
    }
    if (!to.operatorId)
      throw new OpenlinesError("VALIDATION_FAILED", "Name an operator or a line to transfer to.");
    return this.#assign(sessionId, to.operatorId, by, s);
  }

  async #assign(
    sessionId: string,
    operatorId: string,
    by: string,
    before: SessionView,
  ): Promise<SessionView> {
    const op = await this.#db
      .selectFrom("operator")
      .select(["id", "status"])
      .where("id", "=", operatorId)
      .executeTakeFirst();
    if (op?.status !== "active") throw new OpenlinesError("NOT_FOUND", "No active operator has this id.");
    const now = this.#now();
    const session = await this.getSession(sessionId);
    const line = await this.#lines.get(session.lineId);
    await this.#clearOffers(sessionId);
    this.#disarm(`wait:${sessionId}`);
    await this.#db
      .updateTable("session")
      .set({
        state: "active",
        operator_id: operatorId,
        answered_ms: session.answeredAt ?? now,
        last_activity_ms: now,
        long_wait_deadline_ms: null,
        inactivity_deadline_ms: line.inactivityTimeoutMs > 0 ? now + line.inactivityTimeoutMs : null,
      })
      .where("id", "=", sessionId)
      .execute();
    if (line.inactivityTimeoutMs > 0) this.#armInactivity(sessionId, now + line.inactivityTimeoutMs);
    await this.#event(sessionId, "transfer", by, {
      fromOperator: before.operatorId,
      toOperator: operatorId,
      ...(before.lineId !== line.id ? { fromLine: before.lineId, toLine: line.id } : {}),
    });
    const out = (await this.#changed(sessionId, "transfer", [before.operatorId]))!;
    if (before.lineId !== line.id) await this.distribute(before.lineId);
    await this.distribute(line.id);
    return out;
  }

  /** Closes the session; asks for a rating when the line wants one (not when the customer left). */
  async close(sessionId: string, reason: string, by: string | null): Promise<SessionView> {
    const s = await this.getSession(sessionId);
    if (s.state === "closed") return s;
    const line = await this.#lines.find(s.lineId);
    const now = this.#now();
    const askRating = !!line?.ratingEnabled && reason !== "closedByUser" && s.answeredAt !== null;
    const r = await this.#db
      .updateTable("session")
      .set({
        state: "closed",
        closed_ms: now,
        close_reason: reason,
        inactivity_deadline_ms: null,
        long_wait_deadline_ms: null,
        rating_deadline_ms: askRating ? now + line!.ratingWindowMs : null,
      })
      .where("id", "=", sessionId)
      .where("state", "!=", "closed")
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return this.getSession(sessionId);
    await this.#clearOffers(sessionId);
    this.#disarm(`inactivity:${sessionId}`);
    this.#disarm(`wait:${sessionId}`);
    await this.#event(sessionId, "close", by, { reason });
    if (askRating) await this.#system(s.chatId, line!.ratingText);
    const out = (await this.#changed(sessionId, "close"))!;
    await this.distribute(s.lineId);
    return out;
  }

  // ---- inactivity ---------------------------------------------------------------------------------

  async #pushInactivity(sessionId: string, lineId: string): Promise<void> {
    const line = await this.#lines.find(lineId);
    if (!line || line.inactivityTimeoutMs <= 0) return;
    const deadline = this.#now() + line.inactivityTimeoutMs;
    await this.#db
      .updateTable("session")
      .set({ inactivity_deadline_ms: deadline })
      .where("id", "=", sessionId)
      .execute();
    if (!this.#timers.has(`inactivity:${sessionId}`)) this.#armInactivity(sessionId, deadline);
  }

  #armInactivity(sessionId: string, at: number): void {
    this.#arm(`inactivity:${sessionId}`, at, async () => {
      const row = await this.#db
        .selectFrom("session")
        .select(["state", "inactivity_deadline_ms"])
        .where("id", "=", sessionId)
        .executeTakeFirst();
      if (row?.state !== "active" || row.inactivity_deadline_ms === null) return;
      const deadline = Number(row.inactivity_deadline_ms);
      if (deadline > this.#now()) this.#armInactivity(sessionId, deadline);
      else await this.close(sessionId, "inactivity", null);
    });
  }

  // ---- presence -------------------------------------------------------------------------------------

  /** Online operators get waiting sessions; going away or offline hands their pending offers on. */
  async setPresence(operatorId: string, presence: Presence): Promise<void> {
    await this.#db
      .updateTable("operator")
      .set({ presence, updated_ms: this.#now() })
      .where("id", "=", operatorId)
      .execute();
    this.#ctx.bus.emit("operator.presence", { operatorId, presence });
    if (presence !== "online") {
      const pending = await this.#db
        .selectFrom("session_offer")
        .select("session_id")
        .where("operator_id", "=", operatorId)
        .where("state", "=", "pending")
        .execute();
      for (const p of pending) await this.expireOffer(p.session_id, operatorId, presence);
      return;
    }
    for (const lineId of await this.#lines.linesOf(operatorId)) await this.distribute(lineId);
  }
}
