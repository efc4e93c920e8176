import { PlatformError } from "../contract.js";

/** Telegram's answer shape for every method. */
interface ApiAnswer {
  ok: boolean;
  result?: unknown;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

export interface BotApiOptions {
  /** `https://api.telegram.org`, or a local Bot API server. */
  baseUrl: string;
  token: string;
  fetch: typeof fetch;
}

/**
 * A thin Bot API client: `call(method, params)` posts JSON to `<base>/bot<token>/<method>` and
 * returns `result`, or throws a PlatformError that says whether to retry. The token is part of
 * every URL, so no URL and no fetch error text is ever put in an error message.
 */
export class BotApi {
  readonly #o: BotApiOptions;

  constructor(o: BotApiOptions) {
    this.#o = { ...o, baseUrl: o.baseUrl.replace(/\/+$/, "") };
  }

  async call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    let res: Response;
    try {
      res = await this.#o.fetch(`${this.#o.baseUrl}/bot${this.#o.token}/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(params),
      });
    } catch (e) {
      throw new PlatformError(`Telegram could not be reached (${method})`, {
        retryable: true,
        cause: this.#redact(e),
      });
    }
    let answer: ApiAnswer | undefined;
    try {
      answer = (await res.json()) as ApiAnswer;
    } catch {
      answer = undefined;
    }
    if (answer?.ok === true) return answer.result as T;
    throw toPlatformError(method, res.status, answer);
  }

  /** Downloads a file by its `file_path` from getFile; the response body is streamed by the caller. */
  async download(filePath: string): Promise<Response> {
    const path = filePath.split("/").map(encodeURIComponent).join("/");
    try {
      return await this.#o.fetch(`${this.#o.baseUrl}/file/bot${this.#o.token}/${path}`);
    } catch (e) {
      throw new PlatformError("Telegram could not be reached (file download)", {
        retryable: true,
        cause: this.#redact(e),
      });
    }
  }

  /** A network error whose text may quote the URL, with the token blanked out. */
  #redact(e: unknown): Error {
    const text =
      e instanceof Error ? `${e.message} ${e.cause instanceof Error ? e.cause.message : ""}` : String(e);
    return new Error(text.replaceAll(this.#o.token, "<token>").trim());
  }
}

/** Maps Telegram's error answers to retry decisions and reasons an operator understands. */
export function toPlatformError(method: string, httpStatus: number, answer?: ApiAnswer): PlatformError {
  const code = answer?.error_code ?? httpStatus;
  const description = answer?.description ?? `HTTP ${httpStatus}`;
  const base = { platformStatus: code, platformCode: String(code) };
  if (code === 429) {
    const seconds = answer?.parameters?.retry_after;
    return new PlatformError(`Telegram rate limit: ${description}`, {
      ...base,
      retryable: true,
      retryAfterMs: typeof seconds === "number" ? seconds * 1000 : undefined,
    });
  }
  if (code === 401 || code === 404)
    return new PlatformError("the bot token is wrong or revoked", { ...base, retryable: false });
  if (code === 403) {
    const reason = /blocked by the user/i.test(description)
      ? "the customer blocked the bot"
      : /deactivated/i.test(description)
        ? "the customer's Telegram account is deleted"
        : /kicked/i.test(description)
          ? "the bot was removed from the chat"
          : `Telegram refused: ${description}`;
    return new PlatformError(reason, { ...base, retryable: false });
  }
  if (code >= 500 || answer === undefined)
    return new PlatformError(`Telegram failed (${method}): ${description}`, { ...base, retryable: true });
  return new PlatformError(`Telegram refused ${method}: ${description}`, { ...base, retryable: false });
}
