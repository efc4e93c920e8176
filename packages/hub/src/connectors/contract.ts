import {
  type Capabilities,
  type DeliveryStatusPayload,
  ErrorCodes,
  type MessagePayload,
  OpenlinesError,
  type OutgoingMessage,
  type ReadStatusPayload,
  type TypingPayload,
} from "@openlines/protocol";
import type { DialectName } from "@openlines/store";
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import type { z } from "zod";
import type { Clock } from "../clock.js";
import type { HubDatabase } from "../store/schema.js";

/**
 * The one contract every connector implements (DESIGN 3.3). A connector type is one folder under
 * `connectors/<type>/` exporting a ConnectorDefinition, plus one line in `registry.ts`.
 *
 * A *real* channel is one platform endpoint (one webhook URL per line connector). A *virtual*
 * channel rides on a real one and is told apart by a field of the incoming data: the real
 * connector's `parse` sets `connector` on each event (e.g. `botframework.skype`), and that type is
 * what the portal sees in packets; outgoing calls for such a chat go through the real connector.
 */
export interface ConnectorDefinition<S = any> {
  /** Connector type as stored and as the portal names it: `telegram`, `botframework`, `livechat`. */
  type: string;
  /** A human title for the admin wizard: "Telegram bot". */
  title: string;
  /** Settings schema; the admin wizard's form is generated from its JSON Schema. */
  settings: z.ZodType<S>;
  /** What the channel allows, declared once; the portal reads it through `status`. */
  capabilities: Capabilities;
  /** Virtual channel types this real connector produces, each with its own capabilities if they differ. */
  virtual?: Record<string, { title: string; capabilities?: Capabilities }>;
  /**
   * Family for single connection: `<family>:<accountId>` is unique across the hub. Connectors that
   * share an account space (the three Meta channels share page ids with their app) name one family.
   * Defaults to `type`.
   */
  accountFamily?: string;
  /** Per-channel emoticon codes to Unicode emoji, e.g. `{"(smile)": "🙂"}` (from a data file). */
  emoticons?: Record<string, string>;
  /** Platform base URLs this connector calls, by name, overridable by the hub setting. */
  baseUrls?: Record<string, string>;
  /** Outgoing rate limits (token buckets) per line and per platform; hub defaults otherwise. */
  rateLimits?: { perLine?: RateLimit; perPlatform?: RateLimit };
  create(ctx: ConnectorContext<S>): Connector;
  /**
   * Extra HTTP routes of a connector that is not (only) webhook-driven: the live-chat widget's
   * script, socket and uploads; a site form's POST target. Mounted once at hub start.
   */
  routes?(app: FastifyInstance, hub: ConnectorRouteContext): void | Promise<void>;
}

export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** What the hub offers a connector's own routes. */
export interface ConnectorRouteContext {
  /** The active line connector with this hash, with its connector instance; undefined if none. */
  lineByHash(hash: string): Promise<{ ctx: ConnectorContext; connector: Connector } | undefined>;
  /**
   * Runs events through the incoming pipeline (markup, emoji, file links, chat context) and
   * queues them durably; resolves once committed. Duplicates by `dedupKey` are queued once.
   */
  ingest(lineHash: string, events: InboundEvent[]): Promise<void>;
  publicUrl: string;
  clock: Clock;
  /** The hub's database, for a connector's own tables (live chat conversations). */
  db: Kysely<HubDatabase>;
  dialect: DialectName;
}

/** What the hub gives a connector instance: its line, its settings and the hub's services. */
export interface ConnectorContext<S = any> {
  line: {
    /** Internal line connector id. */
    id: string;
    portalId: string;
    lineId: string;
    connector: string;
    hash: string;
    /** The public webhook URL of this line connector: `<publicUrl>/webhook?line=<hash>`. */
    webhookUrl: string;
  };
  settings: S;
  /** Base URL of each platform API this connector calls (defaults overridden by configuration). */
  baseUrl(name: string): string;
  /** The hub's public URL (for links the platform or the portal fetch). */
  publicUrl: string;
  clock: Clock;
  /** HTTP client; injected so tests and limits apply in one place. */
  fetch: typeof fetch;
  /** What a connector must remember from incoming traffic to answer later (DESIGN 3.1). */
  chatContext: ChatContextStore;
  /**
   * A signed, expiring hub link that the portal downloads; on request the hub calls `resolve`
   * of this connector with `ref` and streams the answer. Used when a platform's own file link
   * would expose a token.
   */
  fileLink(ref: string, file: { name: string; type?: string; size?: number }): string;
  /**
   * The portal's message this line sent, found by the platform's message id (the outbox records
   * both): platforms that report statuses by their own id need it for `deliveryStatus.messageId`.
   */
  sentMessage?(platformMessageId: string): Promise<{ messageId: string; chatId: string } | undefined>;
  log: {
    info(o: object, msg?: string): void;
    warn(o: object, msg?: string): void;
    error(o: object, msg?: string): void;
  };
}

export interface ChatContextStore {
  get<T = Record<string, unknown>>(chatId: string): Promise<T | undefined>;
  set(chatId: string, data: Record<string, unknown>): Promise<void>;
}

/** A webhook request as the entry point hands it over: raw bytes kept for signature checks. */
export interface WebhookRequest {
  method: "GET" | "POST";
  /** Query string without the `line` parameter's meaning; everything else is the platform's. */
  query: Record<string, string>;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  /** The raw body parsed as JSON when it is JSON; undefined otherwise. */
  json?: unknown;
  /** Form fields when the body is application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** Remote address, for rate limits. */
  ip: string;
}

/** One exchange event from a webhook; each becomes one packet. */
export type InboundEvent = (
  | { type: "messages"; data: MessagePayload }
  | { type: "deliveryStatus"; data: DeliveryStatusPayload }
  | { type: "readStatus"; data: ReadStatusPayload }
  | { type: "typing"; data: TypingPayload }
) & {
  /** The platform's id of this event (update id, message id, activity id): re-deliveries are queued once. */
  dedupKey?: string;
  /** For a real connector with virtual channels: the virtual type this event belongs to. */
  connector?: string;
};

export interface WebhookResult {
  events: InboundEvent[];
  /** The platform's expected answer (challenge echo…), sent only after the events are queued. Default 200 "ok". */
  reply?: { status?: number; body?: string | object; contentType?: string };
}

/** An outgoing message as the outbox hands it to a connector, with the chat's stored context. */
export interface OutboundMessage extends OutgoingMessage {
  /** The virtual channel type of the chat, when the connector has virtual channels. */
  connector: string;
  chatContext?: Record<string, unknown>;
}

export interface Connector {
  /** Checks the credentials against the platform; returns the account it reaches. */
  testConnect(): Promise<{ account: { id: string; name?: string } }>;
  /** The external account id for single connection (bot id, page id, phone number id…). */
  accountId(): Promise<string>;
  /** Installs the webhook on the platform, where it has an API. */
  register?(): Promise<void>;
  unregister?(): Promise<void>;
  /** Authenticates a webhook request; throws OpenlinesError (401/403) to refuse it. */
  verify(req: WebhookRequest): Promise<void>;
  /** Turns a verified webhook request into exchange events (text already in exchange markup). */
  parse(req: WebhookRequest): Promise<WebhookResult>;
  send(message: OutboundMessage): Promise<{ platformMessageId: string }>;
  update?(
    message: { id: string; chat: { id: string }; platformMessageId: string; text: string } & Pick<
      OutboundMessage,
      "connector" | "chatContext"
    >,
  ): Promise<void>;
  delete?(
    message: { id: string; chat: { id: string }; platformMessageId: string } & Pick<
      OutboundMessage,
      "connector" | "chatContext"
    >,
  ): Promise<void>;
  typing?(chat: { id: string; connector: string; chatContext?: Record<string, unknown> }): Promise<void>;
  markRead?(
    chat: { id: string; connector: string; chatContext?: Record<string, unknown> },
    ids: string[],
  ): Promise<void>;
  /** Streams a file named by a `fileLink` ref (e.g. Telegram getFile, WhatsApp media id). */
  resolveFile?(ref: string): Promise<Response>;
  /** Message templates held by the platform (WhatsApp); the hub answers CAPABILITY_REFUSED without it. */
  templates?(): Promise<{ name: string; language: string; body: string; parameters: number }[]>;
  /** Periodic health check: credentials valid, webhook still ours. */
  healthCheck?(): Promise<{ ok: true } | { ok: false; reason: string; revoked?: boolean }>;
}

/**
 * A platform call failed. `retryable` sends it back to the outbox with back-off (429, 5xx, network);
 * otherwise the message fails at once with `reason`, in words an operator understands
 * ("the customer blocked the bot").
 */
export class PlatformError extends OpenlinesError {
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly platformStatus?: number;
  constructor(
    reason: string,
    o: {
      retryable: boolean;
      retryAfterMs?: number;
      platformStatus?: number;
      platformCode?: string;
      cause?: unknown;
    },
  ) {
    super("PLATFORM_ERROR", reason, {
      cause: o.cause,
      status: ErrorCodes.PLATFORM_ERROR.status,
      details: o.platformCode ? { platformCode: o.platformCode } : undefined,
    });
    this.retryable = o.retryable;
    this.retryAfterMs = o.retryAfterMs;
    this.platformStatus = o.platformStatus;
  }
}
