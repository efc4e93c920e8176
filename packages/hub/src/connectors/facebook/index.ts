import type { Capabilities } from "@openlines/protocol";
import type { ConnectorContext, ConnectorDefinition } from "../contract.js";
import { PlatformError } from "../contract.js";
import { META_FAMILY } from "../meta/family.js";
import { DEFAULT_GRAPH_URL } from "../meta/graph.js";
import { MessagingConnector } from "../meta/messaging-connector.js";
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

/** A Messenger line: the Page token reaches the Page, and `register` subscribes the app to it. */
export class FacebookConnector extends MessagingConnector<FacebookSettings> {
  constructor(ctx: ConnectorContext<FacebookSettings>) {
    super(ctx, { platform: "facebook", token: ctx.settings.pageAccessToken, account: ctx.settings.pageId });
  }

  /** `GET /me` with the Page token resolves to the Page itself; it must be the configured one. */
  async testConnect() {
    const me = await this.graph.get<{ id: string; name?: string }>("me", { fields: "id,name" });
    if (me.id !== this.ctx.settings.pageId)
      throw new PlatformError(
        `the access token belongs to another Page (${me.id}), not ${this.ctx.settings.pageId}`,
        {
          retryable: false,
        },
      );
    return { account: { id: me.id, name: me.name } };
  }

  async register(): Promise<void> {
    await this.graph.post(`${this.ctx.settings.pageId}/subscribed_apps`, {
      subscribed_fields: PAGE_FIELDS.join(","),
    });
  }
}
