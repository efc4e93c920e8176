import { createHmac, timingSafeEqual } from "node:crypto";
import { OpenlinesError } from "@openlines/protocol";
import type { WebhookRequest, WebhookResult } from "../contract.js";

export const SIGNATURE_HEADER = "x-hub-signature-256";

/** Compares two strings in constant time (for equal lengths; a length difference is not secret). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `sha256=<lowercase hex HMAC-SHA256 of the raw body keyed with the app secret>`, as Meta sends it. */
export function signBody(appSecret: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac("sha256", appSecret).update(rawBody).digest("hex")}`;
}

/**
 * Authenticates a Meta webhook request (channels.md §3.1, §4.1), shared by WhatsApp, Messenger and
 * Instagram. A GET is the subscription handshake: `hub.mode=subscribe` with our verify token, else
 * 403. A POST must carry `X-Hub-Signature-256` computed over the raw bytes as received — Meta
 * escapes unicode (`\u00e4`), so a body parsed and serialised again would not match. A POST
 * without the header is refused: an unsigned request is never trusted.
 */
export function verifyMetaWebhook(req: WebhookRequest, o: { appSecret: string; verifyToken: string }): void {
  if (req.method === "GET") {
    const token = req.query["hub.verify_token"] ?? "";
    if (req.query["hub.mode"] !== "subscribe" || !safeEqual(token, o.verifyToken))
      throw new OpenlinesError(
        "WEBHOOK_UNVERIFIED",
        "The subscription handshake does not carry this line's verify token.",
        { status: 403 },
      );
    return;
  }
  const given = req.headers[SIGNATURE_HEADER];
  if (!given) throw new OpenlinesError("WEBHOOK_UNVERIFIED", "The X-Hub-Signature-256 header is missing.");
  if (!safeEqual(given.trim().toLowerCase(), signBody(o.appSecret, req.rawBody)))
    throw new OpenlinesError(
      "WEBHOOK_UNVERIFIED",
      "The X-Hub-Signature-256 header does not match the body: a wrong app secret, or the body was altered.",
    );
}

/** The answer to a verified handshake: the raw `hub.challenge`, as text. */
export function handshakeReply(req: WebhookRequest): WebhookResult {
  return {
    events: [],
    reply: { status: 200, body: req.query["hub.challenge"] ?? "", contentType: "text/plain" },
  };
}

/** The webhook body as JSON; BODY_NOT_JSON otherwise. */
export function bodyOf(req: WebhookRequest): unknown {
  if (req.json !== undefined) return req.json;
  try {
    return JSON.parse(req.rawBody.toString("utf8"));
  } catch {
    throw new OpenlinesError("BODY_NOT_JSON", "The Meta webhook body is not valid JSON.");
  }
}
