import type { Kysely } from "kysely";
import type { WebhookRequest } from "../connectors/contract.js";
import type { HubServices } from "../lines/context.js";
import type { HubDatabase } from "../store/schema.js";

/**
 * Headers that authenticate a request (bearer JWTs, platform secret tokens) are not kept: a stored
 * body is re-parsed without being verified again, and a credential must not sit in the database.
 */
const CREDENTIAL_HEADERS = /^(authorization|cookie|proxy-authorization)$|signature|secret|token/i;

function keptHeaders(headers: WebhookRequest["headers"]): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !CREDENTIAL_HEADERS.test(name)));
}

/** The raw webhooks kept for re-parsing (`webhook_raw`): one SQL operation per function. */
export function rawWebhooks(hub: Pick<HubServices, "db" | "dialect" | "clock">) {
  const { db } = hub;
  return {
    /** Stores one request; `tx` puts it in a transaction of the caller's (the ingest's). */
    async insert(
      lineConnectorId: string,
      req: WebhookRequest,
      tx: Kysely<HubDatabase> = db,
    ): Promise<number> {
      const q = tx.insertInto("webhook_raw").values({
        line_connector_id: lineConnectorId,
        received_ms: hub.clock.now(),
        method: req.method,
        query: JSON.stringify(req.query),
        headers: JSON.stringify(keptHeaders(req.headers)),
        body: req.rawBody.toString("base64"),
        // Fastify's `ip` is undefined once the client's socket has closed (a platform that gave up
        // waiting); the column is NOT NULL, and that must not turn into a 500 (found by the bench).
        ip: req.ip ?? "",
      });
      if (hub.dialect === "mysql") return Number((await q.executeTakeFirst()).insertId);
      return Number((await q.returning("seq").executeTakeFirstOrThrow()).seq);
    },
    async select(target: number | { lineConnectorId?: string; since: number; until?: number }) {
      let q = db.selectFrom("webhook_raw").selectAll();
      if (typeof target === "number") q = q.where("seq", "=", target);
      else {
        q = q.where("received_ms", ">=", target.since);
        if (target.until !== undefined) q = q.where("received_ms", "<", target.until);
        if (target.lineConnectorId) q = q.where("line_connector_id", "=", target.lineConnectorId);
      }
      return q.orderBy("seq").execute();
    },
    count: async (lineConnectorId?: string) => {
      let q = db.selectFrom("webhook_raw").select((e) => e.fn.countAll<number>().as("n"));
      if (lineConnectorId) q = q.where("line_connector_id", "=", lineConnectorId);
      return Number((await q.executeTakeFirst())?.n ?? 0);
    },
  };
}
export type RawWebhooks = ReturnType<typeof rawWebhooks>;

/** Rebuilds the request a connector saw from a stored row. */
export function storedRequest(row: {
  method: string;
  query: string;
  headers: string;
  body: string;
  ip: string;
}): WebhookRequest {
  const rawBody = Buffer.from(row.body, "base64");
  const headers = JSON.parse(row.headers) as Record<string, string>;
  const { json, form } = bodyViews(headers, rawBody);
  return {
    method: row.method as "GET" | "POST",
    query: JSON.parse(row.query),
    headers,
    rawBody,
    json,
    form,
    ip: row.ip,
  };
}

/** The JSON and form views of a body, by its content type; JSON is undefined when unparsable. */
export function bodyViews(
  headers: Record<string, string | undefined>,
  rawBody: Buffer,
): { json?: unknown; form?: Record<string, string>; jsonInvalid: boolean } {
  const ct = (headers["content-type"] ?? "").toLowerCase();
  if (rawBody.length === 0) return { jsonInvalid: false };
  if (ct.includes("json")) {
    try {
      return { json: JSON.parse(rawBody.toString("utf8")), jsonInvalid: false };
    } catch {
      return { jsonInvalid: true };
    }
  }
  if (ct.includes("application/x-www-form-urlencoded"))
    return { form: Object.fromEntries(new URLSearchParams(rawBody.toString("utf8"))), jsonInvalid: false };
  return { jsonInvalid: false };
}
