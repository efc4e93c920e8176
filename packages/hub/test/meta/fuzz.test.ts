import {
  DeliveryStatusPayload,
  isOpenlinesError,
  MessagePayload,
  ReadStatusPayload,
  TypingPayload,
} from "@openlines/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { InboundEvent, WebhookRequest } from "../../src/connectors/contract.js";
import { facebook } from "../../src/connectors/facebook/index.js";
import { signBody } from "../../src/connectors/meta/webhook.js";
import { whatsapp } from "../../src/connectors/whatsapp/index.js";
import { testContext } from "./context.js";
import { APP_SECRET, PAGE_ID, PAGE_TOKEN, PHONE_ID, VERIFY_TOKEN, WA_TOKEN } from "./fake-graph.js";
import { fromUser, pageBody, waBody } from "./payloads.js";

/**
 * Whatever Meta (or someone with the app secret) sends, parse either refuses it with an
 * OpenlinesError or gives events the queue accepts: it never throws anything else (a 500 makes
 * Meta retry forever) and never yields an invalid payload.
 */
function request(body: unknown): WebhookRequest {
  const raw = JSON.stringify(body);
  return {
    method: "POST",
    query: {},
    headers: { "x-hub-signature-256": signBody(APP_SECRET, raw) },
    rawBody: Buffer.from(raw),
    json: JSON.parse(raw),
    ip: "127.0.0.1",
  };
}

const payloadSchemas = {
  messages: MessagePayload,
  deliveryStatus: DeliveryStatusPayload,
  readStatus: ReadStatusPayload,
  typing: TypingPayload,
};

async function check(parse: () => Promise<{ events: InboundEvent[] }>) {
  let events: InboundEvent[];
  try {
    events = (await parse()).events;
  } catch (e) {
    expect(isOpenlinesError(e), String(e)).toBe(true);
    return;
  }
  for (const e of events) {
    const r = payloadSchemas[e.type].safeParse(e.data);
    expect(r.success, JSON.stringify(r.error?.issues)).toBe(true);
  }
}

const junk = fc.oneof(
  fc.anything(),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.constant(null),
  fc.string({ minLength: 300, maxLength: 400 }),
);

describe("Meta parsers under arbitrary input", () => {
  const noNetwork = "http://127.0.0.1:9";

  it("WhatsApp: any message or status fields give valid events or a clear refusal", async () => {
    const { connector } = testContext(whatsapp, noNetwork, {
      phoneNumberId: PHONE_ID,
      accessToken: WA_TOKEN,
      appSecret: APP_SECRET,
      verifyToken: VERIFY_TOKEN,
    });
    const message = fc.record(
      {
        from: fc.oneof({ weight: 4, arbitrary: fc.constant("16505551234") }, junk),
        id: fc.oneof({ weight: 4, arbitrary: fc.constant("wamid.X") }, junk),
        timestamp: fc.oneof(fc.constant("1767607200"), junk),
        type: fc.constantFrom("text", "image", "reaction", "location", "contacts", "interactive", "zzz"),
        text: fc.oneof(fc.record({ body: fc.string() }), junk),
        image: fc.oneof(fc.record({ id: fc.string(), mime_type: fc.string() }), junk),
        reaction: fc.oneof(fc.record({ message_id: fc.string(), emoji: fc.string() }), junk),
        location: fc.oneof(fc.record({ latitude: fc.double(), longitude: fc.double() }), junk),
        contacts: junk,
        interactive: junk,
        context: fc.oneof(fc.record({ id: fc.string() }), junk),
      },
      { requiredKeys: [] },
    );
    const status = fc.record(
      {
        id: fc.oneof({ weight: 4, arbitrary: fc.constant("wamid.OUT") }, junk),
        status: fc.oneof(fc.constantFrom("sent", "delivered", "read", "failed", "played"), junk),
        timestamp: fc.oneof(fc.constant("1767607200"), junk),
        recipient_id: fc.oneof({ weight: 4, arbitrary: fc.constant("16505551234") }, junk),
        errors: junk,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { maxLength: 3 }),
        fc.array(status, { maxLength: 3 }),
        fc.oneof(
          fc.constant([{ wa_id: "16505551234", profile: { name: "Alice" } }]),
          fc.array(junk, { maxLength: 2 }),
        ),
        async (messages, statuses, contacts) => {
          await check(() => connector.parse(request(waBody({ contacts, messages, statuses }))));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("Messenger: any messaging event fields give valid events or a clear refusal", async () => {
    const { connector, chats } = testContext(facebook, noNetwork, {
      pageId: PAGE_ID,
      pageAccessToken: PAGE_TOKEN,
      appSecret: APP_SECRET,
      verifyToken: VERIFY_TOKEN,
    });
    const time = fc.oneof(fc.integer({ min: 0 }), fc.double(), fc.integer({ max: -1 }), junk);
    const text = fc.oneof({ weight: 3, arbitrary: fc.string() }, fc.string({ minLength: 300 }), junk);
    const id = fc.oneof(
      { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) },
      fc.string({ minLength: 250, maxLength: 300 }),
      junk,
    );
    const url = fc.oneof(fc.webUrl(), fc.string(), junk);
    const attachment = fc.record({
      type: fc.oneof(
        fc.constantFrom(
          "image",
          "video",
          "audio",
          "file",
          "fallback",
          "story_mention",
          "location",
          "ig_reel",
        ),
        junk,
      ),
      payload: fc.oneof(
        fc.record(
          {
            url,
            title: text,
            sticker_id: fc.oneof(fc.integer(), junk),
            coordinates: fc.oneof(fc.record({ lat: fc.double(), long: fc.double() }), junk),
          },
          { requiredKeys: [] },
        ),
        junk,
      ),
    });
    const event = fc.oneof(
      fc.record(
        {
          timestamp: time,
          message: fc.record(
            {
              mid: id,
              text,
              attachments: fc.oneof(fc.array(attachment, { maxLength: 3 }), junk),
              quick_reply: fc.oneof(fc.record({ payload: text }), junk),
              reply_to: fc.oneof(fc.record({ mid: id }), fc.record({ story: fc.record({ url, id }) }), junk),
              is_deleted: fc.oneof(fc.boolean(), junk),
            },
            { requiredKeys: ["mid"] },
          ),
        },
        { requiredKeys: ["message"] },
      ),
      fc.record({
        timestamp: time,
        postback: fc.record({ mid: id, title: text, payload: text }, { requiredKeys: [] }),
      }),
      fc.record({
        timestamp: time,
        reaction: fc.record(
          { mid: id, action: fc.constantFrom("react", "unreact"), emoji: text },
          { requiredKeys: ["mid", "action"] },
        ),
      }),
      fc.record({
        timestamp: time,
        delivery: fc.record({ mids: fc.array(id, { maxLength: 3 }), watermark: time }),
      }),
      fc.record({ timestamp: time, read: fc.record({ watermark: time, mid: id }, { requiredKeys: [] }) }),
      fc.dictionary(fc.string(), junk),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 3 }), async (events) => {
        // a cached profile keeps the fuzz off the network
        chats.set("6012345678901234", { profile: { id: "6012345678901234", name: "Bob" } });
        await check(() => connector.parse(request(pageBody(events.map((e) => fromUser(e))))));
      }),
      { numRuns: 300 },
    );
  });
});
