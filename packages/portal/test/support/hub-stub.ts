import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type CallName,
  type Capabilities,
  FORMAT_VERSION,
  generateSecret,
  type Packet,
  signedHeaders,
  verifySignature,
} from "@openlines/protocol";

/** Capabilities that allow everything; tests narrow them per line. */
export const openCapabilities: Capabilities = {
  edit: true,
  delete: true,
  typing: true,
  readReceipts: true,
  deliveryReceipts: true,
  groupChats: true,
  files: {
    kinds: ["image", "video", "audio", "voice", "sticker", "document", "other"],
    maxSizeBytes: 10 * 1024 * 1024,
    maxCount: 10,
  },
  textMaxLength: 4096,
  formatting: ["bold", "italic"],
  replyWindowHours: null,
  templates: false,
};

export interface RecordedCall {
  method: CallName;
  args: any;
}

/**
 * A signed stand-in for the hub: an HTTP server on 127.0.0.1 that verifies each portal call
 * (Standard Webhooks with the portal's secret), records it and answers like the hub would.
 * `down` makes it drop connections (an unreachable hub); `capabilities` are per line connector.
 */
export class HubStub {
  readonly secret = generateSecret();
  readonly calls: RecordedCall[] = [];
  readonly capabilities = new Map<string, Capabilities>();
  down = false;
  /** Fixed answers for other methods, by name. */
  readonly answers = new Map<string, unknown>();
  #server: Server | undefined;
  url = "";

  constructor(private readonly now: () => number = Date.now) {}

  async start(): Promise<this> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((r) => this.#server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => this.#server?.close(() => r()) ?? r());
  }

  callsOf(method: CallName): any[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.down) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(json));
    };
    try {
      await verifySignature({ secrets: this.secret, headers: req.headers, rawBody: body, now: this.now() });
    } catch (e) {
      return send(401, { error: { code: (e as { code: string }).code, message: "bad signature" } });
    }
    const method = (req.url ?? "").replace(/^\/rpc\//, "") as CallName;
    const args = JSON.parse(body.toString("utf8"));
    this.calls.push({ method, args });
    switch (method) {
      case "status": {
        const key = `${args.line}/${args.connector}`;
        const caps = this.capabilities.get(key) ?? openCapabilities;
        return send(200, {
          lines: [
            {
              line: args.line,
              connector: args.connector,
              status: "active",
              capabilities: caps,
              queue: { waiting: 0, attempts: 0, blockedUntil: null, firstFailureAt: null, deadLetters: 0 },
            },
          ],
        });
      }
      case "sendMessages":
      case "updateMessages":
      case "deleteMessages":
        return send(200, { accepted: args.messages.map((m: { id: string }) => m.id) });
      case "typing":
      case "markRead":
        return send(200, { ok: true });
      default:
        if (this.answers.has(method)) return send(200, this.answers.get(method));
        return send(404, { error: { code: "METHOD_UNKNOWN", message: "unknown" } });
    }
  }
}

/** Signs a delivery of packets the way the hub does; returns body and headers for the portal. */
/** A signed DeliveryRequest; `line` is left out for a delivery that carries several lines. */
export function signedDelivery(
  secret: string,
  portal: string,
  line: string | undefined,
  packets: unknown[],
  now: number,
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ version: FORMAT_VERSION, portal, line, packets });
  return { body, headers: { "content-type": "application/json", ...signedHeaders(secret, body, now) } };
}

let seq = 0;
/** A packet builder with sensible defaults; `over` replaces fields. */
export function packet<T extends Packet["type"]>(
  type: T,
  data: Extract<Packet, { type: T }>["data"] | Record<string, unknown>,
  over: Partial<Packet> & Record<string, unknown> = {},
): Packet {
  seq++;
  return {
    id: `pk_${Date.now().toString(36)}_${seq}`,
    version: FORMAT_VERSION,
    portal: "portal-1",
    line: "line-1",
    connector: "telegram",
    created: Date.UTC(2026, 0, 1),
    type,
    data,
    ...over,
  } as Packet;
}

/** A `messages` packet of a new text message from a user in a private chat. */
export function textPacket(
  o: {
    user?: string;
    chat?: string;
    text?: string;
    messageId?: string;
    profile?: Record<string, unknown>;
    files?: unknown[];
  } = {},
  over: Record<string, unknown> = {},
): Packet {
  const user = o.user ?? "u1";
  return packet(
    "messages",
    {
      kind: "new",
      chat: { id: o.chat ?? `chat-${user}`, type: "private" },
      user: { id: user, name: "Ann", ...o.profile },
      message: {
        id: o.messageId ?? `pm-${seq + 1}`,
        date: Date.UTC(2026, 0, 1),
        text: o.text ?? "hello",
        files: o.files ?? [],
      },
    },
    over,
  );
}
