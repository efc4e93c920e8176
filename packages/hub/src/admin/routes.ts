import { createHash, timingSafeEqual } from "node:crypto";
import { OpenlinesError } from "@openlines/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { HubServices } from "../lines/context.js";
import type { PortalRepository } from "../portals/index.js";
import { registerPortal, testPortal } from "./register.js";

function checkToken(req: FastifyRequest, token: string | undefined) {
  if (!token)
    throw new OpenlinesError("FORBIDDEN", "The hub admin API is off: set OPENLINES_HUB_ADMIN_TOKEN.");
  const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "";
  const h = (s: string) => createHash("sha256").update(s).digest();
  if (!timingSafeEqual(h(given), h(token)))
    throw new OpenlinesError("UNAUTHORIZED", "A valid hub admin token is required.");
}

/** The hub admin API, behind the hub admin token: register, list, re-test and disable portals. */
export function adminRoutes(
  app: FastifyInstance,
  hub: HubServices,
  portals: PortalRepository,
  prefix = "/admin",
): void {
  const deps = { portals, clock: hub.clock, fetch: hub.fetch };
  app.addHook("onRequest", async (req) => {
    if (req.url.startsWith(`${prefix}/`)) checkToken(req, hub.config.adminToken);
  });
  app.post(`${prefix}/portals`, async (req, reply) => {
    const r = await registerPortal(deps, (req.body ?? {}) as any);
    return reply.status(201).send(r);
  });
  app.get(`${prefix}/portals`, async () => ({ portals: await portals.list() }));
  app.post<{ Params: { id: string } }>(`${prefix}/portals/:id/test`, async (req) =>
    testPortal(deps, req.params.id),
  );
  app.post<{ Params: { id: string } }>(`${prefix}/portals/:id/disable`, async (req) => {
    await portals.setState(req.params.id, "disabled");
    return { id: req.params.id, state: "disabled" };
  });
}
