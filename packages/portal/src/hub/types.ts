import type { Calls, Capabilities, RpcClient } from "@openlines/protocol";

/**
 * The output client towards the hub (`ctx.services.hub`): the protocol's `createRpcClient` over
 * `Calls` — one signed POST /rpc/<method> per property — with `status` cached and two local
 * helpers: `capabilities` reads a line connector's capabilities from the cached status, `forget`
 * drops the cache (after saveSettings, activate, deactivate, or a deactivate packet).
 */
export type HubClient = RpcClient<typeof Calls> & {
  /** Capabilities of one line connector; undefined when the hub does not say. */
  capabilities(line: string, connector: string): Promise<Capabilities | undefined>;
  forget(line?: string): void;
};

declare module "../context.js" {
  interface PortalServices {
    hub: HubClient;
  }
}
