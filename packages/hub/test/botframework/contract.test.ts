import { botframework } from "../../src/connectors/botframework/index.js";
import type { BotFrameworkSettings } from "../../src/connectors/botframework/settings.js";
import { runConnectorContract } from "../../src/connectors/testing/contract-suite.js";
import { activity } from "./activities.js";
import { APP_ID, APP_SECRET, FakeBotConnector } from "./fake-bot-connector.js";

let fake: FakeBotConnector | undefined;
/** The stored context of the chat the suite sends to; its serviceUrl is the fake's, known at start. */
const chatContext = {
  channelId: "skype",
  serviceUrl: "",
  conversation: { id: "29:1AbCdEfSkypeUser" },
  bot: { id: `28:${APP_ID}`, name: "HelpBot" },
  user: { id: "29:1AbCdEfSkypeUser", name: "Alice Skype" },
  dialogs: {},
};

runConnectorContract<BotFrameworkSettings>(botframework, {
  async start() {
    fake = await FakeBotConnector.start();
    chatContext.serviceUrl = fake.serviceUrl("skype");
    return { baseUrls: { login: fake.url, openid: fake.url } };
  },
  stop: async () => fake?.close(),
  settings: { botHandle: "helpbot", appId: APP_ID, appSecret: APP_SECRET },
  invalidSettings: [
    {},
    { botHandle: "helpbot", appId: "not-a-guid", appSecret: APP_SECRET },
    { botHandle: "helpbot", appId: APP_ID, appSecret: "" },
    { botHandle: "help bot!", appId: APP_ID, appSecret: APP_SECRET },
    { botHandle: "helpbot", appId: APP_ID, appSecret: APP_SECRET, tenantId: "not a tenant" },
  ],
  async sampleWebhook() {
    const a = activity(fake!.serviceUrl("skype"), "skype", { text: "(smile) *hi*" });
    const body = JSON.stringify(a);
    return {
      method: "POST",
      query: {},
      headers: { "content-type": "application/json", authorization: `Bearer ${await fake!.sign(a)}` },
      rawBody: Buffer.from(body),
      json: JSON.parse(body),
      ip: "127.0.0.1",
    };
  },
  authHeaders: ["authorization"],
  // The JWT authenticates the sender and binds serviceUrl and channel, not the body's bytes.
  unsignedBody: true,
  chat: { id: "29:1AbCdEfSkypeUser", context: chatContext },
  accountId: APP_ID,
});
