import { Calls, type Capabilities, cached, createRpcClient } from "@openlines/protocol";
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
  const rpc = createRpcClient(
    Calls,
    {
      baseUrl: ctx.config.hubUrl,
      portalId: ctx.config.portalId,
      secret: ctx.config.hubSecret,
      now: () => ctx.clock.now(),
      fetch: o.fetch,
    },
    { wrap: { status: statusCache } },
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
