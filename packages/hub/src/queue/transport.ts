import { Agent, type Dispatcher, request } from "undici";

/** The part of a portal's answer the delivery worker reads. */
export interface PortalAnswer {
  status: number;
  /** A response header by lower-case name. */
  header(name: string): string | undefined;
  text: string;
}

/**
 * How the worker POSTs a batch to a portal. The default is undici's `request` on a keep-alive
 * pool the queue owns: it costs about a third of the CPU of `fetch` per request (no WHATWG
 * Request/Response objects, streams or AbortSignal plumbing), which matters at thousands of
 * batches a second. An injected `fetch` (tests, a proxy) is used as it is.
 */
export interface PortalTransport {
  post(
    url: string,
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal,
  ): Promise<PortalAnswer>;
  close(): Promise<void>;
}

/** `dispatcher`: a pool the caller owns; without one, the transport opens its own (again after `close`). */
export function undiciTransport(dispatcher?: Dispatcher): PortalTransport {
  let own: Agent | undefined;
  const pool = (): Dispatcher => {
    if (dispatcher) return dispatcher;
    own ??= new Agent({ keepAliveTimeout: 30_000 });
    return own;
  };
  return {
    async post(url, headers, body, signal) {
      const res = await request(url, { method: "POST", headers, body, signal, dispatcher: pool() });
      const text = await res.body.text();
      return {
        status: res.statusCode,
        header: (name) => {
          const v = res.headers[name];
          return Array.isArray(v) ? v[0] : v;
        },
        text,
      };
    },
    close: async () => {
      const closing = own;
      own = undefined;
      await closing?.close();
    },
  };
}

export function fetchTransport(doFetch: typeof fetch): PortalTransport {
  return {
    async post(url, headers, body, signal) {
      const res = await doFetch(url, { method: "POST", headers, body, signal });
      const text = await res.text();
      return { status: res.status, header: (name) => res.headers.get(name) ?? undefined, text };
    },
    close: async () => {},
  };
}
