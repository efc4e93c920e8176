import { OpenlinesError } from "@openlines/protocol";
import type { Database } from "@openlines/store";
import type { HubDatabase } from "../store/schema.js";
import type { QueuedPacket } from "./interfaces.js";
import {
  addWaiting,
  existingLines,
  insertPackets,
  inTransaction,
  type PacketRow,
  pgEnqueue,
  retrying,
  signalChange,
} from "./sql.js";

interface Waiter {
  items: QueuedPacket[];
  resolve(): void;
  reject(e: unknown): void;
}

/** Most packets one group transaction takes; the rest wait for the next group. */
const GROUP_MAX_PACKETS = 5000;

/**
 * Group commit. The first caller starts a transaction at once; callers arriving while it commits
 * wait together and go in the next transaction, so under load one commit (one fsync) carries many
 * callers' packets, and an idle caller pays no added delay. Each caller's promise resolves only
 * after the transaction holding its packets has committed.
 *
 * A caller naming an unknown line connector is refused alone (LINE_UNKNOWN) without failing the
 * others of its group. A database failure fails the whole group: every caller sees the error, and
 * nothing of theirs was committed.
 */
export class GroupCommitter {
  readonly #pending: Waiter[] = [];
  #running = false;
  #idle: Promise<void> = Promise.resolve();
  #markIdle: () => void = () => {};

  constructor(
    private readonly database: Database<HubDatabase>,
    private readonly instanceId: string,
    private readonly now: () => number,
    private readonly committed: () => void,
  ) {}

  enqueue(items: QueuedPacket[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ items, resolve, reject });
      if (!this.#running) void this.#run();
    });
  }

  /** Resolves when no group is being committed. */
  drained(): Promise<void> {
    return this.#idle;
  }

  async #run(): Promise<void> {
    this.#running = true;
    this.#idle = new Promise((r) => {
      this.#markIdle = r;
    });
    try {
      while (this.#pending.length > 0) {
        const group: Waiter[] = [];
        let size = 0;
        while (this.#pending.length > 0 && (group.length === 0 || size < GROUP_MAX_PACKETS)) {
          const w = this.#pending.shift() as Waiter;
          group.push(w);
          size += w.items.length;
        }
        await this.#commit(group);
        // SQLite commits without waiting on I/O: give the event loop a turn between groups, or
        // callers answered in microtasks could keep it busy and starve sockets and timers.
        if (this.#pending.length > 0) await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.#running = false;
      this.#markIdle();
    }
  }

  /** One statement per group (sql.ts pgEnqueue); a group naming a missing line is split once. */
  async #commitPostgres(group: Waiter[], now: number): Promise<void> {
    let members = group;
    for (;;) {
      let result: { missing: string[] };
      try {
        result = await retrying(() =>
          pgEnqueue(this.database.pgPool ?? this.database.db, packetRows(members, now), now, this.instanceId),
        );
      } catch (e) {
        for (const w of members) w.reject(e);
        return;
      }
      if (result.missing.length === 0) break;
      const missing = new Set(result.missing);
      const refused = members.filter((w) => w.items.some((i) => missing.has(i.lineConnectorId)));
      for (const w of refused)
        w.reject(lineUnknown(w.items.find((i) => missing.has(i.lineConnectorId))?.lineConnectorId));
      members = members.filter((w) => !refused.includes(w));
      if (members.length === 0) return;
    }
    for (const w of members) w.resolve();
    this.committed();
  }

  async #commit(group: Waiter[]): Promise<void> {
    const { db, dialect } = this.database;
    const now = this.now();
    let accepted: Waiter[] = [];
    let known = new Set<string>();
    if (dialect === "postgres") {
      await this.#commitPostgres(group, now);
      return;
    }
    try {
      await inTransaction(db, async (trx) => {
        const lines = [...new Set(group.flatMap((w) => w.items.map((i) => i.lineConnectorId)))];
        known = await existingLines(trx, lines);
        accepted = group.filter((w) => w.items.every((i) => known.has(i.lineConnectorId)));
        const rows = packetRows(accepted, now);
        if (rows.length === 0) return;
        const added = await insertPackets(trx, dialect, rows);
        await addWaiting(trx, added, now);
        await signalChange(trx, dialect, this.instanceId);
      });
    } catch (e) {
      for (const w of group) w.reject(e);
      return;
    }
    for (const w of group) {
      if (accepted.includes(w)) w.resolve();
      else {
        w.reject(lineUnknown(w.items.find((i) => !known.has(i.lineConnectorId))?.lineConnectorId));
      }
    }
    if (accepted.length > 0) this.committed();
  }
}

function lineUnknown(lineConnectorId: string | undefined): OpenlinesError {
  return new OpenlinesError(
    "LINE_UNKNOWN",
    "No line connector has this id; nothing of the call was queued.",
    {
      details: { lineConnectorId },
    },
  );
}

/** The rows of a group, in call order, each packet id once. */
function packetRows(group: Waiter[], now: number): PacketRow[] {
  const seen = new Set<string>();
  const rows: PacketRow[] = [];
  for (const w of group) {
    for (const { lineConnectorId, packet } of w.items) {
      if (seen.has(packet.id)) continue;
      seen.add(packet.id);
      const body = JSON.stringify(packet);
      rows.push({
        id: packet.id,
        line_connector_id: lineConnectorId,
        type: packet.type,
        body,
        size: Buffer.byteLength(body),
        created_ms: now,
      });
    }
  }
  return rows;
}
