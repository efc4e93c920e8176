import { EventEmitter } from "node:events";
import { type DeadLetter, OpenlinesError } from "@openlines/protocol";
import type { SecretBox } from "../store/settings-crypto.js";
import { Coalescer } from "./coalesce.js";
import { type DeliveryOutcome, deliveryBody, postBatch } from "./deliver.js";
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
  type BatchPacket,
  type ClaimedLine,
  claimLines,
  countDeadLetters,
  deleteDeadLetters,
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
  readBatches,
  readyLines,
  recountAndRelease,
  releaseLeases,
  renewLeases,
  retrying,
  settleFailure,
  settleSuccess,
  settleTakenMany,
  signalChange,
  stillQueued,
  type TakenBatch,
  workerTransaction,
} from "./sql.js";
import { type CrossInstanceWake, crossInstanceWake } from "./wake.js";

/**
 * One request to a portal in flight: it carries the batches of one or more of that portal's
 * lines (as many as fit in `batchMaxBytes`), and takes one slot of `concurrency`.
 */
interface Sending {
  controller: AbortController;
  /** Set once the request has gone unanswered for `slowRequestMs`: it no longer takes a slot. */
  slow: boolean;
  slowTimer?: { cancel(): void };
}

/** One line this instance holds: its batch in a request, or waiting for the portal's `ack`. */
interface Flight {
  line: ClaimedLine;
  sending: Sending;
  done: Promise<void>;
  awaiting?: { seqs: number[]; ids: string[]; timer: { cancel(): void } };
  /** Its batch was taken and the line has more packets. */
  more?: boolean;
}

/** A line's batch as it went out, and what the portal answered to the request carrying it. */
interface Sent {
  batch: BatchPacket[];
  /** The line had more packets than this batch took (a backlog). */
  more: boolean;
  outcome: DeliveryOutcome;
  /**
   * When the outcome came (the queue's clock): the lines of a failed request get the same block
   * end from it, so they become ready, and travel, together again.
   */
  at: number;
}

type Timer = { cancel(): void };

/** Most packets in one delivery request (the protocol's limit, `DeliveryRequest`). */
const REQUEST_MAX_PACKETS = 10_000;

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
  /** When the last claim that found fewer portals ready than wanted ran (performance.now()). */
  #caughtUpAt: number | undefined;
  /**
   * A line whose batch left packets behind has landed since the last claim began: the next claim
   * goes at once, linger or not, so a backlog drains batch after batch.
   */
  #backlogLanded = false;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #renewTimer: Timer | undefined;
  #cross: CrossInstanceWake | undefined;
  /**
   * The `taken` answers of lines that finished together are settled together: one statement on
   * PostgreSQL, one transaction elsewhere.
   */
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
      retrying(() =>
        options.database.dialect === "postgres"
          ? pgSettleTakenMany(this.#pg, batches, this.instanceId, this.#o.clock.now())
          : settleTakenMany(options.database, batches, this.instanceId, this.#o.clock.now()),
      ),
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
    clearTimeout(this.#lingerTimer);
    this.#lingerTimer = undefined;
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
    for (const f of this.#flights.values()) f.sending.controller.abort();
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
      else if (this.#flights.size === 0 && !this.#lingerTimer)
        this.events.emit("worker:idle", { timerAt: this.#wakeAt ?? null });
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
        const aheadPortals = new Set(this.#ahead.map((l) => l.portal_id)).size;
        if (aheadPortals < free && !this.#lingering()) {
          this.#backlogLanded = false;
          // Claim the ready lines of the portals for these slots and a round's worth more, held
          // here in order: one claim statement (a scan of the ready lines) serves many requests.
          const want = free - aheadPortals + this.#o.concurrency;
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
          short = new Set(claimed.map((l) => l.portal_id)).size < want;
          this.#caughtUpAt = short ? performance.now() : undefined;
        }
        // Launch before looking up the next wake time, so no line waits behind that query.
        for (let n = 0; n < free && this.#ahead.length > 0; n++) this.#launch(this.#nextPortalLines());
        if (short && !this.#again) await this.#armWakeTimer(now);
      } while (this.#again && this.#running);
    } catch (error) {
      this.events.emit("worker:error", { where: "pump", error });
      // The database is unreachable or refused: look again in a second, with one timer.
      this.#retryTimer?.cancel();
      this.#retryTimer = this.#o.clock.setTimer(1000, () => this.#wake());
    }
  }

  /**
   * Claims the ready lines (not held here) of up to `portals` portals, the portal whose line was
   * least recently served first, each portal's lines together, with their oldest packets.
   */
  #claim(now: number, portals: number): Promise<ClaimedLine[]> {
    const me = this.instanceId;
    const held = [...this.#flights.keys(), ...this.#ahead.map((l) => l.id)];
    return this.#options.database.dialect === "postgres"
      ? pgClaimReady(this.#pg, now, me, held, portals, this.#o.leaseMs, this.#o.batchMaxPackets)
      : workerTransaction(this.#options.database, async (trx) => {
          const ids = await readyLines(trx, now, me, held, portals);
          const lines = await claimLines(trx, ids, now, me, this.#o.leaseMs);
          await readBatches(trx, lines, this.#o.batchMaxPackets);
          return lines;
        });
  }

  /**
   * True while the worker, having caught up, waits out `lingerMs` before its next claim; one
   * timer wakes it at the end. Packets committed meanwhile go out together then.
   */
  #lingering(): boolean {
    if (this.#caughtUpAt === undefined || this.#o.lingerMs === 0 || this.#backlogLanded) return false;
    const left = this.#caughtUpAt + this.#o.lingerMs - performance.now();
    if (left <= 0) return false;
    this.#lingerTimer ??= setTimeout(() => {
      this.#lingerTimer = undefined;
      this.#wake();
    }, Math.ceil(left));
    return true;
  }

  /** Takes the lines held ahead for the first portal in line: they go out in one request. */
  #nextPortalLines(): ClaimedLine[] {
    const portal = this.#ahead[0]?.portal_id;
    const lines: ClaimedLine[] = [];
    let k = 0;
    for (const line of this.#ahead) {
      if (line.portal_id === portal) lines.push(line);
      else this.#ahead[k++] = line;
    }
    this.#ahead.length = k;
    return lines;
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
   * Slots for new requests. A request that is slow to answer, or a batch waiting for its ack,
   * keeps its lines but frees its slot, so an unresponsive portal cannot hold every slot for the
   * whole request timeout and delay the other portals; all requests held together stay under
   * 4 × concurrency.
   */
  #freeSlots(): number {
    const active = new Set<Sending>();
    const held = new Set<Sending>();
    for (const f of this.#flights.values()) {
      held.add(f.sending);
      if (!f.sending.slow && !f.awaiting) active.add(f.sending);
    }
    return Math.min(this.#o.concurrency - active.size, 4 * this.#o.concurrency - held.size);
  }

  /** Delivers the batches of these lines, all of one portal, in one request (see #send). */
  #launch(lines: ClaimedLine[]): void {
    const sending: Sending = { controller: new AbortController(), slow: false };
    sending.slowTimer = this.#o.clock.setTimer(this.#o.slowRequestMs, () => {
      sending.slowTimer = undefined;
      sending.slow = true;
      this.#wake();
    });
    const flights = lines.map((line) => {
      const flight: Flight = { line, sending, done: Promise.resolve() };
      this.#flights.set(line.id, flight);
      return flight;
    });
    this.#keepLeases();
    const sent = this.#send(sending, flights).finally(() => {
      sending.slowTimer?.cancel();
      sending.slowTimer = undefined;
    });
    for (const flight of flights) {
      const { line } = flight;
      flight.done = sent
        .then((all) => this.#settle(flight, all.get(line.id)))
        .catch(async (error) => {
          this.events.emit("worker:error", { where: "deliver", error });
          flight.awaiting?.timer.cancel();
          flight.awaiting = undefined;
          await releaseLeases(this.#db, this.instanceId, [line.id]).catch(() => {});
        })
        .finally(() => {
          if (!flight.awaiting) {
            this.#land(line.id);
            if (flight.more) this.#backlogLanded = true;
            this.#wake();
          }
        });
    }
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

  /**
   * Reads each line's batch (a line past its expiry moves to dead letters instead) and POSTs the
   * batches to their portal, as many lines per request as fit in `batchMaxBytes` (one line at
   * least; the requests of one portal go in parallel). A line with nothing to send is set right
   * here and gets no entry.
   */
  async #send(sending: Sending, flights: Flight[]): Promise<Map<string, Sent>> {
    const o = this.#o;
    const start = o.clock.now();
    const ready = (await Promise.all(flights.map((f) => this.#batchOf(f.line, start)))).filter(
      (r) => r !== undefined,
    );
    const sent = new Map<string, Sent>();
    const first = ready[0]?.line;
    if (!first) return sent;
    let secret: string;
    try {
      secret = this.#secret(first);
    } catch (error) {
      const outcome: DeliveryOutcome = {
        kind: "failed",
        reason: "the portal's secret cannot be opened",
        error,
      };
      const at = o.clock.now();
      for (const r of ready) sent.set(r.line.id, { batch: r.batch, more: r.more, outcome, at });
      return sent;
    }
    const requests: (typeof ready)[] = [];
    let bytes = Number.POSITIVE_INFINITY;
    let count = 0;
    for (const r of ready) {
      if (bytes + r.bytes > o.batchMaxBytes || count + r.batch.length > REQUEST_MAX_PACKETS) {
        requests.push([]);
        bytes = 0;
        count = 0;
      }
      requests[requests.length - 1]?.push(r);
      bytes += r.bytes;
      count += r.batch.length;
    }
    await Promise.all(
      requests.map(async (lines) => {
        const outcome = await postBatch({
          transport: o.transport,
          clock: o.clock,
          url: `${first.base_url.replace(/\/+$/, "")}/connector/input`,
          secret,
          body: deliveryBody(
            first.portal_id,
            lines.length === 1 ? lines[0]?.line.line_id : undefined,
            lines.flatMap((r) => r.batch.map((b) => b.body)),
          ),
          timeoutMs: o.requestTimeoutMs,
          signal: sending.controller.signal,
        });
        const at = o.clock.now();
        for (const r of lines) sent.set(r.line.id, { batch: r.batch, more: r.more, outcome, at });
      }),
    );
    return sent;
  }

  /** A line's oldest packets up to the batch limits; undefined when it has none to send. */
  async #batchOf(
    line: ClaimedLine,
    now: number,
  ): Promise<{ line: ClaimedLine; batch: BatchPacket[]; bytes: number; more: boolean } | undefined> {
    const o = this.#o;
    if (line.first_failure_ms !== null && now >= line.first_failure_ms + o.expireAfterMs) {
      const reason = `not delivered within ${o.expireAfterMs} ms of the first failed try`;
      const ids = await inTransaction(this.#db, (trx) => expireLine(trx, line, this.instanceId, now, reason));
      if (ids.length > 0) this.events.emit("packet:expired", { lineConnectorId: line.id, ids });
      return undefined;
    }
    const rows = line.packets?.length
      ? line.packets
      : await oldestPackets(this.#db, line.id, o.batchMaxPackets);
    line.packets = undefined;
    const batch: BatchPacket[] = [];
    let bytes = 0;
    for (const r of rows) {
      if (batch.length > 0 && bytes + r.size > o.batchMaxBytes) break;
      batch.push(r);
      bytes += r.size;
    }
    if (batch.length > 0)
      return { line, batch, bytes, more: rows.length > batch.length || rows.length >= o.batchMaxPackets };
    // `waiting` said there were packets but there are none: repair the count, free the line.
    await recountAndRelease(this.#db, line.id);
    return undefined;
  }

  /** Settles one line of a request by the portal's answer: taken, accepted (ack later) or failed. */
  async #settle(flight: Flight, sent: Sent | undefined): Promise<void> {
    if (!sent) return;
    const { line } = flight;
    const { batch, outcome, at } = sent;
    const me = this.instanceId;
    const o = this.#o;
    const batchIds = new Set(batch.map((b) => b.id));
    if (outcome.kind === "aborted" || (outcome.kind === "failed" && !this.#running)) {
      await releaseLeases(this.#db, me, [line.id]);
      return;
    }
    if (outcome.kind === "failed") {
      await this.#fail(line, outcome.reason, at, { error: outcome.error });
      return;
    }
    if (outcome.kind === "taken") {
      const taken = [...new Set(outcome.ids.filter((id) => batchIds.has(id)))];
      if (taken.length === 0) {
        await this.#fail(line, "the portal took none of the batch", at);
        return;
      }
      const takenIds = new Set(taken);
      flight.more = sent.more;
      const n = await this.#settler.call({
        line: line.id,
        seqs: batch.filter((b) => takenIds.has(b.id)).map((b) => b.seq),
        ids: taken,
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

  /**
   * A failed try at `now`; `error` is the cause if there was one, `sentSeqs` the packets marked
   * sent (a batch that waited for its ack), which become unsent again.
   */
  async #fail(
    line: ClaimedLine,
    reason: string,
    now: number,
    { error, sentSeqs }: { error?: unknown; sentSeqs?: number[] } = {},
  ): Promise<void> {
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
      await this.#fail(f.line, `no ack within ${this.#o.ackDeadlineMs} ms`, this.#o.clock.now(), {
        sentSeqs: a.seqs,
      });
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
    this.#flights.delete(lineId);
    if (this.#flights.size === 0) {
      this.#renewTimer?.cancel();
      this.#renewTimer = undefined;
    }
  }
}
