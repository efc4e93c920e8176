import {
  type Clock,
  DeliveryResponse,
  SIGNATURE_HEADERS,
  signedHeaders,
  verifySignature,
} from "@openlines/protocol";
import type { PortalTransport } from "./transport.js";

/** What one delivery request came to. `aborted` is the hub's own doing (stop) and costs no try. */
export type DeliveryOutcome =
  | { kind: "taken"; ids: string[] }
  | { kind: "accepted" }
  | { kind: "failed"; reason: string; error?: unknown }
  | { kind: "aborted" };

export interface PostBatchOptions {
  transport: PortalTransport;
  clock: Clock;
  url: string;
  secret: string;
  body: string;
  timeoutMs: number;
  /** Aborted by `stop()`. */
  signal: AbortSignal;
}

/**
 * POSTs one signed batch to the portal's input and reads its answer. The request is signed with
 * the portal's secret (Standard Webhooks). The answer is checked with the same secret only when it
 * carries signature headers: a portal may leave its answers unsigned (TLS authenticates it), but a
 * signed answer whose signature does not match is a failed try, like a non-2xx status, a body
 * that is not a DeliveryResponse, a network error, or no answer within `timeoutMs`.
 */
export async function postBatch(o: PostBatchOptions): Promise<DeliveryOutcome> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = o.clock.setTimer(o.timeoutMs, () => {
    timedOut = true;
    controller.abort();
  });
  const onStop = () => controller.abort();
  o.signal.addEventListener("abort", onStop);
  try {
    const res = await o.transport.post(
      o.url,
      { "content-type": "application/json", ...signedHeaders(o.secret, o.body, o.clock.now()) },
      o.body,
      controller.signal,
    );
    const text = res.text;
    if (res.status < 200 || res.status > 299)
      return { kind: "failed", reason: `the portal answered HTTP ${res.status}` };
    if (res.header(SIGNATURE_HEADERS.signature) !== undefined) {
      try {
        await verifySignature({
          secrets: o.secret,
          headers: {
            [SIGNATURE_HEADERS.id]: res.header(SIGNATURE_HEADERS.id),
            [SIGNATURE_HEADERS.timestamp]: res.header(SIGNATURE_HEADERS.timestamp),
            [SIGNATURE_HEADERS.signature]: res.header(SIGNATURE_HEADERS.signature),
          },
          rawBody: text,
          now: o.clock.now(),
        });
      } catch (error) {
        return { kind: "failed", reason: "bad signature in the answer", error };
      }
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      return { kind: "failed", reason: "the answer is not JSON", error };
    }
    const parsed = DeliveryResponse.safeParse(json);
    if (!parsed.success) return { kind: "failed", reason: "the answer is not a DeliveryResponse" };
    return "taken" in parsed.data ? { kind: "taken", ids: parsed.data.taken } : { kind: "accepted" };
  } catch (error) {
    if (o.signal.aborted && !timedOut) return { kind: "aborted" };
    if (timedOut) return { kind: "failed", reason: `no answer within ${o.timeoutMs} ms`, error };
    return { kind: "failed", reason: "the portal could not be reached", error };
  } finally {
    timer.cancel();
    o.signal.removeEventListener("abort", onStop);
  }
}

/**
 * The request body built from stored packet JSON without parsing it again. `line` is given when
 * every packet is of that line; a request carrying several lines of the portal leaves it out (each
 * packet names its line).
 */
export function deliveryBody(portal: string, line: string | undefined, packetBodies: string[]): string {
  const lineField = line === undefined ? "" : `"line":${JSON.stringify(line)},`;
  return `{"version":1,"portal":${JSON.stringify(portal)},${lineField}"packets":[${packetBodies.join(",")}]}`;
}
