import type { Clock } from "@openlines/protocol";
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
import { AppToken } from "./auth/app-token.js";
import { type OpenIdKeys, openIdKeys } from "./auth/openid.js";
import { OPENID_METADATA_PATH, verifyChannelToken } from "./auth/verify-token.js";
import { BOT_CHANNELS, GENERIC_CHANNEL } from "./channels.js";
import { ConnectorApi } from "./connector-api.js";
import { rememberConversation } from "./context.js";
import { parseActivity, readActivity } from "./parse.js";
import { deleteMessage, sendMessage, sendTyping, updateMessage } from "./send.js";
import { BotFrameworkSettings } from "./settings.js";

/**
 * The Microsoft Bot Framework connector (channels.md §1, the channel of the source article): one
 * bot (App ID) per line connector, its messaging endpoint set to the line's webhook URL on the
 * Azure Bot resource. Incoming activities carry a JWT of the Bot Connector service; replies go to
 * the conversation's serviceUrl with the bot's client-credentials token. The activity's
 * `channelId` selects a virtual channel (`botframework.skype`, `botframework.msteams`…) with its
 * own text conversion and emoticons; any other channel id is the generic `botframework` type.
 *
 * Base URLs: `login` (token endpoint host) and `openid` (OpenID metadata host), overridable by
 * `OPENLINES_BASEURL_BOTFRAMEWORK_LOGIN` / `_OPENID`.
 */
export const botframework: ConnectorDefinition<BotFrameworkSettings> = {
  type: "botframework",
  title: GENERIC_CHANNEL.title,
  settings: BotFrameworkSettings,
  capabilities: GENERIC_CHANNEL.capabilities,
  virtual: Object.fromEntries(
    Object.values(BOT_CHANNELS).map((c) => [c.type, { title: c.title, capabilities: c.capabilities }]),
  ),
  baseUrls: { login: "https://login.microsoftonline.com", openid: "https://login.botframework.com" },
  // No limit of Bot Framework itself; Teams throttles at a few messages per second per
  // conversation with 429 + Retry-After, which the outbox obeys.
  rateLimits: { perLine: { perSecond: 10, burst: 20 } },
  create: (ctx) => new BotFrameworkConnector(ctx),
};

export class BotFrameworkConnector implements Connector {
  readonly #ctx: ConnectorContext<BotFrameworkSettings>;
  readonly #token: AppToken;
  readonly #api: ConnectorApi;
  readonly #keys: OpenIdKeys;

  constructor(ctx: ConnectorContext<BotFrameworkSettings>, o: { keys?: OpenIdKeys } = {}) {
    this.#ctx = ctx;
    const clock: Clock = ctx.clock;
    this.#token = new AppToken({
      loginUrl: ctx.baseUrl("login"),
      appId: ctx.settings.appId,
      appSecret: ctx.settings.appSecret,
      tenantId: ctx.settings.tenantId,
      fetch: ctx.fetch,
      clock,
    });
    this.#api = new ConnectorApi({ token: this.#token, fetch: ctx.fetch, now: () => clock.now() });
    this.#keys = o.keys ?? openIdKeys;
  }

  /** Obtains a token with the client-credentials grant: proves the App ID, secret and tenant. */
  async testConnect() {
    this.#token.invalidate();
    await this.#token.get();
    return { account: { id: this.#ctx.settings.appId, name: this.#ctx.settings.botHandle } };
  }

  /** The App ID: one bot, one line in the whole hub. */
  async accountId(): Promise<string> {
    return this.#ctx.settings.appId;
  }

  async verify(req: WebhookRequest): Promise<void> {
    const body = (req.json ?? {}) as { serviceUrl?: unknown; channelId?: unknown };
    await verifyChannelToken({
      authorization: req.headers.authorization,
      appId: this.#ctx.settings.appId,
      serviceUrl: typeof body.serviceUrl === "string" ? body.serviceUrl : undefined,
      channelId: typeof body.channelId === "string" ? body.channelId : undefined,
      metadataUrl: `${this.#ctx.baseUrl("openid")}${OPENID_METADATA_PATH}`,
      keys: this.#keys,
      fetch: this.#ctx.fetch,
      clock: this.#ctx.clock,
    });
  }

  async parse(req: WebhookRequest): Promise<WebhookResult> {
    const activity = readActivity(req.json ?? safeJson(req.rawBody));
    const events = parseActivity(activity, {
      now: this.#ctx.clock.now(),
      fileLink: (ref, file) => this.#ctx.fileLink(ref, file),
      rawBody: req.rawBody,
    });
    if (activity.from.id !== activity.recipient.id)
      await rememberConversation(this.#ctx.chatContext, activity, this.#ctx.clock);
    return { events, reply: { status: 200, body: "" } };
  }

  send(message: OutboundMessage): Promise<{ platformMessageId: string }> {
    return sendMessage(this.#api, message);
  }

  async update(m: Parameters<NonNullable<Connector["update"]>>[0]): Promise<void> {
    await updateMessage(this.#api, m);
  }

  async delete(m: Parameters<NonNullable<Connector["delete"]>>[0]): Promise<void> {
    await deleteMessage(this.#api, m);
  }

  async typing(chat: Parameters<NonNullable<Connector["typing"]>>[0]): Promise<void> {
    await sendTyping(this.#api, chat);
  }

  /** Streams an attachment stored by the Bot Connector, fetched with the bot's token. */
  async resolveFile(ref: string): Promise<Response> {
    const res = await this.#api.download(ref);
    return streamPlatformFile(res, "the Bot Connector refused the file download");
  }

  /** The credentials still give a token; a refusal means the secret was revoked or expired. */
  async healthCheck(): Promise<{ ok: true } | { ok: false; reason: string; revoked?: boolean }> {
    try {
      await this.testConnect();
      return { ok: true };
    } catch (e) {
      if (e instanceof PlatformError && !e.retryable) return { ok: false, reason: e.message, revoked: true };
      throw e;
    }
  }
}

function safeJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    return undefined;
  }
}
