import { type CallName, Calls } from "../../src/calls.js";
import { FORMAT_VERSION, type PacketType } from "../../src/format.js";

/**
 * One valid, fully populated sample of every packet type and of every call's arguments: the seeds
 * the schema fuzzer mutates (and the RPC and portal-input fuzzers send). Optional fields are
 * filled in so that dropping them is tried too.
 */
const T = 1_767_225_600_000;
const envelope = {
  id: "pkt_1",
  version: FORMAT_VERSION,
  portal: "P1",
  line: "L1",
  connector: "telegram",
  created: T,
};
const user = {
  id: "u1",
  name: "Ann Lee",
  firstName: "Ann",
  lastName: "Lee",
  username: "ann",
  avatarUrl: "https://cdn.example/a.jpg",
  phone: "+15550001111",
  email: "ann@example.com",
  language: "en",
};
const file = { url: "https://cdn.example/f.pdf", name: "f.pdf", type: "application/pdf", size: 1024 };

export const packetSamples: Record<PacketType, Record<string, unknown>> = {
  messages: {
    ...envelope,
    type: "messages",
    data: {
      kind: "new",
      chat: { id: "c1", type: "private", title: "Ann" },
      user,
      message: { id: "42", date: T, text: "[b]Hello[/b] 😀", files: [file], replyTo: "41", extra: { a: 1 } },
      event: "postback",
    },
  },
  deliveryStatus: {
    ...envelope,
    type: "deliveryStatus",
    data: {
      chat: { id: "c1" },
      messageId: "m1",
      status: "failed",
      platformMessageId: "99",
      reason: "blocked",
      operation: "update",
      errorCode: "403",
      at: T,
    },
  },
  readStatus: {
    ...envelope,
    type: "readStatus",
    data: { chat: { id: "c1" }, platformMessageIds: ["99", "100"], watermark: T, at: T },
  },
  typing: { ...envelope, type: "typing", data: { chat: { id: "c1" }, user, at: T } },
  deactivate: {
    ...envelope,
    type: "deactivate",
    data: { reason: "connectedElsewhere", message: "Connected on another portal.", at: T },
  },
  testConnection: { ...envelope, type: "testConnection", data: { nonce: "nonce-12345678", at: T } },
};

const line = { line: "support", connector: "telegram" };
export const callSamples: Record<CallName, Record<string, unknown>> = {
  saveSettings: { ...line, settings: { botToken: "1:abc" } },
  testConnect: line,
  activate: line,
  deactivate: line,
  status: { line: "support", connector: "telegram" },
  connectors: {},
  sendMessages: {
    ...line,
    messages: [
      {
        id: "op-1",
        chat: { id: "c1" },
        text: "[b]hi[/b]",
        files: [file],
        replyTo: "41",
        template: { name: "hello", language: "en", parameters: ["Ann"] },
        reaction: { to: "41", emoji: "👍" },
      },
    ],
  },
  updateMessages: {
    ...line,
    messages: [{ id: "op-1", chat: { id: "c1" }, platformMessageId: "99", text: "x" }],
  },
  deleteMessages: { ...line, messages: [{ id: "op-1", chat: { id: "c1" }, platformMessageId: "99" }] },
  typing: { ...line, chat: { id: "c1" } },
  markRead: { ...line, chat: { id: "c1" }, platformMessageIds: ["99"] },
  ack: { ids: ["pkt_1", "pkt_2"] },
  deadLetters: { line: "support", limit: 10 },
  redrive: { line: "support", ids: ["pkt_1"] },
  templates: line,
};

/** Every call name (the table's keys), to check the samples cover them all. */
export const callNames = Object.keys(Calls) as CallName[];
