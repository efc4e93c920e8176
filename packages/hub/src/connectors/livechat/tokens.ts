import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Visitor identity: the hub issues a visitor id and a token `v1.<visitorId>.<mac>` where the mac
 * is HMAC-SHA256 over the line connector id and the visitor id with the line's own key. The
 * widget keeps both in localStorage; a visitor cannot make a token for another visitor id, and a
 * token of one line is worthless on another.
 */
export function newVisitorId(): string {
  return `v_${randomBytes(12).toString("base64url")}`;
}

export function newTokenKey(): string {
  return randomBytes(32).toString("base64url");
}

function mac(key: string, lineConnectorId: string, visitorId: string): Buffer {
  return createHmac("sha256", Buffer.from(key, "base64url"))
    .update(`${lineConnectorId}.${visitorId}`)
    .digest();
}

export function issueToken(key: string, lineConnectorId: string, visitorId: string): string {
  return `v1.${visitorId}.${mac(key, lineConnectorId, visitorId).toString("base64url")}`;
}

/** The visitor id a token names, or undefined when the token is malformed or forged. */
export function verifyToken(key: string, lineConnectorId: string, token: string): string | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== "v1" || !/^v_[\w-]{1,60}$/.test(parts[1])) return undefined;
  const given = Buffer.from(parts[2], "base64url");
  const expected = mac(key, lineConnectorId, parts[1]);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return parts[1];
}
