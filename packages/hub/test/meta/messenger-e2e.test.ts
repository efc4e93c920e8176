import { generateSecret, ManualClock, type Packet } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { facebook } from "../../src/connectors/facebook/index.js";
import { instagram } from "../../src/connectors/instagram/index.js";
import { type PortalRpc, startTestHub, type TestHub } from "../support/hub-harness.js";
import { type PortalStub, startPortalStub } from "../support/portal-stub.js";
import { APP_SECRET, FakeGraph, IG_ID, IG_TOKEN, PAGE_ID, PAGE_TOKEN, VERIFY_TOKEN } from "./fake-graph.js";
import { fromUser, IGSID, PSID, pageBody, T0 } from "./payloads.js";

/** Messenger and Instagram through a real hub to the portal stub, against the fake Graph API. */
describeEachDialect("Messenger and Instagram end to end through the hub", (db) => {
  let fake: FakeGraph;
  let stub: PortalStub;
  let t: TestHub;
  let rpc: PortalRpc;
  const urls: Record<string, string> = {};
  const clock = new ManualClock(Date.now());
  const fb = { line: "social", connector: "facebook" };
  const ig = { line: "social", connector: "instagram" };
  const packets = () => stub.requests.flatMap((r) => r.body.packets) as Packet[];
  const post = (connector: string, body: unknown) => FakeGraph.post(urls[connector], JSON.stringify(body));

  beforeAll(async () => {
    fake = await FakeGraph.start();
    fake.profiles.set(PSID, {
      first_name: "Bob",
      last_name: "Stone",
      profile_pic: "https://scontent.example/b.jpg",
    });
    const secret = generateSecret();
    stub = await startPortalStub({ secret, now: () => clock.now() });
    t = await startTestHub(db.url(), {
      clock,
      queue: "real",
      connectors: [facebook, instagram],
      config: { baseUrls: { facebook: { graph: fake.url }, instagram: { graph: fake.url } } },
    });
    rpc = (await t.addPortal("p1", stub.url, secret)).rpc;
    const meta = { appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN };
    urls.facebook = (
      await rpc.saveSettings({ ...fb, settings: { pageId: PAGE_ID, pageAccessToken: PAGE_TOKEN, ...meta } })
    ).webhookUrl;
    urls.instagram = (
      await rpc.saveSettings({ ...ig, settings: { accountId: IG_ID, accessToken: IG_TOKEN, ...meta } })
    ).webhookUrl;
    await rpc.activate(fb);
    await rpc.activate(ig);
  });
  afterAll(async () => {
    await t?.close();
    await stub?.close();
    await fake?.close();
  });

  it("brings a Messenger customer's messages with a name fetched once; echoes stay out", async () => {
    expect(fake.callsTo("POST", `${PAGE_ID}/subscribed_apps`)).toHaveLength(1);
    const res = await post(
      "facebook",
      pageBody([fromUser({ message: { mid: "m_IN1", text: "Is my order late?" } })]),
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("EVENT_RECEIVED");
    await post(
      "facebook",
      pageBody([
        {
          sender: { id: PAGE_ID },
          recipient: { id: PSID },
          timestamp: T0 * 1000,
          message: { mid: "m_ECHO", is_echo: true, text: "x" },
        },
        fromUser({ message: { mid: "m_IN2", text: "Hello?" } }),
      ]),
    );
    await stub.waitFor(() => packets().some((p) => p.type === "messages" && p.data.message.id === "m_IN2"));
    const messages = packets().flatMap((p) => (p.type === "messages" ? [p.data] : []));
    expect(messages.map((m) => m.message.id)).toEqual(["m_IN1", "m_IN2"]);
    expect(messages[0].user).toMatchObject({
      id: PSID,
      name: "Bob Stone",
      avatarUrl: "https://scontent.example/b.jpg",
    });
    expect(messages[1].user.name).toBe("Bob Stone");
    expect(fake.callsTo("GET", PSID)).toHaveLength(1);
  });

  it("replies as RESPONSE; delivery and read watermark reach the portal", async () => {
    await rpc.sendMessages({
      ...fb,
      messages: [{ id: "op-1", chat: { id: PSID }, text: "[b]Not late[/b], it ships today" }],
    });
    await stub.waitFor(() =>
      packets().some((p) => p.type === "deliveryStatus" && p.data.messageId === "op-1"),
    );
    const [send] = fake.callsTo("POST", "me/messages");
    expect(send.body).toEqual({
      recipient: { id: PSID },
      messaging_type: "RESPONSE",
      message: { text: "Not late, it ships today" },
    });
    const mid = (send.answer as { message_id: string }).message_id;
    await post("facebook", pageBody([fromUser({ delivery: { mids: [mid], watermark: clock.now() } })]));
    await post("facebook", pageBody([fromUser({ read: { watermark: clock.now() + 1 } })]));
    await stub.waitFor(() => packets().some((p) => p.type === "readStatus"));
    const statuses = packets().flatMap((p) =>
      p.type === "deliveryStatus" ? [p.data.status] : p.type === "readStatus" ? ["read"] : [],
    );
    expect(statuses).toEqual(["sent", "delivered", "read"]);
  });

  it("brings an Instagram story mention with its link", async () => {
    await post(
      "instagram",
      pageBody(
        [
          fromUser(
            {
              message: {
                mid: "aWdf1",
                attachments: [
                  { type: "story_mention", payload: { url: "https://lookaside.fbsbx.com/ig/1" } },
                ],
              },
            },
            IGSID,
            IG_ID,
          ),
        ],
        "instagram",
        IG_ID,
      ),
    );
    await stub.waitFor(() => packets().some((p) => p.type === "messages" && p.connector === "instagram"));
    const m = packets().find((p) => p.type === "messages" && p.connector === "instagram");
    expect(m?.data).toMatchObject({
      user: { id: IGSID },
      message: { text: "📣 Mentioned you in their story: [url]https://lookaside.fbsbx.com/ig/1[/url]" },
    });
  });
});
