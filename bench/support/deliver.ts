import { signedHeaders } from "@openlines/protocol/signing";
import { Agent, request, fetch as undiciFetch } from "undici";

/**
 * The HTTP side every system uses: one keep-alive connection pool to the portal stub, so nobody
 * pays a TCP handshake per request. Peers' job handlers call `postMessage` (one signed POST per
 * message, what their users would write); openlines gets `fetch` bound to the same kind of agent.
 */
export function createHttp(connections = 64) {
  const agent = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000, connections });
  return {
    agent,
    fetch: ((input: any, init?: any) => undiciFetch(input, { ...init, dispatcher: agent })) as typeof fetch,
    /** POSTs one message, signed like a hub → portal request; throws unless the stub took it. */
    async postMessage(url: string, secret: string, message: unknown): Promise<void> {
      const body = JSON.stringify(message);
      const res = await request(url, {
        method: "POST",
        dispatcher: agent,
        headers: { "content-type": "application/json", ...signedHeaders(secret, body) },
        body,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`portal answered ${res.statusCode}: ${text}`);
    },
    close: () => agent.close(),
  };
}
export type Http = ReturnType<typeof createHttp>;
