import type { ConnectorContext, ConnectorDefinition } from "../contract.js";
import { facebookCapabilities } from "../facebook/index.js";
import { META_FAMILY } from "../meta/family.js";
import { DEFAULT_GRAPH_URL } from "../meta/graph.js";
import { MessagingConnector } from "../meta/messaging-connector.js";
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
    textMaxLength: 1000,
  },
  create: (ctx) => new InstagramConnector(ctx),
};

/** An Instagram line: the token reaches the professional account; no `register` (App Dashboard only). */
export class InstagramConnector extends MessagingConnector<InstagramSettings> {
  constructor(ctx: ConnectorContext<InstagramSettings>) {
    super(ctx, { platform: "instagram", token: ctx.settings.accessToken, account: ctx.settings.accountId });
  }

  async testConnect() {
    const a = await this.graph.get<{ id: string; username?: string; name?: string }>(
      this.ctx.settings.accountId,
      {
        fields: "id,username,name",
      },
    );
    return { account: { id: a.id, name: a.username ? `@${a.username}` : a.name } };
  }
}
