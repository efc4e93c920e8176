import { OpenlinesError } from "@openlines/protocol";
import type { ConnectorContext, ConnectorDefinition, InboundEvent, OutboundMessage } from "../contract.js";
import { PlatformError } from "../contract.js";
import { MetaConnector } from "../meta/connector.js";
import { META_FAMILY } from "../meta/family.js";
import { DEFAULT_GRAPH_URL } from "../meta/graph.js";
import type { MetaChatData } from "../meta/profile.js";
import { streamPlatformFile } from "../platform-file.js";
import { parseWhatsApp } from "./parse.js";
import { sendWhatsApp, TEXT_LIMIT } from "./send.js";
import { WhatsAppSettings } from "./settings.js";
import { listTemplates } from "./templates.js";

/**
 * The WhatsApp Business Cloud API connector (channels.md §4): one business phone number per line
 * connector. The 24-hour customer service window is declared in the capabilities, so the outbox
 * refuses a free-text reply outside it at once (from the chat's last inbound time); a template
 * message passes, and `templates()` lists the approved ones for the portal.
 */
export const whatsapp: ConnectorDefinition<WhatsAppSettings> = {
  type: "whatsapp",
  title: "WhatsApp Business (Cloud API)",
  settings: WhatsAppSettings,
  accountFamily: META_FAMILY,
  baseUrls: { graph: DEFAULT_GRAPH_URL },
  // Cloud API: 80 messages/s per number by default; throttling answers (130429) are retried.
  rateLimits: { perLine: { perSecond: 80, burst: 80 } },
  capabilities: {
    edit: false,
    delete: false,
    typing: false,
    readReceipts: true,
    deliveryReceipts: true,
    groupChats: false,
    files: {
      kinds: ["image", "video", "audio", "voice", "sticker", "document"],
      maxSizeBytes: 100 * 1024 * 1024,
      maxCount: 10,
    },
    textMaxLength: TEXT_LIMIT,
    formatting: ["bold", "italic", "strike", "code", "pre", "quote", "link"],
    replyWindowHours: 24,
    templates: true,
  },
  create: (ctx) => new WhatsAppConnector(ctx),
};

export class WhatsAppConnector extends MetaConnector<WhatsAppSettings> {
  constructor(ctx: ConnectorContext<WhatsAppSettings>) {
    super(ctx, { token: ctx.settings.accessToken, account: ctx.settings.phoneNumberId });
  }

  /** Reads the phone number: proves the token reaches it. */
  async testConnect() {
    const n = await this.graph.get<{ id: string; display_phone_number?: string; verified_name?: string }>(
      this.ctx.settings.phoneNumberId,
      { fields: "id,display_phone_number,verified_name" },
    );
    const name = [n.verified_name, n.display_phone_number].filter(Boolean).join(", ");
    return { account: { id: this.ctx.settings.phoneNumberId, name: name || undefined } };
  }

  /** Subscribes the app to the business account's webhooks, when its id is known. */
  async register(): Promise<void> {
    const waba = this.ctx.settings.businessAccountId;
    if (waba) await this.graph.post(`${waba}/subscribed_apps`, {});
  }

  protected parseBody(body: unknown): Promise<InboundEvent[]> {
    return parseWhatsApp(body, this.ctx, this.ctx.settings.phoneNumberId);
  }

  send(message: OutboundMessage): Promise<{ platformMessageId: string }> {
    return sendWhatsApp(this.graph, this.ctx.settings.phoneNumberId, message);
  }

  /** Marks the customer's messages read (blue ticks): the newest one marks all before it. */
  async markRead(chat: { id: string; chatContext?: Record<string, unknown> }, ids: string[]): Promise<void> {
    const id = ids.at(-1) ?? (chat.chatContext as MetaChatData | undefined)?.lastMessageId;
    if (!id) return;
    await this.graph.post(`${this.ctx.settings.phoneNumberId}/messages`, {
      messaging_product: "whatsapp",
      status: "read",
      message_id: id,
    });
  }

  /**
   * Streams a customer's media by its id: `GET /{media-id}` gives a short-lived URL, fetched at
   * once with the token. The portal only ever sees the hub's signed link.
   */
  async resolveFile(ref: string): Promise<Response> {
    const media = await this.graph.get<{ url?: string; mime_type?: string; file_size?: number }>(
      encodeURIComponent(ref),
    );
    if (!media.url)
      throw new PlatformError("WhatsApp has no download for this media any more", { retryable: false });
    const res = await this.graph.download(media.url);
    return streamPlatformFile(res, "WhatsApp refused the media download", media.mime_type);
  }

  templates() {
    const waba = this.ctx.settings.businessAccountId;
    if (!waba)
      throw new OpenlinesError(
        "SETTINGS_INVALID",
        "Add the WhatsApp Business Account id to this line's settings to list its message templates.",
      );
    return listTemplates(this.graph, waba);
  }
}
