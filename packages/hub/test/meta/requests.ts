import type { WebhookRequest } from "../../src/connectors/contract.js";
import { signBody } from "../../src/connectors/meta/webhook.js";
import { APP_SECRET } from "./fake-graph.js";

/** A webhook `POST` of `body` as Meta sends it: JSON, signed with the test app's secret. */
export function signedRequest(body: unknown): WebhookRequest {
  const raw = JSON.stringify(body);
  return {
    method: "POST",
    query: {},
    headers: { "content-type": "application/json", "x-hub-signature-256": signBody(APP_SECRET, raw) },
    rawBody: Buffer.from(raw),
    json: body,
    ip: "127.0.0.1",
  };
}
