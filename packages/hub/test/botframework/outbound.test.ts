import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RENEW_BEFORE_MS } from "../../src/connectors/botframework/auth/app-token.js";
import { PlatformError } from "../../src/connectors/contract.js";
import { activity } from "./activities.js";
import { request, testContext } from "./context.js";
import { APP_ID, APP_SECRET, FakeBotConnector } from "./fake-bot-connector.js";

let fake: FakeBotConnector;
beforeAll(async () => {
  fake = await FakeBotConnector.start();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.calls.length = 0;
  fake.tokenRequests.length = 0;
});

async function failure(p: Promise<unknown>): Promise<PlatformError> {
  const e = await p.then(
    () => undefined,
    (err) => err,
  );
  expect(e).toBeInstanceOf(PlatformError);
  expect(String(e.message)).not.toContain(APP_SECRET);
  return e;
}

/** A connector that has seen one incoming activity of `channelId` (so it knows the conversation). */
async function seen(channelId: string, fields: Record<string, unknown> = {}) {
  const t = testContext(fake);
  const a = activity(fake.serviceUrl(channelId), channelId, { text: "hello", ...fields });
  await t.connector.parse(request(a));
  const chatId = a.conversation.id as string;
  const out = (o: { text?: string; files?: any[]; replyTo?: string; id?: string }) => ({
    id: o.id ?? "op-1",
    chat: { id: chatId },
    text: o.text ?? "",
    files: o.files ?? [],
    replyTo: o.replyTo,
    connector: channelId === "kik" ? "botframework" : `botframework.${channelId}`,
    chatContext: t.contexts.get(chatId),
  });
  return { ...t, a, chatId, out };
}

describe("Bot Framework credentials", () => {
  it("tests the connection with a client-credentials token and names the bot", async () => {
    const { connector } = testContext(fake);
    expect(await connector.testConnect()).toEqual({ account: { id: APP_ID, name: "helpbot" } });
    expect(await connector.accountId()).toBe(APP_ID);
    expect(fake.tokenRequests).toEqual([
      {
        tenant: "botframework.com",
        form: {
          grant_type: "client_credentials",
          client_id: APP_ID,
          client_secret: APP_SECRET,
          scope: "https://api.botframework.com/.default",
        },
      },
    ]);
  });

  it("says the App secret is wrong, or the App ID unknown, without revealing the secret", async () => {
    const wrongSecret = testContext(fake, { appSecret: "not-the-secret" });
    expect((await failure(wrongSecret.connector.testConnect())).message).toBe(
      "the App secret is wrong for this App ID",
    );
    const wrongId = testContext(fake, { appId: "99999999-9999-4999-8999-999999999999" });
    expect((await failure(wrongId.connector.testConnect())).message).toMatch(/App ID is not known/);
    expect(await wrongSecret.connector.healthCheck()).toMatchObject({ ok: false, revoked: true });
  });

  it("asks a single-tenant bot's token from its own tenant", async () => {
    const tenant = "contoso.onmicrosoft.com";
    fake.apps.set("0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e", { secret: "tenant-secret", tenant });
    const { connector } = testContext(fake, {
      appId: "0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e",
      appSecret: "tenant-secret",
      tenantId: tenant,
    });
    await connector.testConnect();
    expect(fake.tokenRequests.map((r) => r.tenant)).toEqual([tenant]);
    const without = testContext(fake, {
      appId: "0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e",
      appSecret: "tenant-secret",
    });
    expect((await failure(without.connector.testConnect())).message).toMatch(
      /single-tenant bot also needs its tenant/,
    );
  });

  it("reuses the token until shortly before it expires, with one request for concurrent sends", async () => {
    const { connector, out, clock } = await seen("webchat");
    await Promise.all([1, 2, 3, 4].map((i) => connector.send(out({ id: `op-${i}`, text: `m${i}` }))));
    expect(fake.tokenRequests).toHaveLength(1);
    clock.advance(3600_000 - RENEW_BEFORE_MS - 1000);
    await connector.send(out({ text: "still" }));
    expect(fake.tokenRequests).toHaveLength(1);
    clock.advance(2000);
    await connector.send(out({ text: "renewed" }));
    expect(fake.tokenRequests).toHaveLength(2);
    const tokens = new Set(fake.callsOf("POST").map((c) => c.token));
    expect(tokens.size).toBe(2);
  });

  it("renews a refused token once and repeats the call; a second refusal fails without retry", async () => {
    const { connector, out } = await seen("webchat");
    await connector.send(out({ text: "one" }));
    fake.revokeTokens();
    const r = await connector.send(out({ text: "two" }));
    expect(r.platformMessageId).toMatch(/^activity-/);
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.callsOf("POST").map((c) => c.status)).toEqual([201, 401, 201]);

    fake.failNext(401, { message: "Authorization has been denied" });
    fake.revokeTokens();
    const e = await failure(connector.send(out({ text: "three" })));
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/refused the bot's token/);
  });
});

describe("Bot Framework outgoing messages", () => {
  it("posts a Skype reply to the conversation from the bot to the user, in Skype's xml", async () => {
    const { connector, out } = await seen("skype");
    const r = await connector.send(out({ text: "[b]Ticket #42[/b] created 🙂 <ok> & done" }));
    const [call] = fake.callsOf("POST");
    expect(call.path).toBe("/skype/v3/conversations/29%3A1AbCdEfSkypeUser/activities");
    expect(call.body).toEqual({
      type: "message",
      channelId: "skype",
      from: { id: `28:${APP_ID}`, name: "HelpBot" },
      recipient: { id: "29:1AbCdEfSkypeUser", name: "Alice Skype" },
      conversation: { id: "29:1AbCdEfSkypeUser" },
      locale: "en-US",
      text: "<b>Ticket #42</b> created 🙂 &lt;ok&gt; &amp; done",
      textFormat: "xml",
    });
    expect(r).toEqual({ platformMessageId: (call.answer as { id: string }).id });
  });

  it("replies to a named activity with the reply-to form, addressed to that activity's author", async () => {
    const { connector, out, chatId, contexts, a } = await seen("msteams", {
      conversation: { id: "19:room@thread.tacv2", isGroup: true, conversationType: "groupChat" },
    });
    await connector.parse(
      request({ ...a, id: "second", from: { id: "29:1Bob", name: "Bob" }, text: "and me" }),
    );
    await connector.send({
      ...out({ text: "Hi [mention=29:1TeamsUserAbc]Alice[/mention]", replyTo: "msteams-activity-1" }),
      chatContext: contexts.get(chatId),
    });
    const [call] = fake.callsOf("POST");
    expect(call.path).toBe(
      "/msteams/v3/conversations/19%3Aroom%40thread.tacv2/activities/msteams-activity-1",
    );
    expect(call.body).toMatchObject({
      recipient: { id: "29:1TeamsUserAbc" },
      replyToId: "msteams-activity-1",
      text: "Hi <at>Alice</at>",
      textFormat: "xml",
      entities: [
        { type: "mention", mentioned: { id: "29:1TeamsUserAbc", name: "Alice" }, text: "<at>Alice</at>" },
      ],
    });
    await connector.send({ ...out({ text: "Everyone" }), chatContext: contexts.get(chatId) });
    expect(fake.callsOf("POST")[1].body.recipient).toEqual({ id: "29:1Bob", name: "Bob" });
  });

  it("sends files as attachments by URL; on Teams documents become links in the text", async () => {
    const files = [
      { url: "https://portal.example/f/a.png", name: "a.png", type: "image/png", kind: "image" },
      { url: "https://portal.example/f/refund.pdf", name: "refund.pdf", type: "application/pdf" },
    ];
    const web = await seen("webchat");
    await web.connector.send(web.out({ text: "Your [i]files[/i]", files }));
    expect(fake.callsOf("POST")[0].body).toMatchObject({
      text: "Your _files_",
      textFormat: "markdown",
      attachments: [
        { contentType: "image/png", contentUrl: "https://portal.example/f/a.png", name: "a.png" },
        {
          contentType: "application/pdf",
          contentUrl: "https://portal.example/f/refund.pdf",
          name: "refund.pdf",
        },
      ],
    });
    const teams = await seen("msteams");
    await teams.connector.send(teams.out({ text: "Your files", files }));
    expect(fake.callsOf("POST")[1].body).toMatchObject({
      text: 'Your files<br>📎 <a href="https://portal.example/f/refund.pdf">refund.pdf</a>',
      attachments: [
        { contentType: "image/png", contentUrl: "https://portal.example/f/a.png", name: "a.png" },
      ],
    });
  });

  it("writes plain text to SMS and markdown to other channels", async () => {
    const sms = await seen("sms");
    await sms.connector.send(sms.out({ text: "[b]Code[/b]: [url=https://e.example/x]open[/url]" }));
    expect(fake.callsOf("POST")[0].body).toMatchObject({
      text: "Code: open (https://e.example/x)",
      textFormat: "plain",
      from: { id: "+15555550199" },
      recipient: { id: "+15555550100" },
    });
    const generic = await seen("kik");
    await generic.connector.send(generic.out({ text: "[b]Code[/b] *1*" }));
    expect(fake.callsOf("POST")[1].body).toMatchObject({
      text: "**Code** \\*1\\*",
      textFormat: "markdown",
      channelId: "kik",
    });
  });

  it("updates with PUT and deletes with DELETE the activity by its id, and sends typing", async () => {
    const { connector, out, chatId, contexts } = await seen("msteams");
    const chatContext = contexts.get(chatId);
    const { platformMessageId } = await connector.send(out({ text: "first" }));
    await connector.update({
      id: "op-1",
      chat: { id: chatId },
      platformMessageId,
      text: "[u]second[/u]",
      connector: "botframework.msteams",
      chatContext,
    });
    await connector.delete({
      id: "op-1",
      chat: { id: chatId },
      platformMessageId,
      connector: "botframework.msteams",
      chatContext,
    });
    await connector.typing({ id: chatId, connector: "botframework.msteams", chatContext });
    const put = fake.callsOf("PUT")[0];
    expect(put.activityId).toBe(platformMessageId);
    expect(put.body).toMatchObject({
      type: "message",
      id: platformMessageId,
      text: "<u>second</u>",
      textFormat: "xml",
    });
    expect(fake.callsOf("DELETE")[0]).toMatchObject({
      activityId: platformMessageId,
      conversationId: chatId,
    });
    expect(fake.callsOf("POST")[1].body).toMatchObject({
      type: "typing",
      recipient: { id: "29:1TeamsUserAbc" },
    });
    fake.failNext(404, { error: { code: "ActivityNotFound", message: "gone" } });
    await connector.delete({
      id: "op-1",
      chat: { id: chatId },
      platformMessageId,
      connector: "botframework.msteams",
      chatContext,
    });
  });

  it("makes 429 and 5xx retryable with the Retry-After, other refusals final with a reason", async () => {
    const { connector, out } = await seen("msteams");
    fake.failNext(
      429,
      { error: { code: "Throttled", message: "Too many requests" } },
      { "retry-after": "7" },
    );
    const throttled = await failure(connector.send(out({ text: "x" })));
    expect(throttled).toMatchObject({ retryable: true, retryAfterMs: 7000, platformStatus: 429 });
    fake.failNext(503);
    expect(await failure(connector.send(out({ text: "x" })))).toMatchObject({
      retryable: true,
      platformStatus: 503,
    });
    fake.failNext(403, { error: { code: "BotDisabledByAdmin", message: "The bot is disabled" } });
    const blocked = await failure(connector.send(out({ text: "x" })));
    expect(blocked).toMatchObject({ retryable: false });
    expect(blocked.message).toMatch(/may not write to this conversation/);
    fake.failNext(400, { error: { code: "BadArgument", message: "Unknown activity type" } });
    expect(await failure(connector.send(out({ text: "x" })))).toMatchObject({
      retryable: false,
      platformStatus: 400,
    });
  });

  it("answers in the channel's own format even when the hub knows the chat only by the real type", async () => {
    const { connector, out } = await seen("skype", { type: "typing", text: undefined });
    await connector.send({ ...out({ text: "[b]hi[/b]" }), connector: "botframework" });
    expect(fake.callsOf("POST")[0].body).toMatchObject({ text: "<b>hi</b>", textFormat: "xml" });
  });

  it("refuses to send into a chat it has never heard from", async () => {
    const { connector } = testContext(fake);
    const e = await failure(
      connector.send({
        id: "op-1",
        chat: { id: "nobody" },
        text: "hi",
        files: [],
        connector: "botframework.skype",
      }),
    );
    expect(e.retryable).toBe(false);
    expect(fake.calls).toHaveLength(0);
  });

  it("streams an attachment the connector stores with the bot's token", async () => {
    const { connector } = testContext(fake);
    const url = fake.addFile("/webchat/attachments/abc/0/screen.png", Buffer.from("png bytes"), "image/png");
    const res = await connector.resolveFile(url);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await res.arrayBuffer()).toString()).toBe("png bytes");
  });
});

describe("each virtual channel answers in its own format", () => {
  const cases: [string, string, string][] = [
    ["skype", "xml", "<b>Done</b> 🙂 <i>ok</i>"],
    ["msteams", "xml", "<b>Done</b> 🙂 <i>ok</i>"],
    ["telegram", "markdown", "**Done** 🙂 _ok_"],
    ["slack", "markdown", "**Done** 🙂 _ok_"],
    ["facebook", "markdown", "**Done** 🙂 _ok_"],
    ["webchat", "markdown", "**Done** 🙂 _ok_"],
    ["directline", "markdown", "**Done** 🙂 _ok_"],
    ["sms", "plain", "Done 🙂 ok"],
    ["email", "markdown", "**Done** 🙂 _ok_"],
    ["kik", "markdown", "**Done** 🙂 _ok_"],
  ];
  for (const [channelId, textFormat, text] of cases) {
    it(`${channelId}: ${textFormat}, from the bot to the user of the conversation`, async () => {
      const { connector, out, a } = await seen(channelId);
      await connector.send(out({ text: "[b]Done[/b] 🙂 [i]ok[/i]" }));
      const [call] = fake.callsOf("POST");
      expect(call.path).toBe(
        `/${channelId}/v3/conversations/${encodeURIComponent(a.conversation.id)}/activities`,
      );
      expect(call.body).toMatchObject({
        type: "message",
        channelId,
        from: a.recipient,
        recipient: { id: a.from.id },
        conversation: { id: a.conversation.id },
        text,
        textFormat,
      });
    });
  }
});
