import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadHubConfig } from "../../src/config.js";

describe("hub settings from the environment", () => {
  it("needs a key outside development and names the setting", () => {
    expect(() => loadHubConfig({})).toThrow(/OPENLINES_HUB_KEY/);
  });

  it("generates a development key once and keeps it in a file", () => {
    const file = join(mkdtempSync(join(tmpdir(), "hub-key-")), "hub.key");
    const a = loadHubConfig({ OPENLINES_HUB_KEY_FILE: file }, { dev: true });
    const b = loadHubConfig({ OPENLINES_HUB_KEY_FILE: file }, { dev: true });
    expect(a.key.length).toBeGreaterThanOrEqual(32);
    expect(b.key).toBe(a.key);
    expect(readFileSync(file, "utf8").trim()).toBe(a.key);
  });

  it("reads the queue's schedule and limits, and refuses a malformed schedule", () => {
    const c = loadHubConfig({
      OPENLINES_HUB_KEY: "k".repeat(32),
      OPENLINES_HUB_QUEUE_BLOCKS_MS: "1000, 2000,4000",
      OPENLINES_HUB_QUEUE_FINAL_BLOCK_MS: "60000",
      OPENLINES_HUB_QUEUE_EXPIRE_AFTER_MS: "120000",
      OPENLINES_HUB_QUEUE_BATCH_MAX_PACKETS: "50",
      OPENLINES_HUB_QUEUE_CONCURRENCY: "8",
      OPENLINES_HUB_QUEUE_LINGER_MS: "0",
    });
    expect(c.queue).toMatchObject({
      schedule: { blocksMs: [1000, 2000, 4000], finalBlockMs: 60000, expireAfterMs: 120000 },
      batchMaxPackets: 50,
      concurrency: 8,
      lingerMs: 0,
    });
    expect(c.queue.ackDeadlineMs).toBeUndefined();
    expect(() =>
      loadHubConfig({ OPENLINES_HUB_KEY: "k".repeat(32), OPENLINES_HUB_QUEUE_BLOCKS_MS: "1000,soon" }),
    ).toThrow(/OPENLINES_HUB_QUEUE_BLOCKS_MS/);
  });

  it("reads the database, URLs, limits and platform base URL overrides", () => {
    const c = loadHubConfig({
      OPENLINES_HUB_KEY: "k".repeat(32),
      OPENLINES_HUB_DATABASE_URL: "postgres://db/hub",
      OPENLINES_HUB_PUBLIC_URL: "https://hub.example.com/",
      OPENLINES_HUB_ADMIN_TOKEN: "t",
      OPENLINES_HUB_BODY_LIMIT_BYTES: "2048",
      OPENLINES_BASEURL_TELEGRAM: "http://127.0.0.1:9000",
      OPENLINES_BASEURL_BOTFRAMEWORK_LOGIN: "http://127.0.0.1:9001",
      OPENLINES_BASEURL_BOTFRAMEWORK_OPEN_ID: "http://127.0.0.1:9002",
    });
    expect(c).toMatchObject({
      databaseUrl: "postgres://db/hub",
      publicUrl: "https://hub.example.com",
      adminToken: "t",
      bodyLimitBytes: 2048,
      baseUrls: {
        telegram: { api: "http://127.0.0.1:9000" },
        botframework: { login: "http://127.0.0.1:9001", openId: "http://127.0.0.1:9002" },
      },
    });
    expect(loadHubConfig({ OPENLINES_HUB_KEY: "k".repeat(32) }).databaseUrl).toBe("sqlite:./data/hub.db");
    expect(() =>
      loadHubConfig({ OPENLINES_HUB_KEY: "k".repeat(32), OPENLINES_HUB_BODY_LIMIT_BYTES: "lots" }),
    ).toThrow(/OPENLINES_HUB_BODY_LIMIT_BYTES/);
  });
});
