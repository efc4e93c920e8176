import type { CallResult, Capabilities } from "@openlines/protocol";
import type { PortalContext } from "../context.js";
import type { PortalModule } from "../module.js";
import { createRpcProxy } from "./rpc.js";
import type { HubCalls, HubClient } from "./types.js";

export interface HubClientOptions {
  /** How long a `status` answer is reused. Default 60 s: capabilities change only with settings. */
  statusTtlMs?: number;
  fetch?: typeof fetch;
}

/**
 * The output client with its local wrappers: `status` answers are cached per line connector
 * filter for `statusTtlMs` (capability checks run on every send), everything else goes through.
 */
export function createHubClient(ctx: PortalContext, o: HubClientOptions = {}): HubClient {
  const ttl = o.statusTtlMs ?? 60_000;
  const calls = createRpcProxy({
    baseUrl: ctx.config.hubUrl,
    portalId: ctx.config.portalId,
    secret: ctx.config.hubSecret,
    now: () => ctx.clock.now(),
    fetch: o.fetch,
  });
  const cache = new Map<string, { at: number; value: Promise<CallResult<"status">> }>();
  const status: HubCalls["status"] = (args) => {
    const key = `${args.line ?? ""}\u0000${args.connector ?? ""}`;
    const hit = cache.get(key);
    if (hit && ctx.clock.now() - hit.at < ttl) return hit.value;
    const value = calls.status(args);
    cache.set(key, { at: ctx.clock.now(), value });
    value.catch(() => cache.delete(key));
    return value;
  };
  const capabilities = async (line: string, connector: string): Promise<Capabilities | undefined> => {
    const r = await status({ line, connector });
    return r.lines.find((l) => l.line === line && l.connector === connector)?.capabilities;
  };
  const forget = (line?: string) => {
    if (line === undefined) cache.clear();
    else
      for (const k of cache.keys())
        if (k.startsWith(`${line}\u0000`) || k.startsWith("\u0000")) cache.delete(k);
  };
  const local = { status, capabilities, forget } as Partial<HubClient>;
  return new Proxy(local as HubClient, {
    get(target, name) {
      if (typeof name === "string" && name in target) return (target as any)[name];
      return (calls as any)[name];
    },
  });
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
