import {
  Capabilities,
  DeliveryStatusPayload,
  isOpenlinesError,
  MessagePayload,
  ReadStatusPayload,
  systemClock,
  TypingPayload,
} from "@openlines/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type {
  ChatContextStore,
  Connector,
  ConnectorContext,
  ConnectorDefinition,
  InboundEvent,
  WebhookRequest,
} from "../contract.js";

/**
 * What a connector's test gives the shared contract suite: its fake platform and samples.
 * Every connector's test calls `runConnectorContract(definition, fixture)`.
 */
export interface ContractFixture<S> {
  /** Starts the fake platform (a local HTTP server); answers the base URLs that point at it, by name. */
  start(): Promise<{ baseUrls: Record<string, string> }>;
  stop(): Promise<void>;
  /** Settings the fake platform accepts. */
  settings: S;
  /** Settings the schema must refuse (missing fields, wrong types…). At least one. */
  invalidSettings: unknown[];
  /**
   * A sample webhook exactly as the platform sends it, authenticated the platform's way. Leave out
   * for a connector with no webhook (its routes are tested by its own tests).
   */
  sampleWebhook?(ctx: ConnectorContext<S>): Promise<WebhookRequest> | WebhookRequest;
  /** Headers that carry the platform's authentication; removed to check that verify refuses. */
  authHeaders?: string[];
  /** The platform authenticates the sender with a shared secret but signs no body (Telegram): no tamper check. */
  unsignedBody?: boolean;
  /** A chat the fake platform knows, to send to. Leave out when `send` needs more than a chat. */
  chat?: { id: string; context?: Record<string, unknown> };
  /** The account id `testConnect` must report for `settings`, when the connector has accounts. */
  accountId?: string;
}

/** A connector context that needs no hub: in-memory chat context, dummy file links. */
export function contractContext<S>(
  definition: ConnectorDefinition<S>,
  settings: S,
  baseUrls: Record<string, string>,
): ConnectorContext<S> & { chats: Map<string, Record<string, unknown>> } {
  const chats = new Map<string, Record<string, unknown>>();
  const chatContext: ChatContextStore = {
    async get<T>(id: string) {
      return chats.get(id) as T | undefined;
    },
    async set(id, data) {
      chats.set(id, data);
    },
  };
  const publicUrl = "http://127.0.0.1:1";
  return {
    line: {
      id: "lc_contract",
      portalId: "portal-contract",
      lineId: "line-contract",
      connector: definition.type,
      hash: "contract-hash",
      webhookUrl: `${publicUrl}/webhook?line=contract-hash`,
    },
    settings,
    baseUrl(name) {
      const url = baseUrls[name] ?? definition.baseUrls?.[name];
      if (!url) throw new Error(`no base URL named ${name}`);
      return url.replace(/\/+$/, "");
    },
    publicUrl,
    clock: systemClock,
    fetch: globalThis.fetch,
    chatContext,
    fileLink: (ref, file) =>
      `${publicUrl}/files/${encodeURIComponent(ref)}?name=${encodeURIComponent(file.name)}`,
    log: { info() {}, warn() {}, error() {} },
    chats,
  };
}

const payloadSchemas: Record<InboundEvent["type"], z.ZodType> = {
  messages: MessagePayload,
  deliveryStatus: DeliveryStatusPayload,
  readStatus: ReadStatusPayload,
  typing: TypingPayload,
};

function flipBody(req: WebhookRequest): WebhookRequest {
  const raw = Buffer.from(req.rawBody);
  if (raw.length > 0) raw[raw.length >> 1] ^= 0x01;
  else return { ...req, rawBody: Buffer.from("{}") };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString("utf8"));
  } catch {
    json = req.json;
  }
  return { ...req, rawBody: raw, json };
}

async function refused(p: Promise<unknown>) {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, "verify accepted a request it should refuse").toBeDefined();
  expect(isOpenlinesError(e), "verify must throw an OpenlinesError").toBe(true);
  expect([401, 403]).toContain((e as { status: number }).status);
}

/**
 * The contract every connector passes (issue 4, "Prove it"): settings validation, declared
 * capabilities, verify refusing tampering and missing authentication, parse of a sample giving
 * valid exchange payloads, and send against its fake platform returning a platform id.
 */
export function runConnectorContract<S>(
  definition: ConnectorDefinition<S>,
  fixture: ContractFixture<S>,
): void {
  describe(`connector contract: ${definition.type}`, () => {
    let ctx: ReturnType<typeof contractContext<S>>;
    let connector: Connector;
    beforeAll(async () => {
      const { baseUrls } = await fixture.start();
      ctx = contractContext(definition, fixture.settings, baseUrls);
      connector = definition.create(ctx);
    });
    afterAll(async () => fixture.stop());

    it("accepts its valid settings and refuses invalid ones", () => {
      expect(definition.settings.safeParse(fixture.settings).success).toBe(true);
      expect(fixture.invalidSettings.length).toBeGreaterThan(0);
      for (const bad of fixture.invalidSettings)
        expect(definition.settings.safeParse(bad).success).toBe(false);
      expect(() =>
        z.toJSONSchema(definition.settings as z.ZodType, { unrepresentable: "any" }),
      ).not.toThrow();
    });

    it("declares its capabilities in the protocol's shape, for each virtual channel too", () => {
      expect(definition.type).toMatch(/^[a-z][a-z0-9.]{0,63}$/);
      expect(Capabilities.safeParse(definition.capabilities).success).toBe(true);
      for (const v of Object.values(definition.virtual ?? {}))
        if (v.capabilities) expect(Capabilities.safeParse(v.capabilities).success).toBe(true);
    });

    if (fixture.accountId !== undefined) {
      it("reaches its account with the settings and names it for single connection", async () => {
        const r = await connector.testConnect();
        expect(r.account.id).toBe(fixture.accountId);
        expect(await connector.accountId()).toBe(fixture.accountId);
      });
    }

    if (fixture.sampleWebhook) {
      const sample = fixture.sampleWebhook.bind(fixture);
      it("verifies the platform's sample and refuses a tampered body or missing authentication", async () => {
        const req = await sample(ctx);
        await connector.verify(req);
        if (!fixture.unsignedBody) await refused(connector.verify(flipBody(req)));
        const headers = { ...req.headers };
        for (const h of fixture.authHeaders ?? []) delete headers[h];
        if ((fixture.authHeaders ?? []).length > 0) await refused(connector.verify({ ...req, headers }));
      });

      it("parses the sample into valid exchange payloads", async () => {
        const result = await connector.parse(await sample(ctx));
        expect(result.events.length).toBeGreaterThan(0);
        for (const e of result.events) {
          const parsed = payloadSchemas[e.type].safeParse(e.data);
          expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
          if (e.connector && e.connector !== definition.type)
            expect(definition.virtual?.[e.connector]).toBeDefined();
        }
        const messages = result.events.filter((e) => e.type === "messages");
        for (const m of messages) expect(m.dedupKey, "a message event needs a dedupKey").toBeTruthy();
      });
    }

    if (fixture.chat) {
      const chat = fixture.chat;
      it("sends a message to its fake platform and gets a platform id", async () => {
        const r = await connector.send({
          id: "contract-message-1",
          chat: { id: chat.id },
          text: "Contract test",
          files: [],
          connector: definition.type,
          chatContext: chat.context,
        });
        expect(typeof r.platformMessageId).toBe("string");
        expect(r.platformMessageId.length).toBeGreaterThan(0);
      });
    }
  });
}
