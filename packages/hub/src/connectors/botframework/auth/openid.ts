import type { Clock } from "@openlines/protocol";
import type { JWK } from "jose";

/** One signing key of the Bot Connector service with the channel ids it may sign for. */
export interface SigningKey {
  jwk: JWK;
  /** Channel ids this key is endorsed for; empty = any channel. */
  endorsements: string[];
}

/** Keys are stable for days; the SDK caches them for 5 days. One day keeps rotation visible. */
export const KEYS_CACHE_MS = 24 * 60 * 60 * 1000;
/**
 * An unknown `kid` refetches the keys, but not more often than this: a stream of tokens with made-up
 * key ids must not turn every webhook into two requests to Microsoft.
 */
export const KEYS_REFETCH_MIN_MS = 30 * 1000;

interface CacheEntry {
  keys: Map<string, SigningKey>;
  fetchedAt: number;
  refresh?: Promise<Map<string, SigningKey>>;
}

/**
 * The signing keys named by an OpenID metadata document (`jwks_uri`), cached per metadata URL for
 * every line of the hub: all bots trust the same keys. Refreshed when the cache is old or a token
 * names a key id it does not hold; concurrent refreshes share one request. When a refresh of old
 * keys fails, the old keys stay in use.
 */
export class OpenIdKeys {
  readonly #cache = new Map<string, CacheEntry>();

  async key(
    metadataUrl: string,
    kid: string,
    o: { fetch: typeof fetch; clock: Clock },
  ): Promise<SigningKey | undefined> {
    const now = o.clock.now();
    let entry = this.#cache.get(metadataUrl);
    if (!entry || now - entry.fetchedAt > KEYS_CACHE_MS) {
      try {
        await this.#refresh(metadataUrl, o);
      } catch (e) {
        // Old keys are better than refusing every activity while Microsoft's key endpoint is
        // down: keep them, and try again after KEYS_REFETCH_MIN_MS rather than on every request.
        if (!entry || entry.keys.size === 0) throw e;
        entry.fetchedAt = now - KEYS_CACHE_MS + KEYS_REFETCH_MIN_MS;
      }
      entry = this.#cache.get(metadataUrl)!;
    }
    const hit = entry.keys.get(kid);
    if (hit || now - entry.fetchedAt < KEYS_REFETCH_MIN_MS) return hit;
    await this.#refresh(metadataUrl, o);
    return this.#cache.get(metadataUrl)!.keys.get(kid);
  }

  /** Forgets every cached key (tests, or an operator's "reload keys"). */
  clear(): void {
    this.#cache.clear();
  }

  async #refresh(metadataUrl: string, o: { fetch: typeof fetch; clock: Clock }): Promise<void> {
    const entry = this.#cache.get(metadataUrl);
    if (entry?.refresh) {
      await entry.refresh;
      return;
    }
    const refresh = fetchKeys(metadataUrl, o.fetch);
    if (entry) entry.refresh = refresh;
    else this.#cache.set(metadataUrl, { keys: new Map(), fetchedAt: 0, refresh });
    try {
      const keys = await refresh;
      this.#cache.set(metadataUrl, { keys, fetchedAt: o.clock.now() });
    } finally {
      const e = this.#cache.get(metadataUrl);
      if (e?.refresh === refresh) e.refresh = undefined;
    }
  }
}

async function getJson(url: string, fetchFn: typeof fetch): Promise<any> {
  const res = await fetchFn(url, { headers: { accept: "application/json" } });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`GET ${url} answered HTTP ${res.status}`);
  }
  return res.json();
}

async function fetchKeys(metadataUrl: string, fetchFn: typeof fetch): Promise<Map<string, SigningKey>> {
  const metadata = await getJson(metadataUrl, fetchFn);
  if (typeof metadata?.jwks_uri !== "string")
    throw new Error(`The OpenID metadata at ${metadataUrl} names no jwks_uri.`);
  const jwks = await getJson(metadata.jwks_uri, fetchFn);
  const keys = new Map<string, SigningKey>();
  for (const k of Array.isArray(jwks?.keys) ? jwks.keys : []) {
    if (!k || typeof k.kid !== "string") continue;
    const { endorsements, ...jwk } = k as JWK & { endorsements?: unknown };
    keys.set(k.kid, {
      jwk,
      endorsements: Array.isArray(endorsements) ? endorsements.filter((e) => typeof e === "string") : [],
    });
  }
  return keys;
}

/** The process-wide key cache the connector uses. */
export const openIdKeys = new OpenIdKeys();
