import { ManualClock } from "@openlines/protocol";
import type { ConnectorContext, ConnectorDefinition } from "../../src/connectors/contract.js";

/** A ConnectorContext for unit tests: chat context and sent messages in memory, file links recorded. */
export function testContext(definition: ConnectorDefinition<any>, graphUrl: string, settings: unknown) {
  const links: { ref: string; file: { name: string; type?: string; size?: number } }[] = [];
  const chats = new Map<string, Record<string, unknown>>();
  const sent = new Map<string, { messageId: string; chatId: string }>();
  const warnings: object[] = [];
  const clock = new ManualClock(1_767_607_200_000);
  const ctx: ConnectorContext = {
    line: {
      id: "lc-1",
      portalId: "portal-1",
      lineId: "line-1",
      connector: definition.type,
      hash: "h4sh",
      webhookUrl: "https://hub.example/webhook?line=h4sh",
    },
    settings: definition.settings.parse(settings),
    baseUrl: (name) => {
      if (name !== "graph") throw new Error(`no base URL ${name}`);
      return graphUrl;
    },
    publicUrl: "https://hub.example",
    clock,
    fetch: globalThis.fetch,
    chatContext: {
      get: async <T>(id: string) => chats.get(id) as T | undefined,
      set: async (id, data) => void chats.set(id, data),
    },
    fileLink: (ref, file) => {
      links.push({ ref, file });
      return `https://hub.example/files/${links.length}?sig=abc`;
    },
    sentMessage: async (id) => sent.get(id),
    log: { info() {}, warn: (o) => void warnings.push(o), error() {} },
  };
  return { ctx, links, chats, sent, clock, warnings, connector: definition.create(ctx) };
}
