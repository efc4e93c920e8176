import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { InboundEvent } from "../../src/connectors/contract.js";
import { facebook } from "../../src/connectors/facebook/index.js";
import { instagram } from "../../src/connectors/instagram/index.js";
import { testContext } from "./context.js";
import { APP_SECRET, FakeGraph, IG_ID, IG_TOKEN, PAGE_ID, PAGE_TOKEN, VERIFY_TOKEN } from "./fake-graph.js";
import { fromUser, IGSID, PSID, pageBody, T0 } from "./payloads.js";
import { signedRequest } from "./requests.js";

const FB = { pageId: PAGE_ID, pageAccessToken: PAGE_TOKEN, appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN };
const IG = { accountId: IG_ID, accessToken: IG_TOKEN, appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN };

let fake: FakeGraph;
beforeAll(async () => {
  fake = await FakeGraph.start();
  fake.profiles.set(PSID, {
    first_name: "Bob",
    last_name: "Stone",
    profile_pic: "https://scontent.example/bob.jpg",
  });
  fake.profiles.set(IGSID, {
    name: "Carol",
    username: "carol.ig",
    profile_pic: "https://scontent.example/c.jpg",
  });
});
afterAll(async () => fake.close());

describe("Messenger inbound", () => {
  let t: ReturnType<typeof testContext>;
  beforeEach(() => {
    t = testContext(facebook, fake.url, FB);
    fake.calls.length = 0;
  });
  const parse = async (...events: Record<string, unknown>[]) => {
    const req = signedRequest(pageBody(events));
    await t.connector.verify(req);
    return (await t.connector.parse(req)).events;
  };
  const one = async (event: Record<string, unknown>) => {
    const [e] = await parse(fromUser(event));
    if (e?.type !== "messages") throw new Error(`expected a message, got ${JSON.stringify(e)}`);
    return e;
  };

  it("brings a text message with the sender's name and avatar, fetched once and cached", async () => {
    const e = await one({ message: { mid: "m_AbC123", text: "hello, world! [1]" } });
    expect(e.dedupKey).toBe("m_AbC123");
    expect(e.data).toMatchObject({
      kind: "new",
      chat: { id: PSID, type: "private" },
      user: { id: PSID, name: "Bob Stone", firstName: "Bob", avatarUrl: "https://scontent.example/bob.jpg" },
      message: { id: "m_AbC123", date: T0 * 1000, text: "hello, world! [1]" },
    });
    await one({ message: { mid: "m_AbC124", text: "again" } });
    expect(fake.callsTo("GET", PSID)).toHaveLength(1);
    expect(fake.callsTo("GET", PSID)[0].query.fields).toBe("first_name,last_name,profile_pic");
    expect(t.chats.get(PSID)).toMatchObject({ lastInboundMs: t.clock.now() });
  });

  it("still brings the message when the profile cannot be fetched, and does not ask again at once", async () => {
    const stranger = "6099999999999999";
    const [e] = await parse(fromUser({ message: { mid: "m_S1", text: "hi" } }, stranger));
    expect(e.data).toMatchObject({ user: { id: stranger }, message: { text: "hi" } });
    expect(t.warnings).toHaveLength(1);
    await parse(fromUser({ message: { mid: "m_S2", text: "hi" } }, stranger));
    expect(fake.callsTo("GET", stranger)).toHaveLength(1);
  });

  it("brings image, video, audio and file attachments as links, and a shared link as text", async () => {
    const e = await one({
      message: {
        mid: "m_ATT",
        attachments: [
          { type: "image", payload: { url: "https://scontent.xx.fbcdn.net/v/t1/photo_123.jpg?oh=1" } },
          { type: "video", payload: { url: "https://video.xx.fbcdn.net/v/clip.mp4" } },
          { type: "audio", payload: { url: "https://cdn.fbsbx.com/v/audioclip-1.mp4" } },
          { type: "file", payload: { url: "https://cdn.fbsbx.com/v/report.pdf" } },
          { type: "fallback", payload: { url: "https://shop.example/item/7", title: "Item 7" } },
        ],
      },
    });
    expect(e.data.message.files).toEqual([
      {
        url: "https://scontent.xx.fbcdn.net/v/t1/photo_123.jpg?oh=1",
        name: "photo_123.jpg",
        type: "image/jpeg",
        kind: "image",
      },
      { url: "https://video.xx.fbcdn.net/v/clip.mp4", name: "clip.mp4", type: "video/mp4", kind: "video" },
      {
        url: "https://cdn.fbsbx.com/v/audioclip-1.mp4",
        name: "audioclip-1.mp4",
        type: "audio/mp4",
        kind: "audio",
      },
      {
        url: "https://cdn.fbsbx.com/v/report.pdf",
        name: "report.pdf",
        type: "application/pdf",
        kind: "document",
      },
    ]);
    expect(e.data.message.text).toBe("Item 7: [url]https://shop.example/item/7[/url]");
  });

  it("keeps a quick reply's payload and a reply's mid", async () => {
    const e = await one({
      message: {
        mid: "m_QR",
        text: "Red",
        quick_reply: { payload: "COLOR_RED" },
        reply_to: { mid: "m_OUT1" },
      },
    });
    expect(e.data.message).toMatchObject({
      text: "Red",
      replyTo: "m_OUT1",
      extra: { quickReply: { payload: "COLOR_RED" } },
    });
  });

  it("brings a postback as a postback event with its title and payload", async () => {
    const e = await one({ postback: { mid: "m_PB", title: "Talk to a person", payload: "HUMAN" } });
    expect(e.data).toMatchObject({
      event: "postback",
      message: { id: "m_PB", text: "Talk to a person", extra: { postback: { payload: "HUMAN" } } },
    });
  });

  it("brings a reaction as a reaction event on the reacted message", async () => {
    const e = await one({ reaction: { mid: "m_OUT1", action: "react", reaction: "love", emoji: "❤️" } });
    expect(e.data).toMatchObject({ event: "reaction", message: { text: "❤️", replyTo: "m_OUT1" } });
  });

  it("ignores echoes of the page's own messages", async () => {
    const echo = {
      sender: { id: PAGE_ID },
      recipient: { id: PSID },
      timestamp: T0 * 1000,
      message: { mid: "m_ECHO", is_echo: true, app_id: 1517776481860111, text: "we said this" },
    };
    expect(await parse(echo)).toEqual([]);
    expect(await parse(fromUser({ message: { mid: "m_E2", is_echo: true, text: "x" } }))).toEqual([]);
  });

  it("turns deliveries of the hub's messages into delivered statuses and a read watermark into a read status", async () => {
    t.sent.set("m_OUT1", { messageId: "op-1", chatId: PSID });
    const events: InboundEvent[] = await parse(
      fromUser({ delivery: { mids: ["m_OUT1", "m_FOREIGN"], watermark: T0 * 1000 + 5000 } }),
      fromUser({ read: { watermark: T0 * 1000 + 9000 } }),
    );
    expect(events).toEqual([
      {
        type: "deliveryStatus",
        dedupKey: "delivery:m_OUT1",
        data: {
          chat: { id: PSID, type: "private" },
          messageId: "op-1",
          status: "delivered",
          platformMessageId: "m_OUT1",
          at: T0 * 1000,
        },
      },
      {
        type: "readStatus",
        dedupKey: `read:${PSID}:${T0 * 1000 + 9000}`,
        data: { chat: { id: PSID, type: "private" }, watermark: T0 * 1000 + 9000, at: T0 * 1000 },
      },
    ]);
  });

  it("skips events of another page or another object, and refuses a body that is no webhook with 400", async () => {
    const req = signedRequest(
      pageBody([fromUser({ message: { mid: "m_X", text: "x" } })], "page", "999999999"),
    );
    expect((await t.connector.parse(req)).events).toEqual([]);
    expect((await t.connector.parse(signedRequest({ object: "instagram", entry: [] }))).events).toEqual([]);
    await expect(t.connector.parse(signedRequest({ entry: "x" }))).rejects.toMatchObject({ status: 400 });
  });
});

describe("Instagram inbound", () => {
  let t: ReturnType<typeof testContext>;
  beforeEach(() => {
    t = testContext(instagram, fake.url, IG);
  });
  const one = async (event: Record<string, unknown>) => {
    const req = signedRequest(pageBody([fromUser(event, IGSID, IG_ID)], "instagram", IG_ID));
    await t.connector.verify(req);
    const events = (await t.connector.parse(req)).events;
    return events as Extract<InboundEvent, { type: "messages" }>[];
  };

  it("brings a direct message with the sender's Instagram name, username and profile link", async () => {
    const [e] = await one({ message: { mid: "aWdfZAG1", text: "Is this in stock?" } });
    expect(e.data).toMatchObject({
      chat: { id: IGSID },
      user: {
        id: IGSID,
        name: "Carol",
        username: "carol.ig",
        profileUrl: "https://www.instagram.com/carol.ig",
      },
      message: { id: "aWdfZAG1", text: "Is this in stock?" },
    });
    expect(fake.callsTo("GET", IGSID)[0].query.fields).toBe("name,username,profile_pic");
  });

  it("brings a story reply as a message with the story's link", async () => {
    const [e] = await one({
      message: {
        mid: "aWdfSTORY",
        text: "Love it",
        reply_to: { story: { url: "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1", id: "1798" } },
      },
    });
    expect(e.data.message.text).toBe(
      "↩ Reply to your story: [url]https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1[/url]\nLove it",
    );
    expect(e.data.message.extra?.storyReply).toMatchObject({ id: "1798" });
  });

  it("brings a story mention as a message with the story's link", async () => {
    const [e] = await one({
      message: {
        mid: "aWdfMENTION",
        attachments: [
          {
            type: "story_mention",
            payload: { url: "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=2" },
          },
        ],
      },
    });
    expect(e.data.message.text).toBe(
      "📣 Mentioned you in their story: [url]https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=2[/url]",
    );
  });

  it("brings a shared reel as its link, a seen message as a read status, and an unsent message as deleted", async () => {
    const [reel] = await one({
      message: {
        mid: "aWdfREEL",
        attachments: [
          { type: "ig_reel", payload: { url: "https://www.instagram.com/reel/x", title: "Reel" } },
        ],
      },
    });
    expect(reel.data).toMatchObject({
      message: { text: "Reel: [url]https://www.instagram.com/reel/x[/url]" },
    });
    const [read] = await one({ read: { mid: "aWdfOUT1" } });
    expect(read).toMatchObject({ type: "readStatus", data: { platformMessageIds: ["aWdfOUT1"] } });
    const [deleted] = await one({ message: { mid: "aWdfGONE", is_deleted: true } });
    expect(deleted).toMatchObject({
      type: "messages",
      data: { kind: "deleted", message: { id: "aWdfGONE" } },
    });
  });
});

describe("Messenger and Instagram outbound against the fake Graph API", () => {
  beforeEach(() => {
    fake.calls.length = 0;
  });

  it("reads the Page with its token to test the connection, and subscribes the app to the Page's fields", async () => {
    const t = testContext(facebook, fake.url, FB);
    expect(await t.connector.testConnect()).toEqual({ account: { id: PAGE_ID, name: "My Shop" } });
    await t.connector.register!();
    expect(fake.callsTo("POST", `${PAGE_ID}/subscribed_apps`)[0].body.subscribed_fields).toContain(
      "message_deliveries",
    );
  });

  it("answers as RESPONSE inside 24 hours and with the HUMAN_AGENT tag after, text plain and files as attachments", async () => {
    const t = testContext(facebook, fake.url, FB);
    const now = t.clock.now();
    const r = await t.connector.send({
      id: "op-1",
      chat: { id: PSID },
      text: "[b]Done[/b], see [url=https://shop.example]the shop[/url]",
      files: [{ url: "https://portal.example/f/a.png", name: "a.png", type: "image/png", kind: "image" }],
      connector: "facebook",
      chatContext: { lastInboundMs: now - 3600_000 },
    });
    expect(r.platformMessageId).toMatch(/^m_OUT/);
    const [text, image] = fake.callsTo("POST", "me/messages");
    expect(text.body).toEqual({
      recipient: { id: PSID },
      messaging_type: "RESPONSE",
      message: { text: "Done, see the shop (https://shop.example)" },
    });
    expect(image.body.message).toEqual({
      attachment: { type: "image", payload: { url: "https://portal.example/f/a.png", is_reusable: true } },
    });
    expect(text.token).toBe(PAGE_TOKEN);

    await t.connector.send({
      id: "op-2",
      chat: { id: PSID },
      text: "late answer",
      files: [],
      connector: "facebook",
      chatContext: { lastInboundMs: now - 25 * 3600_000 },
    });
    expect(fake.callsTo("POST", "me/messages")[2].body).toMatchObject({
      messaging_type: "MESSAGE_TAG",
      tag: "HUMAN_AGENT",
    });
  });

  it("shows typing and marks seen with sender actions", async () => {
    const t = testContext(instagram, fake.url, IG);
    await t.connector.typing!({ id: IGSID, connector: "instagram" });
    await t.connector.markRead!({ id: IGSID, connector: "instagram" }, []);
    expect(fake.callsTo("POST", "me/messages").map((c) => c.body)).toEqual([
      { recipient: { id: IGSID }, sender_action: "typing_on" },
      { recipient: { id: IGSID }, sender_action: "mark_seen" },
    ]);
  });

  it("fails outside the window with the reason, and retries a throttled page", async () => {
    const t = testContext(facebook, fake.url, FB);
    const send = () =>
      t.connector.send({ id: "op-3", chat: { id: PSID }, text: "x", files: [], connector: "facebook" });
    fake.failNext({
      status: 400,
      error: {
        message: "(#10) This message is sent outside of allowed window.",
        code: 10,
        error_subcode: 2018278,
      },
    });
    await expect(send()).rejects.toMatchObject({ retryable: false, message: /more than 24 hours ago/ });
    fake.failNext({
      status: 400,
      error: { message: "(#613) Calls to this api have exceeded the rate limit.", code: 613 },
    });
    await expect(send()).rejects.toMatchObject({ retryable: true });
  });

  it("reads the Instagram account to test the connection", async () => {
    const t = testContext(instagram, fake.url, IG);
    expect(await t.connector.testConnect()).toEqual({ account: { id: IG_ID, name: "@myshop" } });
  });
});

describe("Reactions from the operator on Messenger", () => {
  it("reacts with the Send API's one reaction and removes it with an empty emoji", async () => {
    const t = testContext(facebook, fake.url, FB);
    fake.calls.length = 0;
    const base = { id: "op-r", chat: { id: PSID }, text: "", files: [], connector: "facebook" };
    await t.connector.send({ ...base, reaction: { to: "m_IN1", emoji: "❤️" } });
    await t.connector.send({ ...base, reaction: { to: "m_IN1", emoji: "" } });
    expect(fake.callsTo("POST", "me/messages").map((c) => c.body)).toEqual([
      { recipient: { id: PSID }, sender_action: "react", payload: { message_id: "m_IN1", reaction: "love" } },
      { recipient: { id: PSID }, sender_action: "unreact", payload: { message_id: "m_IN1" } },
    ]);
  });
});
