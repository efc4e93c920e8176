import { describe, expect, it } from "vitest";
import { type CallName, Calls } from "../src/calls.js";

const line = { line: "L1", connector: "telegram" };
const capabilities = {
  edit: true,
  delete: true,
  typing: true,
  readReceipts: false,
  deliveryReceipts: true,
  groupChats: true,
  files: { kinds: ["image", "document"], maxSizeBytes: 50_000_000, maxCount: 10 },
  textMaxLength: 4096,
  formatting: ["bold", "italic", "link"],
  replyWindowHours: null,
  templates: false,
};
const lineStatus = {
  line: "L1",
  connector: "telegram",
  status: "active",
  webhookUrl: "https://hub.example/webhook?line=abc",
  capabilities,
  queue: { waiting: 3, attempts: 1, blockedUntil: 1_767_225_600_000, firstFailureAt: null, deadLetters: 0 },
};

interface Sample {
  args: unknown;
  badArgs: unknown;
  result: unknown;
  badResult: unknown;
}

/** A valid and an invalid sample for the arguments and the result of every call. */
const samples = {
  saveSettings: {
    args: { ...line, settings: { token: "123:abc" } },
    badArgs: { ...line, settings: "token" },
    result: { webhookUrl: "https://hub.example/webhook?line=abc", status: "new" },
    badResult: { webhookUrl: "x", status: "happy" },
  },
  testConnect: {
    args: line,
    badArgs: { line: "L1" },
    result: { ok: false, error: { code: "PLATFORM_ERROR", message: "Token revoked." } },
    badResult: { ok: "yes" },
  },
  activate: {
    args: line,
    badArgs: { ...line, connector: "" },
    result: { status: "active", webhookUrl: "https://hub.example/webhook?line=abc" },
    badResult: { status: "active" },
  },
  deactivate: {
    args: line,
    badArgs: {},
    result: { status: "disabled" },
    badResult: { status: "off" },
  },
  status: {
    args: {},
    badArgs: { line: "" },
    result: { lines: [lineStatus] },
    badResult: { lines: [{ ...lineStatus, queue: { waiting: -1 } }] },
  },
  connectors: {
    args: {},
    badArgs: null,
    result: { connectors: [{ type: "telegram", title: "Telegram", settingsSchema: {}, capabilities }] },
    badResult: { connectors: [{ type: "telegram", title: "Telegram" }] },
  },
  sendMessages: {
    args: {
      ...line,
      messages: [
        {
          id: "m1",
          chat: { id: "c1" },
          text: "[b]Hi[/b]",
          files: [{ url: "https://portal.example/f/1", name: "a.png", type: "image/png" }],
          replyTo: "41",
        },
        { id: "m2", chat: { id: "c1" }, template: { name: "hello", language: "en" } },
      ],
    },
    badArgs: { ...line, messages: [{ id: "m1", chat: { id: "c1" }, text: 42 }] },
    result: { accepted: ["m1", "m2"] },
    badResult: { accepted: "m1" },
  },
  updateMessages: {
    args: { ...line, messages: [{ id: "m1", chat: { id: "c1" }, platformMessageId: "99", text: "fixed" }] },
    badArgs: { ...line, messages: [{ id: "m1", chat: { id: "c1" }, text: "no platform id" }] },
    result: { accepted: ["m1"] },
    badResult: {},
  },
  deleteMessages: {
    args: { ...line, messages: [{ id: "m1", chat: { id: "c1" }, platformMessageId: "99" }] },
    badArgs: { ...line, messages: [] },
    result: { accepted: ["m1"] },
    badResult: { accepted: [""] },
  },
  typing: {
    args: { ...line, chat: { id: "c1" } },
    badArgs: line,
    result: { ok: true },
    badResult: { ok: false },
  },
  markRead: {
    args: { ...line, chat: { id: "c1" }, platformMessageIds: ["99"] },
    badArgs: { ...line, chat: { id: "c1" }, platformMessageIds: [99] },
    result: { ok: true },
    badResult: {},
  },
  ack: {
    args: { ids: ["pkt_1", "pkt_2"] },
    badArgs: { ids: [] },
    result: { acknowledged: 2 },
    badResult: { acknowledged: "2" },
  },
  deadLetters: {
    args: { line: "L1", limit: 10 },
    badArgs: { limit: 0 },
    result: {
      items: [
        {
          id: "pkt_1",
          line: "L1",
          connector: "telegram",
          type: "messages",
          created: 1,
          expiredAt: 2,
          reason: "expired after 24 hours",
          packet: {},
        },
      ],
    },
    badResult: { items: [{ id: "pkt_1" }] },
  },
  redrive: {
    args: { line: "L1", ids: ["pkt_1"] },
    badArgs: { ids: "pkt_1" },
    result: { requeued: 1 },
    badResult: { requeued: null },
  },
  templates: {
    args: line,
    badArgs: { connector: "whatsapp" },
    result: { templates: [{ name: "hello", language: "en", body: "Hello {{1}}", parameters: 1 }] },
    badResult: { templates: [{ name: "hello", parameters: 1.5 }] },
  },
} satisfies Record<CallName, Sample>;

describe("portal → hub calls", () => {
  it("has samples for every call in the table", () => {
    expect(Object.keys(samples).sort()).toEqual(Object.keys(Calls).sort());
  });

  describe.each(Object.entries(samples) as [CallName, Sample][])("%s", (name, s) => {
    it("accepts valid arguments", () => {
      const r = Calls[name].args.safeParse(s.args);
      expect(r.error?.issues).toBeUndefined();
    });
    it("refuses invalid arguments", () => {
      expect(Calls[name].args.safeParse(s.badArgs).success).toBe(false);
    });
    it("accepts a valid result", () => {
      const r = Calls[name].result.safeParse(s.result);
      expect(r.error?.issues).toBeUndefined();
    });
    it("refuses an invalid result", () => {
      expect(Calls[name].result.safeParse(s.badResult).success).toBe(false);
    });
  });

  it("fills argument defaults: empty files and text, empty read list, a limit of 100", () => {
    const send = Calls.sendMessages.args.parse({ ...line, messages: [{ id: "m", chat: { id: "c" } }] });
    expect(send.messages[0]).toMatchObject({ text: "", files: [] });
    expect(Calls.markRead.args.parse({ ...line, chat: { id: "c" } }).platformMessageIds).toEqual([]);
    expect(Calls.deadLetters.args.parse({}).limit).toBe(100);
  });

  it("caps a batch of messages at 100", () => {
    const messages = Array.from({ length: 101 }, (_, i) => ({ id: `m${i}`, chat: { id: "c" } }));
    expect(Calls.sendMessages.args.safeParse({ ...line, messages }).success).toBe(false);
  });
});
