import { ManualClock } from "@openlines/protocol";
import { OpenIdKeys } from "../../src/connectors/botframework/auth/openid.js";
import { BotFrameworkConnector } from "../../src/connectors/botframework/index.js";
import type { BotFrameworkSettings } from "../../src/connectors/botframework/settings.js";
import type { ConnectorContext } from "../../src/connectors/contract.js";
import { APP_ID, APP_SECRET, type FakeBotConnector } from "./fake-bot-connector.js";

export const LINE = {
  id: "lc-bf-1",
  portalId: "portal-1",
  lineId: "line-1",
  connector: "botframework",
  hash: "h4sh",
  webhookUrl: "https://hub.example/webhook?line=h4sh",
};

/**
 * A ConnectorContext for unit tests against the fake: base URLs at the fake, a ManualClock at real
 * time (tokens are signed with real time), in-memory chat context, recorded file links, and a
 * key cache of its own so tests do not share keys.
 */
export function testContext(fake: FakeBotConnector, settings: Partial<BotFrameworkSettings> = {}) {
  const links: { ref: string; file: { name: string; type?: string; size?: number } }[] = [];
  const contexts = new Map<string, Record<string, unknown>>();
  const clock = new ManualClock(Date.now());
  let fetches = 0;
  const ctx: ConnectorContext<BotFrameworkSettings> = {
    line: LINE,
    settings: { botHandle: "helpbot", appId: APP_ID, appSecret: APP_SECRET, ...settings },
    baseUrl: (name) => {
      if (name === "login" || name === "openid") return fake.url;
      throw new Error(`no base URL ${name}`);
    },
    publicUrl: "https://hub.example",
    clock,
    fetch: (input, init) => {
      fetches++;
      return fetch(input, init);
    },
    chatContext: {
      get: async <T>(id: string) => contexts.get(id) as T | undefined,
      set: async (id, data) => void contexts.set(id, structuredClone(data)),
    },
    fileLink: (ref, file) => {
      links.push({ ref, file });
      return `https://hub.example/files/${links.length}?sig=abc`;
    },
    log: { info() {}, warn() {}, error() {} },
  };
  const keys = new OpenIdKeys();
  const connector = new BotFrameworkConnector(ctx, { keys });
  return { ctx, clock, links, contexts, keys, connector, fetches: () => fetches };
}

/** A webhook request carrying `activity` with a bearer token. */
export function request(activity: unknown, token?: string) {
  const raw = Buffer.from(JSON.stringify(activity));
  return {
    method: "POST" as const,
    query: {},
    headers: {
      "content-type": "application/json",
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    rawBody: raw,
    json: JSON.parse(raw.toString()),
    ip: "127.0.0.1",
  };
}
