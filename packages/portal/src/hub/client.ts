import { Calls, type Capabilities, cached, createRpcClient, type RpcWrapper } from "@openlines/protocol";
import type { PortalContext } from "../context.js";
import type { PortalModule } from "../module.js";
import type { HubClient } from "./types.js";

export interface HubClientOptions {
  /** How long a `status` answer is reused. Default 60 s: capabilities change only with settings. */
  statusTtlMs?: number;
  fetch?: typeof fetch;
}

/**
 * The output client with its local wrappers: `status` answers are cached per arguments for
 * `statusTtlMs` (capability checks run on every send); every other method goes straight through.
 */
export function createHubClient(ctx: PortalContext, o: HubClientOptions = {}): HubClient {
  const statusCache = cached({ ttlMs: o.statusTtlMs ?? 60_000, clock: ctx.clock });
  const forgetting: RpcWrapper = (next) => async (args) => {
    try {
      return await next(args);
    } finally {
      statusCache.invalidate("status");
    }
  };
  const rpc = createRpcClient(
    Calls,
    {
      baseUrl: ctx.config.hubUrl,
      portalId: ctx.config.portalId,
      secret: ctx.config.hubSecret,
      now: () => ctx.clock.now(),
      fetch: o.fetch,
    },
    {
      wrap: {
        status: statusCache,
        // Changes of a line connector drop the cached status (capabilities may change with them);
        // a successful `activate` also clears a `deactivated` mark left by the hub.
        saveSettings: forgetting,
        deactivate: forgetting,
        activate: (next) => async (args) => {
          const result = await next(args);
          statusCache.invalidate("status");
          const ref = args as { line: string; connector: string };
          await ctx.database.db
            .updateTable("line_connector_state")
            .set({ status: "active", reason: null, message: null, updated_ms: ctx.clock.now() })
            .where("line_id", "=", ref.line)
            .where("connector", "=", ref.connector)
            .execute();
          return result;
        },
      },
    },
  );
  const capabilities = async (line: string, connector: string): Promise<Capabilities | undefined> => {
    const r = await rpc.status({ line, connector });
    return r.lines.find((l) => l.line === line && l.connector === connector)?.capabilities;
  };
  // Status answers are few and cheap to fetch again: any change forgets them all.
  const forget = (_line?: string) => statusCache.invalidate("status");
  return new Proxy(rpc, {
    get(target, name, receiver) {
      if (name === "capabilities") return capabilities;
      if (name === "forget") return forget;
      return Reflect.get(target, name, receiver);
    },
  }) as HubClient;
}

/** Registers `ctx.services.hub`. */
export function hubModule(o: HubClientOptions = {}): PortalModule {
  return {
    name: "hub",
    register(_app, ctx) {
      ctx.services.hub = createHubClient(ctx, o);
    },
  };
}
