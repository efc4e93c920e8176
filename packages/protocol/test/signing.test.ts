import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { OpenlinesError } from "../src/errors.js";
import {
  DEFAULT_TOLERANCE_SECONDS,
  generateSecret,
  MemorySeenIds,
  SIGNATURE_HEADERS,
  sign,
  signedHeaders,
  type VerifyOptions,
  verifySignature,
} from "../src/signing.js";

const secret = generateSecret();
const other = generateSecret();
const body = JSON.stringify({ packets: [{ id: "pkt_1", text: "Привет 😀 [b]x[/b]" }] });

async function codeOf(o: VerifyOptions): Promise<string> {
  try {
    await verifySignature(o);
  } catch (e) {
    if (e instanceof OpenlinesError) return e.code;
    throw e;
  }
  return "OK";
}

/** Headers signed by the reference implementation, at a given time. */
function referenceHeaders(key: string, payload: string, at: Date, id = "msg_ref_1"): Record<string, string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(key).sign(id, at, payload),
  };
}

describe("signing interoperates with the standardwebhooks package", () => {
  it("produces signatures the reference implementation verifies", () => {
    const headers = signedHeaders(secret, body, Date.now());
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it("produces exactly the reference signature for the same id, time and body", () => {
    const at = new Date(1_767_225_600_000);
    expect(sign(secret, "msg_1", Math.floor(at.getTime() / 1000), body)).toBe(
      new Webhook(secret).sign("msg_1", at, body),
    );
  });

  it("verifies what the reference implementation signs", async () => {
    const now = Date.now();
    const headers = referenceHeaders(secret, body, new Date(now));
    expect(await verifySignature({ secrets: secret, headers, rawBody: body, now })).toEqual({
      id: "msg_ref_1",
      timestamp: Math.floor(now / 1000),
    });
    expect(await codeOf({ secrets: secret, headers, rawBody: Buffer.from(body), now })).toBe("OK");
  });

  it("signs with several secrets during a rotation, and either verifies", async () => {
    const headers = signedHeaders([secret, other], body, Date.now());
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(() => new Webhook(secret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(other).verify(body, headers)).not.toThrow();
    const now = Date.now();
    const refHeaders = referenceHeaders(other, body, new Date(now));
    expect(await codeOf({ secrets: [secret, other], headers: refHeaders, rawBody: body, now })).toBe("OK");
  });

  it("is rejected by the reference implementation when our body is tampered or the secret differs", () => {
    const headers = signedHeaders(secret, body, Date.now());
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
    expect(() => new Webhook(other).verify(body, headers)).toThrow();
  });
});

describe("signature verification refuses bad requests with a code", () => {
  const now = 1_767_225_600_000;
  const at = new Date(now);
  const good = () => referenceHeaders(secret, body, at);

  it("a tampered body: SIGNATURE_MISMATCH", async () => {
    expect(
      await codeOf({ secrets: secret, headers: good(), rawBody: body.replace("pkt_1", "pkt_2"), now }),
    ).toBe("SIGNATURE_MISMATCH");
  });

  it("a wrong secret: SIGNATURE_MISMATCH (an HMAC cannot tell it from a tampered body)", async () => {
    expect(await codeOf({ secrets: other, headers: good(), rawBody: body, now })).toBe("SIGNATURE_MISMATCH");
  });

  it("a timestamp older than the window: SIGNATURE_TIMESTAMP_STALE", async () => {
    const headers = referenceHeaders(secret, body, new Date(now - (DEFAULT_TOLERANCE_SECONDS + 1) * 1000));
    expect(await codeOf({ secrets: secret, headers, rawBody: body, now })).toBe("SIGNATURE_TIMESTAMP_STALE");
  });

  it("a timestamp ahead of the window: SIGNATURE_TIMESTAMP_FUTURE", async () => {
    const headers = referenceHeaders(secret, body, new Date(now + (DEFAULT_TOLERANCE_SECONDS + 1) * 1000));
    expect(await codeOf({ secrets: secret, headers, rawBody: body, now })).toBe("SIGNATURE_TIMESTAMP_FUTURE");
  });

  it("accepts timestamps at the edges of the window", async () => {
    for (const shift of [-DEFAULT_TOLERANCE_SECONDS, DEFAULT_TOLERANCE_SECONDS]) {
      const headers = referenceHeaders(secret, body, new Date(now + shift * 1000));
      expect(await codeOf({ secrets: secret, headers, rawBody: body, now })).toBe("OK");
    }
  });

  it.each(Object.values(SIGNATURE_HEADERS))("a missing %s header: SIGNATURE_HEADER_MISSING", async (name) => {
    const { [name]: _, ...headers } = good();
    expect(await codeOf({ secrets: secret, headers, rawBody: body, now })).toBe("SIGNATURE_HEADER_MISSING");
  });

  it.each([
    ["a timestamp that is not a number", { "webhook-timestamp": "soon" }],
    ["a timestamp in milliseconds with a fraction", { "webhook-timestamp": "1767225600.5" }],
    ["a signature without a version", { "webhook-signature": "abcdef" }],
    ["only unknown signature versions", { "webhook-signature": "v2,abcdef v1a,xyz" }],
    ["an id longer than 256 characters", { "webhook-id": "x".repeat(257) }],
  ])("%s: SIGNATURE_MALFORMED", async (_title, change) => {
    expect(await codeOf({ secrets: secret, headers: { ...good(), ...change }, rawBody: body, now })).toBe(
      "SIGNATURE_MALFORMED",
    );
  });

  it("a replayed id: SIGNATURE_REPLAYED, while the same id after the window is not a replay", async () => {
    let clock = now;
    const seen = new MemorySeenIds(() => clock);
    const headers = good();
    expect(await codeOf({ secrets: secret, headers, rawBody: body, now: clock, seen })).toBe("OK");
    expect(await codeOf({ secrets: secret, headers, rawBody: body, now: clock, seen })).toBe(
      "SIGNATURE_REPLAYED",
    );
    // A different id with the same body is a new request.
    const again = referenceHeaders(secret, body, at, "msg_ref_2");
    expect(await codeOf({ secrets: secret, headers: again, rawBody: body, now: clock, seen })).toBe("OK");
    clock = now + (2 * DEFAULT_TOLERANCE_SECONDS + 1) * 1000;
    const later = referenceHeaders(secret, body, new Date(clock));
    expect(await codeOf({ secrets: secret, headers: later, rawBody: body, now: clock, seen })).toBe("OK");
  });

  it("does not remember the id of a request that failed verification", async () => {
    const seen = new MemorySeenIds(() => now);
    const headers = good();
    expect(await codeOf({ secrets: other, headers, rawBody: body, now, seen })).toBe("SIGNATURE_MISMATCH");
    expect(await codeOf({ secrets: secret, headers, rawBody: body, now, seen })).toBe("OK");
  });

  it("reads headers given as arrays, as some servers pass repeated headers", async () => {
    const headers = Object.fromEntries(Object.entries(good()).map(([k, v]) => [k, [v]]));
    expect(await codeOf({ secrets: secret, headers, rawBody: body, now })).toBe("OK");
  });

  it("refuses a secret that is not whsec_ base64 with SECRET_INVALID", async () => {
    expect(await codeOf({ secrets: "whsec_!!notbase64!!", headers: good(), rawBody: body, now })).toBe(
      "SECRET_INVALID",
    );
    expect(() => signedHeaders("whsec_c2hvcnQ=", body)).toThrow(OpenlinesError);
  });

  it("generates 32-byte whsec_ secrets that differ", () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), "base64")).toHaveLength(32);
    expect(generateSecret()).not.toBe(a);
  });
});

describe("signature verification on arbitrary input", () => {
  it("refuses any forged header set with an OpenlinesError, never a crash", async () => {
    const now = 1_767_225_600_000;
    const value = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.constant(undefined),
      fc.constant(String(Math.floor(now / 1000))),
      fc.array(fc.string({ maxLength: 20 }), { maxLength: 2 }),
      fc.string({ maxLength: 60 }).map((x) => `v1,${Buffer.from(x).toString("base64")}`),
    );
    await fc.assert(
      fc.asyncProperty(value, value, value, fc.string({ maxLength: 100 }), async (id, ts, sig, raw) => {
        const headers = {
          "webhook-id": id,
          "webhook-timestamp": ts,
          "webhook-signature": sig,
        } as VerifyOptions["headers"];
        const code = await codeOf({ secrets: secret, headers, rawBody: raw, now });
        expect(code).toMatch(/^SIGNATURE_/);
      }),
      { numRuns: 1000 },
    );
  });
});
