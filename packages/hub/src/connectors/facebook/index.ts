import type { Capabilities } from "@openlines/protocol";
import type {
  Connector,
  ConnectorContext,
  ConnectorDefinition,
  OutboundMessage,
  WebhookRequest,
  WebhookResult,
} from "../contract.js";
import { PlatformError } from "../contract.js";
import { META_FAMILY } from "../meta/family.js";
import { DEFAULT_GRAPH_URL, GraphApi } from "../meta/graph.js";
import { parseMessaging, senderAction, sendMessaging } from "../meta/messaging.js";
import { bodyOf, handshakeReply, verifyMetaWebhook } from "../meta/webhook.js";
import { FacebookSettings } from "./settings.js";

/** The webhook fields a Page subscribes the app to. */
export const PAGE_FIELDS = [
  "messages",
  "messaging_postbacks",
  "message_deliveries",
  "message_reads",
  "message_echoes",
  "message_reactions",
];

export const facebookCapabilities: Capabilities = {
  edit: false,
  delete: false,
  typing: true,
  readReceipts: true,
  deliveryReceipts: true,
  groupChats: false,
  files: {
    kinds: ["image", "video", "audio", "voice", "document"],
    maxSizeBytes: 25 * 1024 * 1024,
    maxCount: 10,
  },
  textMaxLength: 2000,
  formatting: [],
  // 24 hours with RESPONSE, then 7 days with the HUMAN_AGENT tag (meta/messaging.ts)
  replyWindowHours: 24 * 7,
  templates: false,
};

/**
 * The Messenger connector (channels.md §3): one Facebook Page per line connector. The webhook is
 * the app's callback URL (entered with the verify token in the App Dashboard); `register`
 * subscribes the app to the Page's messaging fields. Replies go through the Send API.
 */
export const facebook: ConnectorDefinition<FacebookSettings> = {
  type: "facebook",
  title: "Facebook Messenger",
  settings: FacebookSettings,
  accountFamily: META_FAMILY,
  baseUrls: { graph: DEFAULT_GRAPH_URL },
  capabilities: facebookCapabilities,
  create: (ctx) => new FacebookConnector(ctx),
};

export class FacebookConnector implements Connector {
  readonly #ctx: ConnectorContext<FacebookSettings>;
  readonly #graph: GraphApi;

  constructor(ctx: ConnectorContext<FacebookSettings>) {
    this.#ctx = ctx;
    this.#graph = new GraphApi({
      baseUrl: ctx.baseUrl("graph"),
      version: ctx.settings.graphVersion,
      token: ctx.settings.pageAccessToken,
      fetch: ctx.fetch,
    });
  }

  /** `GET /me` with the Page token resolves to the Page itself; it must be the configured one. */
  async testConnect() {
    const me = await this.#graph.get<{ id: string; name?: string }>("me", { fields: "id,name" });
    if (me.id !== this.#ctx.settings.pageId)
      throw new PlatformError(
        `the access token belongs to another Page (${me.id}), not ${this.#ctx.settings.pageId}`,
        {
          retryable: false,
        },
      );
    return { account: { id: me.id, name: me.name } };
  }

  async accountId(): Promise<string> {
    return this.#ctx.settings.pageId;
  }

  async register(): Promise<void> {
    await this.#graph.post(`${this.#ctx.settings.pageId}/subscribed_apps`, {
      subscribed_fields: PAGE_FIELDS.join(","),
    });
  }

  async verify(req: WebhookRequest): Promise<void> {
    verifyMetaWebhook(req, this.#ctx.settings);
  }

  async parse(req: WebhookRequest): Promise<WebhookResult> {
    if (req.method === "GET") return handshakeReply(req);
    const events = await parseMessaging(bodyOf(req), {
      platform: "facebook",
      accountId: this.#ctx.settings.pageId,
      graph: this.#graph,
      ctx: this.#ctx,
    });
    return { events, reply: { status: 200, body: "EVENT_RECEIVED" } };
  }

  send(message: OutboundMessage): Promise<{ platformMessageId: string }> {
    return sendMessaging(this.#graph, message, this.#ctx.clock.now());
  }

  async typing(chat: { id: string }): Promise<void> {
    await senderAction(this.#graph, chat.id, "typing_on");
  }

  async markRead(chat: { id: string }): Promise<void> {
    await senderAction(this.#graph, chat.id, "mark_seen");
  }

  async healthCheck(): Promise<{ ok: true } | { ok: false; reason: string; revoked?: boolean }> {
    try {
      await this.testConnect();
      return { ok: true };
    } catch (e) {
      if (e instanceof PlatformError && /access token/.test(e.message))
        return { ok: false, reason: e.message, revoked: true };
      throw e;
    }
  }
}
