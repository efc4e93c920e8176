import type { Readable } from "node:stream";
import {
  type FileLink,
  OpenlinesError,
  printMarkup,
  toHtml,
  toPlainText,
  type UserProfile,
} from "@openlines/protocol";
import type { Clock } from "../../clock.js";
import type { ConnectorContext, InboundEvent } from "../contract.js";
import { PlatformError } from "../contract.js";
import { fileKind, type UploadDir } from "./files.js";
import type { HubFrame, MessageFrame, VisitorFrame } from "./frames.js";
import { RateLimiter } from "./rate-limit.js";
import type { LivechatSettings } from "./settings.js";
import type { SocketRegistry } from "./sockets.js";
import {
  type LivechatStore,
  newId,
  type StoredFileLink,
  type StoredMessage,
  type VisitorProfile,
} from "./store.js";
import { issueToken, newVisitorId, verifyToken } from "./tokens.js";

export type LivechatCtx = ConnectorContext<LivechatSettings>;

export interface LivechatDeps {
  store: LivechatStore;
  sockets: SocketRegistry;
  uploads: UploadDir;
  clock: Clock;
  /** The hub's incoming pipeline: queues events durably for the line's portal. */
  ingest(lineHash: string, events: InboundEvent[]): Promise<void>;
}

const MINUTE_MS = 60_000;
/** A visitor's typing is passed on at most once per this many milliseconds. */
const TYPING_EVERY_MS = 3_000;
/** New visitor sessions per IP address and minute: stops one client from minting identities. */
const SESSIONS_PER_IP_PER_MINUTE = 30;
/** Frames of any kind per visitor and minute (typing, read marks, profile, pings included). */
const FRAMES_PER_MINUTE = 240;

/**
 * The live chat's behaviour, apart from HTTP: visitor sessions, the visitor's frames, and the
 * operator's replies arriving from the outbox. One per hub process; the routes and the connector
 * instances of every live-chat line share it.
 */
export class LivechatService {
  readonly limiter: RateLimiter;

  constructor(readonly deps: LivechatDeps) {
    this.limiter = new RateLimiter(deps.clock);
  }

  // --- visitor side -------------------------------------------------------------------------

  /** Issues a new visitor identity for this line. */
  async createSession(ctx: LivechatCtx, ip: string, profile: VisitorProfile) {
    if (!this.limiter.take(`session:${ip}`, SESSIONS_PER_IP_PER_MINUTE, MINUTE_MS))
      throw new OpenlinesError("RATE_LIMITED");
    const visitorId = newVisitorId();
    await this.deps.store.createVisitor(ctx.line.id, visitorId, profile);
    const key = await this.deps.store.tokenKey(ctx.line.id);
    return { visitorId, token: issueToken(key, ctx.line.id, visitorId) };
  }

  /** The visitor a token names on this line; UNAUTHORIZED for a forged or foreign token. */
  async authenticate(ctx: LivechatCtx, token: string | undefined): Promise<string> {
    if (!token) throw new OpenlinesError("UNAUTHORIZED", "The visitor token is missing.");
    const key = await this.deps.store.tokenKey(ctx.line.id);
    const visitorId = verifyToken(key, ctx.line.id, token);
    if (!visitorId || !(await this.deps.store.visitor(ctx.line.id, visitorId)))
      throw new OpenlinesError("UNAUTHORIZED", "The visitor token is not valid for this chat.");
    return visitorId;
  }

  /** Stores a visitor's file on the hub's disk; the visitor then attaches it by id. */
  async upload(ctx: LivechatCtx, visitorId: string, body: Readable, meta: { name: string; type: string }) {
    const id = newId("f");
    const size = await this.deps.uploads.save(id, body, ctx.settings.maxUploadBytes);
    await this.deps.store.addFile({ id, lineConnectorId: ctx.line.id, visitorId, ...meta, size });
    return { id, name: meta.name, type: meta.type, size, url: this.visitorFileUrl(ctx, id) };
  }

  readyFrame(ctx: LivechatCtx, visitorId: string): HubFrame {
    const s = ctx.settings;
    return { type: "ready", visitorId, title: s.title, greeting: s.greeting, color: s.color };
  }

  /**
   * What a (re)connecting widget missed: every message after `after`, oldest first. Operator
   * messages it receives now for the first time count as delivered.
   */
  async catchUp(ctx: LivechatCtx, visitorId: string, after: number, send: (f: HubFrame) => Promise<boolean>) {
    const PAGE = 500;
    for (let from = after; ; ) {
      const missed = await this.deps.store.after(ctx.line.id, visitorId, from, PAGE);
      const fresh: string[] = [];
      for (const m of missed) {
        if (!(await send(this.#frame(ctx, m)))) return; // the socket went away: the next connection catches up
        if (m.direction === "out" && m.status === "sent") fresh.push(m.id);
      }
      await this.#delivered(ctx, visitorId, fresh);
      if (missed.length < PAGE) return;
      from = missed[missed.length - 1].seq;
    }
  }

  /** One frame from a visitor's socket; `reply` answers that socket only. */
  async onFrame(
    ctx: LivechatCtx,
    visitorId: string,
    frame: VisitorFrame,
    reply: (f: HubFrame) => void,
    pageUrl?: string,
  ): Promise<void> {
    if (!this.limiter.take(`frames:${ctx.line.id}:${visitorId}`, FRAMES_PER_MINUTE, MINUTE_MS))
      return reply({
        type: "error",
        code: "RATE_LIMITED",
        message: "Too many requests; wait a moment.",
        ...(frame.type === "message" ? { clientId: frame.clientId } : {}),
      });
    switch (frame.type) {
      case "message":
        return this.#visitorMessage(ctx, visitorId, frame, reply);
      case "typing": {
        if (!this.limiter.take(`typing:${ctx.line.id}:${visitorId}`, 1, TYPING_EVERY_MS)) return;
        const at = this.deps.clock.now();
        const user = await this.#user(ctx, visitorId);
        await this.deps.ingest(ctx.line.hash, [
          { type: "typing", data: { chat: { id: visitorId }, user, at } },
        ]);
        return;
      }
      case "read": {
        const moved = await this.deps.store.advance(ctx.line.id, visitorId, frame.ids, "read", "out");
        if (moved.length === 0) return;
        await this.deps.ingest(ctx.line.hash, [
          {
            type: "readStatus",
            data: {
              chat: { id: visitorId },
              platformMessageIds: moved.map((m) => m.id),
              at: this.deps.clock.now(),
            },
          },
        ]);
        for (const m of moved)
          await this.deps.sockets.push(ctx.line.id, visitorId, { type: "status", id: m.id, status: "read" });
        return;
      }
      case "profile":
        await this.deps.store.updateVisitor(ctx.line.id, visitorId, {
          name: frame.name,
          email: frame.email,
          pageUrl,
        });
        return;
      case "ping":
        reply({ type: "pong" });
        return;
    }
  }

  async #visitorMessage(
    ctx: LivechatCtx,
    visitorId: string,
    frame: Extract<VisitorFrame, { type: "message" }>,
    reply: (f: HubFrame) => void,
  ) {
    const { store } = this.deps;
    const refuse = (code: string, message: string) =>
      reply({ type: "error", code, message, clientId: frame.clientId });
    if (!frame.text.trim() && frame.files.length === 0)
      return refuse("VALIDATION_FAILED", "The message is empty.");
    if (
      !this.limiter.take(`msg:${ctx.line.id}:${visitorId}`, ctx.settings.visitorMessagesPerMinute, MINUTE_MS)
    )
      return refuse("RATE_LIMITED", "You are sending messages too fast; wait a moment.");

    let stored = await store.byClientId(ctx.line.id, visitorId, frame.clientId);
    if (!stored) {
      const files: StoredFileLink[] = [];
      for (const { id } of frame.files) {
        const f = await store.file(id);
        if (!f || f.lineConnectorId !== ctx.line.id || f.visitorId !== visitorId)
          return refuse("VALIDATION_FAILED", "An attached file is unknown; upload it again.");
        files.push({
          ref: f.id,
          url: this.visitorFileUrl(ctx, f.id),
          name: f.name,
          type: f.type,
          size: f.size,
          kind: fileKind(f.type),
        });
      }
      stored = await store.append({
        lineConnectorId: ctx.line.id,
        visitorId,
        direction: "in",
        clientId: frame.clientId,
        text: frame.text,
        files,
      });
    }
    // Queued under the widget's id: a frame re-sent after a lost answer is queued once.
    await this.deps.ingest(ctx.line.hash, [
      {
        type: "messages",
        dedupKey: `livechat:${ctx.line.id}:${visitorId}:${frame.clientId}`,
        data: {
          kind: "new",
          chat: { id: visitorId, type: "private" },
          user: await this.#user(ctx, visitorId),
          message: {
            id: stored.id,
            date: stored.at,
            text: printMarkup([{ type: "text", text: stored.text }]),
            files: stored.files.map(({ ref, ...f }) => ({
              ...f,
              url: ref ? ctx.fileLink(ref, { name: f.name, type: f.type, size: f.size }) : f.url,
            })),
          },
        },
      },
    ]);
    reply({ type: "status", id: stored.id, clientId: frame.clientId, status: "sent" });
    // the visitor's other tabs show it too
    await this.deps.sockets.push(ctx.line.id, visitorId, this.#frame(ctx, stored));
  }

  async #user(ctx: LivechatCtx, visitorId: string): Promise<UserProfile> {
    const p = (await this.deps.store.visitor(ctx.line.id, visitorId)) ?? {};
    return {
      id: visitorId,
      ...(p.name ? { name: p.name } : {}),
      ...(p.email ? { email: p.email } : {}),
      ...(p.pageUrl ? { pageUrl: p.pageUrl } : {}),
    };
  }

  /** The link the visitor's own widget opens a file with (the widget adds its token). */
  visitorFileUrl(ctx: LivechatCtx, fileId: string): string {
    return `${ctx.publicUrl.replace(/\/+$/, "")}/livechat/file?line=${encodeURIComponent(ctx.line.hash)}&id=${fileId}`;
  }

  #frame(_ctx: LivechatCtx, m: StoredMessage): MessageFrame {
    const out = m.direction === "out";
    return {
      type: "message",
      id: m.id,
      seq: m.seq,
      from: out ? "operator" : "visitor",
      ...(m.clientId ? { clientId: m.clientId } : {}),
      text: out ? toPlainText(m.text) : m.text,
      html: out ? toHtml(m.text) : toHtml(printMarkup([{ type: "text", text: m.text }])),
      files: m.files.map((f) => ({ url: f.url, name: f.name, type: f.type, size: f.size })),
      status: m.status,
      at: m.at,
    };
  }

  /** Reports operator messages as delivered (each once) to the portal. */
  async #delivered(ctx: LivechatCtx, visitorId: string, ids: string[]) {
    const moved = await this.deps.store.advance(ctx.line.id, visitorId, ids, "delivered", "out");
    if (moved.length === 0) return;
    const at = this.deps.clock.now();
    await this.deps.ingest(
      ctx.line.hash,
      moved.map((m) => ({
        type: "deliveryStatus" as const,
        dedupKey: `livechat:delivered:${m.id}`,
        data: {
          chat: { id: visitorId },
          messageId: m.portalMessageId ?? m.id,
          status: "delivered" as const,
          platformMessageId: m.id,
          at,
        },
      })),
    );
    for (const m of moved)
      await this.deps.sockets.push(ctx.line.id, visitorId, { type: "status", id: m.id, status: "delivered" });
  }

  // --- operator side (called by the connector instances from the outbox) ---------------------

  async send(
    ctx: LivechatCtx,
    message: { id: string; chat: { id: string }; text: string; files: FileLink[] },
  ) {
    const visitorId = message.chat.id;
    const { store } = this.deps;
    if (!(await store.visitor(ctx.line.id, visitorId)))
      throw new PlatformError("This visitor is not known to the live chat (the chat was removed).", {
        retryable: false,
      });
    // the outbox may retry a send whose answer was lost: the message is stored once
    const stored =
      (await store.byPortalMessageId(ctx.line.id, visitorId, message.id)) ??
      (await store.append({
        lineConnectorId: ctx.line.id,
        visitorId,
        direction: "out",
        portalMessageId: message.id,
        text: message.text,
        files: message.files,
      }));
    const got = await this.deps.sockets.push(ctx.line.id, visitorId, this.#frame(ctx, stored));
    if (got > 0 && stored.status === "sent") {
      // Reported after the outbox has recorded the send (its `sent` status goes first).
      setImmediate(() => {
        this.#delivered(ctx, visitorId, [stored.id]).catch((err) =>
          ctx.log.error({ err }, "live chat: delivery status not queued"),
        );
      });
    }
    return { platformMessageId: stored.id };
  }

  async update(ctx: LivechatCtx, visitorId: string, platformMessageId: string, text: string) {
    const m = await this.deps.store.edit(ctx.line.id, platformMessageId, text);
    if (!m || m.visitorId !== visitorId)
      throw new PlatformError("The message is not in this live chat any more.", { retryable: false });
    await this.deps.sockets.push(ctx.line.id, visitorId, {
      type: "edit",
      id: m.id,
      text: toPlainText(text),
      html: toHtml(text),
    });
  }

  async delete(ctx: LivechatCtx, visitorId: string, platformMessageId: string) {
    const m = await this.deps.store.remove(ctx.line.id, platformMessageId);
    if (!m || m.visitorId !== visitorId)
      throw new PlatformError("The message is not in this live chat any more.", { retryable: false });
    await this.deps.sockets.push(ctx.line.id, visitorId, { type: "delete", id: m.id });
  }

  async typing(ctx: LivechatCtx, visitorId: string) {
    await this.deps.sockets.push(ctx.line.id, visitorId, { type: "typing" });
  }

  /** The operator read the visitor's messages: the widget shows them as read. */
  async markRead(ctx: LivechatCtx, visitorId: string, ids: string[]) {
    if (ids.length === 0) {
      // no ids: everything the visitor sent so far
      const all = await this.deps.store.after(ctx.line.id, visitorId, 0, 10_000);
      ids = all.filter((m) => m.direction === "in" && m.status !== "read").map((m) => m.id);
    }
    const moved = await this.deps.store.advance(ctx.line.id, visitorId, ids, "read", "in");
    if (moved.length > 0)
      await this.deps.sockets.push(ctx.line.id, visitorId, { type: "read", ids: moved.map((m) => m.id) });
  }
}
