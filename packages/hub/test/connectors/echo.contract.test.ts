import { runConnectorContract } from "../../src/connectors/testing/contract-suite.js";
import { EchoPlatform, echoConnector, echoSign } from "../support/echo-connector.js";

const platform = new EchoPlatform();
const settings = { token: "token-contract", secret: "echo-secret-1" };

runConnectorContract(echoConnector, {
  async start() {
    await platform.start();
    platform.addBot(settings.token, "bot-contract");
    return { baseUrls: { api: platform.url } };
  },
  stop: () => platform.stop(),
  settings,
  invalidSettings: [
    {},
    { token: "short", secret: "echo-secret-1" },
    { token: 12345678, secret: "echo-secret-1" },
  ],
  sampleWebhook() {
    const body = JSON.stringify({ update_id: 1, chat: 5, user: { id: 5, name: "Ann" }, text: "hello" });
    return {
      method: "POST",
      query: {},
      headers: { "content-type": "application/json", "x-echo-signature": echoSign(settings.secret, body) },
      rawBody: Buffer.from(body),
      json: JSON.parse(body),
      ip: "127.0.0.1",
    };
  },
  authHeaders: ["x-echo-signature"],
  chat: { id: "5" },
  accountId: "bot-contract",
});
