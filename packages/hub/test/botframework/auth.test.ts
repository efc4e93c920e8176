import { isOpenlinesError } from "@openlines/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEYS_CACHE_MS, KEYS_REFETCH_MIN_MS } from "../../src/connectors/botframework/auth/openid.js";
import { activity } from "./activities.js";
import { request, testContext } from "./context.js";
import { FakeBotConnector } from "./fake-bot-connector.js";

let fake: FakeBotConnector;
beforeAll(async () => {
  fake = await FakeBotConnector.start();
  await fake.addKey("rogue", [], false);
});
afterAll(() => fake.close());

async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, "the token was accepted").toBeDefined();
  expect(isOpenlinesError(e)).toBe(true);
  expect((e as { status: number }).status).toBe(401);
  expect((e as { code: string }).code).toBe("WEBHOOK_UNVERIFIED");
  return (e as Error).message;
}

describe("Bot Framework inbound authentication", () => {
  it("accepts an activity signed by the connector's key for this bot, channel and serviceUrl", async () => {
    const { connector } = testContext(fake);
    const a = activity(fake.serviceUrl("skype"), "skype");
    await connector.verify(request(a, await fake.sign(a)));
  });

  it("refuses a request without a token, with another scheme or a token that is not a JWT", async () => {
    const { connector } = testContext(fake);
    const a = activity(fake.serviceUrl("skype"), "skype");
    expect(await refusal(connector.verify(request(a)))).toMatch(/no token/);
    const basic = { ...request(a), headers: { authorization: "Basic dXNlcjpwYXNz" } };
    expect(await refusal(connector.verify(basic))).toMatch(/not one Bearer token/);
    expect(await refusal(connector.verify(request(a, "not-a-jwt")))).toMatch(/not one Bearer token/);
  });

  it("refuses an expired token and one not valid yet, beyond five minutes of clock skew", async () => {
    const { connector } = testContext(fake);
    const a = activity(fake.serviceUrl("skype"), "skype");
    const expired = await fake.sign(a, { expSeconds: -301 });
    expect(await refusal(connector.verify(request(a, expired)))).toMatch(/expired/);
    await connector.verify(request(a, await fake.sign(a, { expSeconds: -200 })));
    const early = await fake.sign(a, { nbfSeconds: 400 });
    expect(await refusal(connector.verify(request(a, early)))).toMatch(/nbf/);
  });

  it("refuses a token from another issuer", async () => {
    const { connector } = testContext(fake);
    const a = activity(fake.serviceUrl("skype"), "skype");
    const token = await fake.sign(a, {
      issuer: "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/",
    });
    expect(await refusal(connector.verify(request(a, token)))).toMatch(/iss/);
  });

  it("refuses a token for another bot (audience)", async () => {
    const { connector } = testContext(fake);
    const a = activity(fake.serviceUrl("skype"), "skype");
    const token = await fake.sign(a, { audience: "11111111-2222-3333-4444-555555555555" });
    expect(await refusal(connector.verify(request(a, token)))).toMatch(/aud/);
  });

  it("refuses a token signed by a key the metadata does not publish", async () => {
    const { connector } = testContext(fake);
    const a = activity(fake.serviceUrl("skype"), "skype");
    expect(await refusal(connector.verify(request(a, await fake.sign(a, { kid: "rogue" }))))).toMatch(
      /unknown key/,
    );
  });

  it("refuses a published key id whose signature was made by another key", async () => {
    const { connector } = testContext(fake);
    const a = activity(fake.serviceUrl("skype"), "skype");
    const [h, p] = (await fake.sign(a)).split(".");
    const [, , s] = (await fake.sign(a, { kid: "rogue" })).split(".");
    expect(await refusal(connector.verify(request(a, `${h}.${p}.${s}`)))).toMatch(/signature/);
  });

  it("refuses a token whose serviceurl claim differs from the activity's serviceUrl", async () => {
    const { connector } = testContext(fake);
    const a = activity(fake.serviceUrl("skype"), "skype");
    const token = await fake.sign({ serviceUrl: "https://evil.example/" });
    expect(await refusal(connector.verify(request(a, token)))).toMatch(/serviceurl/);
    const none = await fake.sign(a, { claims: { serviceurl: undefined } });
    expect(await refusal(connector.verify(request(a, none)))).toMatch(/serviceurl/);
  });

  it("refuses an activity of a channel the signing key is not endorsed for", async () => {
    const { connector } = testContext(fake);
    await fake.addKey("teams-only", ["msteams"]);
    const a = activity(fake.serviceUrl("skype"), "skype");
    const token = await fake.sign(a, { kid: "teams-only" });
    expect(await refusal(connector.verify(request(a, token)))).toMatch(/not endorsed for channel "skype"/);
    const teams = activity(fake.serviceUrl("msteams"), "msteams");
    await connector.verify(request(teams, await fake.sign(teams, { kid: "teams-only" })));
  });

  it("fetches the keys once for a burst of first requests", async () => {
    const { connector } = testContext(fake);
    const a = activity(fake.serviceUrl("slack"), "slack");
    const token = await fake.sign(a);
    const before = fake.keyFetches.length;
    await Promise.all([1, 2, 3, 4, 5].map(() => connector.verify(request(a, token))));
    expect(fake.keyFetches.slice(before)).toEqual(["metadata", "keys"]);
  });

  it("caches the keys, and fetches them again when a token names a new key id", async () => {
    const { connector, clock } = testContext(fake);
    const a = activity(fake.serviceUrl("webchat"), "webchat");
    const before = fake.keyFetches.length;
    for (let i = 0; i < 3; i++) await connector.verify(request(a, await fake.sign(a)));
    expect(fake.keyFetches.length - before).toBe(2); // metadata + keys, once
    clock.advance(KEYS_REFETCH_MIN_MS + 1);
    await fake.addKey("rotated", ["webchat"]);
    await connector.verify(request(a, await fake.sign(a, { kid: "rotated", nowMs: clock.now() })));
    expect(fake.keyFetches.length - before).toBe(4);
    // a made-up key id right after a fetch does not make another one
    await refusal(connector.verify(request(a, await fake.sign(a, { kid: "rogue", nowMs: clock.now() }))));
    expect(fake.keyFetches.length - before).toBe(4);
  });

  it("keeps using cached keys while the key endpoint is down, and refuses when it has none", async () => {
    const { connector, clock } = testContext(fake);
    const a = activity(fake.serviceUrl("email"), "email");
    await connector.verify(request(a, await fake.sign(a)));
    fake.keysDown = true;
    try {
      clock.advance(KEYS_CACHE_MS + 1);
      const before = fake.keyFetches.length;
      await connector.verify(request(a, await fake.sign(a, { nowMs: clock.now() })));
      await connector.verify(request(a, await fake.sign(a, { nowMs: clock.now() })));
      expect(fake.keyFetches.length - before).toBe(1); // one failed try, not one per request
      const cold = testContext(fake);
      expect(await refusal(cold.connector.verify(request(a, await fake.sign(a))))).toMatch(
        /could not be fetched/,
      );
    } finally {
      fake.keysDown = false;
    }
  });
});
