import type {
  Connector,
  ConnectorContext,
  ConnectorDefinition,
  OutboundMessage,
  WebhookRequest,
  WebhookResult,
} from "../contract.js";
import { PlatformError } from "../contract.js";
import { facebookCapabilities } from "../facebook/index.js";
import { META_FAMILY } from "../meta/family.js";
import { DEFAULT_GRAPH_URL, GraphApi } from "../meta/graph.js";
import { parseMessaging, senderAction, sendMessaging } from "../meta/messaging.js";
import { bodyOf, handshakeReply, verifyMetaWebhook } from "../meta/webhook.js";
import { InstagramSettings } from "./settings.js";

/**
 * The Instagram connector (channels.md §3.2): direct messages of an Instagram professional account,
 * in the same Graph messaging shapes as Messenger (IGSIDs instead of PSIDs). Story replies and
 * story mentions arrive as messages with the story's link. The callback URL and verify token are
 * entered in the App Dashboard under the `instagram` object. With an Instagram-login token set the
 * `graph` base URL to `https://graph.instagram.com`.
 */
export const instagram: ConnectorDefinition<InstagramSettings> = {
  type: "instagram",
  title: "Instagram Direct",
  settings: InstagramSettings,
  accountFamily: META_FAMILY,
  baseUrls: { graph: DEFAULT_GRAPH_URL },
  capabilities: {
    ...facebookCapabilities,
    // Instagram sends reads (messaging_seen) but no delivery events
    deliveryReceipts: false,
    files: {
      kinds: ["image", "video", "audio", "voice", "document"],
      maxSizeBytes: 25 * 1024 * 1024,
      maxCount: 10,
    },
    textMaxLength: 1000,
  },
  create: (ctx) => new InstagramConnector(ctx),
};

export class InstagramConnector implements Connector {
  readonly #ctx: ConnectorContext<InstagramSettings>;
  readonly #graph: GraphApi;

  constructor(ctx: ConnectorContext<InstagramSettings>) {
    this.#ctx = ctx;
    this.#graph = new GraphApi({
      baseUrl: ctx.baseUrl("graph"),
      version: ctx.settings.graphVersion,
      token: ctx.settings.accessToken,
      fetch: ctx.fetch,
    });
  }

  async testConnect() {
    const a = await this.#graph.get<{ id: string; username?: string; name?: string }>(
      this.#ctx.settings.accountId,
      {
        fields: "id,username,name",
      },
    );
    return { account: { id: a.id, name: a.username ? `@${a.username}` : a.name } };
  }

  async accountId(): Promise<string> {
    return this.#ctx.settings.accountId;
  }

  async verify(req: WebhookRequest): Promise<void> {
    verifyMetaWebhook(req, this.#ctx.settings);
  }

  async parse(req: WebhookRequest): Promise<WebhookResult> {
    if (req.method === "GET") return handshakeReply(req);
    const events = await parseMessaging(bodyOf(req), {
      platform: "instagram",
      accountId: this.#ctx.settings.accountId,
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
