import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { OpenlinesError } from "./errors.js";

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): every hub ↔ portal request
 * carries `webhook-id`, `webhook-timestamp` (seconds) and `webhook-signature`, a space-separated
 * list of `v1,<base64 HMAC-SHA256 of "id.timestamp.rawBody">`. Secrets are `whsec_<base64>`.
 * Several signatures let a secret be rotated: sign with both, accept either.
 */
export const SIGNATURE_HEADERS = {
  id: "webhook-id",
  timestamp: "webhook-timestamp",
  signature: "webhook-signature",
};
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;
const SECRET_PREFIX = "whsec_";

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64");
}

function secretKey(secret: string): Buffer {
  const raw = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(raw, "base64");
  if (key.length < 16 || key.toString("base64").replace(/=+$/, "") !== raw.replace(/=+$/, "")) {
    throw new OpenlinesError("SECRET_INVALID");
  }
  return key;
}

function hmac(key: Buffer, id: string, timestamp: number, body: string | Buffer): Buffer {
  return createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The value of `webhook-signature` for this body, one `v1,` entry per secret. */
export function sign(
  secrets: string | readonly string[],
  id: string,
  timestamp: number,
  body: string | Buffer,
): string {
  const list = typeof secrets === "string" ? [secrets] : secrets;
  return list.map((s) => `v1,${hmac(secretKey(s), id, timestamp, body).toString("base64")}`).join(" ");
}

/** Headers for a signed request; `now` in milliseconds (injected clock). */
export function signedHeaders(
  secrets: string | readonly string[],
  body: string | Buffer,
  now: number = Date.now(),
  id: string = `msg_${randomUUID()}`,
): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    [SIGNATURE_HEADERS.id]: id,
    [SIGNATURE_HEADERS.timestamp]: String(timestamp),
    [SIGNATURE_HEADERS.signature]: sign(secrets, id, timestamp, body),
  };
}

/**
 * Remembers request ids seen inside the replay window, so a captured request cannot be replayed.
 * `remember` returns false when the id was already seen. Implementations may be durable.
 */
export interface SeenIds {
  remember(id: string, expiresAt: number): boolean | Promise<boolean>;
}

/** In-memory seen-id set, pruned as entries pass the window. Enough for one process. */
export class MemorySeenIds implements SeenIds {
  readonly #ids = new Map<string, number>();
  #lastPrune = 0;
  constructor(private readonly now: () => number = Date.now) {}
  remember(id: string, expiresAt: number): boolean {
    const t = this.now();
    if (t - this.#lastPrune > 10_000) {
      for (const [k, exp] of this.#ids) if (exp < t) this.#ids.delete(k);
      this.#lastPrune = t;
    }
    const exp = this.#ids.get(id);
    if (exp !== undefined && exp >= t) return false;
    this.#ids.set(id, expiresAt);
    return true;
  }
}

export interface VerifyOptions {
  /** One or more accepted secrets (rotation). */
  secrets: string | readonly string[];
  headers: Record<string, string | string[] | undefined>;
  rawBody: string | Buffer;
  /** Current time in milliseconds. */
  now?: number;
  toleranceSeconds?: number;
  seen?: SeenIds;
}

function header(h: VerifyOptions["headers"], name: string): string | undefined {
  const v = h[name] ?? h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Verifies a signed request in constant time. Throws OpenlinesError with a distinct code for a
 * missing header, a malformed one, a stale or future timestamp, no matching signature, and a
 * replayed id. A tampered body and a wrong secret are the same failure (SIGNATURE_MISMATCH): an
 * HMAC cannot tell them apart, by design. Returns the request id and timestamp.
 */
export async function verifySignature(o: VerifyOptions): Promise<{ id: string; timestamp: number }> {
  const id = header(o.headers, SIGNATURE_HEADERS.id);
  const ts = header(o.headers, SIGNATURE_HEADERS.timestamp);
  const sig = header(o.headers, SIGNATURE_HEADERS.signature);
  if (!id || !ts || !sig) throw new OpenlinesError("SIGNATURE_HEADER_MISSING");
  if (!/^\d{1,12}$/.test(ts) || id.length > 256) throw new OpenlinesError("SIGNATURE_MALFORMED");
  const timestamp = Number(ts);
  const nowSec = Math.floor((o.now ?? Date.now()) / 1000);
  const tolerance = o.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (timestamp < nowSec - tolerance) throw new OpenlinesError("SIGNATURE_TIMESTAMP_STALE");
  if (timestamp > nowSec + tolerance) throw new OpenlinesError("SIGNATURE_TIMESTAMP_FUTURE");
  const given: Buffer[] = [];
  for (const part of sig.split(" ")) {
    const [version, value] = part.split(",", 2);
    if (version === "v1" && value) given.push(Buffer.from(value, "base64"));
  }
  if (given.length === 0) throw new OpenlinesError("SIGNATURE_MALFORMED");
  const list = typeof o.secrets === "string" ? [o.secrets] : o.secrets;
  let match = false;
  for (const s of list) {
    const expected = hmac(secretKey(s), id, timestamp, o.rawBody);
    for (const g of given) {
      if (g.length === expected.length && timingSafeEqual(g, expected)) match = true;
    }
  }
  if (!match) throw new OpenlinesError("SIGNATURE_MISMATCH");
  if (o.seen && !(await o.seen.remember(id, (timestamp + tolerance) * 1000))) {
    throw new OpenlinesError("SIGNATURE_REPLAYED");
  }
  return { id, timestamp };
}
