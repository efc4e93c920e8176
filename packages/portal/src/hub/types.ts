import type { CallArgs, CallName, CallResult, Capabilities } from "@openlines/protocol";

/**
 * The output client towards the hub (`ctx.services.hub`): one method per remote call of the
 * protocol's `Calls` table, each a signed POST /rpc/<method>. `status` is wrapped with a short
 * cache; `capabilities` reads a line connector's capabilities from it.
 */
export type HubCalls = { [M in CallName]: (args: CallArgs<M>) => Promise<CallResult<M>> };

export interface HubClient extends HubCalls {
  /** Capabilities of one line connector, from the cached `status`; undefined when the hub does not say. */
  capabilities(line: string, connector: string): Promise<Capabilities | undefined>;
  /** Drops the cached status (after saveSettings/activate/deactivate). */
  forget(line?: string): void;
}

declare module "../context.js" {
  interface PortalServices {
    hub: HubClient;
  }
}
