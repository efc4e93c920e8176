import { ManualClock } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { botframework } from "../../src/connectors/botframework/index.js";
import { facebook } from "../../src/connectors/facebook/index.js";
import { form } from "../../src/connectors/form/index.js";
import { instagram } from "../../src/connectors/instagram/index.js";
import { livechat } from "../../src/connectors/livechat/index.js";
import { signBody } from "../../src/connectors/meta/webhook.js";
import { telegram } from "../../src/connectors/telegram/index.js";
import { whatsapp } from "../../src/connectors/whatsapp/index.js";
import { activity } from "../botframework/activities.js";
import { APP_ID, APP_SECRET as BF_SECRET, FakeBotConnector } from "../botframework/fake-bot-connector.js";
import {
  APP_SECRET,
  FakeGraph,
  IG_ID,
  IG_TOKEN,
  PAGE_ID,
  PAGE_TOKEN,
  PHONE_ID,
  VERIFY_TOKEN,
  WA_TOKEN,
  WABA_ID,
} from "../meta/fake-graph.js";
import { fromUser, IGSID, pageBody, waBody, waMessage, waStatus } from "../meta/payloads.js";
import { startTestHub, type TestHub } from "../support/hub-harness.js";
import { FakeBotApi, TOKEN } from "../telegram/fake-bot-api.js";
import { catchUnhandled, fuzzRuns, fuzzSeed, type Mutated, mutated, pathsOf, setAt } from "./mutate.js";

/**
 * Every connector's `verify`/`parse` through the real `/webhook?line=` entry of a real hub (real
 * queue, every connector activated against its fake platform): random and mutated real-shaped
 * payloads, signed correctly (so `parse` sees them) and not. The entry never answers 5xx, nothing
 * rejects unhandled, and a refused request queues nothing (packet rows counted before and after).
 * `OPENLINES_FUZZ_SEED` replays a run; `OPENLINES_FUZZ_RUNS` sets the runs per property.
 */
const RUNS = fuzzRuns(120);

interface Target {
  name: string;
  samples: () => unknown[];
  /** Headers that authenticate this body on this line (the platform's signature or secret). */
  sign(body: Buffer, sample: unknown): Promise<Record<string, string>>;
}

describeEachDialect("webhook entry fuzzing", (db) => {
  const seed = fuzzSeed();
  const clock = new ManualClock(Date.now());
  const unhandled = catchUnhandled();
  let t: TestHub;
  let tg: FakeBotApi;
  let graph: FakeGraph;
  let bf: FakeBotConnector;
  const urls = new Map<string, string>();
  const results = new Map<string, Record<string, number>>();

  beforeAll(async () => {
    console.log(`webhook fuzzing [${db.dialect}]: seed ${seed} (OPENLINES_FUZZ_SEED=${seed} to replay)`);
    tg = await FakeBotApi.start();
    graph = await FakeGraph.start();
    bf = await FakeBotConnector.start();
    t = await startTestHub(db.url(), {
      clock,
      queue: "real",
      connectors: [telegram, whatsapp, facebook, instagram, botframework, form, livechat],
      config: {
        baseUrls: {
          telegram: { api: tg.url },
          whatsapp: { graph: graph.url },
          facebook: { graph: graph.url },
          instagram: { graph: graph.url },
          botframework: { login: bf.url, openid: bf.url },
        },
      },
    });
    // The portal is unreachable: what is queued stays queued (blocked by the manual clock).
    const { rpc } = await t.addPortal("p1");
    const meta = { appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN, graphVersion: "v21.0" };
    const lines: [string, Record<string, unknown>][] = [
      ["telegram", { botToken: TOKEN }],
      ["whatsapp", { phoneNumberId: PHONE_ID, accessToken: WA_TOKEN, businessAccountId: WABA_ID, ...meta }],
      ["facebook", { pageId: PAGE_ID, pageAccessToken: PAGE_TOKEN, ...meta }],
      ["instagram", { accountId: IG_ID, accessToken: IG_TOKEN, ...meta }],
      ["botframework", { botHandle: "helpbot", appId: APP_ID, appSecret: BF_SECRET }],
      ["form", { allowedOrigins: ["https://shop.example.com"], submissionsPerIpPerHour: 1000 }],
      ["livechat", { allowedOrigins: ["https://shop.example.com"] }],
    ];
    for (const [connector, settings] of lines) {
      const line = { line: `fuzz-${connector}`, connector };
      const saved = await rpc.saveSettings({ ...line, settings });
      expect(await rpc.activate(line)).toMatchObject({ status: "active" });
      urls.set(connector, saved.webhookUrl);
    }
  });
  afterAll(async () => {
    unhandled.stop();
    await t?.close();
    await tg?.close();
    await graph?.close();
    await bf?.close();
    for (const [name, r] of results)
      console.log(`webhook fuzzing [${db.dialect}] ${name}: ${JSON.stringify(r)}`);
  });

  const metaSign = async (body: Buffer) => ({
    "x-hub-signature-256": signBody(APP_SECRET, body.toString("latin1")),
  });
  const targets: Target[] = [
    {
      name: "telegram",
      samples: () => [
        {
          update_id: 812345001,
          message: {
            message_id: 57,
            from: { id: 123456789, is_bot: false, first_name: "Alice", username: "alice" },
            chat: { id: 123456789, type: "private", first_name: "Alice" },
            date: 1767607200,
            text: "Hello /start https://x.example",
            entities: [
              { type: "bold", offset: 0, length: 5 },
              { type: "url", offset: 13, length: 17 },
            ],
          },
        },
        {
          update_id: 812345003,
          edited_message: {
            message_id: 57,
            from: { id: 123456789, is_bot: false, first_name: "Alice" },
            chat: { id: -100123, type: "supergroup", title: "G" },
            date: 1767607200,
            edit_date: 1767607300,
            caption: "x",
            photo: [{ file_id: "a", file_unique_id: "b", width: 1, height: 1 }],
          },
        },
        { update_id: 812345004, callback_query: { id: "1", from: { id: 1, first_name: "A" }, data: "x" } },
      ],
      sign: async () => ({ "x-telegram-bot-api-secret-token": tg.webhook.secret_token as string }),
    },
    {
      name: "whatsapp",
      samples: () => [
        waMessage({ id: "wamid.HBgLMTY1", type: "text", text: { body: "Hi, order 42?" } }),
        waMessage({
          id: "wamid.IMG",
          type: "image",
          image: { id: "img-1", mime_type: "image/jpeg", sha256: "x", caption: "look" },
        }),
        waStatus("wamid.OUT", "delivered"),
      ],
      sign: metaSign,
    },
    {
      name: "facebook",
      samples: () => [
        pageBody([fromUser({ message: { mid: "m_1", text: "hi there" } })]),
        pageBody([fromUser({ delivery: { mids: ["m_2"], watermark: 1767607200000 } })]),
        pageBody([fromUser({ read: { watermark: 1767607200000 } })]),
      ],
      sign: metaSign,
    },
    {
      name: "instagram",
      samples: () => [
        pageBody([fromUser({ message: { mid: "aWdfZAG1", text: "hi" } }, IGSID, IG_ID)], "instagram", IG_ID),
      ],
      sign: metaSign,
    },
    {
      name: "botframework",
      samples: () => [
        activity(bf.serviceUrl("skype"), "skype", { id: "fz-1", text: "(smile) *hi*" }),
        activity(bf.serviceUrl("msteams"), "msteams", { id: "fz-2", text: "<b>hi</b>" }),
        activity(bf.serviceUrl("telegram"), "telegram", { id: "fz-3", text: "hello" }),
      ],
      sign: async (_body, sample) => {
        const serviceUrl = (sample as { serviceUrl?: unknown })?.serviceUrl;
        const token = await bf.sign(
          { serviceUrl: typeof serviceUrl === "string" ? serviceUrl : "" },
          { nowMs: clock.now() },
        );
        return { authorization: `Bearer ${token}` };
      },
    },
    {
      name: "form",
      samples: () => [{ text: "hello", name: "Ann", email: "a@example.com" }],
      sign: async () => ({}),
    },
    { name: "livechat", samples: () => [{ type: "message", text: "hi" }], sign: async () => ({}) },
  ];

  const packetRows = () => t.count("packet");

  async function post(connector: string, m: Mutated, headers: Record<string, string>, method = "POST") {
    const h: Record<string, string> = { ...headers };
    if (m.contentType) h["content-type"] = m.contentType;
    const res = await fetch(urls.get(connector) as string, {
      method,
      headers: h,
      body: method === "GET" ? undefined : new Uint8Array(m.body),
    });
    const text = await res.text();
    if (res.status >= 500) console.log(`5xx answer: ${text.slice(0, 300)}`);
    return res.status;
  }

  function record(name: string, status: number) {
    const r = results.get(name) ?? {};
    const key = status >= 500 ? "5xx" : status >= 400 ? "4xx" : "2xx";
    r[key] = (r[key] ?? 0) + 1;
    results.set(name, r);
  }

  for (const target of targets) {
    it(`${target.name}: signed mutated payloads never get a 5xx, and a refused one queues nothing`, async () => {
      const samples = target.samples();
      const arb = fc
        .nat({ max: samples.length - 1 })
        .chain((i) => mutated(samples[i]).map((m) => ({ m, i })));
      await fc.assert(
        fc.asyncProperty(arb, async ({ m, i }) => {
          let parsedSample: unknown = samples[i];
          try {
            parsedSample = JSON.parse(m.body.toString("utf8"));
          } catch {}
          const before = await packetRows();
          const status = await post(target.name, m, await target.sign(m.body, parsedSample));
          record(target.name, status);
          if (status >= 500)
            console.log(
              `5xx on ${target.name} [${db.dialect}]: ${m.how}`,
              (t.errors.at(-1) as { err?: Error })?.err?.stack?.slice(0, 1500),
            );
          expect(status, m.how).toBeLessThan(500);
          if (status >= 400) expect(await packetRows(), m.how).toBe(before);
        }),
        { seed, numRuns: RUNS },
      );
      expect(unhandled.caught).toEqual([]);
    });

    it(`${target.name}: unsigned or wrongly signed requests are refused and queue nothing`, async () => {
      const samples = target.samples();
      const badHeaders = fc.constantFrom<Record<string, string>>(
        {},
        { "x-telegram-bot-api-secret-token": "wrong" },
        { "x-hub-signature-256": "sha256=00" },
        { "x-hub-signature-256": `sha256=${"a".repeat(64)}` },
        { authorization: "Bearer not.a.jwt" },
        { authorization: "Bearer " },
        { authorization: `Basic ${"x".repeat(5000)}` },
      );
      const arb = fc.tuple(
        fc.nat({ max: samples.length - 1 }).chain((i) => mutated(samples[i])),
        badHeaders,
        fc.constantFrom("POST", "POST", "GET"),
      );
      await fc.assert(
        fc.asyncProperty(arb, async ([m, headers, method]) => {
          const before = await packetRows();
          const status = await post(target.name, m, headers, method);
          record(`${target.name} unsigned`, status);
          expect(status, m.how).toBeLessThan(500);
          // Form and livechat take nothing through the webhook entry at all.
          expect(status, m.how).toBeGreaterThanOrEqual(400);
          expect(await packetRows(), m.how).toBe(before);
        }),
        { seed, numRuns: Math.ceil(RUNS / 2) },
      );
      expect(unhandled.caught).toEqual([]);
    });
  }

  // Form and live chat take no webhooks: their public routes are the exposed surface instead.
  const publicRoutes: { name: string; path: string; sample: unknown }[] = [
    {
      name: "form submit",
      path: "/form/submit",
      sample: { text: "hello", name: "Ann", email: "a@example.com" },
    },
    { name: "livechat session", path: "/livechat/session", sample: { name: "Ann", email: "a@example.com" } },
  ];
  for (const route of publicRoutes) {
    it(`${route.name}: mutated public posts from an allowed origin never get a 5xx`, async () => {
      const connector = route.path.startsWith("/form") ? "form" : "livechat";
      const hash = new URL(urls.get(connector) as string).searchParams.get("line") as string;
      const base = new URL(urls.get(connector) as string).origin;
      await fc.assert(
        fc.asyncProperty(mutated(route.sample), fc.boolean(), async (m, urlencoded) => {
          const headers: Record<string, string> = { origin: "https://shop.example.com" };
          let body = new Uint8Array(m.body);
          if (urlencoded && m.how !== "random bytes") {
            headers["content-type"] = "application/x-www-form-urlencoded";
            let v: unknown;
            try {
              v = JSON.parse(m.body.toString("utf8"));
            } catch {}
            const flat: [string, string][] =
              v && typeof v === "object"
                ? Object.entries(v).map(([k, x]): [string, string] => [
                    k,
                    typeof x === "string" ? x : (JSON.stringify(x) ?? ""),
                  ])
                : [["x", m.body.toString("latin1")]];
            body = new TextEncoder().encode(new URLSearchParams(flat).toString());
          } else if (m.contentType) headers["content-type"] = m.contentType;
          const res = await fetch(`${base}${route.path}?line=${hash}`, { method: "POST", headers, body });
          const text = await res.text();
          record(route.name, res.status);
          if (res.status >= 500) console.log(`5xx from ${route.path}: ${m.how}: ${text.slice(0, 300)}`);
          expect(res.status, m.how).toBeLessThan(500);
        }),
        { seed, numRuns: RUNS },
      );
      expect(unhandled.caught).toEqual([]);
    });
  }

  // Found by this fuzzer: a verified request with a 10 kB message id made the pipeline answer 500
  // (the packet schema refused the event as an internal error), so the platform would retry forever.
  it("never answers 5xx to a verified message whose id does not fit the exchange format, and queues nothing", async () => {
    const huge = "x".repeat(10_000);
    const cases: [string, unknown][] = [
      ["whatsapp", waMessage({ id: huge, type: "text", text: { body: "hi" } })],
      ["botframework", activity(bf.serviceUrl("skype"), "skype", { id: huge, text: "hi" })],
    ];
    for (const [name, body] of cases) {
      const target = targets.find((x) => x.name === name) as Target;
      const raw = Buffer.from(JSON.stringify(body));
      const before = await packetRows();
      const status = await post(
        name,
        { body: raw, contentType: "application/json", how: "regression" },
        await target.sign(raw, body),
      );
      // 422 from the pipeline, or 200 when the connector itself skips what it cannot carry
      // (the Meta parsers bound their ids since): never a 5xx, and the event is not queued.
      expect([200, 422], name).toContain(status);
      expect(await packetRows()).toBe(before);
    }
  });

  // A sweep rather than a sample: every string field of every real-shaped payload, one at a time,
  // holding a NUL character (PostgreSQL text refuses it) or 300 characters (past every id column).
  it("never answers 5xx when any one string field holds a NUL character or is too long", async () => {
    let requests = 0;
    for (const target of targets.filter((x) => !["form", "livechat"].includes(x.name))) {
      for (const sample of target.samples()) {
        for (const path of pathsOf(sample)) {
          const v = path.reduce<any>((o, k) => o?.[k], sample);
          if (typeof v !== "string") continue;
          for (const bad of [`${v}\u0000`, "9".repeat(300)]) {
            const body = setAt(sample, path, bad);
            const raw = Buffer.from(JSON.stringify(body));
            const before = await packetRows();
            const status = await post(
              target.name,
              { body: raw, contentType: "application/json", how: `${path.join(".")}` },
              await target.sign(raw, body),
            );
            requests++;
            if (status >= 500)
              console.log(
                `5xx on ${target.name} [${db.dialect}] at ${path.join(".")}`,
                (t.errors.at(-1) as { err?: Error })?.err?.message,
              );
            expect(status, `${target.name} ${path.join(".")}`).toBeLessThan(500);
            if (status >= 400) expect(await packetRows()).toBe(before);
          }
        }
      }
    }
    console.log(`webhook fuzzing [${db.dialect}]: string-field sweep, ${requests} requests`);
  });

  // Found by this fuzzer on PostgreSQL: a NUL character in a sender id (text columns refuse it).
  it("never answers 5xx to a verified message whose sender id holds a NUL character", async () => {
    const body = waBody({
      contacts: [{ profile: { name: "A" }, wa_id: "\u0000" }],
      messages: [
        { from: "\u0000", id: "wamid.NUL", timestamp: "1767607200", type: "text", text: { body: "hi" } },
      ],
    });
    const raw = Buffer.from(JSON.stringify(body));
    const target = targets.find((x) => x.name === "whatsapp") as Target;
    const before = await packetRows();
    const status = await post(
      "whatsapp",
      { body: raw, contentType: "application/json", how: "NUL" },
      await target.sign(raw, body),
    );
    if (status >= 500) console.log((t.errors.at(-1) as { err?: Error })?.err?.stack);
    expect(status).toBeLessThan(500);
    if (status >= 400) expect(await packetRows()).toBe(before);
  });

  it("answers an unknown, empty or hostile line hash with 4xx and queues nothing", async () => {
    const base = new URL(urls.get("telegram") as string);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.constantFrom("", "%", "%00", "a".repeat(5000))),
        async (hash) => {
          const before = await packetRows();
          const res = await fetch(`${base.origin}/webhook?line=${encodeURIComponent(hash)}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: "{}",
          });
          await res.arrayBuffer();
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(500);
          expect(await packetRows()).toBe(before);
        },
      ),
      { seed, numRuns: Math.ceil(RUNS / 2) },
    );
  });
});
