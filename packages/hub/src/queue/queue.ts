import { EventEmitter } from "node:events";
import { type DeadLetter, OpenlinesError } from "@openlines/protocol";
import { sql } from "kysely";
import type { SecretBox } from "../store/settings-crypto.js";
import { Coalescer } from "./coalesce.js";
import { deliveryBody, postBatch } from "./deliver.js";
import { GroupCommitter } from "./group-commit.js";
import type {
  LineQueueState,
  Queue,
  QueuedPacket,
  QueueEventEmitter,
  QueueEventName,
  QueueEvents,
  QueueOptions,
} from "./interfaces.js";
import { blockUntil, type ResolvedOptions, resolveOptions } from "./options.js";
import {
  ackPackets,
  addWaiting,
  analyzeQueueTables,
  type ClaimedLine,
  claimLines,
  countDeadLetters,
  deleteDeadLetters,
  deleteLinePackets,
  existingLines,
  expireLine,
  insertPackets,
  inTransaction,
  listDeadLetters,
  markSent,
  nextWake,
  oldestPackets,
  type PgTarget,
  pgClaimReady,
  pgSettleTakenMany,
  readyLines,
  releaseLeases,
  renewLeases,
  retrying,
  settleFailure,
  settleSuccess,
  signalChange,
  stillQueued,
  type TakenBatch,
  workerTransaction,
} from "./sql.js";
import { type CrossInstanceWake, crossInstanceWake } from "./wake.js";

/** One line this instance holds: a request in flight, or a batch waiting for the portal's `ack`. */
interface Flight {
  line: ClaimedLine;
  controller: AbortController;
  done: Promise<void>;
  /** Set once the request has gone unanswered for `slowRequestMs`: it no longer takes a slot. */
  slow?: boolean;
  slowTimer?: { cancel(): void };
  awaiting?: { seqs: number[]; ids: string[]; timer: { cancel(): void } };
}

type Timer = { cancel(): void };

class TypedEmitter implements QueueEventEmitter {
  readonly #ee = new EventEmitter();
  on<E extends QueueEventName>(event: E, fn: (e: QueueEvents[E]) => void): void {
    this.#ee.on(event, fn);
  }
  off<E extends QueueEventName>(event: E, fn: (e: QueueEvents[E]) => void): void {
    this.#ee.off(event, fn);
  }
  once<E extends QueueEventName>(event: E, fn: (e: QueueEvents[E]) => void): void {
    this.#ee.once(event, fn);
  }
  emit<E extends QueueEventName>(event: E, e: QueueEvents[E]): void {
    this.#ee.emit(event, e);
  }
}

/** Creates the queue of one hub instance. See docs/queue.md for how it works. */
export function createQueue(options: QueueOptions): Queue {
  return new HubQueue(options);
}

/**
 * The worker is one "pump" at a time: it settles acknowledged batches, claims as many ready lines
 * as it has free slots (least recently served first, one batch per line per turn), launches their
 * deliveries, and, when nothing more is ready, arms one timer for the earliest block end or
 * foreign lease expiry. Every completion, enqueue, ack and cross-instance signal calls `wake()`,
 * which runs the pump again; nothing polls per line.
 */
class HubQueue implements Queue {
  readonly events = new TypedEmitter();
  readonly instanceId: string;
  readonly #o: ResolvedOptions;
  readonly #options: QueueOptions;
  readonly #committer: GroupCommitter;
  readonly #flights = new Map<string, Flight>();
  /** Lines claimed ahead of a free slot (leased to this instance), launched in claim order. */
  readonly #ahead: ClaimedLine[] = [];
  readonly #secrets = new Map<string, { sealed: string; secret: string }>();
  #running = false;
  #pumping: Promise<void> | undefined;
  #again = false;
  #checkAcks = false;
  #wakeTimer: Timer | undefined;
  #wakeAt: number | undefined;
  #retryTimer: Timer | undefined;
  #renewTimer: Timer | undefined;
  #cross: CrossInstanceWake | undefined;
  /** PostgreSQL: the `taken` answers of lines that finished together are settled in one statement. */
  readonly #settler: Coalescer<TakenBatch, number>;

  constructor(options: QueueOptions) {
    this.#options = options;
    this.#o = resolveOptions(options);
    this.instanceId = this.#o.instanceId;
    this.#committer = new GroupCommitter(
      options.database,
      this.instanceId,
      () => this.#o.clock.now(),
      () => this.#wake(),
    );
    this.#settler = new Coalescer((batches) =>
      retrying(() => pgSettleTakenMany(this.#pg, batches, this.instanceId, this.#o.clock.now())),
    );
  }

  get #db() {
    return this.#options.database.db;
  }

  /** Inside a transaction that changed the queue: the other instances hear of it when it commits. */
  #signalOthers(trx: Parameters<typeof signalChange>[0]): Promise<void> {
    return signalChange(trx, this.#options.database.dialect, this.instanceId);
  }
  /** PostgreSQL: the pool, for the hot statements prepared once per connection (sql.ts pgPrepared). */
  get #pg(): PgTarget {
    return this.#options.database.pgPool ?? this.#db;
  }
  get #box(): SecretBox {
    return this.#options.box;
  }

  enqueue(items: QueuedPacket[]): Promise<void> {
    return this.#committer.enqueue(items);
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    if (this.#options.database.dialect === "postgres") await analyzeQueueTables(this.#db);
    this.#cross = crossInstanceWake({
      database: this.#options.database,
      clock: this.#o.clock,
      instanceId: this.instanceId,
      checkMs: this.#o.crossInstanceCheckMs,
      wake: () => {
        if ([...this.#flights.values()].some((f) => f.awaiting)) this.#checkAcks = true;
        this.#wake();
      },
      onError: (error) => this.events.emit("worker:error", { where: "wake", error }),
    });
    await this.#cross.start();
    this.#wake();
  }

  async stop(): Promise<void> {
    if (!this.#running) {
      await this.#committer.drained();
      return;
    }
    this.#running = false;
    let bound: Timer | undefined;
    const deadline = new Promise<void>((r) => {
      bound = this.#o.clock.setTimer(this.#o.stopTimeoutMs, r);
    });
    this.#wakeTimer?.cancel();
    this.#retryTimer?.cancel();
    await this.#cross?.stop();
    await this.#pumping;
    this.#ahead.length = 0; // their leases go with the others' below
    for (const [id, f] of this.#flights) {
      if (f.awaiting) {
        f.awaiting.timer.cancel();
        this.#flights.delete(id);
      }
    }
    const pending = [...this.#flights.values()].map((f) => f.done);
    await Promise.race([Promise.allSettled(pending), deadline]);
    bound?.cancel();
    for (const f of this.#flights.values()) f.controller.abort();
    await Promise.allSettled(pending);
    this.#renewTimer?.cancel();
    this.#renewTimer = undefined;
    await this.#committer.drained();
    // Batches that waited for an ack stay queued (sent_ms set); whoever claims the line next resends
    // them. The other instances hear of the released lines now, not at the lease's end.
    await inTransaction(this.#db, async (trx) => {
      await releaseLeases(trx, this.instanceId);
      await this.#signalOthers(trx);
    });
    await this.#o.transport.close();
  }

  async ack(portalId: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const now = this.#o.clock.now();
    const perLine = await inTransaction(this.#db, async (trx) => {
      const m = await ackPackets(trx, portalId, ids, now);
      if (m.size > 0) await this.#signalOthers(trx);
      return m;
    });
    let count = 0;
    for (const [line, n] of perLine) {
      count += n;
      if (this.#flights.get(line)?.awaiting) this.#checkAcks = true;
    }
    this.events.emit("packet:acked", { portalId, count });
    if (this.#checkAcks) this.#wake();
    return count;
  }

  async deadLetters(portalId: string, o: { lineId?: string; limit?: number } = {}): Promise<DeadLetter[]> {
    const rows = await listDeadLetters(this.#db, portalId, { lineId: o.lineId, limit: o.limit ?? 100 });
    return rows.map((r) => ({
      id: r.id,
      line: r.line_id,
      connector: r.connector,
      type: r.type,
      created: r.created_ms,
      expiredAt: r.expired_ms,
      reason: r.reason,
      packet: JSON.parse(r.body),
    }));
  }

  async redrive(portalId: string, o: { lineId?: string; ids?: string[] } = {}): Promise<number> {
    const now = this.#o.clock.now();
    const { dialect } = this.#options.database;
    const moved = await inTransaction(this.#db, async (trx) => {
      const rows = await listDeadLetters(trx, portalId, o);
      const live = await existingLines(trx, [...new Set(rows.map((r) => r.line_connector_id))]);
      const back = rows.filter((r) => live.has(r.line_connector_id));
      if (back.length === 0) return 0;
      const added = await insertPackets(
        trx,
        dialect,
        back.map((r) => ({
          id: r.id,
          line_connector_id: r.line_connector_id,
          type: r.type,
          body: r.body,
          size: Buffer.byteLength(r.body),
          created_ms: now,
        })),
      );
      await addWaiting(trx, added, now);
      await deleteDeadLetters(
        trx,
        back.map((r) => r.seq),
      );
      await this.#signalOthers(trx);
      return back.length;
    });
    if (moved > 0) this.#wake();
    return moved;
  }

  async lineState(lineConnectorId: string): Promise<LineQueueState> {
    const row = await this.#db
      .selectFrom("line_connector")
      .select(["waiting", "attempts", "blocked_until", "first_failure_ms"])
      .where("id", "=", lineConnectorId)
      .executeTakeFirst();
    if (!row) throw new OpenlinesError("LINE_UNKNOWN", "No line connector has this id.");
    return {
      waiting: Number(row.waiting),
      attempts: Number(row.attempts),
      blockedUntil: row.blocked_until === null ? null : Number(row.blocked_until),
      firstFailureAt: row.first_failure_ms === null ? null : Number(row.first_failure_ms),
      deadLetters: await countDeadLetters(this.#db, lineConnectorId),
    };
  }

  // --- the worker ---

  #wake(): void {
    if (!this.#running) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = this.#pump().finally(() => {
      this.#pumping = undefined;
      // A wake that came after the pump's last look but before it finished must not be lost.
      if (this.#again) this.#wake();
      else if (this.#flights.size === 0) this.events.emit("worker:idle", { timerAt: this.#wakeAt ?? null });
    });
  }

  async #pump(): Promise<void> {
    try {
      do {
        this.#again = false;
        if (this.#checkAcks) {
          this.#checkAcks = false;
          await this.#settleAcked();
        }
        const free = this.#freeSlots();
        if (free <= 0 || !this.#running) break;
        const now = this.#o.clock.now();
        let short = false;
        if (this.#ahead.length < free) {
          // Claim the lines for these slots and a round's worth more, held here in order: one
          // claim statement (a scan of the ready lines) serves many deliveries.
          const want = free - this.#ahead.length + this.#o.concurrency;
          const claimed = await this.#claim(now, want);
          if (!this.#running) {
            await releaseLeases(
              this.#db,
              this.instanceId,
              claimed.map((l) => l.id),
            );
            break;
          }
          this.#ahead.push(...claimed);
          short = claimed.length < want;
        }
        // Launch before looking up the next wake time, so no line waits behind that query.
        for (const line of this.#ahead.splice(0, free)) this.#launch(line);
        if (short && !this.#again) await this.#armWakeTimer(now);
      } while (this.#again && this.#running);
    } catch (error) {
      this.events.emit("worker:error", { where: "pump", error });
      // The database is unreachable or refused: look again in a second, with one timer.
      this.#retryTimer?.cancel();
      this.#retryTimer = this.#o.clock.setTimer(1000, () => this.#wake());
    }
  }

  /** Claims up to `limit` ready lines not held here, least recently served first, with their oldest packets. */
  #claim(now: number, limit: number): Promise<ClaimedLine[]> {
    const me = this.instanceId;
    const held = [...this.#flights.keys(), ...this.#ahead.map((l) => l.id)];
    return this.#options.database.dialect === "postgres"
      ? pgClaimReady(this.#pg, now, me, held, limit, this.#o.leaseMs, this.#o.batchMaxPackets)
      : workerTransaction(this.#options.database, async (trx) =>
          claimLines(trx, await readyLines(trx, now, me, held, limit), now, me, this.#o.leaseMs),
        );
  }

  /** `now` is the time the ready lines were read at: whatever was not ready then is found here. */
  async #armWakeTimer(now: number): Promise<void> {
    const at = await nextWake(this.#db, now, this.instanceId);
    this.#wakeTimer?.cancel();
    this.#wakeTimer = undefined;
    this.#wakeAt = undefined;
    if (at === null || !this.#running) return;
    // Time may have moved while the query ran: measure the wait from the clock as it is now.
    const wait = at - this.#o.clock.now();
    if (wait <= 0) {
      this.#again = true;
    } else {
      this.#wakeAt = at;
      this.#wakeTimer = this.#o.clock.setTimer(wait, () => {
        this.#wakeTimer = undefined;
        this.#wakeAt = undefined;
        this.#wake();
      });
    }
  }

  /**
   * Slots for new lines. A request that is slow to answer, or a batch waiting for its ack, keeps
   * its line but frees its slot, so an unresponsive portal cannot hold every slot for the whole
   * request timeout and delay the other portals; all held lines together stay under 4 × concurrency.
   */
  #freeSlots(): number {
    let active = 0;
    for (const f of this.#flights.values()) if (!f.slow && !f.awaiting) active++;
    return Math.min(this.#o.concurrency - active, 4 * this.#o.concurrency - this.#flights.size);
  }

  #launch(line: ClaimedLine): void {
    const flight: Flight = { line, controller: new AbortController(), done: Promise.resolve() };
    flight.slowTimer = this.#o.clock.setTimer(this.#o.slowRequestMs, () => {
      flight.slowTimer = undefined;
      flight.slow = true;
      this.#wake();
    });
    this.#flights.set(line.id, flight);
    this.#keepLeases();
    flight.done = this.#deliver(flight)
      .catch(async (error) => {
        this.events.emit("worker:error", { where: "deliver", error });
        flight.awaiting?.timer.cancel();
        flight.awaiting = undefined;
        await releaseLeases(this.#db, this.instanceId, [line.id]).catch(() => {});
      })
      .finally(() => {
        if (!flight.awaiting) {
          this.#land(line.id);
          this.#wake();
        }
      });
  }

  /** One timer renews the leases of every line held, while any is held. */
  #keepLeases(): void {
    if (this.#renewTimer || this.#flights.size === 0) return;
    this.#renewTimer = this.#o.clock.setTimer(Math.max(1, Math.floor(this.#o.leaseMs / 3)), () => {
      this.#renewTimer = undefined;
      if (this.#flights.size === 0) return;
      const until = this.#o.clock.now() + this.#o.leaseMs;
      const held = [...this.#flights.keys(), ...this.#ahead.map((l) => l.id)];
      renewLeases(this.#db, this.instanceId, held, until)
        .catch((error) => this.events.emit("worker:error", { where: "lease", error }))
        .finally(() => this.#keepLeases());
    });
  }

  #secret(line: ClaimedLine): string {
    const cached = this.#secrets.get(line.portal_id);
    if (cached && cached.sealed === line.secret_enc) return cached.secret;
    const secret = this.#box.open(line.secret_enc);
    this.#secrets.set(line.portal_id, { sealed: line.secret_enc, secret });
    return secret;
  }

  async #deliver(flight: Flight): Promise<void> {
    const { line } = flight;
    const me = this.instanceId;
    const o = this.#o;
    const start = o.clock.now();
    if (line.first_failure_ms !== null && start >= line.first_failure_ms + o.expireAfterMs) {
      const reason = `not delivered within ${o.expireAfterMs} ms of the first failed try`;
      const ids = await inTransaction(this.#db, (trx) => expireLine(trx, line, me, start, reason));
      if (ids.length > 0) this.events.emit("packet:expired", { lineConnectorId: line.id, ids });
      return;
    }
    const rows = line.packets?.length
      ? line.packets
      : await oldestPackets(this.#db, line.id, o.batchMaxPackets);
    line.packets = undefined;
    const batch = [];
    let bytes = 0;
    for (const r of rows) {
      if (batch.length > 0 && bytes + r.size > o.batchMaxBytes) break;
      batch.push(r);
      bytes += r.size;
    }
    if (batch.length === 0) {
      // `waiting` said there were packets but there are none: repair the count, free the line.
      await this.#db
        .updateTable("line_connector")
        .set({
          waiting: sql`(select count(*) from packet where line_connector_id = ${line.id})`,
          lease_owner: null,
          lease_until: null,
        })
        .where("id", "=", line.id)
        .execute();
      return;
    }
    let secret: string;
    try {
      secret = this.#secret(line);
    } catch (error) {
      await this.#fail(line, "the portal's secret cannot be opened", error);
      return;
    }
    const outcome = await postBatch({
      transport: o.transport,
      clock: o.clock,
      url: `${line.base_url.replace(/\/+$/, "")}/connector/input`,
      secret,
      body: deliveryBody(
        line.portal_id,
        line.line_id,
        batch.map((b) => b.body),
      ),
      timeoutMs: o.requestTimeoutMs,
      signal: flight.controller.signal,
    });
    const batchIds = new Set(batch.map((b) => b.id));
    if (outcome.kind === "aborted" || (outcome.kind === "failed" && !this.#running)) {
      await releaseLeases(this.#db, me, [line.id]);
      return;
    }
    if (outcome.kind === "failed") {
      await this.#fail(line, outcome.reason, outcome.error);
      return;
    }
    if (outcome.kind === "taken") {
      const taken = [...new Set(outcome.ids.filter((id) => batchIds.has(id)))];
      if (taken.length === 0) {
        await this.#fail(line, "the portal took none of the batch");
        return;
      }
      const now = o.clock.now();
      const takenIds = new Set(taken);
      const n =
        this.#options.database.dialect === "postgres"
          ? await this.#settler.call({
              line: line.id,
              seqs: batch.filter((b) => takenIds.has(b.id)).map((b) => b.seq),
            })
          : await workerTransaction(this.#options.database, async (trx) => {
              const deleted = await deleteLinePackets(trx, line.id, taken);
              await settleSuccess(trx, line.id, me, now, deleted);
              return deleted;
            });
      this.events.emit("batch:delivered", {
        lineConnectorId: line.id,
        portalId: line.portal_id,
        taken: n,
        remaining: batch.length - taken.length,
      });
      return;
    }
    // accepted: the portal acknowledges later through ack(); the line stays held until then.
    const now = o.clock.now();
    const seqs = batch.map((b) => b.seq);
    await markSent(this.#db, seqs, now);
    flight.slowTimer?.cancel();
    flight.slowTimer = undefined;
    flight.awaiting = {
      seqs,
      ids: [...batchIds],
      timer: o.clock.setTimer(o.ackDeadlineMs, () => void this.#ackDeadline(flight)),
    };
    this.events.emit("batch:accepted", {
      lineConnectorId: line.id,
      portalId: line.portal_id,
      ids: [...batchIds],
      deadline: now + o.ackDeadlineMs,
    });
    // The ack may have come before the answer did.
    this.#checkAcks = true;
  }

  async #fail(line: ClaimedLine, reason: string, error?: unknown, sentSeqs?: number[]): Promise<void> {
    const now = this.#o.clock.now();
    const attempts = line.attempts + 1;
    const first = line.first_failure_ms ?? now;
    const until = blockUntil(this.#o, attempts, now, first);
    await inTransaction(this.#db, async (trx) => {
      if (sentSeqs) await markSent(trx, sentSeqs, null);
      await settleFailure(trx, line.id, this.instanceId, now, attempts, first, until);
      // The others arm their timer for this block's end too: the line does not depend on this
      // instance living until then.
      await this.#signalOthers(trx);
    });
    this.events.emit("batch:failed", { lineConnectorId: line.id, portalId: line.portal_id, reason, error });
    this.events.emit("line:blocked", { lineConnectorId: line.id, attempts, blockedUntil: until });
  }

  /** Finishes every awaiting batch whose packets have all been acknowledged. */
  async #settleAcked(): Promise<void> {
    const waiting = [...this.#flights.values()].filter((f) => f.awaiting);
    if (waiting.length === 0) return;
    const left = await stillQueued(
      this.#db,
      waiting.flatMap((f) => f.awaiting?.seqs ?? []),
    );
    for (const f of waiting) {
      if ((left.get(f.line.id) ?? 0) === 0 && f.awaiting) await this.#finishAwaiting(f, 0);
    }
  }

  async #finishAwaiting(f: Flight, remaining: number): Promise<void> {
    const a = f.awaiting;
    if (!a) return;
    a.timer.cancel();
    f.awaiting = undefined;
    try {
      const now = this.#o.clock.now();
      await inTransaction(this.#db, async (trx) => {
        if (remaining > 0) await markSent(trx, a.seqs, null);
        await settleSuccess(trx, f.line.id, this.instanceId, now);
      });
      this.events.emit("batch:delivered", {
        lineConnectorId: f.line.id,
        portalId: f.line.portal_id,
        taken: a.seqs.length - remaining,
        remaining,
      });
    } finally {
      this.#land(f.line.id);
      this.#again = true;
      this.#wake();
    }
  }

  async #ackDeadline(f: Flight): Promise<void> {
    const a = f.awaiting;
    if (!a || this.#flights.get(f.line.id) !== f) return;
    try {
      const remaining = (await stillQueued(this.#db, a.seqs)).get(f.line.id) ?? 0;
      if (remaining < a.seqs.length) {
        // Part (or all) was acknowledged: a success; the rest goes out again at once.
        await this.#finishAwaiting(f, remaining);
        return;
      }
      a.timer.cancel();
      f.awaiting = undefined;
      await this.#fail(f.line, `no ack within ${this.#o.ackDeadlineMs} ms`, undefined, a.seqs);
    } catch (error) {
      this.events.emit("worker:error", { where: "ack deadline", error });
      f.awaiting = undefined;
      await releaseLeases(this.#db, this.instanceId, [f.line.id]).catch(() => {});
    }
    this.#land(f.line.id);
    this.#wake();
  }

  /** A line is no longer held; with none held, the lease renewal timer goes too. */
  #land(lineId: string): void {
    this.#flights.get(lineId)?.slowTimer?.cancel();
    this.#flights.delete(lineId);
    if (this.#flights.size === 0) {
      this.#renewTimer?.cancel();
      this.#renewTimer = undefined;
    }
  }
}
