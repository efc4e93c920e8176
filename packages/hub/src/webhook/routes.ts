import { errorReply, isOpenlinesError, OpenlinesError } from "@openlines/protocol";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { WebhookRequest, WebhookResult } from "../connectors/contract.js";
import type { Ingest } from "../connectors/pipeline/ingest.js";
import type { HubServices } from "../lines/context.js";
import type { ConnectorInstances } from "../lines/instances.js";
import type { LineRepository } from "../lines/repository.js";
import { bodyViews, type RawWebhooks } from "./raw-store.js";

export function lowerHeaders(h: FastifyRequest["headers"]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}

/**
 * The single entry point of every channel (DESIGN 3.2): `GET|POST /webhook?line=<hash>`.
 * Order: the hash names an active line connector (else 404/409, nothing stored) → the connector
 * verifies the raw request (401/403, nothing stored) → `parse` → pipeline → queue committed →
 * the raw body kept for `reparse` (with the chat context, in one transaction) → only then the
 * platform's expected answer.
 */
export function webhookRoutes(
  app: FastifyInstance,
  hub: HubServices,
  deps: { lines: LineRepository; instances: ConnectorInstances; ingest: Ingest; raw: RawWebhooks },
): void {
  const handle = async (req: FastifyRequest, reply: FastifyReply) => {
    let lineConnectorId: string | undefined;
    try {
      return await accept(req, reply, (id) => {
        lineConnectorId = id;
      });
    } catch (e) {
      const r = errorReply(e);
      hub.events.emit("webhook:refused", { lineConnectorId, code: r.body.error.code, status: r.status });
      throw e;
    }
  };
  const accept = async (req: FastifyRequest, reply: FastifyReply, found: (id: string) => void) => {
    const { line: hash, ...query } = (req.query ?? {}) as Record<string, string>;
    if (!hash || typeof hash !== "string")
      throw new OpenlinesError("LINE_UNKNOWN", "The webhook URL has no line.");
    const row = await deps.lines.byHash(hash);
    if (!row) throw new OpenlinesError("LINE_UNKNOWN");
    found(row.id);
    if (row.status !== "active") throw new OpenlinesError("LINE_INACTIVE");
    const instance = await deps.instances.get(row);
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const headers = lowerHeaders(req.headers);
    const views = bodyViews(headers, rawBody);
    const request: WebhookRequest = {
      method: req.method === "GET" ? "GET" : "POST",
      query,
      headers,
      rawBody,
      json: views.json,
      form: views.form,
      ip: req.ip,
    };
    try {
      await instance.connector.verify(request);
    } catch (e) {
      if (isOpenlinesError(e)) throw e;
      hub.log.warn({ err: e, line: row.id }, "webhook verification threw");
      throw new OpenlinesError("UNAUTHORIZED", "The webhook request could not be verified.");
    }
    if (views.jsonInvalid) throw new OpenlinesError("BODY_NOT_JSON");
    // The raw body is kept for `reparse` in every case: with the chat context after the queue's
    // commit when all goes well (one disk flush less per webhook), on its own when parsing or
    // the pipeline refused it — that is when it is needed most.
    const keepAlone = () =>
      deps.raw
        .insert(row.id, request)
        .catch((e) => hub.log.warn({ err: e, line: row.id }, "raw body not kept"));
    let result: WebhookResult;
    try {
      result = await instance.connector.parse(request);
    } catch (e) {
      await keepAlone();
      if (isOpenlinesError(e)) throw e;
      hub.log.error({ err: e, line: row.id }, "webhook parse failed; the raw body is kept for reparse");
      throw new OpenlinesError("INTERNAL");
    }
    let queued: number;
    try {
      queued = await deps.ingest(row, result.events, {
        alsoWrite: (tx) => deps.raw.insert(row.id, request, tx),
      });
    } catch (e) {
      // Ingest fails only before its last transaction committed: the body is not stored yet.
      await keepAlone();
      throw e;
    }
    hub.events.emit("webhook:accepted", { lineConnectorId: row.id, events: result.events.length, queued });
    const r = result.reply;
    reply.status(r?.status ?? 200);
    if (r?.contentType) reply.type(r.contentType);
    if (r?.body === undefined) return reply.type(r?.contentType ?? "text/plain").send("ok");
    if (typeof r.body === "string") {
      if (!r.contentType) reply.type("text/plain");
      return reply.send(r.body);
    }
    return reply.send(r.body);
  };
  app.get("/webhook", handle);
  app.post("/webhook", handle);
}
