import type { PortalContext } from "../context.js";
import type { MessageServiceInternals } from "./service.js";

/**
 * Re-tries hand-overs the hub did not take, with one timer for the whole portal: it is set for the
 * earliest `next_try_ms` among unsent messages, and re-planned after each run and whenever a
 * hand-over fails. An idle portal has no timer. Several replicas may run it: a message is claimed
 * by moving its `next_try_ms` forward with a conditional update before it is tried.
 */
export class Outbox {
  #timer: { cancel(): void } | undefined;
  #at: number | undefined;
  #running = false;
  #stopped = false;

  constructor(
    private readonly ctx: PortalContext,
    private readonly messages: MessageServiceInternals,
    private readonly leaseMs = 60_000,
  ) {}

  /** Sets the single timer for the earliest due message, if any. */
  async plan(): Promise<void> {
    if (this.#stopped) return;
    const row = await this.ctx.database.db
      .selectFrom("message")
      .select((eb) => eb.fn.min("next_try_ms").as("next"))
      .where("status", "=", "unsent")
      .where("next_try_ms", "is not", null)
      .executeTakeFirst();
    const next = row?.next === null || row?.next === undefined ? undefined : Number(row.next);
    if (next === undefined) return;
    if (this.#at !== undefined && this.#at <= next) return;
    if (next <= this.ctx.clock.now()) {
      // Already due (planning raced with time): run now rather than wait for a zero timer.
      setImmediate(() => void this.run());
      return;
    }
    this.#timer?.cancel();
    this.#at = next;
    this.#timer = this.ctx.clock.setTimer(next - this.ctx.clock.now(), () => {
      this.#timer = undefined;
      this.#at = undefined;
      void this.run();
    });
  }

  /** Tries every due message once, then re-plans. */
  async run(): Promise<void> {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    try {
      const db = this.ctx.database.db;
      const now = this.ctx.clock.now();
      const due = await db
        .selectFrom("message")
        .select(["id", "next_try_ms"])
        .where("status", "=", "unsent")
        .where("deleted_ms", "is", null)
        .where("next_try_ms", "<=", now)
        .orderBy("next_try_ms")
        .limit(100)
        .execute();
      for (const m of due) {
        const claim = await db
          .updateTable("message")
          .set({ next_try_ms: now + this.leaseMs })
          .where("id", "=", m.id)
          .where("next_try_ms", "=", m.next_try_ms)
          .executeTakeFirst();
        if (Number(claim.numUpdatedRows) === 0) continue;
        try {
          await this.messages.handOver(m.id);
        } catch (e) {
          this.ctx.log.error({ err: e, messageId: m.id }, "outbox hand-over failed");
        }
      }
    } finally {
      this.#running = false;
    }
    await this.plan();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }
}
