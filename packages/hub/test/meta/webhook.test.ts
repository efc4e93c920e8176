import { isOpenlinesError } from "@openlines/protocol";
import { describe, expect, it } from "vitest";
import type { WebhookRequest } from "../../src/connectors/contract.js";
import { PlatformError } from "../../src/connectors/contract.js";
import { graphError } from "../../src/connectors/meta/errors.js";
import { handshakeReply, signBody, verifyMetaWebhook } from "../../src/connectors/meta/webhook.js";
import { APP_SECRET, VERIFY_TOKEN } from "./fake-graph.js";

const keys = { appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN };
// As Meta sends it: non-ASCII escaped, so parsing and serialising again changes the bytes.
const RAW =
  '{"object":"page","entry":[{"id":"1122334455667","time":1767607200000,"messaging":[{"sender":{"id":"6012345678901234"},"recipient":{"id":"1122334455667"},"timestamp":1767607199000,"message":{"mid":"m_1","text":"Gr\\u00fc\\u00dfe \\u00e4"}}]}]}';

function post(raw: string, signature?: string): WebhookRequest {
  return {
    method: "POST",
    query: {},
    headers: {
      "content-type": "application/json",
      ...(signature ? { "x-hub-signature-256": signature } : {}),
    },
    rawBody: Buffer.from(raw),
    json: JSON.parse(raw),
    ip: "127.0.0.1",
  };
}
const get = (query: Record<string, string>): WebhookRequest => ({
  method: "GET",
  query,
  headers: {},
  rawBody: Buffer.alloc(0),
  ip: "127.0.0.1",
});

function statusOf(f: () => void): number | undefined {
  try {
    f();
  } catch (e) {
    expect(isOpenlinesError(e)).toBe(true);
    return (e as { status: number }).status;
  }
  return undefined;
}

describe("Meta webhook verification", () => {
  it("accepts a POST signed over its raw bytes with the app secret", () => {
    expect(signBody(APP_SECRET, RAW)).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(statusOf(() => verifyMetaWebhook(post(RAW, signBody(APP_SECRET, RAW)), keys))).toBeUndefined();
  });

  it("accepts the signature header in upper-case hex too", () => {
    const sig = `sha256=${signBody(APP_SECRET, RAW).slice(7).toUpperCase()}`;
    expect(statusOf(() => verifyMetaWebhook(post(RAW, sig), keys))).toBeUndefined();
  });

  it("refuses a POST without X-Hub-Signature-256", () => {
    expect(statusOf(() => verifyMetaWebhook(post(RAW), keys))).toBe(401);
  });

  it("refuses a wrong signature and one made with another secret", () => {
    expect(statusOf(() => verifyMetaWebhook(post(RAW, "sha256=00"), keys))).toBe(401);
    const other = signBody("ffffffffffffffffffffffffffffffff", RAW);
    expect(statusOf(() => verifyMetaWebhook(post(RAW, other), keys))).toBe(401);
  });

  it("refuses a signature computed over a re-serialised body instead of the raw bytes", () => {
    const reserialised = JSON.stringify(JSON.parse(RAW));
    expect(reserialised).not.toBe(RAW);
    expect(statusOf(() => verifyMetaWebhook(post(RAW, signBody(APP_SECRET, reserialised)), keys))).toBe(401);
  });

  it("refuses a body altered after signing", () => {
    const altered = RAW.replace("m_1", "m_2");
    expect(statusOf(() => verifyMetaWebhook(post(altered, signBody(APP_SECRET, RAW)), keys))).toBe(401);
  });

  it("answers the subscription handshake with the raw challenge when the verify token matches", () => {
    const q = { "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444" };
    expect(statusOf(() => verifyMetaWebhook(get(q), keys))).toBeUndefined();
    expect(handshakeReply(get(q)).reply).toEqual({
      status: 200,
      body: "1158201444",
      contentType: "text/plain",
    });
  });

  it("refuses the handshake with 403 for a wrong token, a missing token or another mode", () => {
    const base = { "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1" };
    expect(statusOf(() => verifyMetaWebhook(get({ ...base, "hub.verify_token": "nope" }), keys))).toBe(403);
    expect(
      statusOf(() => verifyMetaWebhook(get({ "hub.mode": "subscribe", "hub.challenge": "1" }), keys)),
    ).toBe(403);
    expect(statusOf(() => verifyMetaWebhook(get({ ...base, "hub.mode": "unsubscribe" }), keys))).toBe(403);
  });
});

describe("Graph errors in words an operator understands", () => {
  const err = (status: number, code: number, subcode?: number) =>
    graphError("POST x/messages", status, { message: "platform text", code, error_subcode: subcode });

  it("says an expired or revoked token needs a new connection, without retrying", () => {
    const e = err(401, 190);
    expect(e).toBeInstanceOf(PlatformError);
    expect(e.message).toMatch(/access token has expired or was revoked/);
    expect(e.retryable).toBe(false);
  });

  it("says a permission is missing for codes 10 and 200", () => {
    for (const code of [10, 200]) {
      expect(err(403, code).message).toMatch(/lacks a permission/);
      expect(err(403, code).retryable).toBe(false);
    }
  });

  it("says the messaging window is closed for WhatsApp 131047 and Messenger 10/2018278", () => {
    expect(err(400, 131047).message).toMatch(/more than 24 hours ago/);
    expect(err(400, 10, 2018278).message).toMatch(/more than 24 hours ago/);
  });

  it("says the recipient cannot be reached for 131026 and 551", () => {
    for (const code of [131026, 551]) expect(err(400, code).message).toMatch(/cannot be reached/);
  });

  it("retries rate-limit answers (4, 17, 32, 613, 80007, 130429)", () => {
    for (const code of [4, 17, 32, 613, 80007, 130429]) {
      const e = err(400, code);
      expect(e.retryable, String(code)).toBe(true);
      expect(e.message).toMatch(/rate limit/);
    }
  });

  it("says a wrong id in the settings is wrong or out of the token's reach (100/33)", () => {
    expect(err(400, 100, 33).message).toMatch(/does not exist, or the access token has no access/);
  });

  it("retries server errors and unreadable answers, and refuses other errors with Meta's text", () => {
    expect(graphError("GET x", 500).retryable).toBe(true);
    expect(graphError("GET x", 502, undefined).retryable).toBe(true);
    const e = err(400, 100);
    expect(e.retryable).toBe(false);
    expect(e.message).toContain("platform text");
  });
});
