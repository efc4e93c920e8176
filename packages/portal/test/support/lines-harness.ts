import { randomUUID } from "node:crypto";
import { ManualClock } from "@openlines/protocol";
import { openDatabase } from "@openlines/store";
import Fastify, { type FastifyInstance } from "fastify";
import pino from "pino";
import { apiModule } from "../../src/api/module.js";
import { authModule } from "../../src/auth/module.js";
import type { PortalConfig, PortalContext, PortalServices } from "../../src/context.js";
import { EventBus } from "../../src/events/bus.js";
import { linesModule } from "../../src/lines/module.js";
import type { LineSettings } from "../../src/lines/settings.js";
import type { ChatView, MessageView } from "../../src/messages/types.js";
import { installErrorHandler } from "../../src/server.js";
import { migratePortal, type PortalDatabase } from "../../src/store/index.js";

/**
 * A portal with the auth, lines and API modules on a real database and a manual clock; the
 * messages, contacts and hub services are small fakes that record what they were asked.
 */
export class FakeMessages {
  system: Array<{ chatId: string; text: string }> = [];
  sent: Array<{ chatId: string; authorId: string; text: string; internal?: boolean }> = [];
  chats = new Map<string, ChatView>();
  messages = new Map<string, MessageView>();

  view(o: Partial<MessageView> & { chatId: string; text: string }): MessageView {
    const m: MessageView = {
      id: randomUUID(),
      contactId: this.chats.get(o.chatId)?.contactId ?? "c",
      direction: "out",
      authorType: "system",
      authorId: null,
      files: [],
      status: "stored",
      failureReason: null,
      platformMessageId: null,
      replyTo: null,
      internal: false,
      attempt: 1,
      createdAt: Date.now(),
      editedAt: null,
      deletedAt: null,
      ...o,
    };
    this.messages.set(m.id, m);
    return m;
  }
  textsTo(chatId: string): string[] {
    return this.system.filter((s) => s.chatId === chatId).map((s) => s.text);
  }
  service(): PortalServices["messages"] {
    return {
      send: async (o) => {
        this.sent.push(o);
        return this.view({
          chatId: o.chatId,
          text: o.text,
          authorType: "operator",
          authorId: o.authorId,
          internal: !!o.internal,
        });
      },
      sendSystem: async (o) => {
        this.system.push(o);
        return this.view(o);
      },
      retry: async (id) => this.messages.get(id)!,
      edit: async (id, text) => ({ ...this.messages.get(id)!, text }),
      remove: async (id) => ({ ...this.messages.get(id)!, deletedAt: 1 }),
      get: async (id) => this.messages.get(id),
      getChat: async (id) => this.chats.get(id),
      history: async (contactId) => [...this.messages.values()].filter((m) => m.contactId === contactId),
      ledger: async () => [],
      markRead: async () => {},
      typing: async () => {},
      capabilities: async () => undefined,
    };
  }
}

export class FakeHub {
  calls: Array<{ method: string; args: unknown }> = [];
  answers: Record<string, unknown> = {};
  service(): PortalServices["hub"] {
    return new Proxy({} as PortalServices["hub"], {
      get: (_t, method: string) => {
        if (method === "then") return undefined;
        if (method === "forget") return () => {};
        return async (args: unknown) => {
          this.calls.push({ method, args });
          const a = this.answers[method];
          if (a instanceof Error) throw a;
          return typeof a === "function" ? a(args) : a;
        };
      },
    });
  }
}

export interface TestPortal {
  app: FastifyInstance;
  ctx: PortalContext;
  clock: ManualClock;
  messages: FakeMessages;
  hub: FakeHub;
  router: PortalServices["lines"]["router"];
  /** Waits until every routing task started so far has finished. */
  settled(): Promise<void>;
  advance(ms: number): Promise<void>;
  /** A customer writes in a chat of this line (the chat is created on first use). */
  customerWrites(chatId: string, lineId: string, text: string): Promise<void>;
  operator(o?: {
    role?: "admin" | "operator";
    online?: boolean;
    maxChats?: number | null;
    name?: string;
  }): Promise<{
    id: string;
    email: string;
    password: string;
  }>;
  line(s: Partial<LineSettings>, operatorIds: string[]): Promise<string>;
  signIn(email: string, password: string): Promise<{ cookie: string; csrf: string }>;
  close(): Promise<void>;
}

export async function startTestPortal(
  url: string,
  options: { clock?: ManualClock; publicUrl?: string } = {},
): Promise<TestPortal> {
  const database = openDatabase<PortalDatabase>(url, { poolSize: 3 });
  // Every portal table (the API joins the core `chat` table); the fakes stand in for the core services.
  await migratePortal(database);
  const clock = options.clock ?? new ManualClock(Date.UTC(2026, 0, 5, 10)); // a Monday, 10:00 UTC
  const messages = new FakeMessages();
  const hub = new FakeHub();
  const config: PortalConfig = {
    portalId: "p1",
    publicUrl: options.publicUrl ?? "http://127.0.0.1:8080",
    databaseUrl: url,
    hubUrl: "http://127.0.0.1:1",
    hubSecret: "whsec_x",
    filesDir: "/tmp",
    allowPrivateAddresses: true,
  };
  const ctx: PortalContext = {
    config,
    database,
    bus: new EventBus(),
    clock,
    log: pino({ level: process.env.LOG_LEVEL ?? "silent" }),
    services: {} as PortalServices,
  };
  ctx.bus.onError((event, err) => console.error("listener failed", event, err));
  ctx.services.messages = messages.service();
  ctx.services.hub = hub.service();
  ctx.services.contacts = {
    get: async (id) => ({
      id,
      name: `Contact ${id}`,
      avatarUrl: null,
      phone: null,
      email: null,
      mergedInto: null,
      externalUsers: [],
      createdAt: 0,
      updatedAt: 0,
    }),
    list: async () => [],
    merge: async (t) => (await ctx.services.contacts.get(t))!,
    suggestions: async () => [],
  };
  const app = Fastify({ logger: false });
  installErrorHandler(app);
  if (process.env.LOG_LEVEL) app.addHook("onError", async (_req, _reply, err) => console.error(err));
  for (const m of [authModule, linesModule, apiModule]) await m.register(app, ctx);
  await app.ready();
  for (const m of [authModule, linesModule, apiModule]) await m.start?.(ctx);
  const router = ctx.services.lines.router;
  const settled = () => router.settled();
  const portal: TestPortal = {
    app,
    ctx,
    clock,
    messages,
    hub,
    router,
    settled,
    async advance(ms) {
      clock.advance(ms);
      await settled();
    },
    async customerWrites(chatId, lineId, text) {
      const contactId = `contact-${chatId}`;
      const chat: ChatView = messages.chats.get(chatId) ?? {
        id: chatId,
        lineId,
        connector: "telegram",
        externalChatId: chatId,
        contactId,
        type: "private",
        title: null,
        lastInboundAt: null,
      };
      messages.chats.set(chatId, chat);
      const message = messages.view({ chatId, text, direction: "in", authorType: "customer", contactId });
      ctx.bus.emit("message.received", {
        message,
        chat,
        contact: (await ctx.services.contacts.get(contactId))!,
        isNewChat: false,
      });
      await settled();
    },
    async operator(o = {}) {
      const email = `${o.name ?? "op"}-${randomUUID().slice(0, 8)}@example.test`;
      const password = "correct horse battery";
      const op = await ctx.services.auth.accounts.create({
        name: o.name ?? "Operator",
        email,
        role: o.role ?? "operator",
        password,
        maxChats: o.maxChats ?? null,
      });
      if (o.online !== false) await router.setPresence(op.id, "online");
      return { id: op.id, email, password };
    },
    async line(s, operatorIds) {
      const line = await ctx.services.lines.store.create({ name: "Support", ...s }, operatorIds);
      return line.id;
    },
    async signIn(email, password) {
      const r = await app.inject({ method: "POST", url: "/api/session", payload: { email, password } });
      if (r.statusCode !== 200) throw new Error(`sign-in failed: ${r.statusCode} ${r.body}`);
      const c = r.cookies.find((x) => x.name === "openlines_session")!;
      return { cookie: `openlines_session=${c.value}`, csrf: r.json().csrfToken };
    },
    async close() {
      await settled();
      for (const m of [apiModule, linesModule, authModule]) await m.stop?.(ctx);
      await app.close();
      await database.close();
    },
  };
  return portal;
}
