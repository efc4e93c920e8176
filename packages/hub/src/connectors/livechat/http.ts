import { errorReply, OpenlinesError } from "@openlines/protocol";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ConnectorContext, ConnectorRouteContext } from "../contract.js";

/** Helpers shared by the live chat's and the site form's routes (browser-facing, cross-origin). */

/** The active line connector of `type` named by `?line=`; LINE_UNKNOWN otherwise. */
export async function lineOf<S>(
  hub: ConnectorRouteContext,
  req: FastifyRequest,
  type: string,
): Promise<ConnectorContext<S>> {
  const hash = (req.query as Record<string, string | undefined>).line;
  if (!hash || hash.length > 128) throw new OpenlinesError("LINE_UNKNOWN");
  const found = await hub.lineByHash(hash);
  if (!found || found.ctx.line.connector !== type) throw new OpenlinesError("LINE_UNKNOWN");
  return found.ctx as ConnectorContext<S>;
}

/**
 * Checks the browser's Origin against the line's allowed sites and answers with the CORS headers
 * that let that site read the answer. A request from another site is refused (403) before it
 * changes anything.
 */
export function allowOrigin(
  req: FastifyRequest,
  reply: FastifyReply,
  allowed: (origin: string | undefined) => boolean,
  o: { requireOrigin?: boolean } = {},
): void {
  const origin = req.headers.origin;
  if (origin === undefined && !o.requireOrigin) return;
  if (!allowed(origin))
    throw new OpenlinesError("FORBIDDEN", "This site is not allowed to use this chat or form.", {
      details: { origin: origin ?? null },
    });
  if (origin) {
    reply.header("access-control-allow-origin", origin);
    reply.header("vary", "origin");
  }
}

export function preflight(reply: FastifyReply, origin: string) {
  reply
    .header("access-control-allow-origin", origin)
    .header("vary", "origin")
    .header("access-control-allow-methods", "GET, POST")
    .header("access-control-allow-headers", "content-type, authorization")
    .header("access-control-max-age", "600")
    .code(204)
    .send();
}

/** Our error answers inside a connector's own route scope (the same mapping as the hub's). */
export function useErrorReplies(scope: FastifyInstance) {
  scope.setErrorHandler((err, req, reply) => {
    const r = errorReply(err);
    if (r.internal) req.log.error({ err }, "request failed");
    reply.code(r.status).send(r.body);
  });
}

export function clientIp(req: FastifyRequest): string {
  return req.ip ?? req.socket.remoteAddress ?? "unknown";
}
