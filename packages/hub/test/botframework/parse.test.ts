import { MessagePayload, TypingPayload } from "@openlines/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BotChatContext } from "../../src/connectors/botframework/context.js";
import { botframework } from "../../src/connectors/botframework/index.js";
import type { InboundEvent } from "../../src/connectors/contract.js";
import { activity, BOT } from "./activities.js";
import { request, testContext } from "./context.js";
import { APP_ID, FakeBotConnector } from "./fake-bot-connector.js";

let fake: FakeBotConnector;
beforeAll(async () => {
  fake = await FakeBotConnector.start();
});
afterAll(() => fake.close());

async function parse(a: unknown) {
  const t = testContext(fake);
  const r = await t.connector.parse(request(a));
  for (const e of r.events) {
    const schema = e.type === "typing" ? TypingPayload : MessagePayload;
    expect(schema.safeParse(e.data).success, JSON.stringify(e.data)).toBe(true);
  }
  return { ...t, ...r };
}
const msg = (e: InboundEvent) => {
  if (e.type !== "messages") throw new Error(`not a message: ${e.type}`);
  return e.data;
};

describe("Bot Framework activities to exchange events", () => {
  it("reads a Teams-like plain text message into a new message of botframework.msteams with its chat and user", async () => {
    const a = activity(fake.serviceUrl("msteams"), "msteams", {
      text: "Hello, I need help",
      textFormat: "plain",
    });
    const { events, reply } = await parse(a);
    expect(reply).toEqual({ status: 200, body: "" });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "messages",
      connector: "botframework.msteams",
      dedupKey: "a:1XyZTeamsPersonal|m:msteams-activity-1",
    });
    expect(msg(events[0])).toEqual({
      kind: "new",
      chat: { id: "a:1XyZTeamsPersonal", type: "private" },
      user: { id: "29:1TeamsUserAbc", name: "Alice Teams", language: "en-US" },
      message: {
        id: "msteams-activity-1",
        date: Date.parse("2026-01-05T10:00:00.123Z"),
        text: "Hello, I need help",
        files: [],
      },
    });
  });

  it("reads markdown text into the exchange markup", async () => {
    const a = activity(fake.serviceUrl("webchat"), "webchat", {
      text: "Order **42** is _late_, see [tracking](https://shop.example/42) and `ABC-1`",
      textFormat: "markdown",
    });
    expect(msg((await parse(a)).events[0]).message.text).toBe(
      "Order [b]42[/b] is [i]late[/i], see [url=https://shop.example/42]tracking[/url] and [code]ABC-1[/code]",
    );
  });

  it("reads Skype's xml text: tags, emoticons by type, mentions and entities", async () => {
    const a = activity(fake.serviceUrl("skype"), "skype", {
      text: '<ss type="smile">:)</ss> <b raw_pre="*" raw_post="*">hi</b> <i>there</i> &amp; <s>no</s> <a href="https://e.example/?a=1&amp;b=2">link</a>',
      textFormat: "xml",
    });
    expect(msg((await parse(a)).events[0]).message.text).toBe(
      "🙂 [b]hi[/b] [i]there[/i] & [s]no[/s] [url=https://e.example/?a=1&b=2]link[/url]",
    );
  });

  it("reads Skype's plain text marks and (smile) codes, leaving snake_case and code alone", async () => {
    const a = activity(fake.serviceUrl("skype"), "skype", {
      text: "(smile) *hi* my_file_name {code}(smile) *x*{code} ~old~ (like)",
    });
    expect(msg((await parse(a)).events[0]).message.text).toBe(
      "🙂 [b]hi[/b] my_file_name [code](smile) *x*[/code] [s]old[/s] 👍",
    );
  });

  it("reads Teams' HTML attachment with mentions: the bot's mention dropped, another user's kept", async () => {
    const a = activity(fake.serviceUrl("msteams"), "msteams", {
      conversation: {
        id: "19:abcThread@thread.tacv2",
        conversationType: "groupChat",
        isGroup: true,
        name: "Support room",
        tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
      },
      text: "<at>HelpBot</at> please ask <at>Bob</at> (smile)",
      attachments: [
        {
          contentType: "text/html",
          content:
            '<div><div><span itemscope="" itemtype="http://schema.skype.com/Mention" itemid="0">HelpBot</span> please <strong>ask</strong> <span itemscope="" itemtype="http://schema.skype.com/Mention" itemid="1">Bob</span> <emoji id="smile" alt="🙂" title="Smile"></emoji></div></div>',
        },
      ],
      entities: [
        { type: "mention", mentioned: { id: BOT.id, name: "HelpBot" }, text: "<at>HelpBot</at>" },
        { type: "mention", mentioned: { id: "29:1Bob", name: "Bob" }, text: "<at>Bob</at>" },
        { type: "clientInfo", locale: "en-US", country: "US", platform: "Web" },
      ],
    });
    const data = msg((await parse(a)).events[0]);
    expect(data.chat).toEqual({ id: "19:abcThread@thread.tacv2", type: "group", title: "Support room" });
    expect(data.message.text).toBe("please [b]ask[/b] [mention=29:1Bob]Bob[/mention] 🙂");
    expect(data.message.files).toEqual([]);
  });

  it("reads Teams plain text as plain: comparisons are not tags, an unclaimed <at> keeps its name", async () => {
    const a = activity(fake.serviceUrl("msteams"), "msteams", {
      text: "<at>Carol</at> is a<b and c>d (smile)",
      textFormat: "plain",
    });
    expect(msg((await parse(a)).events[0]).message.text).toBe("Carol is a<b and c>d 🙂");
  });

  it("reads Slack's mrkdwn: marks, labelled links, user mentions, channels and escapes", async () => {
    const a = activity(fake.serviceUrl("slack"), "slack", {
      text: "*Order* _42_ ~late~ <https://shop.example/42?a=1&amp;b=2|track it> <@U0456|bob> <#C789|support> <!here> a &lt; b `x&gt;y`\n&gt; quoted",
    });
    expect(msg((await parse(a)).events[0]).message.text).toBe(
      "[b]Order[/b] [i]42[/i] [s]late[/s] [url=https://shop.example/42?a=1&b=2]track it[/url] [mention=U0456]bob[/mention] #support @here a < b [code]x>y[/code]\n[quote]quoted[/quote]",
    );
  });

  it("reads a Telegram user's formatting from the native message in channelData", async () => {
    const text = "👍 Order 42 is late";
    const a = activity(fake.serviceUrl("telegram"), "telegram", {
      text,
      channelData: {
        update_id: 812345001,
        message: {
          message_id: 57,
          from: { id: 123456789, is_bot: false, first_name: "Alice" },
          chat: { id: 123456789, type: "private" },
          date: 1767607200,
          text,
          entities: [
            { type: "bold", offset: 3, length: 5 },
            { type: "italic", offset: 15, length: 4 },
          ],
        },
      },
    });
    expect(msg((await parse(a)).events[0]).message.text).toBe("👍 [b]Order[/b] 42 is [i]late[/i]");
  });

  it("keeps attachments as links: public ones as they are, the connector's own through a hub link", async () => {
    const own = `${fake.serviceUrl("webchat")}attachments/abc/0000005/0/screen.png`.replace(
      `${fake.url}/webchat/`,
      `${fake.url}/webchat/`,
    );
    const a = activity(fake.serviceUrl("webchat"), "webchat", {
      attachments: [
        { contentType: "image/png", contentUrl: own, name: "screen.png" },
        { contentType: "application/pdf", contentUrl: "https://files.example/report.pdf" },
        { contentType: "application/vnd.microsoft.card.hero", content: { title: "A card" } },
      ],
    });
    const { events, links } = await parse(a);
    const data = msg(events[0]);
    expect(data.message.files).toEqual([
      { url: "https://hub.example/files/1?sig=abc", name: "screen.png", type: "image/png", kind: "image" },
      {
        url: "https://files.example/report.pdf",
        name: "report.pdf",
        type: "application/pdf",
        kind: "document",
      },
    ]);
    expect(links).toEqual([{ ref: own, file: { name: "screen.png", type: "image/png" } }]);
    expect(data.message.extra).toEqual({
      attachments: [{ contentType: "application/vnd.microsoft.card.hero", content: { title: "A card" } }],
    });
  });

  it("takes Teams' file download info as the file's link", async () => {
    const a = activity(fake.serviceUrl("msteams"), "msteams", {
      attachments: [
        {
          contentType: "application/vnd.microsoft.teams.file.download.info",
          contentUrl: "https://contoso.sharepoint.com/personal/alice/Documents/invoice.pdf",
          name: "invoice.pdf",
          content: {
            downloadUrl: "https://download.example/invoice.pdf?tempauth=xyz",
            uniqueId: "1",
            fileType: "pdf",
          },
        },
      ],
    });
    expect(msg((await parse(a)).events[0]).message.files).toEqual([
      {
        url: "https://download.example/invoice.pdf?tempauth=xyz",
        name: "invoice.pdf",
        type: "application/octet-stream",
        kind: "document",
      },
    ]);
  });

  it("reads messageUpdate as an edit and messageDelete as a deletion, each edit queued once", async () => {
    const base = { id: "1700000000000", replyToId: undefined };
    const edit = activity(fake.serviceUrl("msteams"), "msteams", {
      ...base,
      type: "messageUpdate",
      text: "Fixed text",
      channelData: { eventType: "editMessage" },
    });
    const { events } = await parse(edit);
    expect(msg(events[0])).toMatchObject({
      kind: "edited",
      message: { id: "1700000000000", text: "Fixed text" },
    });
    const again = await parse({ ...edit, text: "Fixed twice", timestamp: "2026-01-05T10:05:00Z" });
    expect(again.events[0].dedupKey).not.toBe(events[0].dedupKey);
    const del = activity(fake.serviceUrl("msteams"), "msteams", {
      ...base,
      type: "messageDelete",
      channelData: { eventType: "softDeleteMessage" },
    });
    expect(msg((await parse(del)).events[0])).toMatchObject({
      kind: "deleted",
      message: { id: "1700000000000", text: "" },
    });
  });

  it("reads typing as a typing event", async () => {
    const a = activity(fake.serviceUrl("telegram"), "telegram", { type: "typing" });
    const { events } = await parse(a);
    expect(events).toEqual([
      {
        type: "typing",
        connector: "botframework.telegram",
        data: {
          chat: { id: "123456789" },
          user: { id: "123456789", name: "alice_tg", language: "en-US" },
          at: Date.parse("2026-01-05T10:00:00.123Z"),
        },
      },
    ]);
  });

  it("reads messageReaction as a reaction event on the reacted message", async () => {
    const a = activity(fake.serviceUrl("msteams"), "msteams", {
      type: "messageReaction",
      id: "f:reaction-1",
      replyToId: "1700000000000",
      reactionsAdded: [{ type: "like" }, { type: "heart" }],
    });
    expect(msg((await parse(a)).events[0])).toMatchObject({
      kind: "new",
      event: "reaction",
      message: {
        text: "👍 ❤️",
        replyTo: "1700000000000",
        extra: { reactionsAdded: ["like", "heart"], reactionsRemoved: [] },
      },
    });
  });

  it("welcomes each member added by a conversationUpdate, not the bot, and closes when the bot is removed", async () => {
    const a = activity(fake.serviceUrl("msteams"), "msteams", {
      type: "conversationUpdate",
      id: "f:conv-1",
      membersAdded: [{ id: BOT.id }, { id: "29:1NewUser", name: "Newcomer" }],
    });
    const { events } = await parse(a);
    expect(events).toHaveLength(1);
    expect(msg(events[0])).toMatchObject({ event: "welcome", user: { id: "29:1NewUser", name: "Newcomer" } });
    const botOnly = await parse({ ...a, id: "f:conv-2", membersAdded: [{ id: BOT.id }] });
    expect(msg(botOnly.events[0])).toMatchObject({ event: "welcome", user: { id: "29:1TeamsUserAbc" } });
    const removed = await parse({
      ...a,
      id: "f:conv-3",
      membersAdded: undefined,
      membersRemoved: [{ id: BOT.id }],
    });
    expect(msg(removed.events[0])).toMatchObject({ event: "closedByUser" });
  });

  it("reads installationUpdate add as a welcome and remove as closed, and endOfConversation as closed", async () => {
    const add = activity(fake.serviceUrl("msteams"), "msteams", {
      type: "installationUpdate",
      action: "add",
    });
    expect(msg((await parse(add)).events[0])).toMatchObject({ event: "welcome" });
    const remove = { ...add, id: "i-2", action: "remove" };
    expect(msg((await parse(remove)).events[0])).toMatchObject({ event: "closedByUser" });
    const end = activity(fake.serviceUrl("directline"), "directline", {
      type: "endOfConversation",
      code: "completedSuccessfully",
    });
    const { events } = await parse(end);
    expect(events[0].connector).toBe("botframework.directline");
    expect(msg(events[0])).toMatchObject({
      event: "closedByUser",
      message: { extra: { code: "completedSuccessfully" } },
    });
  });

  it("answers 200 with no event for activity types it does not handle", async () => {
    const a = activity(fake.serviceUrl("msteams"), "msteams", {
      type: "invoke",
      name: "composeExtension/query",
    });
    expect((await parse(a)).events).toEqual([]);
  });

  it("refuses a body that is not an activity with 400", async () => {
    const t = testContext(fake);
    await expect(t.connector.parse(request({ type: "message" }))).rejects.toMatchObject({
      code: "BAD_REQUEST",
      status: 400,
    });
  });

  it("stores the chat context (serviceUrl, conversation, bot, user, tenant) and a dialog per user", async () => {
    const a = activity(fake.serviceUrl("msteams"), "msteams", { text: "hi" });
    const { contexts, connector } = await parse(a);
    const c = contexts.get("a:1XyZTeamsPersonal") as unknown as BotChatContext;
    expect(c).toMatchObject({
      channelId: "msteams",
      serviceUrl: fake.serviceUrl("msteams"),
      conversation: { id: "a:1XyZTeamsPersonal", conversationType: "personal" },
      bot: { id: `28:${APP_ID}`, name: "HelpBot" },
      user: { id: "29:1TeamsUserAbc", name: "Alice Teams" },
      tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
      locale: "en-US",
    });
    await connector.parse(
      request({ ...a, id: "2", from: { id: "29:1Other", name: "Other" }, text: "me too" }),
    );
    const after = contexts.get("a:1XyZTeamsPersonal") as unknown as BotChatContext;
    expect(Object.keys(after.dialogs).sort()).toEqual(["29:1Other", "29:1TeamsUserAbc"]);
    expect(after.user.id).toBe("29:1Other");
    expect(after.dialogs["29:1TeamsUserAbc"].lastActivityId).toBe("msteams-activity-1");
  });
});

describe("each virtual channel", () => {
  const cases: [string, string, Record<string, unknown>, string][] = [
    ["skype", "botframework.skype", { text: "(wave) *Hello* :)" }, "👋 [b]Hello[/b] 🙂"],
    [
      "msteams",
      "botframework.msteams",
      { text: "<p>Hello <b>there</b> (smile)</p>", textFormat: "xml" },
      "Hello [b]there[/b] 🙂",
    ],
    ["telegram", "botframework.telegram", { text: "Hello :smile: *not bold*" }, "Hello 😄 *not bold*"],
    ["slack", "botframework.slack", { text: "Hello :simple_smile: :+1:" }, "Hello 🙂 👍"],
    ["facebook", "botframework.facebook", { text: "Hello :) <3 (y)" }, "Hello 🙂 ❤️ 👍"],
    [
      "webchat",
      "botframework.webchat",
      { text: "Hello **there** :D", textFormat: "markdown" },
      "Hello [b]there[/b] 😄",
    ],
    ["directline", "botframework.directline", { text: "Hello ;)" }, "Hello 😉"],
    ["sms", "botframework.sms", { text: "Hello :-) *x*" }, "Hello 🙂 *x*"],
    [
      "email",
      "botframework.email",
      { text: "Hello _there_ :)", textFormat: "markdown" },
      "Hello [i]there[/i] 🙂",
    ],
    ["kik", "botframework", { text: "Hello (smile) :)" }, "Hello (smile) 🙂"],
  ];
  for (const [channelId, type, fields, text] of cases) {
    it(`${channelId}: becomes ${type} with its own text and emoticon rules`, async () => {
      const { events } = await parse(activity(fake.serviceUrl(channelId), channelId, fields));
      expect(events[0].connector).toBe(type);
      expect(msg(events[0]).message.text).toBe(text);
      if (type !== "botframework") expect(botframework.virtual?.[type]).toBeDefined();
    });
  }
});
