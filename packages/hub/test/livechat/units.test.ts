import { ManualClock } from "@openlines/protocol";
import { describe, expect, it } from "vitest";
import { RateLimiter } from "../../src/connectors/livechat/rate-limit.js";
import { LivechatSettings, originAllowed } from "../../src/connectors/livechat/settings.js";
import { issueToken, newTokenKey, newVisitorId, verifyToken } from "../../src/connectors/livechat/tokens.js";

describe("visitor tokens", () => {
  it("name the visitor they were issued for, on that line only", () => {
    const key = newTokenKey();
    const v = newVisitorId();
    const t = issueToken(key, "line-1", v);
    expect(verifyToken(key, "line-1", t)).toBe(v);
    expect(verifyToken(key, "line-2", t)).toBeUndefined();
    expect(verifyToken(newTokenKey(), "line-1", t)).toBeUndefined();
  });

  it("cannot be turned into another visitor's token", () => {
    const key = newTokenKey();
    const t = issueToken(key, "l", newVisitorId());
    const [, , mac] = t.split(".");
    expect(verifyToken(key, "l", `v1.${newVisitorId()}.${mac}`)).toBeUndefined();
    expect(verifyToken(key, "l", `${t}x`)).toBeUndefined();
    expect(verifyToken(key, "l", "")).toBeUndefined();
  });
});

describe("rate limiter", () => {
  it("allows a burst of the capacity, then refills evenly over the period", () => {
    const clock = new ManualClock();
    const rl = new RateLimiter(clock);
    const take = () => rl.take("k", 3, 60_000);
    expect([take(), take(), take(), take()]).toEqual([true, true, true, false]);
    clock.advance(20_000);
    expect([take(), take()]).toEqual([true, false]);
    expect(rl.take("other", 3, 60_000)).toBe(true);
  });

  it("forgets the oldest key past its cap", () => {
    const clock = new ManualClock();
    const rl = new RateLimiter(clock, { maxKeys: 2 });
    expect(rl.take("a", 1, 1000)).toBe(true);
    rl.take("b", 1, 1000);
    rl.take("c", 1, 1000);
    expect(rl.take("a", 1, 1000)).toBe(true); // a was forgotten: a full bucket again
    expect(rl.take("c", 1, 1000)).toBe(false);
  });
});

describe("live chat settings", () => {
  it("need at least one allowed site and fill in the defaults", () => {
    expect(LivechatSettings.safeParse({}).success).toBe(false);
    expect(LivechatSettings.safeParse({ allowedOrigins: ["shop.example.com"] }).success).toBe(false);
    expect(LivechatSettings.safeParse({ allowedOrigins: ["*"], color: "blue" }).success).toBe(false);
    expect(LivechatSettings.parse({ allowedOrigins: ["https://Shop.example.com"] })).toMatchObject({
      allowedOrigins: ["https://shop.example.com"],
      visitorMessagesPerMinute: 20,
      maxUploadBytes: 10 * 1024 * 1024,
    });
  });

  it("allow only the listed origins, or any with *", () => {
    expect(originAllowed({ allowedOrigins: ["https://a.example"] }, "https://a.example")).toBe(true);
    expect(originAllowed({ allowedOrigins: ["https://a.example"] }, "https://b.example")).toBe(false);
    expect(originAllowed({ allowedOrigins: ["https://a.example"] }, undefined)).toBe(false);
    expect(originAllowed({ allowedOrigins: ["*"] }, undefined)).toBe(true);
  });
});
