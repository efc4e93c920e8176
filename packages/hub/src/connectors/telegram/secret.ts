import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "@openlines/protocol";
import type { ChatContextStore } from "../contract.js";

/**
 * The webhook `secret_token` of one line connector: 32 random bytes, base64url (43 characters of
 * `A-Za-z0-9_-`, as Telegram allows), kept in the line's chat context store under a key no
 * Telegram chat id can take. Stored rather than derived from the bot token so that a new token
 * for the same bot keeps the webhook working; when another line takes the bot over, the hub
 * deletes this line's chat context and with it the secret, so the old line refuses everything.
 */
export const SECRET_KEY = "@webhook";

/** How long a read secret is trusted without reading the store again. */
export const SECRET_CACHE_MS = 60_000;

export class WebhookSecret {
  readonly #store: ChatContextStore;
  readonly #clock: Clock;
  #cached?: string;
  #readAt = 0;

  constructor(store: ChatContextStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** The stored secret, or a new one stored now (register keeps an existing secret). */
  async ensure(): Promise<string> {
    const stored = await this.#read();
    if (stored) return stored;
    const secret = randomBytes(32).toString("base64url");
    await this.#store.set(SECRET_KEY, { secretToken: secret });
    this.#cached = secret;
    this.#readAt = this.#clock.now();
    return secret;
  }

  /**
   * Whether `given` is this line's secret, compared in constant time. The stored value is cached
   * for SECRET_CACHE_MS; a mismatch is checked once more against the store (another replica may
   * have registered), so a removed secret stops working within that time.
   */
  async matches(given: string): Promise<boolean> {
    const fresh = this.#clock.now() - this.#readAt < SECRET_CACHE_MS;
    if (fresh && this.#cached && sameSecret(given, this.#cached)) return true;
    const stored = await this.#read();
    return stored !== undefined && sameSecret(given, stored);
  }

  async #read(): Promise<string | undefined> {
    const data = await this.#store.get<{ secretToken?: string }>(SECRET_KEY);
    this.#cached = data?.secretToken;
    this.#readAt = this.#clock.now();
    return this.#cached;
  }
}

/** Constant-time string comparison (both sides hashed first, so lengths never leak either). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}
