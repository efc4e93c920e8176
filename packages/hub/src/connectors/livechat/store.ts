import { randomBytes } from "node:crypto";
import type { Clock, FileLink } from "@openlines/protocol";
import type { Kysely } from "kysely";
import type { HubDatabase, LivechatMessageTable } from "../../store/schema.js";
import { newTokenKey } from "./tokens.js";

/** A file of a stored message; `ref` names a visitor's upload on the hub. */
export type StoredFileLink = FileLink & { ref?: string };

/** A message of a visitor's conversation, as stored and as the widget receives it. */
export interface StoredMessage {
  seq: number;
  id: string;
  visitorId: string;
  direction: "in" | "out";
  clientId: string | null;
  portalMessageId: string | null;
  text: string;
  files: StoredFileLink[];
  status: LivechatMessageTable["status"];
  at: number;
}

export interface VisitorProfile {
  name?: string;
  email?: string;
  pageUrl?: string;
}

export interface StoredFile {
  id: string;
  lineConnectorId: string;
  visitorId: string;
  name: string;
  type: string;
  size: number;
}

export const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString("base64url")}`;

function toMessage(r: any): StoredMessage {
  const body = JSON.parse(r.body) as { text?: string; files?: StoredFileLink[] };
  return {
    seq: Number(r.seq),
    id: r.id,
    visitorId: r.visitor_id,
    direction: r.direction,
    clientId: r.client_id,
    portalMessageId: r.portal_message_id,
    text: body.text ?? "",
    files: body.files ?? [],
    status: r.status,
    at: Number(r.at),
  };
}

/** The live chat's SQL operations, one per method, the same on the three dialects. */
export class LivechatStore {
  constructor(
    readonly db: Kysely<HubDatabase>,
    readonly dialect: "sqlite" | "postgres" | "mysql",
    readonly clock: Clock,
  ) {}

  /** The line's token key, created on first use (two racing creators settle on one row). */
  async tokenKey(lineConnectorId: string): Promise<string> {
    const read = () =>
      this.db
        .selectFrom("livechat_line")
        .select("token_key")
        .where("line_connector_id", "=", lineConnectorId)
        .executeTakeFirst();
    const found = await read();
    if (found) return found.token_key;
    try {
      await this.db
        .insertInto("livechat_line")
        .values({
          line_connector_id: lineConnectorId,
          token_key: newTokenKey(),
          created_ms: this.clock.now(),
        })
        .execute();
    } catch (e) {
      // lost the race to another request: its key is the one
      if (!(await read())) throw e;
    }
    const row = await read();
    if (!row) throw new Error("livechat token key vanished");
    return row.token_key;
  }

  async createVisitor(lineConnectorId: string, id: string, profile: VisitorProfile): Promise<void> {
    const now = this.clock.now();
    await this.db
      .insertInto("livechat_visitor")
      .values({
        line_connector_id: lineConnectorId,
        id,
        name: profile.name ?? null,
        email: profile.email ?? null,
        page_url: profile.pageUrl ?? null,
        created_ms: now,
        updated_ms: now,
      })
      .execute();
  }

  async visitor(lineConnectorId: string, id: string): Promise<VisitorProfile | undefined> {
    const r = await this.db
      .selectFrom("livechat_visitor")
      .selectAll()
      .where("line_connector_id", "=", lineConnectorId)
      .where("id", "=", id)
      .executeTakeFirst();
    if (!r) return undefined;
    return { name: r.name ?? undefined, email: r.email ?? undefined, pageUrl: r.page_url ?? undefined };
  }

  /** Sets the given profile fields (undefined leaves a field as it is). */
  async updateVisitor(lineConnectorId: string, id: string, profile: VisitorProfile): Promise<void> {
    const set: Record<string, unknown> = { updated_ms: this.clock.now() };
    if (profile.name !== undefined) set.name = profile.name;
    if (profile.email !== undefined) set.email = profile.email;
    if (profile.pageUrl !== undefined) set.page_url = profile.pageUrl;
    await this.db
      .updateTable("livechat_visitor")
      .set(set)
      .where("line_connector_id", "=", lineConnectorId)
      .where("id", "=", id)
      .execute();
  }

  /** Appends a message to a visitor's conversation and returns it with its seq. */
  async append(m: {
    lineConnectorId: string;
    visitorId: string;
    direction: "in" | "out";
    clientId?: string;
    portalMessageId?: string;
    text: string;
    files: StoredFileLink[];
    at?: number;
  }): Promise<StoredMessage> {
    const at = m.at ?? this.clock.now();
    const row = {
      id: newId("m"),
      line_connector_id: m.lineConnectorId,
      visitor_id: m.visitorId,
      direction: m.direction,
      client_id: m.clientId ?? null,
      portal_message_id: m.portalMessageId ?? null,
      body: JSON.stringify({ text: m.text, files: m.files }),
      status: "sent" as const,
      at,
      updated_ms: at,
    };
    let seq: number;
    if (this.dialect === "mysql") {
      const r = await this.db.insertInto("livechat_message").values(row).executeTakeFirstOrThrow();
      seq = Number(r.insertId);
    } else {
      const r = await this.db
        .insertInto("livechat_message")
        .values(row)
        .returning("seq")
        .executeTakeFirstOrThrow();
      seq = Number(r.seq);
    }
    return toMessage({ ...row, seq });
  }

  async byClientId(lineConnectorId: string, visitorId: string, clientId: string) {
    const r = await this.db
      .selectFrom("livechat_message")
      .selectAll()
      .where("line_connector_id", "=", lineConnectorId)
      .where("visitor_id", "=", visitorId)
      .where("client_id", "=", clientId)
      .executeTakeFirst();
    return r ? toMessage(r) : undefined;
  }

  async byPortalMessageId(lineConnectorId: string, visitorId: string, portalMessageId: string) {
    const r = await this.db
      .selectFrom("livechat_message")
      .selectAll()
      .where("line_connector_id", "=", lineConnectorId)
      .where("visitor_id", "=", visitorId)
      .where("portal_message_id", "=", portalMessageId)
      .executeTakeFirst();
    return r ? toMessage(r) : undefined;
  }

  async byId(lineConnectorId: string, id: string): Promise<StoredMessage | undefined> {
    const r = await this.db
      .selectFrom("livechat_message")
      .selectAll()
      .where("line_connector_id", "=", lineConnectorId)
      .where("id", "=", id)
      .executeTakeFirst();
    return r ? toMessage(r) : undefined;
  }

  /** A visitor's messages after `after` (exclusive), oldest first: the reconnect catch-up. */
  async after(lineConnectorId: string, visitorId: string, after: number, limit = 500) {
    const rows = await this.db
      .selectFrom("livechat_message")
      .selectAll()
      .where("line_connector_id", "=", lineConnectorId)
      .where("visitor_id", "=", visitorId)
      .where("seq", ">", after)
      .orderBy("seq")
      .limit(limit)
      .execute();
    return rows.map(toMessage);
  }

  /**
   * Moves messages of one visitor forward to `status` (sent → delivered → read) and returns the
   * ones that moved, so each status is reported once.
   */
  async advance(
    lineConnectorId: string,
    visitorId: string,
    ids: string[],
    status: "delivered" | "read",
    direction: "in" | "out",
  ): Promise<StoredMessage[]> {
    if (ids.length === 0) return [];
    const from = status === "delivered" ? ["sent"] : ["sent", "delivered"];
    const scope = (q: any) =>
      q
        .where("line_connector_id", "=", lineConnectorId)
        .where("visitor_id", "=", visitorId)
        .where("direction", "=", direction)
        .where("id", "in", ids)
        .where("status", "in", from);
    const rows = await scope(this.db.selectFrom("livechat_message").selectAll()).execute();
    if (rows.length === 0) return [];
    await scope(
      this.db.updateTable("livechat_message").set({ status, updated_ms: this.clock.now() }),
    ).execute();
    return rows.map((r: any) => ({ ...toMessage(r), status }));
  }

  async edit(lineConnectorId: string, id: string, text: string): Promise<StoredMessage | undefined> {
    const m = await this.byId(lineConnectorId, id);
    if (!m) return undefined;
    await this.db
      .updateTable("livechat_message")
      .set({ body: JSON.stringify({ text, files: m.files }), updated_ms: this.clock.now() })
      .where("id", "=", id)
      .execute();
    return { ...m, text };
  }

  async remove(lineConnectorId: string, id: string): Promise<StoredMessage | undefined> {
    const m = await this.byId(lineConnectorId, id);
    if (!m) return undefined;
    await this.db
      .updateTable("livechat_message")
      .set({ body: JSON.stringify({ text: "", files: [] }), status: "deleted", updated_ms: this.clock.now() })
      .where("id", "=", id)
      .execute();
    return { ...m, text: "", files: [], status: "deleted" };
  }

  async addFile(file: StoredFile): Promise<StoredFile> {
    const f = file;
    await this.db
      .insertInto("livechat_file")
      .values({
        id: file.id,
        line_connector_id: f.lineConnectorId,
        visitor_id: f.visitorId,
        name: f.name,
        type: f.type,
        size: f.size,
        created_ms: this.clock.now(),
      })
      .execute();
    return file;
  }

  async file(id: string): Promise<StoredFile | undefined> {
    const r = await this.db.selectFrom("livechat_file").selectAll().where("id", "=", id).executeTakeFirst();
    if (!r) return undefined;
    return {
      id: r.id,
      lineConnectorId: r.line_connector_id,
      visitorId: r.visitor_id,
      name: r.name,
      type: r.type,
      size: Number(r.size),
    };
  }
}
