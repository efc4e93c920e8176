import type { FastifyInstance } from "fastify";
import type { PortalContext } from "./context.js";

/**
 * A portal module: registers its routes on the shared Fastify app, its services on
 * `ctx.services` and its bus subscriptions. `start`/`stop` run its background loops, if any.
 */
export interface PortalModule {
  name: string;
  register(app: FastifyInstance, ctx: PortalContext): Promise<void> | void;
  start?(ctx: PortalContext): Promise<void> | void;
  stop?(ctx: PortalContext): Promise<void> | void;
}
