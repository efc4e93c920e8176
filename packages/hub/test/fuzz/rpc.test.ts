import { Calls, PORTAL_HEADER, signedHeaders, systemClock } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { callNames, callSamples } from "../../../protocol/test/fuzz/samples.js";
import { startTestHub, type TestHub } from "../support/hub-harness.js";
import { catchUnhandled, fuzzRuns, fuzzSeed, type Mutated, mutated, pathsOf, setAt } from "./mutate.js";

/**
 * The portal-facing entry `POST /rpc/:method` of a real hub (real queue, echo connector with a
 * configured and active line) with random and existing method names, and random or mutated
 * argument bodies, signed with the portal's secret and not. Never a 5xx, no unhandled rejection;
 * an unsigned or wrongly signed call changes nothing (outbox and packet rows counted).
 */
const RUNS = fuzzRuns(150);

describeEachDialect("RPC entry fuzzing", (db) => {
  const seed = fuzzSeed();
  const unhandled = catchUnhandled();
  let t: TestHub;
  let secret = "";
  const statuses: Record<string, number> = {};

  beforeAll(async () => {
    console.log(`RPC fuzzing [${db.dialect}]: seed ${seed} (OPENLINES_FUZZ_SEED=${seed} to replay)`);
    t = await startTestHub(db.url(), { queue: "real", clock: systemClock });
    const p = await t.addPortal("p1");
    secret = p.secret;
    t.platform.addBot("token-fuzz", "bot-fuzz");
    // The samples name line "support" with connector "telegram"; this line makes echo calls real.
    await p.rpc.saveSettings({
      line: "support",
      connector: "echo",
      settings: { token: "token-fuzz", secret: "echo-secret-1" },
    });
    await p.rpc.activate({ line: "support", connector: "echo" });
  });
  afterAll(async () => {
    unhandled.stop();
    await t?.close();
    console.log(`RPC fuzzing [${db.dialect}] answers: ${JSON.stringify(statuses)}`);
  });

  const methodArb = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...callNames) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.constantFrom(
          "__proto__",
          "constructor",
          "toString",
          "hasOwnProperty",
          "..%2F..%2Fadmin",
          "%00",
          "x".repeat(3000),
        ),
      ),
    },
  );
  // A body for the method: a mutation of its sample (the echo line half the time), or of another's.
  const bodyArb = methodArb.chain((method) => {
    const own = Object.hasOwn(callSamples, method);
    const sample = own
      ? (callSamples as Record<string, Record<string, unknown>>)[method]
      : callSamples.status;
    const echo = "connector" in sample ? { ...sample, connector: "echo" } : sample;
    return fc.tuple(fc.constant(method), fc.oneof(mutated(echo), mutated(sample)));
  });

  async function call(method: string, m: Mutated, sign: "good" | "bad" | "none" | "other-portal") {
    const headers: Record<string, string> = {};
    if (m.contentType) headers["content-type"] = m.contentType;
    if (sign !== "none") {
      headers[PORTAL_HEADER] = sign === "other-portal" ? "nobody" : "p1";
      Object.assign(
        headers,
        signedHeaders(
          sign === "bad" ? "whsec_d3JvbmctYnV0LXZhbGlkLXNlY3JldC0xMjM0NTY3OA==" : secret,
          m.body,
          Date.now(),
        ),
      );
    }
    const res = await fetch(`${t.url}/rpc/${encodeURIComponent(method)}`, {
      method: "POST",
      headers,
      body: new Uint8Array(m.body),
    });
    const text = await res.text();
    const key = `${sign} ${res.status}`;
    statuses[key] = (statuses[key] ?? 0) + 1;
    if (res.status >= 500)
      console.log(`5xx from /rpc/${method.slice(0, 40)}: ${text.slice(0, 300)}`, t.errors.at(-1));
    return res.status;
  }

  const rows = async () => ({ packet: await t.count("packet"), outbox: await t.count("outbox") });

  it("answers signed calls with random methods and mutated arguments without a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, async ([method, m]) => {
        const status = await call(method, m, "good");
        expect(status, `${method}: ${m.how}`).toBeLessThan(500);
        // Checked in order: signature, replay, JSON (400), then the method (404).
        if (!Object.hasOwn(Calls, method)) expect([400, 404, 413, 414]).toContain(status);
      }),
      { seed, numRuns: RUNS },
    );
    expect(unhandled.caught).toEqual([]);
  });

  // A sweep: every string field of every call's sample (on the echo line), one at a time, holding a
  // NUL character (PostgreSQL text refuses it) or 300 characters (past every id column).
  it("never answers 5xx when any one string argument holds a NUL character or is too long", async () => {
    let requests = 0;
    for (const method of callNames) {
      const sample = callSamples[method];
      const echo = "connector" in sample ? { ...sample, connector: "echo" } : sample;
      for (const path of pathsOf(echo)) {
        const v = path.reduce<any>((o, k) => o?.[k], echo);
        if (typeof v !== "string") continue;
        for (const bad of [`${v}\u0000`, "9".repeat(300)]) {
          const body = Buffer.from(JSON.stringify(setAt(echo, path, bad)));
          const status = await call(
            method,
            { body, contentType: "application/json", how: path.join(".") },
            "good",
          );
          requests++;
          expect(status, `${method} ${path.join(".")}`).toBeLessThan(500);
        }
      }
    }
    console.log(`RPC fuzzing [${db.dialect}]: string-argument sweep, ${requests} calls`);
  });

  it("refuses unsigned, wrongly signed and unknown-portal calls with a 4xx and changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        bodyArb,
        fc.constantFrom("bad", "none", "other-portal" as const),
        async ([method, m], sign) => {
          const before = await rows();
          const status = await call(method, m, sign);
          expect(status, `${method}: ${m.how}`).toBeGreaterThanOrEqual(400);
          expect(status).toBeLessThan(500);
          expect(await rows()).toEqual(before);
        },
      ),
      { seed, numRuns: RUNS },
    );
    expect(unhandled.caught).toEqual([]);
  });
});
