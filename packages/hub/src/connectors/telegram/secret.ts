import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * The webhook `secret_token` of one line connector, derived instead of stored: HMAC-SHA256 keyed
 * with the bot token over the line connector's id and hash, base64url (43 characters of
 * `A-Za-z0-9_-`, as Telegram allows). Only the hub and Telegram know the bot token, so no one
 * else can compute it; a new token, a new line connector or a new hash gives a new secret, and
 * `register` installs it again. Nothing to store, nothing to migrate.
 */
export function webhookSecret(botToken: string, line: { id: string; hash: string }): string {
  return createHmac("sha256", botToken)
    .update(`openlines/telegram/webhook\n${line.id}\n${line.hash}`)
    .digest("base64url");
}

/** Constant-time string comparison (both sides hashed first, so lengths never leak either). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}
