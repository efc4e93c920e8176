import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { InboundEvent } from "../../src/connectors/contract.js";
import { PlatformError } from "../../src/connectors/contract.js";
import { whatsapp } from "../../src/connectors/whatsapp/index.js";
import { markupToWhatsapp, whatsappToMarkup } from "../../src/connectors/whatsapp/markup.js";
import { testContext } from "./context.js";
import { APP_SECRET, FakeGraph, PHONE_ID, VERIFY_TOKEN, WA_TOKEN, WABA_ID } from "./fake-graph.js";
import { CUSTOMER, T0, waBody, waMessage, waStatus } from "./payloads.js";
import { signedRequest } from "./requests.js";

const SETTINGS = {
  phoneNumberId: PHONE_ID,
  accessToken: WA_TOKEN,
  businessAccountId: WABA_ID,
  appSecret: APP_SECRET,
  verifyToken: VERIFY_TOKEN,
};

let fake: FakeGraph;
beforeAll(async () => {
  fake = await FakeGraph.start();
});
afterAll(async () => fake.close());

describe("WhatsApp inbound", () => {
  let t: ReturnType<typeof testContext>;
  beforeEach(() => {
    t = testContext(whatsapp, fake.url, SETTINGS);
  });
  const parse = async (body: unknown) => {
    const req = signedRequest(body);
    await t.connector.verify(req);
    return (await t.connector.parse(req)).events;
  };
  const message = async (body: unknown) => {
    const [e] = await parse(body);
    if (e?.type !== "messages") throw new Error(`expected a message, got ${JSON.stringify(e)}`);
    return e;
  };

  it("brings a text message with the sender's profile name and number, WhatsApp styles as markup", async () => {
    const e = await message(
      waMessage({ id: "wamid.TEXT1", type: "text", text: { body: "Hi, *order 42* is _late_ [again]" } }),
    );
    expect(e.dedupKey).toBe("wamid.TEXT1");
    expect(e.data).toMatchObject({
      kind: "new",
      chat: { id: CUSTOMER, type: "private" },
      user: { id: CUSTOMER, name: "Alice", phone: `+${CUSTOMER}` },
      message: {
        id: "wamid.TEXT1",
        date: T0 * 1000,
        text: "Hi, [b]order 42[/b] is [i]late[/i] [again]",
        files: [],
      },
    });
    expect(t.chats.get(CUSTOMER)).toMatchObject({ lastMessageId: "wamid.TEXT1" });
  });

  it("turns image, document, audio, voice, video and sticker media ids into hub links with names and types", async () => {
    const cases = [
      [
        "image",
        { caption: "screenshot", mime_type: "image/jpeg", sha256: "h=", id: "1001" },
        "image",
        "image_1001.jpg",
      ],
      [
        "document",
        { filename: "invoice.pdf", mime_type: "application/pdf", sha256: "h=", id: "1002", caption: "" },
        "document",
        "invoice.pdf",
      ],
      [
        "audio",
        { mime_type: "audio/mpeg", sha256: "h=", id: "1003", voice: false },
        "audio",
        "audio_1003.mp3",
      ],
      [
        "audio",
        { mime_type: "audio/ogg; codecs=opus", sha256: "h=", id: "1004", voice: true },
        "voice",
        "voice_1004.ogg",
      ],
      [
        "video",
        { mime_type: "video/mp4", sha256: "h=", id: "1005", caption: "unboxing" },
        "video",
        "video_1005.mp4",
      ],
      [
        "sticker",
        { mime_type: "image/webp", sha256: "h=", id: "1006", animated: false },
        "sticker",
        "sticker_1006.webp",
      ],
    ] as const;
    for (const [type, media, kind, name] of cases) {
      const e = await message(waMessage({ id: `wamid.M${media.id}`, type, [type]: media }));
      expect(e.data.message.files, type).toEqual([
        {
          url: expect.stringMatching(/^https:\/\/hub\.example\/files\//),
          name,
          type: expect.any(String),
          kind,
        },
      ]);
      expect(t.links.at(-1)?.ref).toBe(media.id);
      if ("caption" in media && media.caption) expect(e.data.message.text).toBe(media.caption);
    }
    expect(t.links.find((l) => l.ref === "1004")?.file.type).toBe("audio/ogg");
  });

  it("brings a location with a map link and the place in extra", async () => {
    const e = await message(
      waMessage({
        id: "wamid.LOC",
        type: "location",
        location: {
          latitude: 37.483307,
          longitude: 122.148981,
          name: "Philz Coffee",
          address: "101 Forest Ave",
        },
      }),
    );
    expect(e.data.message.text).toBe(
      "📍 Philz Coffee, 101 Forest Ave [url]https://www.openstreetmap.org/?mlat=37.483307&mlon=122.148981[/url]",
    );
    expect(e.data.message.extra?.location).toMatchObject({ name: "Philz Coffee" });
  });

  it("brings shared contacts as text lines and the cards in extra", async () => {
    const e = await message(
      waMessage({
        id: "wamid.CON",
        type: "contacts",
        contacts: [
          {
            name: { formatted_name: "John Smith", first_name: "John" },
            phones: [{ phone: "+1 (940) 555-1234", type: "HOME", wa_id: "19405551234" }],
          },
        ],
      }),
    );
    expect(e.data.message.text).toBe("👤 Contact: John Smith, +1 (940) 555-1234");
    expect(e.data.message.extra?.contacts).toHaveLength(1);
  });

  it("brings interactive button and list replies and template quick-reply buttons as their titles", async () => {
    const button = await message(
      waMessage({
        id: "wamid.IB",
        type: "interactive",
        context: { from: "15550001111", id: "wamid.OUT1" },
        interactive: { type: "button_reply", button_reply: { id: "yes-1", title: "Yes, please" } },
      }),
    );
    expect(button.data.message).toMatchObject({ text: "Yes, please", replyTo: "wamid.OUT1" });
    expect(button.data.message.extra?.interactive).toMatchObject({ button_reply: { id: "yes-1" } });
    const list = await message(
      waMessage({
        id: "wamid.IL",
        type: "interactive",
        interactive: {
          type: "list_reply",
          list_reply: { id: "r2", title: "Refund", description: "Money back" },
        },
      }),
    );
    expect(list.data.message.text).toBe("Refund");
    const quick = await message(
      waMessage({ id: "wamid.BTN", type: "button", button: { text: "Stop promotions", payload: "STOP" } }),
    );
    expect(quick.data.message).toMatchObject({
      text: "Stop promotions",
      extra: { button: { payload: "STOP" } },
    });
  });

  it("brings a reaction as a reaction event on the reacted message, and its removal with an empty emoji", async () => {
    const r = await message(
      waMessage({ id: "wamid.R1", type: "reaction", reaction: { message_id: "wamid.OUT1", emoji: "👍" } }),
    );
    expect(r.data).toMatchObject({ event: "reaction", message: { text: "👍", replyTo: "wamid.OUT1" } });
    const removed = await message(
      waMessage({ id: "wamid.R2", type: "reaction", reaction: { message_id: "wamid.OUT1" } }),
    );
    expect(removed.data).toMatchObject({ event: "reaction", message: { text: "" } });
  });

  it("keeps a reply's context and says so for an unsupported message", async () => {
    const reply = await message(
      waMessage({
        id: "wamid.RE",
        type: "text",
        context: { from: CUSTOMER, id: "wamid.OLD" },
        text: { body: "this" },
      }),
    );
    expect(reply.data.message.replyTo).toBe("wamid.OLD");
    const u = await message(
      waMessage({
        id: "wamid.U",
        type: "unsupported",
        errors: [{ code: 131051, title: "Message type unknown" }],
      }),
    );
    expect(u.data.message.text).toContain("does not pass on");
  });

  it("reports sent, delivered and failed statuses of the hub's messages with the portal's id, and read as a read status", async () => {
    t.sent.set("wamid.OUT7", { messageId: "op-7", chatId: CUSTOMER });
    const events: InboundEvent[] = [];
    for (const s of ["sent", "delivered", "read"]) events.push(...(await parse(waStatus("wamid.OUT7", s))));
    events.push(
      ...(await parse(
        waStatus("wamid.OUT7", "failed", { errors: [{ code: 131047, title: "Re-engagement message" }] }),
      )),
    );
    expect(events.map((e) => e.type)).toEqual([
      "deliveryStatus",
      "deliveryStatus",
      "readStatus",
      "deliveryStatus",
    ]);
    expect(events[0]).toMatchObject({
      dedupKey: "wamid.OUT7:sent",
      data: {
        chat: { id: CUSTOMER },
        messageId: "op-7",
        status: "sent",
        platformMessageId: "wamid.OUT7",
        at: (T0 + 100) * 1000,
      },
    });
    expect(events[1].data).toMatchObject({ status: "delivered", messageId: "op-7" });
    expect(events[2].data).toEqual({
      chat: { id: CUSTOMER },
      platformMessageIds: ["wamid.OUT7"],
      at: (T0 + 100) * 1000,
    });
    expect(events[3].data).toMatchObject({
      status: "failed",
      errorCode: "131047",
      reason: expect.stringMatching(/more than 24 hours ago/),
    });
  });

  it("skips statuses of messages the hub did not send, and changes of another phone number", async () => {
    expect(await parse(waStatus("wamid.UNKNOWN", "delivered"))).toEqual([]);
    const other = waBody(
      {
        contacts: [],
        messages: [{ from: CUSTOMER, id: "wamid.X", timestamp: "1", type: "text", text: { body: "x" } }],
      },
      "999999999999",
    );
    expect(await parse(other)).toEqual([]);
  });

  it("answers another Meta object of the same app with no events, and refuses a body that is no webhook with 400", async () => {
    expect(await parse({ object: "page", entry: [{ id: "1", messaging: [] }] })).toEqual([]);
    await expect(parse({ hello: "world" })).rejects.toMatchObject({ status: 400 });
  });
});

describe("WhatsApp markup", () => {
  it("reads WhatsApp styles, code, monospace blocks and quotes", () => {
    expect(whatsappToMarkup("*bold* _it_ ~gone~ `x` and ```a\nb```")).toBe(
      "[b]bold[/b] [i]it[/i] [s]gone[/s] [code]x[/code] and [pre]a\nb[/pre]",
    );
    expect(whatsappToMarkup("> quoted\nplain")).toBe("[quote]quoted[/quote]\nplain");
    expect(whatsappToMarkup("2*3*4 and snake_case_name")).toBe("2*3*4 and snake_case_name");
  });

  it("writes markup as WhatsApp styles, links as text and URL", () => {
    expect(
      markupToWhatsapp("[b]Ticket[/b] [i]#42[/i] [s]old[/s] [u]u[/u] [url=https://x.example]here[/url]"),
    ).toBe("*Ticket* _#42_ ~old~ u here (https://x.example)");
    expect(markupToWhatsapp("[b]spaced [/b]end")).toBe("*spaced* end");
  });
});

describe("WhatsApp outbound against the fake Graph API", () => {
  let t: ReturnType<typeof testContext>;
  beforeEach(() => {
    t = testContext(whatsapp, fake.url, SETTINGS);
    fake.calls.length = 0;
  });
  const send = (m: Record<string, unknown>) =>
    t.connector.send({
      id: "op-1",
      chat: { id: CUSTOMER },
      text: "",
      files: [],
      connector: "whatsapp",
      ...m,
    });

  it("reads the phone number to test the connection and names the account by it", async () => {
    expect(await t.connector.testConnect()).toEqual({
      account: { id: PHONE_ID, name: "My Shop, +1 555-000-1111" },
    });
    expect(fake.calls[0]).toMatchObject({ method: "GET", path: PHONE_ID, version: "v21.0", token: WA_TOKEN });
    expect(await t.connector.accountId()).toBe(PHONE_ID);
  });

  it("sends text with link previews when it holds a link, in WhatsApp styles, with the reply context", async () => {
    const r = await send({ text: "[b]Fixed[/b]: see https://shop.example/42", replyTo: "wamid.IN1" });
    expect(r.platformMessageId).toMatch(/^wamid\.OUT/);
    expect(fake.calls[0].body).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: CUSTOMER,
      context: { message_id: "wamid.IN1" },
      type: "text",
      text: { preview_url: true, body: "*Fixed*: see https://shop.example/42" },
    });
    await send({ text: "no link" });
    expect(fake.calls[1].body.text).toEqual({ preview_url: false, body: "no link" });
  });

  it("sends files by link, the text as the first caption, a document with its file name", async () => {
    await send({
      text: "Your invoice",
      files: [
        { url: "https://portal.example/f/a.pdf", name: "a.pdf", type: "application/pdf", kind: "document" },
        { url: "https://portal.example/f/b.jpg", name: "b.jpg", type: "image/jpeg", kind: "image" },
      ],
    });
    expect(fake.calls.map((c) => c.body.type)).toEqual(["document", "image"]);
    expect(fake.calls[0].body.document).toEqual({
      link: "https://portal.example/f/a.pdf",
      filename: "a.pdf",
      caption: "Your invoice",
    });
    expect(fake.calls[1].body.image).toEqual({ link: "https://portal.example/f/b.jpg" });
  });

  it("sends a template with its body parameters", async () => {
    await send({ template: { name: "ticket_update", language: "en_US", parameters: ["#42", "closed"] } });
    expect(fake.calls[0].body).toMatchObject({
      type: "template",
      template: {
        name: "ticket_update",
        language: { code: "en_US" },
        components: [
          {
            type: "body",
            parameters: [
              { type: "text", text: "#42" },
              { type: "text", text: "closed" },
            ],
          },
        ],
      },
    });
  });

  it("marks the customer's newest message read, from the chat context when no id is given", async () => {
    await t.connector.markRead!({ id: CUSTOMER, connector: "whatsapp" }, ["wamid.A", "wamid.B"]);
    await t.connector.markRead!(
      { id: CUSTOMER, connector: "whatsapp", chatContext: { lastMessageId: "wamid.C" } },
      [],
    );
    expect(fake.calls.map((c) => c.body)).toEqual([
      { messaging_product: "whatsapp", status: "read", message_id: "wamid.B" },
      { messaging_product: "whatsapp", status: "read", message_id: "wamid.C" },
    ]);
  });

  it("lists only approved templates with their body and parameter count", async () => {
    expect(await t.connector.templates!()).toEqual([
      { name: "ticket_update", language: "en_US", body: "Your ticket {{1}} is now {{2}}.", parameters: 2 },
    ]);
    expect(fake.calls[0]).toMatchObject({ path: `${WABA_ID}/message_templates` });
  });

  it("downloads a media id through the short-lived URL with the token", async () => {
    fake.media.set("2001", { content: Buffer.from("jpeg bytes"), type: "image/jpeg" });
    const res = await t.connector.resolveFile!("2001");
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(Buffer.from(await res.arrayBuffer()).toString()).toBe("jpeg bytes");
    expect(fake.downloads).toEqual(["2001"]);
  });

  it("fails at once with the reason outside the window or for an unreachable number, and retries a throttled send", async () => {
    fake.failNext({ status: 400, error: { message: "Re-engagement message", code: 131047 } });
    await expect(send({ text: "late" })).rejects.toMatchObject({
      retryable: false,
      message: expect.stringMatching(/only a template message/),
    });
    fake.failNext({
      status: 400,
      error: { message: "Receiver is incapable of receiving this message", code: 131026 },
    });
    await expect(send({ text: "x" })).rejects.toMatchObject({
      retryable: false,
      message: /cannot be reached/,
    });
    fake.failNext({ status: 400, error: { message: "Rate limit hit", code: 130429 } });
    const e = await send({ text: "x" }).catch((err) => err);
    expect(e).toBeInstanceOf(PlatformError);
    expect(e.retryable).toBe(true);
  });

  it("says an expired token needs a new connection, and keeps the token out of the error", async () => {
    const t2 = testContext(whatsapp, fake.url, { ...SETTINGS, accessToken: "EAAexpired-token-00000000000" });
    const e = await t2.connector.testConnect().catch((err) => err);
    expect(e.message).toMatch(/access token has expired/);
    expect(JSON.stringify({ m: e.message, c: String(e.cause) })).not.toContain("EAAexpired");
    expect(await t2.connector.healthCheck!()).toMatchObject({ ok: false, revoked: true });
  });
});

describe("Reactions from the operator", () => {
  it("sends a WhatsApp reaction on the customer's message, and an empty emoji to remove it", async () => {
    const t = testContext(whatsapp, fake.url, SETTINGS);
    fake.calls.length = 0;
    const r = await t.connector.send({
      id: "op-r",
      chat: { id: CUSTOMER },
      text: "",
      files: [],
      connector: "whatsapp",
      reaction: { to: "wamid.IN1", emoji: "👍" },
    });
    expect(r.platformMessageId).toMatch(/^wamid\.OUT/);
    expect(fake.calls[0].body).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: CUSTOMER,
      type: "reaction",
      reaction: { message_id: "wamid.IN1", emoji: "👍" },
    });
  });
});

describe("WhatsApp settings checks", () => {
  it("says so when the phone number id is not one the token can see", async () => {
    const t = testContext(whatsapp, fake.url, { ...SETTINGS, phoneNumberId: "123456789012" });
    await expect(t.connector.testConnect()).rejects.toMatchObject({
      retryable: false,
      message: expect.stringMatching(/does not exist, or the access token has no access/),
    });
  });
});
