import { Packet, signedHeaders } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  catchUnhandled,
  fuzzRuns,
  fuzzSeed,
  type Mutated,
  mutated,
  pathsOf,
  setAt,
} from "../../../hub/test/fuzz/mutate.js";
import { packetSamples } from "../../../protocol/test/fuzz/samples.js";
import { type CorePortal, count, startCorePortal } from "../support/portal.js";

/**
 * The portal's `/connector/input` (its core modules on a real database) with random and mutated
 * deliveries, signed with the hub secret and not. Never a 5xx, no unhandled rejection; a request
 * refused for its signature stores nothing (taken packets, messages, contacts counted). A signed
 * delivery may be taken or refused packet by packet, but never crashes the input.
 */
const RUNS = fuzzRuns(150);
const WRONG = "whsec_d3JvbmctYnV0LXZhbGlkLXNlY3JldC0xMjM0NTY3OA==";

describeEachDialect("portal input fuzzing", (db) => {
  const seed = fuzzSeed();
  const unhandled = catchUnhandled();
  let portal: CorePortal;
  const statuses: Record<string, number> = {};

  beforeAll(async () => {
    console.log(`portal input fuzzing [${db.dialect}]: seed ${seed} (OPENLINES_FUZZ_SEED=${seed} to replay)`);
    portal = await startCorePortal(db.url());
  });
  afterAll(async () => {
    unhandled.stop();
    await portal?.close();
    console.log(`portal input fuzzing [${db.dialect}] answers: ${JSON.stringify(statuses)}`);
  });

  // Deliveries shaped as the hub sends them, one packet of each type, each with a fresh id.
  let n = 0;
  const deliveryArb = fc.constant(null).chain(() => {
    n++;
    const packets = Object.values(packetSamples).map((p) => ({
      ...p,
      portal: "portal-1",
      id: `fz-${n}-${p.type}`,
      data: { ...(p.data as object), chat: { id: `fz-chat-${n}` } },
    }));
    return mutated({ version: 1, portal: "portal-1", line: "line-1", packets });
  });

  async function post(m: Mutated, sign: "good" | "bad" | "none") {
    const headers: Record<string, string> = {};
    if (m.contentType) headers["content-type"] = m.contentType;
    if (sign !== "none")
      Object.assign(
        headers,
        signedHeaders(sign === "good" ? portal.hub.secret : WRONG, m.body, portal.clock.now()),
      );
    const res = await portal.app.inject({
      method: "POST",
      url: "/connector/input",
      headers,
      payload: m.body,
    });
    const key = `${sign} ${res.statusCode}`;
    statuses[key] = (statuses[key] ?? 0) + 1;
    if (res.statusCode >= 500) console.log(`5xx from /connector/input: ${m.how}: ${res.body.slice(0, 300)}`);
    return res.statusCode;
  }

  const stored = async () => ({
    taken: await count(portal.ctx, "taken_packet"),
    messages: await count(portal.ctx, "message"),
    contacts: await count(portal.ctx, "contact"),
    chats: await count(portal.ctx, "chat"),
  });

  it("answers signed random and mutated deliveries without a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(deliveryArb, async (m) => {
        expect(await post(m, "good"), m.how).toBeLessThan(500);
      }),
      { seed, numRuns: RUNS },
    );
    expect(unhandled.caught).toEqual([]);
  });

  // Found by fuzzing on PostgreSQL: a NUL character in a message's text (or any string) made the
  // packet impossible to take, so the hub redelivered it, blocking its line until it expired.
  it("takes a packet whatever string field holds a NUL character", async () => {
    let k = 0;
    for (const sample of Object.values(packetSamples)) {
      for (const path of pathsOf(sample)) {
        const v = path.reduce<any>((o, key) => o?.[key], sample);
        if (typeof v !== "string" || path[0] === "id") continue;
        const id = `nul-${++k}`;
        const packet = setAt({ ...sample, portal: "portal-1", id }, path, `${v}\u0000x`);
        const res = await portal.deliver([packet]);
        expect(res.status, path.join(".")).toBe(200);
        expect(res.body.taken, `${sample.type} ${path.join(".")}`).toEqual([id]);
      }
    }
    expect(k).toBeGreaterThan(30);
  });

  // A packet the schema accepts must be takeable: otherwise the hub redelivers it until it expires,
  // blocking its line. Each string field in turn gets the longest value the exchange format allows.
  it("takes a packet whatever string field is as long as the exchange format allows", async () => {
    const lengths = [100_000, 4096, 2000, 1024, 512, 320, 256, 128, 64, 35, 32];
    let k = 0;
    const refused: string[] = [];
    for (const sample of Object.values(packetSamples)) {
      for (const path of pathsOf(sample)) {
        const v = path.reduce<any>((o, key) => o?.[key], sample);
        // `line` is the portal's own line id, which the hub only echoes (and the portal's ids are
        // short): a 256-character line cannot come from a portal that named its lines itself.
        if (typeof v !== "string" || ["id", "type", "portal", "line"].includes(String(path[0]))) continue;
        const id = `long-${++k}`;
        const packet = lengths
          .map((n) => setAt({ ...sample, portal: "portal-1", id }, path, "é".repeat(n)))
          .find((p) => Packet.safeParse(p).success);
        if (!packet) continue; // a URL, an enum: no long value is valid
        const res = await portal.deliver([packet]);
        expect(res.status, path.join(".")).toBe(200);
        if (!res.body.taken.includes(id)) refused.push(`${sample.type} ${path.join(".")}`);
      }
    }
    expect(refused).toEqual([]);
  });

  it("refuses unsigned and wrongly signed deliveries with a 4xx and stores nothing", async () => {
    await fc.assert(
      fc.asyncProperty(deliveryArb, fc.constantFrom("bad", "none" as const), async (m, sign) => {
        const before = await stored();
        const status = await post(m, sign);
        expect(status, m.how).toBeGreaterThanOrEqual(400);
        expect(status, m.how).toBeLessThan(500);
        expect(await stored()).toEqual(before);
      }),
      { seed, numRuns: RUNS },
    );
    expect(unhandled.caught).toEqual([]);
  });
});
