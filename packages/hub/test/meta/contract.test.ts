import { facebook } from "../../src/connectors/facebook/index.js";
import type { FacebookSettings } from "../../src/connectors/facebook/settings.js";
import { instagram } from "../../src/connectors/instagram/index.js";
import type { InstagramSettings } from "../../src/connectors/instagram/settings.js";
import { runConnectorContract } from "../../src/connectors/testing/contract-suite.js";
import { whatsapp } from "../../src/connectors/whatsapp/index.js";
import type { WhatsAppSettings } from "../../src/connectors/whatsapp/settings.js";
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
} from "./fake-graph.js";
import { CUSTOMER, fromUser, IGSID, PSID, pageBody, waMessage } from "./payloads.js";
import { signedRequest } from "./requests.js";

const meta = { appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN, graphVersion: "v21.0" };
const fakes: FakeGraph[] = [];
const start = async () => {
  const fake = await FakeGraph.start();
  fakes.push(fake);
  return { baseUrls: { graph: fake.url } };
};
const stop = async () => {
  await fakes.pop()?.close();
};

runConnectorContract<WhatsAppSettings>(whatsapp, {
  start,
  stop,
  settings: { phoneNumberId: PHONE_ID, accessToken: WA_TOKEN, businessAccountId: WABA_ID, ...meta },
  invalidSettings: [
    {},
    { ...meta, phoneNumberId: "abc", accessToken: WA_TOKEN },
    { ...meta, phoneNumberId: PHONE_ID, accessToken: "" },
    { phoneNumberId: PHONE_ID, accessToken: WA_TOKEN, appSecret: "short", verifyToken: VERIFY_TOKEN },
    { ...meta, phoneNumberId: PHONE_ID, accessToken: WA_TOKEN, graphVersion: "latest" },
  ],
  sampleWebhook: () =>
    signedRequest(waMessage({ id: "wamid.HBgLMTY1", type: "text", text: { body: "Hi, order 42?" } })),
  authHeaders: ["x-hub-signature-256"],
  chat: { id: CUSTOMER },
  accountId: PHONE_ID,
});

runConnectorContract<FacebookSettings>(facebook, {
  start,
  stop,
  settings: { pageId: PAGE_ID, pageAccessToken: PAGE_TOKEN, ...meta },
  invalidSettings: [
    {},
    { ...meta, pageId: PAGE_ID },
    { ...meta, pageId: "my-page", pageAccessToken: PAGE_TOKEN },
  ],
  sampleWebhook: () =>
    signedRequest(pageBody([fromUser({ message: { mid: "m_AbC123", text: "hello, world!" } })])),
  authHeaders: ["x-hub-signature-256"],
  chat: { id: PSID },
  accountId: PAGE_ID,
});

runConnectorContract<InstagramSettings>(instagram, {
  start,
  stop,
  settings: { accountId: IG_ID, accessToken: IG_TOKEN, ...meta },
  invalidSettings: [{}, { ...meta, accountId: IG_ID }, { accountId: IG_ID, accessToken: IG_TOKEN }],
  sampleWebhook: () =>
    signedRequest(
      pageBody([fromUser({ message: { mid: "aWdfZAG1", text: "hi" } }, IGSID, IG_ID)], "instagram", IG_ID),
    ),
  authHeaders: ["x-hub-signature-256"],
  chat: { id: IGSID },
  accountId: IG_ID,
});
