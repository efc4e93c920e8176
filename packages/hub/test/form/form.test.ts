import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PlatformError } from "../../src/connectors/contract.js";
import { form } from "../../src/connectors/form/index.js";
import { FormSettings } from "../../src/connectors/form/settings.js";
import { userIdOf, validateSubmission } from "../../src/connectors/form/submission.js";
import { type Harness, startHarness } from "../livechat/harness.js";

const ORIGIN = "https://shop.example.com";

describe("site form connector", () => {
  let h: Harness;
  let line: ReturnType<Harness["addLine"]>;

  beforeAll(async () => {
    h = await startHarness(form);
    line = h.addLine("f1", { allowedOrigins: [ORIGIN], submissionsPerIpPerHour: 5 });
    h.addLine("f2", {
      allowedOrigins: [ORIGIN],
      successRedirectUrl: "https://shop.example.com/thanks",
      requiredFields: ["name", "text"],
    });
    h.addLine("f3", { allowedOrigins: ["*"], submissionsPerIpPerHour: 2 });
  });
  afterAll(async () => h?.close());

  const post = (hash: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${h.base}/form/submit?line=${hash}`, {
      method: "POST",
      redirect: "manual",
      headers: {
        origin: ORIGIN,
        referer: `${ORIGIN}/contact`,
        "content-type": "application/x-www-form-urlencoded",
        ...headers,
      },
      body: new URLSearchParams(body).toString(),
    });
  const messages = () => h.events.filter((e) => e.event.type === "messages").map((e) => e.event);

  it("turns an urlencoded submission into a message from a user known by email, with the profile", async () => {
    const r = await post("f1", {
      name: "Bob",
      email: "Bob@Example.com",
      phone: "+1 555 0100",
      text: "Call me",
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true });
    const [m] = messages();
    if (m?.type !== "messages") throw new Error("no message");
    expect(m.data.user).toEqual({
      id: userIdOf(line.ctx.line.id, { email: "bob@example.com" }),
      name: "Bob",
      email: "Bob@Example.com",
      phone: "+1 555 0100",
      pageUrl: `${ORIGIN}/contact`,
    });
    expect(m.data.chat.id).toBe(m.data.user.id);
    expect(m.data.message.text).toBe("Call me");
  });

  it("gives the same person the same user id across submissions, JSON or urlencoded", async () => {
    const before = messages().length;
    const r = await fetch(`${h.base}/form/submit?line=f1`, {
      method: "POST",
      headers: { origin: ORIGIN, "content-type": "application/json" },
      body: JSON.stringify({ email: "bob@example.com", text: "again" }),
    });
    expect(r.status).toBe(200);
    const all = messages();
    expect(all).toHaveLength(before + 1);
    expect((all[all.length - 1].data as any).user.id).toBe((all[0].data as any).user.id);
    expect(userIdOf("x", { phone: "+1 (555) 0100" })).toBe(userIdOf("x", { phone: "+15550100" }));
  });

  it("queues a double submission within a minute under one dedup key", async () => {
    const body = { email: "twice@example.com", text: "double click" };
    expect((await post("f1", body)).status).toBe(200);
    expect((await post("f1", body)).status).toBe(200);
    const keys = messages()
      .filter((m) => (m.data as any).message.text === "double click")
      .map((m) => m.dedupKey);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBeTruthy();
    expect(keys[1]).toBe(keys[0]);
  });

  it("answers a filled honeypot with success and queues nothing", async () => {
    const before = h.events.length;
    const r = await post("f1", { email: "bot@spam.example", text: "buy", website: "http://spam.example" });
    expect(r.status).toBe(200);
    expect(h.events.length).toBe(before);
  });

  it("answers missing or wrong fields with 422 and the errors by field", async () => {
    const before = h.events.length;
    const r = await post("f2", { email: "not-an-email", text: "" });
    expect(r.status).toBe(422);
    const body = (await r.json()) as any;
    expect(body.error.code).toBe("VALIDATION_FAILED");
    expect(body.error.details.fields).toEqual({
      email: "is not an email address",
      name: "is required",
      text: "is required",
    });
    expect(validateSubmission({ text: "hi" }, { requiredFields: ["text"] })).toEqual({
      ok: false,
      fields: { email: "an email or a phone number is required" },
    });
    expect(h.events.length).toBe(before);
  });

  it("redirects the browser with 303 when a success page is configured", async () => {
    const r = await post("f2", { name: "Cy", phone: "+44 20 7946 0000", text: "Hello" });
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("https://shop.example.com/thanks");
  });

  it("refuses a post from a site that is not allowed and an unknown line", async () => {
    const before = h.events.length;
    const r = await post(
      "f1",
      { email: "a@b.co", text: "x" },
      { origin: "https://evil.example", referer: "" },
    );
    expect(r.status).toBe(403);
    expect((await post("nope", { email: "a@b.co", text: "x" })).status).toBe(404);
    expect(h.events.length).toBe(before);
  });

  it("limits submissions per IP address", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await post("f3", { email: `p${i}@b.co`, text: "x" })).status);
    expect(codes).toEqual([200, 200, 429]);
    h.clock.advance(3600_000);
    expect((await post("f3", { email: "p9@b.co", text: "x" })).status).toBe(200);
  });

  it("refuses to send a reply with a reason an operator understands", async () => {
    const err = await line.connector
      .send({ id: "m1", chat: { id: "form_x" }, text: "hi", files: [], connector: "form" })
      .catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/cannot receive replies; answer by email/);
  });

  it("validates its settings", () => {
    expect(FormSettings.safeParse({ allowedOrigins: [] }).success).toBe(false);
    expect(FormSettings.safeParse({ allowedOrigins: ["https://a.example/path"] }).success).toBe(false);
    expect(
      FormSettings.safeParse({ allowedOrigins: ["https://a.example"], successRedirectUrl: "nope" }).success,
    ).toBe(false);
    expect(FormSettings.parse({ allowedOrigins: ["HTTPS://A.example"] })).toMatchObject({
      allowedOrigins: ["https://a.example"],
      requiredFields: ["text"],
    });
  });
});
