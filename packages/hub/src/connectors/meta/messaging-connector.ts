import type { ConnectorContext, InboundEvent, OutboundMessage } from "../contract.js";
import { MetaConnector, type MetaConnectorOptions, type MetaConnectorSettings } from "./connector.js";
import { type MessagingPlatform, parseMessaging, senderAction, sendMessaging } from "./messaging.js";

/**
 * A Messenger or Instagram connector (channels.md §3): both speak the Graph messaging webhook
 * and the Send API, with typing and read sender actions. A subclass adds only what is its own:
 * how `testConnect` finds the account, and `register` where the platform has it.
 */
export abstract class MessagingConnector<S extends MetaConnectorSettings> extends MetaConnector<S> {
  readonly #platform: MessagingPlatform;

  constructor(ctx: ConnectorContext<S>, o: MetaConnectorOptions & { platform: MessagingPlatform }) {
    super(ctx, o);
    this.#platform = o.platform;
  }

  protected parseBody(body: unknown): Promise<InboundEvent[]> {
    return parseMessaging(body, {
      platform: this.#platform,
      accountId: this.account,
      graph: this.graph,
      ctx: this.ctx,
    });
  }

  send(message: OutboundMessage): Promise<{ platformMessageId: string }> {
    return sendMessaging(this.graph, message, this.ctx.clock.now());
  }

  async typing(chat: { id: string }): Promise<void> {
    await senderAction(this.graph, chat.id, "typing_on");
  }

  async markRead(chat: { id: string }): Promise<void> {
    await senderAction(this.graph, chat.id, "mark_seen");
  }
}
