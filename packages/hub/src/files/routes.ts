import { Readable } from "node:stream";
import { OpenlinesError } from "@openlines/protocol";
import type { FastifyInstance } from "fastify";
import type { HubServices } from "../lines/context.js";
import type { ConnectorInstances } from "../lines/instances.js";
import type { LineRepository } from "../lines/repository.js";
import type { FileTokens } from "./token.js";

/**
 * `GET /files/<token>`: a hub link that stands in for a platform file link that would expose a
 * token. The signed, expiring token names the line connector and the connector's ref; the hub asks
 * the connector to `resolveFile(ref)` and streams the answer without keeping it.
 */
export function fileRoutes(
  app: FastifyInstance,
  hub: HubServices,
  deps: { tokens: FileTokens; lines: LineRepository; instances: ConnectorInstances },
): void {
  // a wildcard, not a `:token` param: tokens are longer than Fastify's default parameter limit
  app.get<{ Params: { "*": string } }>("/files/*", async (req, reply) => {
    const t = deps.tokens.verify(req.params["*"], hub.clock.now());
    const row = await deps.lines.byId(t.l);
    if (!row || row.status === "disabled")
      throw new OpenlinesError("NOT_FOUND", "This file link is invalid or has expired.");
    const { connector } = await deps.instances.get(row);
    if (!connector.resolveFile) throw new OpenlinesError("NOT_FOUND");
    const res = await connector.resolveFile(t.r);
    if (!res.ok || !res.body) {
      throw new OpenlinesError("PLATFORM_ERROR", `The channel refused the file (HTTP ${res.status}).`);
    }
    reply.header("content-type", t.t ?? res.headers.get("content-type") ?? "application/octet-stream");
    const length = res.headers.get("content-length");
    if (length) reply.header("content-length", length);
    reply.header("content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(t.n)}`);
    reply.header("cache-control", "private, max-age=300");
    return reply.send(Readable.fromWeb(res.body as any));
  });
}
