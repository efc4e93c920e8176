import { ManualClock } from "@openlines/protocol";
import type { ConnectorContext } from "../../src/connectors/contract.js";
import { type TelegramConnector, telegram } from "../../src/connectors/telegram/index.js";
import type { TelegramSettings } from "../../src/connectors/telegram/settings.js";
import { TOKEN } from "./fake-bot-api.js";

export const LINE = {
  id: "lc-1",
  portalId: "portal-1",
  lineId: "line-1",
  connector: "telegram",
  hash: "h4sh",
  webhookUrl: "https://hub.example/webhook?line=h4sh",
};

/** A ConnectorContext for unit tests: file links are recorded and point at a pretend hub. */
export function testContext(apiUrl: string, settings: Partial<TelegramSettings> = {}) {
  const links: { ref: string; file: { name: string; type?: string; size?: number } }[] = [];
  const contexts = new Map<string, Record<string, unknown>>();
  const ctx: ConnectorContext<TelegramSettings> = {
    line: LINE,
    settings: { botToken: TOKEN, allowGroups: false, ...settings },
    baseUrl: (name) => (name === "api" ? apiUrl : "http://127.0.0.1:9"),
    publicUrl: "https://hub.example",
    clock: new ManualClock(1_767_607_200_000),
    fetch: globalThis.fetch,
    chatContext: {
      get: async <T>(id: string) => contexts.get(id) as T | undefined,
      set: async (id, data) => void contexts.set(id, data),
    },
    fileLink: (ref, file) => {
      links.push({ ref, file });
      return `https://hub.example/files/${links.length}?sig=abc`;
    },
    log: { info() {}, warn() {}, error() {} },
  };
  return { ctx, links, contexts, connector: telegram.create(ctx) as TelegramConnector };
}
