import websocket from "@fastify/websocket";
import { OpenlinesError } from "@openlines/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import type { PortalContext } from "../context.js";

/** One event as the workspace receives it: `seq` grows by one per operator. */
export interface StreamEvent {
  seq: number;
  type: string;
  data: unknown;
}

interface Channel {
  seq: number;
  ring: StreamEvent[];
  sockets: Set<WebSocket>;
}

/**
 * Per-operator event streams kept in memory. Each operator has a sequence number and a ring buffer
 * of their last `ringSize` events, so a workspace that reconnects with `?after=<seq>` gets what it
 * missed; when that is older than the ring (or the portal restarted and the sequence began
 * again), the client is told to reload. Memory grows with operators, not with traffic.
 */
export class OperatorStreams {
  #channels = new Map<string, Channel>();
  constructor(private readonly ringSize = 1000) {}

  #channel(operatorId: string): Channel {
    let c = this.#channels.get(operatorId);
    if (!c) {
      c = { seq: 0, ring: [], sockets: new Set() };
      this.#channels.set(operatorId, c);
    }
    return c;
  }

  push(operatorIds: Iterable<string>, type: string, data: unknown): void {
    for (const id of new Set(operatorIds)) {
      const c = this.#channel(id);
      const event = { seq: ++c.seq, type, data };
      c.ring.push(event);
      if (c.ring.length > this.ringSize) c.ring.shift();
      const text = JSON.stringify(event);
      for (const s of c.sockets) if (s.readyState === s.OPEN) s.send(text);
    }
  }

  /** Operators with at least one open stream. */
  connected(): string[] {
    return [...this.#channels.entries()].filter(([, c]) => c.sockets.size > 0).map(([id]) => id);
  }

  /** Attaches a socket; returns how many sockets the operator has now. */
  attach(operatorId: string, socket: WebSocket, after: number | undefined): number {
    const c = this.#channel(operatorId);
    const oldest = c.ring[0]?.seq ?? c.seq + 1;
    if (after !== undefined && (after > c.seq || after < oldest - 1)) {
      socket.send(JSON.stringify({ seq: c.seq, type: "reload", data: { reason: "events missed" } }));
    } else if (after !== undefined) {
      for (const e of c.ring) if (e.seq > after) socket.send(JSON.stringify(e));
    }
    socket.send(JSON.stringify({ seq: c.seq, type: "ready", data: {} }));
    c.sockets.add(socket);
    return c.sockets.size;
  }

  detach(operatorId: string, socket: WebSocket): number {
    const c = this.#channel(operatorId);
    c.sockets.delete(socket);
    return c.sockets.size;
  }

  closeAll(): void {
    for (const c of this.#channels.values()) for (const s of c.sockets) s.close(1001, "portal stopping");
  }
}

/**
 * `GET /api/stream`: the workspace's WebSocket. Authenticated by the session cookie (the Origin,
 * when sent, must be the portal's own) or a bearer token. Opening the first stream sets an
 * offline operator online; closing the last sets them offline.
 */
export async function registerStream(app: FastifyInstance, ctx: PortalContext, streams: OperatorStreams) {
  if (!app.hasDecorator("websocketServer")) await app.register(websocket);
  const publicOrigin = new URL(ctx.config.publicUrl).origin;
  const router = () => ctx.services.lines.router;

  const sameOrigin = async (request: FastifyRequest) => {
    await app.authenticate(request, undefined as never);
    const origin = request.headers.origin;
    if (request.authVia === "cookie" && origin && origin !== publicOrigin)
      throw new OpenlinesError(
        "FORBIDDEN",
        "The stream accepts connections from the portal's own pages only.",
      );
  };

  app.get<{ Querystring: { after?: string } }>(
    "/api/stream",
    { websocket: true, preValidation: sameOrigin },
    (socket, request) => {
      const op = request.operator!;
      const after = request.query.after === undefined ? undefined : Number(request.query.after);
      const count = streams.attach(op.id, socket, Number.isFinite(after) ? after : undefined);
      if (count === 1 && op.presence === "offline")
        router().background("presence", () => router().setPresence(op.id, "online"));
      socket.on("message", (raw) => {
        // The only client message: a ping to keep proxies from closing an idle stream.
        if (raw.toString() === "ping") socket.send(JSON.stringify({ type: "pong" }));
      });
      socket.on("close", () => {
        if (streams.detach(op.id, socket) === 0)
          router().background("presence", () => router().setPresence(op.id, "offline"));
      });
    },
  );

  // What goes to whom.
  const bus = ctx.bus;
  bus.on("session.offered", ({ session, operatorIds, deadline }) =>
    streams.push(operatorIds, "session.offered", { session, deadline }),
  );
  bus.on("session.changed", ({ session, reason, operatorIds }) => {
    const prior = session.operatorId ? [session.operatorId] : [];
    streams.push([...operatorIds, ...prior], "session.changed", { session, reason });
  });
  bus.on("session.message", ({ session, message, operatorIds }) =>
    streams.push(operatorIds, "message.received", { session, message }),
  );
  const byChat = async (chatId: string, type: string, data: unknown) => {
    const s = await router().latestOfChat(chatId);
    if (s) streams.push(await router().concerned(s), type, data);
  };
  bus.on("message.created", ({ message }) => byChat(message.chatId, "message.created", { message }));
  bus.on("message.updated", ({ message }) => byChat(message.chatId, "message.updated", { message }));
  bus.on("chat.typing", ({ chatId, contactId }) => byChat(chatId, "chat.typing", { chatId, contactId }));
  bus.on("chat.read", ({ chatId, messageIds }) => byChat(chatId, "chat.read", { chatId, messageIds }));
  bus.on("operator.presence", (p) => streams.push(streams.connected(), "operator.presence", p));
}
