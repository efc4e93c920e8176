import type { ConnectorContext } from "../../src/connectors/contract.js";
import { telegram } from "../../src/connectors/telegram/index.js";
import { SECRET_KEY } from "../../src/connectors/telegram/secret.js";
import type { TelegramSettings } from "../../src/connectors/telegram/settings.js";
import { runConnectorContract } from "../../src/connectors/testing/contract-suite.js";
import { FakeBotApi, TOKEN } from "./fake-bot-api.js";

let fake: FakeBotApi | undefined;
const SECRET = "contract-secret-0123456789_ABCDEFGHIJKLMNOP";

runConnectorContract<TelegramSettings>(telegram, {
  async start() {
    fake = await FakeBotApi.start();
    return { baseUrls: { api: fake.url } };
  },
  stop: async () => fake?.close(),
  settings: { botToken: TOKEN, allowGroups: false },
  invalidSettings: [
    {},
    { botToken: "" },
    { botToken: "not-a-token" },
    { botToken: TOKEN, allowGroups: "yes" },
  ],
  async sampleWebhook(ctx: ConnectorContext<TelegramSettings>) {
    await ctx.chatContext.set(SECRET_KEY, { secretToken: SECRET });
    const body = JSON.stringify({
      update_id: 812345001,
      message: {
        message_id: 57,
        from: { id: 123456789, is_bot: false, first_name: "Alice", username: "alice", language_code: "en" },
        chat: { id: 123456789, type: "private", first_name: "Alice", username: "alice" },
        date: 1767607200,
        text: "Order 42 is late https://shop.example/42",
        entities: [{ type: "url", offset: 17, length: 23 }],
      },
    });
    return {
      method: "POST",
      query: {},
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
      rawBody: Buffer.from(body),
      json: JSON.parse(body),
      ip: "127.0.0.1",
    };
  },
  authHeaders: ["x-telegram-bot-api-secret-token"],
  unsignedBody: true,
  chat: { id: "123456789" },
  accountId: "7000000001",
});
