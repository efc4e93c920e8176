import { createHmac, timingSafeEqual } from "node:crypto";
import { OpenlinesError } from "@openlines/protocol";

/** What a hub file link names: a connector's file ref on one line connector, until `exp`. */
export interface FileTokenPayload {
  /** Line connector id. */
  l: string;
  /** The connector's ref (Telegram file_id, WhatsApp media id…). */
  r: string;
  /** File name and type, for the download's headers. */
  n: string;
  t?: string;
  /** Expiry, ms. */
  e: number;
}

/**
 * Signed, expiring file tokens: `<base64url JSON>.<base64url HMAC-SHA256>`, the key derived from the
 * hub key so it never equals the sealing key.
 */
export function fileTokens(hubKey: string) {
  const key = createHmac("sha256", hubKey).update("openlines file links v1").digest();
  const mac = (data: string) => createHmac("sha256", key).update(data).digest();
  return {
    sign(p: FileTokenPayload): string {
      const data = Buffer.from(JSON.stringify(p)).toString("base64url");
      return `${data}.${mac(data).toString("base64url")}`;
    },
    /** Throws NOT_FOUND for a forged, malformed or expired token (one answer for all three). */
    verify(token: string, now: number): FileTokenPayload {
      const [data, sig] = token.split(".");
      const notFound = new OpenlinesError("NOT_FOUND", "This file link is invalid or has expired.");
      if (!data || !sig) throw notFound;
      const given = Buffer.from(sig, "base64url");
      const expected = mac(data);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw notFound;
      let p: FileTokenPayload;
      try {
        p = JSON.parse(Buffer.from(data, "base64url").toString("utf8"));
      } catch {
        throw notFound;
      }
      if (typeof p.e !== "number" || p.e < now) throw notFound;
      return p;
    },
  };
}
export type FileTokens = ReturnType<typeof fileTokens>;
