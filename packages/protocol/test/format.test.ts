import { describe, expect, it } from "vitest";
import {
  DeliveryRequest,
  DeliveryResponse,
  FileLink,
  FORMAT_VERSION,
  Packet,
  type PacketType,
  PacketTypes,
  UserProfile,
} from "../src/format.js";

const envelope = {
  id: "pkt_1",
  version: FORMAT_VERSION,
  portal: "P1",
  line: "L1",
  connector: "telegram",
  created: 1_767_225_600_000,
};
const user = { id: "u1", name: "Ann Lee", username: "ann", avatarUrl: "https://cdn.example/a.jpg" };

/** One valid packet of each type, and a way to break each one's payload. */
const samples: Record<PacketType, { data: unknown; bad: unknown; why: string }> = {
  messages: {
    data: {
      kind: "new",
      chat: { id: "c1", type: "private" },
      user,
      message: {
        id: "42",
        date: 1_767_225_600_000,
        text: "[b]Hello[/b] 😀",
        files: [{ url: "https://cdn.example/f.pdf", name: "f.pdf", type: "application/pdf", size: 1024 }],
        replyTo: "41",
      },
    },
    bad: {
      kind: "new",
      chat: { id: "c1" },
      user,
      message: { id: "42", date: 1, files: [{ url: "not a url", name: "f" }] },
    },
    why: "a file link that is not a URL",
  },
  deliveryStatus: {
    data: { chat: { id: "c1" }, messageId: "m1", status: "delivered", platformMessageId: "99", at: 5 },
    bad: { chat: { id: "c1" }, messageId: "m1", status: "seen", at: 5 },
    why: "an unknown status",
  },
  readStatus: {
    data: { chat: { id: "c1" }, platformMessageIds: ["99", "100"], at: 5 },
    bad: { chat: { id: "c1" }, platformMessageIds: ["99"], at: -1 },
    why: "a negative time",
  },
  typing: {
    data: { chat: { id: "c1" }, user, at: 5 },
    bad: { chat: { id: "c1" }, at: 5 },
    why: "no user",
  },
  deactivate: {
    data: { reason: "connectedElsewhere", message: "The bot was connected to another portal.", at: 5 },
    bad: { reason: "bored", message: "x", at: 5 },
    why: "an unknown reason",
  },
  testConnection: {
    data: { nonce: "abcdef0123456789", at: 5 },
    bad: { nonce: "short", at: 5 },
    why: "a nonce shorter than 8 characters",
  },
};

describe("exchange format: packets", () => {
  it("has a sample for every packet type", () => {
    expect(Object.keys(samples).sort()).toEqual(Object.values(PacketTypes).sort());
  });

  it.each(Object.entries(samples))("accepts a valid %s packet", (type, { data }) => {
    const parsed = Packet.parse({ ...envelope, type, data });
    expect(parsed.type).toBe(type);
  });

  it.each(Object.entries(samples))("refuses a %s packet with an invalid payload", (type, { bad, why }) => {
    const result = Packet.safeParse({ ...envelope, type, data: bad });
    expect(result.success, why).toBe(false);
  });

  it("refuses an unknown type, another format version and a missing envelope field", () => {
    const data = samples.typing.data;
    expect(Packet.safeParse({ ...envelope, type: "poke", data }).success).toBe(false);
    expect(Packet.safeParse({ ...envelope, version: 2, type: "typing", data }).success).toBe(false);
    const { line: _, ...noLine } = envelope;
    expect(Packet.safeParse({ ...noLine, type: "typing", data }).success).toBe(false);
    expect(Packet.safeParse({ ...envelope, id: "", type: "typing", data }).success).toBe(false);
  });

  it("fills defaults: empty text and files, octet-stream file type, private chat", () => {
    const p = Packet.parse({
      ...envelope,
      type: "messages",
      data: {
        kind: "edited",
        chat: { id: "c1" },
        user: { id: "u1" },
        message: { id: "1", date: 1, files: [{ url: "https://a.example/x", name: "x" }] },
      },
    });
    if (p.type !== "messages") throw new Error("narrowing");
    expect(p.data.chat.type).toBe("private");
    expect(p.data.message.text).toBe("");
    expect(p.data.message.files[0].type).toBe("application/octet-stream");
  });

  it("accepts each message kind and refuses others", () => {
    const base = samples.messages.data as { kind: string };
    for (const kind of ["new", "edited", "deleted"]) {
      expect(Packet.safeParse({ ...envelope, type: "messages", data: { ...base, kind } }).success).toBe(true);
    }
    expect(
      Packet.safeParse({ ...envelope, type: "messages", data: { ...base, kind: "moved" } }).success,
    ).toBe(false);
  });

  it("checks user profile and file link fields", () => {
    expect(UserProfile.safeParse({ id: "u", avatarUrl: "javascript-less but not a url" }).success).toBe(
      false,
    );
    expect(FileLink.safeParse({ url: "https://a.example/x", name: "", type: "image/png" }).success).toBe(
      false,
    );
    expect(FileLink.safeParse({ url: "https://a.example/x", name: "x", size: -1 }).success).toBe(false);
  });
});

describe("exchange format: delivery", () => {
  const packet = { ...envelope, type: "typing", data: samples.typing.data };

  it("accepts a batch of packets for one line", () => {
    expect(
      DeliveryRequest.parse({ version: 1, portal: "P1", line: "L1", packets: [packet] }).packets,
    ).toHaveLength(1);
  });

  it("refuses an empty batch and a batch with a bad packet", () => {
    expect(DeliveryRequest.safeParse({ version: 1, portal: "P1", line: "L1", packets: [] }).success).toBe(
      false,
    );
    expect(
      DeliveryRequest.safeParse({ version: 1, portal: "P1", line: "L1", packets: [{ ...packet, data: {} }] })
        .success,
    ).toBe(false);
  });

  it("accepts the two answers, taken ids or accepted for a later ack, and nothing else", () => {
    expect(DeliveryResponse.parse({ taken: ["pkt_1"] })).toEqual({ taken: ["pkt_1"] });
    expect(DeliveryResponse.parse({ accepted: true })).toEqual({ accepted: true });
    expect(DeliveryResponse.safeParse({ accepted: false }).success).toBe(false);
    expect(DeliveryResponse.safeParse({ taken: "pkt_1" }).success).toBe(false);
    expect(DeliveryResponse.safeParse({}).success).toBe(false);
  });
});
