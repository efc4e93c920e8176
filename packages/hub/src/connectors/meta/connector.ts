import type {
  Connector,
  ConnectorContext,
  InboundEvent,
  OutboundMessage,
  WebhookRequest,
  WebhookResult,
} from "../contract.js";
import { PlatformError } from "../contract.js";
import { GraphApi } from "./graph.js";
import { bodyOf, handshakeReply, verifyMetaWebhook } from "./webhook.js";

/** The settings fields every Meta connector reads here (see `metaSettingsShape`). */
export interface MetaConnectorSettings {
  appSecret: string;
  verifyToken: string;
  graphVersion: string;
}

/** What sets one Meta connector apart at construction: its token and the account it serves. */
export interface MetaConnectorOptions {
  /** The access token the Graph client sends. */
  token: string;
  /** The page id, Instagram account id or phone number id of this line. */
  account: string;
}

/**
 * What Messenger, Instagram and WhatsApp connectors share: one Graph client, the app-secret
 * signature check, the verify-token handshake on `GET`, and a health check that reports a
 * refused access token as revoked. A subclass turns a webhook body into events and sends.
 */
export abstract class MetaConnector<S extends MetaConnectorSettings> implements Connector {
  protected readonly ctx: ConnectorContext<S>;
  protected readonly graph: GraphApi;
  protected readonly account: string;

  constructor(ctx: ConnectorContext<S>, o: MetaConnectorOptions) {
    this.ctx = ctx;
    this.account = o.account;
    this.graph = new GraphApi({
      baseUrl: ctx.baseUrl("graph"),
      version: ctx.settings.graphVersion,
      token: o.token,
      fetch: ctx.fetch,
    });
  }

  abstract testConnect(): Promise<{ account: { id: string; name?: string } }>;

  abstract send(message: OutboundMessage): Promise<{ platformMessageId: string }>;

  /** Turns one verified webhook body (a `POST`) into exchange events. */
  protected abstract parseBody(body: unknown): Promise<InboundEvent[]>;

  async accountId(): Promise<string> {
    return this.account;
  }

  async verify(req: WebhookRequest): Promise<void> {
    verifyMetaWebhook(req, this.ctx.settings);
  }

  async parse(req: WebhookRequest): Promise<WebhookResult> {
    if (req.method === "GET") return handshakeReply(req);
    const events = await this.parseBody(bodyOf(req));
    return { events, reply: { status: 200, body: "EVENT_RECEIVED" } };
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
