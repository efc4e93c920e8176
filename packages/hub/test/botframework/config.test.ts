import { describe, expect, it } from "vitest";
import { loadHubConfig } from "../../src/config.js";
import { botframework } from "../../src/connectors/botframework/index.js";

describe("Bot Framework base URLs", () => {
  it("has Microsoft's token and metadata hosts by default, overridable from the hub environment by name", () => {
    expect(botframework.baseUrls).toEqual({
      login: "https://login.microsoftonline.com",
      openid: "https://login.botframework.com",
    });
    const config = loadHubConfig({
      OPENLINES_HUB_KEY: "k".repeat(32),
      OPENLINES_BASEURL_BOTFRAMEWORK_LOGIN: "http://127.0.0.1:7001",
      OPENLINES_BASEURL_BOTFRAMEWORK_OPENID: "http://127.0.0.1:7002",
    });
    expect(config.baseUrls.botframework).toEqual({
      login: "http://127.0.0.1:7001",
      openid: "http://127.0.0.1:7002",
    });
    for (const name of Object.keys(config.baseUrls.botframework))
      expect(botframework.baseUrls).toHaveProperty(name);
  });
});
