import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

/**
 * A local imitation of the Microsoft side of a Bot Framework bot (channels.md §1), on one
 * 127.0.0.1 server:
 *  - the Entra ID token endpoint `POST /{tenant}/oauth2/v2.0/token` (client credentials; AADSTS
 *    errors for an unknown app or a wrong secret), issuing opaque tokens that expire;
 *  - the OpenID metadata `GET /v1/.well-known/openidconfiguration` and its keys
 *    `GET /v1/.well-known/keys` (RSA JWKs with `endorsements`), and the signing of channel
 *    tokens as the Bot Connector service does (`sign`);
 *  - the Bot Connector REST API under the serviceUrl `/{prefix}/v3/conversations/...` (send, reply,
 *    update, delete), which checks the bot's token, records every call and answers an activity id;
 *  - attachments the connector stores, `GET /{prefix}/attachments/...`, behind the bot's token.
 */
export const APP_ID = "6a0e2c1f-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
export const APP_SECRET = "s3cr3t~Value.For-Tests_0123456789";
export const ISSUER = "https://api.botframework.com";

export interface ConnectorCall {
  method: string;
  path: string;
  conversationId: string;
  activityId?: string;
  token: string;
  body: any;
  answer?: unknown;
  status: number;
}

interface Key {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
  endorsements: string[];
  published: boolean;
}

export class FakeBotConnector {
  readonly calls: ConnectorCall[] = [];
  readonly tokenRequests: { tenant: string; form: Record<string, string> }[] = [];
  readonly keyFetches: string[] = [];
  readonly files = new Map<string, { content: Buffer; type: string }>();
  /** App registrations the token endpoint knows: app id → secret (and tenant, when single-tenant). */
  readonly apps = new Map<string, { secret: string; tenant?: string }>([[APP_ID, { secret: APP_SECRET }]]);
  tokenLifetimeSeconds = 3600;
  /** The OpenID metadata answers 503 while set. */
  keysDown = false;
  /** Issued tokens still valid (revoke one to make the connector answer 401). */
  readonly tokens = new Set<string>();
  #keys: Key[] = [];
  #failures: { status: number; body?: unknown; headers?: Record<string, string> }[] = [];
  #tokenFailures: { status: number; body: unknown }[] = [];
  #nextId = 1;
  #server: Server;
  url = "";

  private constructor() {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((e) => res.writeHead(500).end(String(e)));
    });
  }

  static async start(): Promise<FakeBotConnector> {
    const fake = new FakeBotConnector();
    await new Promise<void>((r) => fake.#server.listen(0, "127.0.0.1", r));
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    await fake.addKey("key-1", [
      "skype",
      "msteams",
      "telegram",
      "slack",
      "facebook",
      "webchat",
      "directline",
      "sms",
      "email",
      "kik",
    ]);
    return fake;
  }

  /** The serviceUrl of conversations on channel `channelId` (a trailing slash, as the real ones have). */
  serviceUrl(channelId = "skype"): string {
    return `${this.url}/${channelId}/`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  /** Adds a signing key; `published: false` keeps it out of the JWKS (an attacker's key). */
  async addKey(kid: string, endorsements: string[], published = true): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid, kty: "RSA", use: "sig" };
    this.#keys.push({ kid, privateKey: privateKey as CryptoKey, jwk, endorsements, published });
  }

  /**
   * A channel token for an activity, as the Bot Connector signs it; `claims` and `o` bend it for
   * the refusal tests (another issuer, audience, expiry, serviceurl, key).
   */
  async sign(
    activity: { serviceUrl: string },
    o: {
      kid?: string;
      claims?: Record<string, unknown>;
      issuer?: string;
      audience?: string;
      expSeconds?: number;
      nbfSeconds?: number;
      nowMs?: number;
    } = {},
  ): Promise<string> {
    const key = this.#keys.find((k) => k.kid === (o.kid ?? "key-1"));
    if (!key) throw new Error(`no key ${o.kid}`);
    const now = Math.floor((o.nowMs ?? Date.now()) / 1000);
    return new SignJWT({ serviceurl: activity.serviceUrl, ...o.claims })
      .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" })
      .setIssuer(o.issuer ?? ISSUER)
      .setAudience(o.audience ?? APP_ID)
      .setIssuedAt(now)
      .setNotBefore(now + (o.nbfSeconds ?? -60))
      .setExpirationTime(now + (o.expSeconds ?? 3600))
      .sign(key.privateKey);
  }

  /** The next connector call answers this status (and body, headers). */
  failNext(status: number, body?: unknown, headers?: Record<string, string>): void {
    this.#failures.push({ status, body, headers });
  }

  /** The next token request answers this error. */
  failNextToken(status: number, body: unknown): void {
    this.#tokenFailures.push({ status, body });
  }

  /** Revokes every issued token: the next connector call answers 401. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  callsOf(method: string): ConnectorCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  addFile(path: string, content: Buffer, type: string): string {
    this.files.set(path, { content, type });
    return `${this.url}${path}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", this.url);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
    };

    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (token && req.method === "POST") return this.#token(decodeURIComponent(token[1]), raw, json);

    if (url.pathname === "/v1/.well-known/openidconfiguration") {
      this.keyFetches.push("metadata");
      if (this.keysDown) return json(503, { error: "temporarily unavailable" });
      return json(200, {
        issuer: ISSUER,
        authorization_endpoint: "https://invalid.botframework.com/v1/auth",
        jwks_uri: `${this.url}/v1/.well-known/keys`,
        id_token_signing_alg_values_supported: ["RS256"],
        token_endpoint_auth_methods_supported: ["private_key_jwt"],
      });
    }
    if (url.pathname === "/v1/.well-known/keys") {
      this.keyFetches.push("keys");
      return json(200, {
        keys: this.#keys.filter((k) => k.published).map((k) => ({ ...k.jwk, endorsements: k.endorsements })),
      });
    }

    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
    if (req.method === "GET" && this.files.has(url.pathname)) {
      if (!this.tokens.has(bearer))
        return json(401, { message: "Authorization has been denied for this request." });
      const f = this.files.get(url.pathname)!;
      res
        .writeHead(200, { "content-type": f.type, "content-length": String(f.content.length) })
        .end(f.content);
      return;
    }

    const api = /^\/[^/]+\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(url.pathname);
    if (!api) return json(404, { error: { code: "NotFound", message: "no such route" } });
    const call: ConnectorCall = {
      method: req.method ?? "",
      path: url.pathname,
      conversationId: decodeURIComponent(api[1]),
      activityId: api[2] ? decodeURIComponent(api[2]) : undefined,
      token: bearer,
      body: raw ? JSON.parse(raw) : undefined,
      status: 0,
    };
    this.calls.push(call);
    if (!this.tokens.has(bearer)) {
      call.status = 401;
      return json(401, { message: "Authorization has been denied for this request." });
    }
    const failure = this.#failures.shift();
    if (failure) {
      call.status = failure.status;
      call.answer = failure.body;
      return json(
        failure.status,
        failure.body ?? { error: { code: "ServiceError", message: "failed" } },
        failure.headers,
      );
    }
    call.status = req.method === "POST" ? 201 : 200;
    if (req.method === "DELETE") return json(200, {});
    const id = req.method === "PUT" ? (call.activityId ?? "") : `activity-${this.#nextId++}`;
    call.answer = { id };
    return json(req.method === "POST" ? 201 : 200, { id });
  }

  #token(tenant: string, raw: string, json: (s: number, b: unknown) => void) {
    const form = Object.fromEntries(new URLSearchParams(raw));
    this.tokenRequests.push({ tenant, form });
    const failure = this.#tokenFailures.shift();
    if (failure) return json(failure.status, failure.body);
    const app = this.apps.get(form.client_id ?? "");
    if (form.grant_type !== "client_credentials" || form.scope !== "https://api.botframework.com/.default")
      return json(400, { error: "invalid_request", error_description: "AADSTS900144: bad request" });
    if (!app || (app.tenant ?? "botframework.com") !== tenant)
      return json(400, {
        error: "unauthorized_client",
        error_description: `AADSTS700016: Application with identifier '${form.client_id}' was not found in the directory '${tenant}'.`,
      });
    if (app.secret !== form.client_secret)
      return json(401, {
        error: "invalid_client",
        error_description: "AADSTS7000215: Invalid client secret provided.",
      });
    const accessToken = `fake-token-${randomUUID()}`;
    this.tokens.add(accessToken);
    return json(200, {
      token_type: "Bearer",
      expires_in: this.tokenLifetimeSeconds,
      ext_expires_in: this.tokenLifetimeSeconds,
      access_token: accessToken,
    });
  }
}
