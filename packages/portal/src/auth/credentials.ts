import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import type { PortalDatabase } from "../store/index.js";

const sha256 = (s: string) => createHash("sha256").update(s).digest("base64url");
const token = (bytes = 32) => randomBytes(bytes).toString("base64url");

export const API_TOKEN_PREFIX = "olt_";

/**
 * Sign-in sessions and API tokens. Both are random values handed out once; the database keeps only
 * their SHA-256, so reading the tables does not let anyone sign in. A session carries its own
 * CSRF token (returned by GET /api/session, required in `x-csrf-token` on every non-GET call made
 * with the cookie).
 */
export class Credentials {
  constructor(
    private readonly db: Kysely<PortalDatabase>,
    private readonly now: () => number,
    private readonly sessionTtlMs: number,
  ) {}

  async openSession(operatorId: string): Promise<{ id: string; csrfToken: string; expiresMs: number }> {
    const id = token();
    const csrfToken = token(24);
    const expiresMs = this.now() + this.sessionTtlMs;
    await this.db
      .deleteFrom("operator_session")
      .where("operator_id", "=", operatorId)
      .where("expires_ms", "<=", this.now())
      .execute();
    await this.db
      .insertInto("operator_session")
      .values({
        id_hash: sha256(id),
        operator_id: operatorId,
        csrf_token: csrfToken,
        created_ms: this.now(),
        expires_ms: expiresMs,
      })
      .execute();
    return { id, csrfToken, expiresMs };
  }

  /** The live session for a cookie value, or undefined when unknown or expired (expired ones are deleted). */
  async findSession(
    id: string,
  ): Promise<{ operatorId: string; csrfToken: string; expiresMs: number } | undefined> {
    const row = await this.db
      .selectFrom("operator_session")
      .selectAll()
      .where("id_hash", "=", sha256(id))
      .executeTakeFirst();
    if (!row) return undefined;
    if (Number(row.expires_ms) <= this.now()) {
      await this.db.deleteFrom("operator_session").where("id_hash", "=", row.id_hash).execute();
      return undefined;
    }
    return { operatorId: row.operator_id, csrfToken: row.csrf_token, expiresMs: Number(row.expires_ms) };
  }

  async closeSession(id: string): Promise<void> {
    await this.db.deleteFrom("operator_session").where("id_hash", "=", sha256(id)).execute();
  }

  async closeSessionsOf(operatorId: string): Promise<void> {
    await this.db.deleteFrom("operator_session").where("operator_id", "=", operatorId).execute();
  }

  async createToken(operatorId: string, name: string): Promise<{ id: string; token: string }> {
    const value = API_TOKEN_PREFIX + token();
    const id = randomUUID();
    await this.db
      .insertInto("api_token")
      .values({
        id,
        operator_id: operatorId,
        name,
        token_hash: sha256(value),
        created_ms: this.now(),
        last_used_ms: null,
      })
      .execute();
    return { id, token: value };
  }

  async findToken(value: string): Promise<{ id: string; operatorId: string } | undefined> {
    if (!value.startsWith(API_TOKEN_PREFIX)) return undefined;
    const row = await this.db
      .selectFrom("api_token")
      .select(["id", "operator_id"])
      .where("token_hash", "=", sha256(value))
      .executeTakeFirst();
    if (!row) return undefined;
    await this.db
      .updateTable("api_token")
      .set({ last_used_ms: this.now() })
      .where("id", "=", row.id)
      .execute();
    return { id: row.id, operatorId: row.operator_id };
  }

  async listTokens(operatorId: string) {
    const rows = await this.db
      .selectFrom("api_token")
      .select(["id", "name", "created_ms", "last_used_ms"])
      .where("operator_id", "=", operatorId)
      .orderBy("created_ms")
      .execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      created: Number(r.created_ms),
      lastUsed: r.last_used_ms === null ? null : Number(r.last_used_ms),
    }));
  }

  async revokeToken(operatorId: string, id: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom("api_token")
      .where("id", "=", id)
      .where("operator_id", "=", operatorId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}

/** Constant-time string comparison for tokens. */
export function sameToken(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Failed sign-ins counted per email+IP in memory: after `max` failures within `windowMs`, further
 * attempts are refused until the window passes. Memory only: a restart forgets, which is
 * acceptable for slowing guessing down; replicas each count their own.
 */
export class FailureLimiter {
  #failures = new Map<string, number[]>();
  constructor(
    private readonly now: () => number,
    private readonly max = 5,
    private readonly windowMs = 15 * 60_000,
  ) {}

  #recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    const list = (this.#failures.get(key) ?? []).filter((t) => t > since);
    if (list.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, list);
    return list;
  }

  blocked(key: string): boolean {
    return this.#recent(key).length >= this.max;
  }

  fail(key: string): void {
    const list = this.#recent(key);
    list.push(this.now());
    this.#failures.set(key, list);
    if (this.#failures.size > 100_000) this.#failures.delete(this.#failures.keys().next().value!);
  }

  clear(key: string): void {
    this.#failures.delete(key);
  }
}
