import { isOpenlinesError, MessagePayload } from "@openlines/protocol";
import { describe, expect, it } from "vitest";
import type { WebhookRequest } from "../../src/connectors/contract.js";
import { testContext } from "./context.js";
import { TOKEN } from "./fake-bot-api.js";

const alice = {
  id: 123456789,
  is_bot: false,
  first_name: "Alice",
  last_name: "Liddell",
  username: "alice",
  language_code: "en",
};
const privateChat = { id: 123456789, type: "private", first_name: "Alice", username: "alice" };
const base = { message_id: 57, from: alice, chat: privateChat, date: 1767607200 };

const request = (body: unknown): WebhookRequest => {
  const raw = Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  let json: unknown;
  try {
    json = JSON.parse(raw.toString());
  } catch {}
  return { method: "POST", query: {}, headers: {}, rawBody: raw, json, ip: "127.0.0.1" };
};

async function parseOne(update: unknown, settings = {}) {
  const t = testContext("http://127.0.0.1:9", settings);
  const { events } = await t.connector.parse(request(update));
  for (const e of events) if (e.type === "messages") MessagePayload.parse(e.data);
  return { events, links: t.links, event: events[0] as Extract<(typeof events)[0], { type: "messages" }> };
}

describe("Telegram updates to exchange events", () => {
  it("turns a text message with a url entity into a new message keyed by update_id", async () => {
    const { events, event } = await parseOne({
      update_id: 812345001,
      message: {
        ...base,
        text: "Order 42 is late https://shop.example/42",
        entities: [{ type: "url", offset: 17, length: 23 }],
      },
    });
    expect(events).toHaveLength(1);
    expect(event.dedupKey).toBe("812345001");
    expect(event.data).toMatchObject({
      kind: "new",
      chat: { id: "123456789", type: "private" },
      user: { id: "123456789", name: "Alice Liddell", firstName: "Alice", username: "alice", language: "en" },
      message: {
        id: "57",
        date: 1767607200000,
        text: "Order 42 is late [url]https://shop.example/42[/url]",
        files: [],
      },
    });
  });

  it("puts bold after an emoji at the right place", async () => {
    const { event } = await parseOne({
      update_id: 1,
      message: { ...base, text: "👍 bold", entities: [{ type: "bold", offset: 3, length: 4 }] },
    });
    expect(event.data.message.text).toBe("👍 [b]bold[/b]");
  });

  it("takes the largest photo size as a hub link, with the caption and its entities", async () => {
    const { event, links } = await parseOne({
      update_id: 812345002,
      message: {
        ...base,
        message_id: 58,
        photo: [
          { file_id: "AgAC-small", file_unique_id: "AQAD1", width: 90, height: 67, file_size: 1200 },
          { file_id: "AgAC-large", file_unique_id: "AQAD2", width: 1280, height: 960, file_size: 98000 },
          { file_id: "AgAC-mid", file_unique_id: "AQAD3", width: 320, height: 240, file_size: 9000 },
        ],
        caption: "🎉 screenshot",
        caption_entities: [{ type: "italic", offset: 3, length: 10 }],
      },
    });
    expect(links).toEqual([
      { ref: "AgAC-large", file: { name: "photo_AQAD2.jpg", type: "image/jpeg", size: 98000 } },
    ]);
    expect(event.data.message).toMatchObject({
      text: "🎉 [i]screenshot[/i]",
      files: [
        {
          url: "https://hub.example/files/1?sig=abc",
          name: "photo_AQAD2.jpg",
          type: "image/jpeg",
          size: 98000,
          kind: "image",
        },
      ],
    });
    expect(JSON.stringify(event)).not.toContain(TOKEN);
  });

  it.each([
    [
      "document",
      {
        file_id: "D1",
        file_unique_id: "u1",
        file_name: "report.pdf",
        mime_type: "application/pdf",
        file_size: 5,
      },
      "report.pdf",
      "application/pdf",
      "document",
    ],
    [
      "voice",
      { file_id: "V1", file_unique_id: "u2", mime_type: "audio/ogg", file_size: 5, duration: 3 },
      "voice_u2.ogg",
      "audio/ogg",
      "voice",
    ],
    [
      "audio",
      {
        file_id: "A1",
        file_unique_id: "u3",
        file_name: "song.mp3",
        mime_type: "audio/mpeg",
        duration: 3,
        title: "Song",
      },
      "song.mp3",
      "audio/mpeg",
      "audio",
    ],
    [
      "video",
      { file_id: "M1", file_unique_id: "u4", width: 1, height: 1, duration: 1, mime_type: "video/mp4" },
      "video_u4.mp4",
      "video/mp4",
      "video",
    ],
    [
      "video_note",
      { file_id: "N1", file_unique_id: "u5", length: 240, duration: 2 },
      "video_note_u5.mp4",
      "video/mp4",
      "video",
    ],
    [
      "sticker",
      {
        file_id: "S1",
        file_unique_id: "u6",
        type: "regular",
        width: 512,
        height: 512,
        is_animated: false,
        is_video: false,
        emoji: "😺",
      },
      "sticker_u6.webp",
      "image/webp",
      "sticker",
    ],
  ])("passes a %s on as a hub link", async (field, file, name, type, kind) => {
    const { event, links } = await parseOne({ update_id: 5, message: { ...base, [field]: file } });
    expect(links.map((l) => l.ref)).toEqual([file.file_id]);
    expect(event.data.message.files).toEqual([
      expect.objectContaining({ url: "https://hub.example/files/1?sig=abc", name, type, kind }),
    ]);
    if (field === "sticker") expect(event.data.message.text).toBe("😺");
  });

  it("passes an animation once, not also as the document Telegram repeats it in", async () => {
    const gif = {
      file_id: "G1",
      file_unique_id: "ug",
      file_name: "fun.mp4",
      mime_type: "video/mp4",
      width: 1,
      height: 1,
      duration: 1,
    };
    const { event, links } = await parseOne({
      update_id: 6,
      message: { ...base, animation: gif, document: gif },
    });
    expect(links).toHaveLength(1);
    expect(event.data.message.files[0]).toMatchObject({ name: "fun.mp4", kind: "video" });
  });

  it("writes a location, a venue and a contact as readable text and keeps their data in extra", async () => {
    const location = { latitude: 55.7558, longitude: 37.6173 };
    const loc = (await parseOne({ update_id: 7, message: { ...base, location } })).event.data.message;
    expect(loc.text).toContain("📍 Location 55.755800, 37.617300");
    expect(loc.text).toContain(
      "[url]https://www.openstreetmap.org/?mlat=55.7558&mlon=37.6173#map=17/55.7558/37.6173[/url]",
    );
    expect(loc.extra).toEqual({ location });

    const venue = { location, title: "Red Square", address: "Moscow, 109012" };
    const ven = (await parseOne({ update_id: 8, message: { ...base, location, venue } })).event.data.message;
    expect(ven.text.startsWith("📍 Red Square, Moscow, 109012 [url]")).toBe(true);
    expect(ven.extra).toEqual({ venue });

    const contact = { phone_number: "+15551234567", first_name: "Bob", last_name: "Smith", user_id: 42 };
    const con = (await parseOne({ update_id: 9, message: { ...base, contact } })).event.data.message;
    expect(con.text).toBe("👤 Contact: Bob Smith, +15551234567");
    expect(con.extra).toEqual({ contact });
  });

  it("links a reply to the message it answers and notes where a forward came from", async () => {
    const { event } = await parseOne({
      update_id: 10,
      message: {
        ...base,
        message_id: 60,
        text: "yes",
        reply_to_message: {
          ...base,
          message_id: 59,
          from: { id: 7000000001, is_bot: true, first_name: "Help" },
          text: "Is it late?",
        },
        forward_origin: {
          type: "user",
          date: 1767600000,
          sender_user: { id: 5, is_bot: false, first_name: "Carol" },
        },
      },
    });
    expect(event.data.message.replyTo).toBe("59");
    expect(event.data.message.extra).toEqual({
      forwardedFrom: { type: "user", name: "Carol", date: 1767600000000 },
    });
  });

  it("turns an edited message into an edited event dated by its edit", async () => {
    const { event } = await parseOne({
      update_id: 11,
      edited_message: { ...base, edit_date: 1767607300, text: "fixed" },
    });
    expect(event.dedupKey).toBe("11");
    expect(event.data).toMatchObject({
      kind: "edited",
      message: { id: "57", text: "fixed", date: 1767607300000 },
    });
  });

  it("tells the portal the chat was closed when the user blocks the bot", async () => {
    const { event } = await parseOne({
      update_id: 12,
      my_chat_member: {
        chat: privateChat,
        from: alice,
        date: 1767607400,
        old_chat_member: { status: "member", user: { id: 7000000001, is_bot: true, first_name: "Help" } },
        new_chat_member: {
          status: "kicked",
          user: { id: 7000000001, is_bot: true, first_name: "Help" },
          until_date: 0,
        },
      },
    });
    expect(event).toMatchObject({
      type: "messages",
      dedupKey: "12",
      data: {
        event: "closedByUser",
        chat: { id: "123456789" },
        user: { id: "123456789" },
        message: { text: "" },
      },
    });
  });

  it("ignores groups unless groups are allowed", async () => {
    const group = { id: -100123, type: "supergroup", title: "Support fans" };
    const update = { update_id: 13, message: { ...base, chat: group, text: "hi all" } };
    expect((await parseOne(update)).events).toEqual([]);
    const { event } = await parseOne(update, { allowGroups: true });
    expect(event.data.chat).toEqual({ id: "-100123", type: "group", title: "Support fans" });
  });

  it("answers update kinds it does not handle with no events", async () => {
    expect(
      (await parseOne({ update_id: 14, callback_query: { id: "1", from: alice, data: "x" } })).events,
    ).toEqual([]);
    expect(
      (await parseOne({ update_id: 15, channel_post: { ...base, chat: { id: -1, type: "channel" } } }))
        .events,
    ).toEqual([]);
  });

  it.each([
    ["not JSON", "{not json", "BODY_NOT_JSON"],
    ["an array", [1, 2], "BAD_REQUEST"],
    ["without update_id", { message: { ...base, text: "x" } }, "BAD_REQUEST"],
    [
      "with a message without chat",
      { update_id: 1, message: { message_id: 1, date: 1, text: "x" } },
      "BAD_REQUEST",
    ],
    [
      "with a negative offset entity",
      { update_id: 1, message: { ...base, text: "x", entities: [{ type: "bold", offset: -1, length: 1 }] } },
      "BAD_REQUEST",
    ],
  ])("refuses a body %s with 400 and no events", async (_, body, code) => {
    const t = testContext("http://127.0.0.1:9");
    const err = await t.connector.parse(request(body)).catch((e) => e);
    expect(isOpenlinesError(err, code as "BAD_REQUEST")).toBe(true);
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/Telegram update/);
  });
});
