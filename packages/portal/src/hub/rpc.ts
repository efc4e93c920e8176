import { type CallName, Calls, type ErrorBody, OpenlinesError, signedHeaders } from "@openlines/protocol";
import type { HubCalls } from "./types.js";

export interface RpcOptions {
  baseUrl: string;
  portalId: string;
  secret: string;
  now?: () => number;
  /** Per call; default 15 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * A signed-call proxy over the protocol's `Calls` table: `hub.anyMethod(args)` validates the
 * arguments, POSTs them signed to `<baseUrl>/rpc/<method>` with the portal id header, and
 * validates the answer. Unreachable → RPC_UNREACHABLE, timeout → RPC_TIMEOUT, an error body is
 * rebuilt as the hub's OpenlinesError. (Stands in until @openlines/protocol/client lands.)
 */
export function createRpcProxy(o: RpcOptions): HubCalls {
  const doFetch = o.fetch ?? fetch;
  const call = async (method: CallName, args: unknown) => {
    const spec = Calls[method];
    const parsed = spec.args.safeParse(args);
    if (!parsed.success) {
      throw new OpenlinesError("VALIDATION_FAILED", `Arguments of ${method} are invalid.`, {
        details: parsed.error.issues,
      });
    }
    const body = JSON.stringify(parsed.data);
    const headers = {
      "content-type": "application/json",
      "openlines-portal": o.portalId,
      ...signedHeaders(o.secret, body, o.now?.() ?? Date.now()),
    };
    let res: Response;
    try {
      res = await doFetch(`${o.baseUrl.replace(/\/+$/, "")}/rpc/${method}`, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
      });
    } catch (e) {
      const timeout = (e as Error)?.name === "TimeoutError";
      throw new OpenlinesError(timeout ? "RPC_TIMEOUT" : "RPC_UNREACHABLE", undefined, { cause: e });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch (e) {
      throw new OpenlinesError("RPC_BAD_RESPONSE", undefined, { cause: e });
    }
    if (!res.ok) {
      if ((json as ErrorBody)?.error?.code) throw OpenlinesError.fromBody(json as ErrorBody, res.status);
      throw new OpenlinesError("RPC_FAILED", `The hub answered ${res.status}.`, { status: 502 });
    }
    const result = spec.result.safeParse(json);
    if (!result.success)
      throw new OpenlinesError("RPC_BAD_RESPONSE", undefined, { details: result.error.issues });
    return result.data;
  };
  return new Proxy({} as HubCalls, {
    get(_t, name) {
      if (typeof name !== "string" || !(name in Calls)) return undefined;
      return (args: unknown) => call(name as CallName, args);
    },
  });
}
