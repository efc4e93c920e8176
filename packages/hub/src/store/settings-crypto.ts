import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/**
 * Secrets at rest (connector settings, portal signing secrets) are sealed with AES-256-GCM under
 * the hub's key (setting OPENLINES_HUB_KEY). Stored form: `v1.<iv>.<tag>.<ciphertext>`, base64url.
 * A wrong key or a tampered value fails to open rather than returning garbage.
 */
export class SecretBox {
  readonly #key: Buffer;
  constructor(key: string) {
    if (!key || key.length < 16)
      throw new Error("The hub key (OPENLINES_HUB_KEY) must be at least 16 characters.");
    // Any passphrase becomes a 32-byte key; a random 32-byte base64 key is recommended.
    this.#key = createHash("sha256").update(key).digest();
  }
  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return ["v1", iv.toString("base64url"), tag.toString("base64url"), data.toString("base64url")].join(".");
  }
  open(sealed: string): string {
    const [v, iv, tag, data] = sealed.split(".");
    if (v !== "v1" || !iv || !tag || data === undefined)
      throw new Error("Sealed value is not in the v1 format.");
    const decipher = createDecipheriv("aes-256-gcm", this.#key, Buffer.from(iv, "base64url"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString(
      "utf8",
    );
  }
}
