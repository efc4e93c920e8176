import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@openlines/store/testing";
import { createLivechat } from "../../src/connectors/livechat/index.js";
import { LivechatSettings } from "../../src/connectors/livechat/settings.js";
import { LivechatStore } from "../../src/connectors/livechat/store.js";
import { runConnectorContract } from "../../src/connectors/testing/contract-suite.js";
import { type Harness, startHarness } from "./harness.js";

/**
 * The shared connector contract for the live chat. Its "platform" is the hub itself: the fake is
 * the live chat's own routes and store, with one visitor to send to.
 */
const definition = createLivechat({ uploadDir: mkdtempSync(join(tmpdir(), "lc-contract-")) });
const VISITOR = "v_contract-visitor";
let database: TestDatabase;
let harness: Harness;

runConnectorContract(definition, {
  async start() {
    database = await createTestDatabase("sqlite");
    harness = await startHarness(definition, { url: database.url });
    const db = harness.database;
    if (!db) throw new Error("no database");
    // the contract context's line connector id, with one visitor to send to
    await new LivechatStore(db.db, db.dialect, harness.clock).createVisitor("lc_contract", VISITOR, {});
    return { baseUrls: {} };
  },
  async stop() {
    await harness?.close();
    await database?.drop();
  },
  settings: LivechatSettings.parse({ allowedOrigins: ["https://shop.example.com"] }),
  invalidSettings: [
    {},
    { allowedOrigins: [] },
    { allowedOrigins: ["https://shop.example.com/page"] },
    { allowedOrigins: ["*"], color: "red" },
    { allowedOrigins: ["*"], visitorMessagesPerMinute: 0 },
  ],
  chat: { id: VISITOR },
  accountId: "lc_contract",
});
