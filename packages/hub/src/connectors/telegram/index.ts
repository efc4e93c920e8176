import { OpenlinesError } from "@openlines/protocol";
import type {
  Connector,
  ConnectorContext,
  ConnectorDefinition,
  OutboundMessage,
  WebhookRequest,
  WebhookResult,
} from "../contract.js";
import { PlatformError } from "../contract.js";
import { streamPlatformFile } from "../platform-file.js";
import { BotApi } from "./api.js";
import { TEXT_LIMIT } from "./html.js";
import { ALLOWED_UPDATES, parseUpdate } from "./parse.js";
import { WebhookSecret } from "./secret.js";
import { chatIdOf, editOutbound, FILE_BY_URL_MAX_BYTES, sendOutbound } from "./send.js";
import { TelegramSettings } from "./settings.js";

export const SECRET_HEADER = "x-telegram-bot-api-secret-token";

/**
 * The Telegram connector (channels.md §2): one bot per line connector, webhook-driven. Incoming
 * updates become exchange messages with entities converted to markup and files as hub links (a
 * Telegram file URL carries the bot token); replies go out as Telegram HTML. The Bot API base URL
 * is `baseUrls.api`, overridable for a local Bot API server or a test fake.
 */
export const telegram: ConnectorDefinition<TelegramSettings> = {
  type: "telegram",
  title: "Telegram bot",
  settings: TelegramSettings,
  baseUrls: { api: "https://api.telegram.org" },
  // Bot FAQ: ~30 messages/s per bot (one bot = one line) and ~1/s per chat; the per-chat limit is
  // enforced by Telegram with 429 + retry_after, which the outbox obeys.
  rateLimits: { perLine: { perSecond: 30, burst: 30 } },
  capabilities: {
    edit: true,
    delete: true,
    typing: true,
    readReceipts: false,
    deliveryReceipts: false,
    groupChats: true,
    files: {
      kinds: ["image", "video", "audio", "voice", "sticker", "document"],
      maxSizeBytes: FILE_BY_URL_MAX_BYTES,
      maxCount: 10,
    },
    textMaxLength: TEXT_LIMIT,
    formatting: [
      "bold",
      "italic",
      "underline",
      "strike",
      "code",
      "pre",
      "link",
      "mention",
      "quote",
      "spoiler",
    ],
    replyWindowHours: null,
    templates: false,
  },
  create: (ctx) => new TelegramConnector(ctx),
};

export class TelegramConnector implements Connector {
  readonly #ctx: ConnectorContext<TelegramSettings>;
  readonly #api: BotApi;
  readonly #secret: WebhookSecret;
  #botId?: string;

  constructor(ctx: ConnectorContext<TelegramSettings>) {
    this.#ctx = ctx;
    this.#api = new BotApi({ baseUrl: ctx.baseUrl("api"), token: ctx.settings.botToken, fetch: ctx.fetch });
    this.#secret = new WebhookSecret(ctx.chatContext, ctx.clock);
  }

  async testConnect() {
    const me = await this.#api.call<{ id: number; first_name: string; username?: string }>("getMe");
    this.#botId = String(me.id);
    return { account: { id: String(me.id), name: me.username ? `@${me.username}` : me.first_name } };
  }

  /** The bot's id from getMe (asked once per instance: settings do not change under it). */
  async accountId(): Promise<string> {
    return this.#botId ?? (await this.testConnect()).account.id;
  }

  async register(): Promise<void> {
    await this.#api.call("setWebhook", {
      url: this.#ctx.line.webhookUrl,
      secret_token: await this.#secret.ensure(),
      allowed_updates: ALLOWED_UPDATES,
    });
  }

  /**
   * Removes the webhook only while it is still this line's: after another line took the bot over,
   * the old line's deactivation must not cut the new line off.
   */
  async unregister(): Promise<void> {
    const info = await this.#api.call<{ url: string }>("getWebhookInfo");
    if (info.url === this.#ctx.line.webhookUrl) await this.#api.call("deleteWebhook", {});
  }

  async verify(req: WebhookRequest): Promise<void> {
    const given = req.headers[SECRET_HEADER];
    if (!given)
      throw new OpenlinesError(
        "WEBHOOK_UNVERIFIED",
        "The X-Telegram-Bot-Api-Secret-Token header is missing.",
      );
    if (!(await this.#secret.matches(given)))
      throw new OpenlinesError(
        "WEBHOOK_UNVERIFIED",
        "The X-Telegram-Bot-Api-Secret-Token header does not match this line's webhook secret.",
      );
  }

  async parse(req: WebhookRequest): Promise<WebhookResult> {
    let body = req.json;
    if (body === undefined) {
      try {
        body = JSON.parse(req.rawBody.toString("utf8"));
      } catch {
        throw new OpenlinesError("BODY_NOT_JSON", "The Telegram update is not valid JSON.");
      }
    }
    const events = parseUpdate(body, this.#ctx.settings, (ref, file) => this.#ctx.fileLink(ref, file));
    return { events, reply: { status: 200, body: "" } };
  }

  send(message: OutboundMessage): Promise<{ platformMessageId: string }> {
    return sendOutbound(this.#api, message);
  }

  async update(m: Parameters<NonNullable<Connector["update"]>>[0]): Promise<void> {
    await editOutbound(this.#api, m.chat.id, m.platformMessageId, m.text);
  }

  async delete(m: Parameters<NonNullable<Connector["delete"]>>[0]): Promise<void> {
    await this.#api.call("deleteMessage", {
      chat_id: chatIdOf(m.chat.id),
      message_id: Number(m.platformMessageId),
    });
  }

  async typing(chat: Parameters<NonNullable<Connector["typing"]>>[0]): Promise<void> {
    await this.#api.call("sendChatAction", { chat_id: chatIdOf(chat.id), action: "typing" });
  }

  /** Streams a Telegram file by its file_id: getFile, then the token-bearing download URL, never shown. */
  async resolveFile(ref: string): Promise<Response> {
    const file = await this.#api.call<{ file_path?: string; file_size?: number }>("getFile", {
      file_id: ref,
    });
    if (!file.file_path)
      throw new PlatformError("Telegram has no downloadable copy of this file (over 20 MB?)", {
        retryable: false,
      });
    const res = await this.#api.download(file.file_path);
    return streamPlatformFile(res, "Telegram refused the file download");
  }

  async healthCheck(): Promise<{ ok: true } | { ok: false; reason: string; revoked?: boolean }> {
    try {
      await this.#api.call("getMe");
    } catch (e) {
      if (e instanceof PlatformError && e.platformStatus === 401)
        return { ok: false, reason: "the bot token is wrong or revoked", revoked: true };
      throw e;
    }
    const info = await this.#api.call<{ url: string; last_error_message?: string }>("getWebhookInfo");
    if (info.url !== this.#ctx.line.webhookUrl)
      return {
        ok: false,
        reason: info.url
          ? "the bot's webhook points elsewhere: another program uses this bot"
          : "the bot has no webhook: connect the line again",
      };
    return { ok: true };
  }
}
