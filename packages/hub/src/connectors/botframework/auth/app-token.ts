import type { Clock } from "@openlines/protocol";
import { PlatformError } from "../../contract.js";

/** The scope of tokens for the Bot Connector service. */
export const CONNECTOR_SCOPE = "https://api.botframework.com/.default";
/** The tenant of multi-tenant bots (the SDK's default channel auth tenant). */
export const DEFAULT_TENANT = "botframework.com";
/** A token is renewed this long before it expires, as the SDK does. */
export const RENEW_BEFORE_MS = 5 * 60 * 1000;

export interface AppTokenOptions {
  /** `https://login.microsoftonline.com`, or a fake. */
  loginUrl: string;
  appId: string;
  appSecret: string;
  tenantId?: string;
  fetch: typeof fetch;
  clock: Clock;
}

/**
 * The bot's own access token for calls to the Bot Connector (client-credentials grant, channels.md
 * §1.3). Cached until shortly before it expires; concurrent callers share one request, so a burst
 * of replies makes one token request. `invalidate()` after a 401 makes the next `get()` fetch anew.
 * The secret and the token never appear in an error message.
 */
export class AppToken {
  readonly #o: AppTokenOptions;
  #token?: { value: string; renewAt: number };
  #pending?: Promise<string>;

  constructor(o: AppTokenOptions) {
    this.#o = { ...o, loginUrl: o.loginUrl.replace(/\/+$/, "") };
  }

  async get(): Promise<string> {
    if (this.#token && this.#o.clock.now() < this.#token.renewAt) return this.#token.value;
    this.#pending ??= this.#request().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Drops the cached token, unless a newer one than `value` is already held. */
  invalidate(value?: string): void {
    if (!value || this.#token?.value === value) this.#token = undefined;
  }

  get tokenUrl(): string {
    const tenant = encodeURIComponent(this.#o.tenantId || DEFAULT_TENANT);
    return `${this.#o.loginUrl}/${tenant}/oauth2/v2.0/token`;
  }

  async #request(): Promise<string> {
    const started = this.#o.clock.now();
    let res: Response;
    try {
      res = await this.#o.fetch(this.tokenUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: this.#o.appId,
          client_secret: this.#o.appSecret,
          scope: CONNECTOR_SCOPE,
        }).toString(),
      });
    } catch (e) {
      throw new PlatformError("the Microsoft login service could not be reached", {
        retryable: true,
        cause: new Error(e instanceof Error ? e.message : String(e)),
      });
    }
    let body: any;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    if (res.ok && typeof body?.access_token === "string") {
      const lifetimeMs = (Number(body.expires_in) || 3600) * 1000;
      this.#token = {
        value: body.access_token,
        renewAt: started + Math.max(lifetimeMs - RENEW_BEFORE_MS, lifetimeMs / 2),
      };
      return body.access_token;
    }
    throw loginError(res.status, body, this.#o.tenantId);
  }
}

/**
 * Maps an Entra ID (AAD) token error to what an administrator must fix. AADSTS700016: no such
 * application in the tenant; AADSTS7000215/7000222: wrong or expired secret; AADSTS90002: no
 * such tenant.
 */
function loginError(status: number, body: any, tenantId?: string): PlatformError {
  const text = `${body?.error ?? ""} ${body?.error_description ?? ""}`;
  const code = /AADSTS\d+/.exec(text)?.[0] ?? (typeof body?.error === "string" ? body.error : undefined);
  const o = { platformStatus: status, platformCode: code };
  if (status === 429 || status >= 500)
    return new PlatformError(`the Microsoft login service failed (HTTP ${status})`, {
      ...o,
      retryable: true,
    });
  if (/AADSTS700016/.test(text) || body?.error === "unauthorized_client")
    return new PlatformError(
      tenantId
        ? `the App ID is not known in tenant ${tenantId}: check the App ID and the tenant`
        : "the App ID is not known to Microsoft: check the App ID (a single-tenant bot also needs its tenant)",
      { ...o, retryable: false },
    );
  if (/AADSTS7000222/.test(text))
    return new PlatformError("the App secret has expired: create a new client secret", {
      ...o,
      retryable: false,
    });
  if (/AADSTS7000215/.test(text) || body?.error === "invalid_client")
    return new PlatformError("the App secret is wrong for this App ID", { ...o, retryable: false });
  if (/AADSTS90002/.test(text))
    return new PlatformError(`the tenant ${tenantId ?? DEFAULT_TENANT} does not exist`, {
      ...o,
      retryable: false,
    });
  return new PlatformError(`the Microsoft login service refused the credentials (HTTP ${status})`, {
    ...o,
    retryable: false,
  });
}
