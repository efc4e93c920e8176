import { Calls, OpenlinesError, PORTAL_HEADER, verifyCall } from "@openlines/protocol";
import type { FastifyInstance } from "fastify";
import type { HubServices } from "../lines/context.js";
import type { PortalRepository } from "../portals/index.js";
import type { RpcHandlers } from "./methods.js";
import { durableSeenIds } from "./seen.js";

/**
 * `POST /rpc/<method>`: a call of a registered, active portal, signed with its secret (Standard
 * Webhooks) and naming the portal in the `openlines-portal` header. The signature is checked on the
 * raw bytes before anything else is read; an unsigned, stale, replayed or malformed call is refused
 * and changes nothing.
 */
export function rpcRoutes(
  app: FastifyInstance,
  hub: HubServices,
  portals: PortalRepository,
  handlers: RpcHandlers,
): void {
  app.post<{ Params: { method: string } }>("/rpc/:method", async (req, reply) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const header = req.headers[PORTAL_HEADER];
    const portalId = (Array.isArray(header) ? header[0] : header) ?? "";
    const call = await verifyCall({
      method: req.params.method,
      headers: req.headers,
      rawBody: raw,
      calls: Calls,
      now: () => hub.clock.now(),
      toleranceSeconds: hub.config.rpcToleranceSeconds,
      seen: durableSeenIds(hub, portalId),
      async secretsFor(id) {
        const portal = await portals.get(id);
        if (!portal) return undefined;
        if (portal.state !== "active") throw new OpenlinesError("PORTAL_INACTIVE");
        return [await portals.secret(id)];
      },
    });
    const handler = handlers[call.method] as (p: string, a: unknown) => Promise<unknown>;
    const result = await handler(call.portalId, call.args);
    return reply.send(result);
  });
}
