import { randomUUID } from "node:crypto";
import { OpenlinesError } from "@openlines/protocol";
import type { Kysely } from "kysely";
import type { PortalDatabase } from "../store/index.js";
import type { SessionTable } from "../store/lines-schema.js";
import {
  type Line,
  type LineSettings,
  LineSettings as LineSettingsSchema,
  toLine,
  toLineRow,
} from "./settings.js";

export const SessionStates = {
  queued: "queued",
  offered: "offered",
  active: "active",
  closed: "closed",
} as const;
export type SessionState = (typeof SessionStates)[keyof typeof SessionStates];

/** A session as the API and the stream show it. */
export interface SessionView {
  id: string;
  chatId: string;
  lineId: string;
  contactId: string | null;
  operatorId: string | null;
  state: SessionState;
  openedAt: number;
  queuedAt: number;
  answeredAt: number | null;
  closedAt: number | null;
  closeReason: string | null;
  rating: number | null;
  unread: number;
  lastActivityAt: number;
}

export function toSession(r: SessionTable): SessionView {
  const n = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: r.id,
    chatId: r.chat_id,
    lineId: r.line_id,
    contactId: r.contact_id,
    operatorId: r.operator_id,
    state: r.state as SessionState,
    openedAt: Number(r.opened_ms),
    queuedAt: Number(r.queued_ms),
    answeredAt: n(r.answered_ms),
    closedAt: n(r.closed_ms),
    closeReason: r.close_reason,
    rating: n(r.rating),
    unread: Number(r.unread),
    lastActivityAt: Number(r.last_activity_ms),
  };
}

export interface ConnectorMirror {
  lineId: string;
  connector: string;
  status: string;
  reason: string | null;
  webhookUrl: string | null;
  updatedAt: number;
}

/** Lines, their operators and the mirror of their connectors on the hub: one SQL operation per method. */
export class LineStore {
  constructor(
    private readonly db: Kysely<PortalDatabase>,
    private readonly now: () => number,
  ) {}

  async create(input: Partial<LineSettings> & { name: string }, operatorIds: string[] = []): Promise<Line> {
    const s = LineSettingsSchema.parse(input);
    const id = randomUUID();
    await this.db
      .insertInto("line")
      .values({
        ...(toLineRow(s) as Required<ReturnType<typeof toLineRow>>),
        id,
        rr_last_operator_id: null,
        created_ms: this.now(),
        updated_ms: this.now(),
      })
      .execute();
    if (operatorIds.length) await this.setOperators(id, operatorIds);
    return this.get(id);
  }

  async find(id: string): Promise<Line | undefined> {
    const row = await this.db.selectFrom("line").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toLine(row, await this.operatorIds(id)) : undefined;
  }

  async get(id: string): Promise<Line> {
    const line = await this.find(id);
    if (!line) throw new OpenlinesError("NOT_FOUND", "No line has this id.");
    return line;
  }

  async list(): Promise<Line[]> {
    const rows = await this.db.selectFrom("line").selectAll().orderBy("name").execute();
    const members = await this.db.selectFrom("line_operator").selectAll().orderBy("position").execute();
    return rows.map((r) =>
      toLine(
        r,
        members.filter((m) => m.line_id === r.id).map((m) => m.operator_id),
      ),
    );
  }

  async update(id: string, patch: Partial<LineSettings>): Promise<Line> {
    const r = await this.db
      .updateTable("line")
      .set({ ...toLineRow(patch), updated_ms: this.now() })
      .where("id", "=", id)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new OpenlinesError("NOT_FOUND", "No line has this id.");
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom("line_operator").where("line_id", "=", id).execute();
    await this.db.deleteFrom("line_connector_mirror").where("line_id", "=", id).execute();
    await this.db.deleteFrom("line").where("id", "=", id).execute();
  }

  async operatorIds(lineId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom("line_operator")
      .select("operator_id")
      .where("line_id", "=", lineId)
      .orderBy("position")
      .execute();
    return rows.map((r) => r.operator_id);
  }

  async linesOf(operatorId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom("line_operator")
      .select("line_id")
      .where("operator_id", "=", operatorId)
      .execute();
    return rows.map((r) => r.line_id);
  }

  /** Replaces the line's operators; their order is the round robin order. */
  async setOperators(lineId: string, operatorIds: string[]): Promise<void> {
    const unique = [...new Set(operatorIds)];
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom("line_operator").where("line_id", "=", lineId).execute();
      if (unique.length)
        await tx
          .insertInto("line_operator")
          .values(unique.map((operator_id, position) => ({ line_id: lineId, operator_id, position })))
          .execute();
    });
  }

  async setRoundRobinPointer(lineId: string, operatorId: string): Promise<void> {
    await this.db
      .updateTable("line")
      .set({ rr_last_operator_id: operatorId })
      .where("id", "=", lineId)
      .execute();
  }

  async roundRobinPointer(lineId: string): Promise<string | null> {
    const r = await this.db
      .selectFrom("line")
      .select("rr_last_operator_id")
      .where("id", "=", lineId)
      .executeTakeFirst();
    return r?.rr_last_operator_id ?? null;
  }

  async connectors(lineId?: string): Promise<ConnectorMirror[]> {
    let q = this.db.selectFrom("line_connector_mirror").selectAll();
    if (lineId) q = q.where("line_id", "=", lineId);
    const rows = await q.orderBy("line_id").orderBy("connector").execute();
    return rows.map((r) => ({
      lineId: r.line_id,
      connector: r.connector,
      status: r.status,
      reason: r.reason,
      webhookUrl: r.webhook_url,
      updatedAt: Number(r.updated_ms),
    }));
  }

  /** Stores what the hub said about a line connector (upsert; `webhookUrl` undefined keeps the old one). */
  async saveConnector(
    lineId: string,
    connector: string,
    state: { status: string; reason?: string | null; webhookUrl?: string | null },
  ): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const old = await tx
        .selectFrom("line_connector_mirror")
        .selectAll()
        .where("line_id", "=", lineId)
        .where("connector", "=", connector)
        .executeTakeFirst();
      const row = {
        status: state.status,
        reason: state.reason ?? null,
        webhook_url: state.webhookUrl === undefined ? (old?.webhook_url ?? null) : state.webhookUrl,
        updated_ms: this.now(),
      };
      if (old)
        await tx
          .updateTable("line_connector_mirror")
          .set(row)
          .where("line_id", "=", lineId)
          .where("connector", "=", connector)
          .execute();
      else
        await tx
          .insertInto("line_connector_mirror")
          .values({ line_id: lineId, connector, ...row })
          .execute();
    });
  }
}
