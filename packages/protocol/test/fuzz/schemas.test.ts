import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ZodType, z } from "zod";
import { fuzzRuns, fuzzSeed, mutatedValue, setAt } from "../../../hub/test/fuzz/mutate.js";
import { Calls } from "../../src/calls.js";
import { DeliveryRequest, DeliveryResponse, Packet } from "../../src/format.js";
import { callNames, callSamples, packetSamples } from "./samples.js";

/**
 * Schema fuzzing: every packet schema and every call's argument schema, fed random values and
 * mutations of a valid, fully populated sample. `safeParse` never throws and `parse` throws nothing
 * but a ZodError (no TypeError, no stack overflow escaping as something else), and a sample missing
 * any required field is refused. The markup parser and printer have their own properties in
 * `markup.test.ts`. `OPENLINES_FUZZ_SEED` replays a run.
 */
const seed = fuzzSeed();
const RUNS = fuzzRuns(300);
console.log(`schema fuzzing: seed ${seed} (OPENLINES_FUZZ_SEED=${seed} to replay)`);

type Any = ZodType & { def: { type: string; [k: string]: unknown } };

/** The schema inside optional/default/nullable/pipe wrappers. */
function unwrap(s: Any): Any {
  const d = s.def as { type: string; innerType?: Any; in?: Any };
  if (["optional", "default", "nullable", "prefault", "readonly", "catch"].includes(d.type) && d.innerType)
    return unwrap(d.innerType);
  if (d.type === "pipe" && d.in) return unwrap(d.in);
  return s;
}

/**
 * The paths of `value` that `schema` requires: a field is required when its schema refuses
 * `undefined` (so optional and defaulted fields are not). Unions follow the option that accepts
 * the value.
 */
export function requiredPaths(
  schema: Any,
  value: unknown,
  at: (string | number)[] = [],
): (string | number)[][] {
  const s = unwrap(schema);
  const d = s.def as { type: string; shape?: Record<string, Any>; element?: Any; options?: Any[] };
  const out: (string | number)[][] = [];
  if (d.type === "object" && value && typeof value === "object") {
    const shape = (s as unknown as { shape: Record<string, Any> }).shape;
    for (const [key, field] of Object.entries(shape)) {
      const v = (value as Record<string, unknown>)[key];
      // Listed even when absent: an accepted value must have every one of these.
      if (!field.safeParse(undefined).success) out.push([...at, key]);
      if (v !== undefined) out.push(...requiredPaths(field, v, [...at, key]));
    }
  } else if (d.type === "array" && Array.isArray(value) && d.element) {
    value.forEach((v, i) => {
      out.push(...requiredPaths(d.element as Any, v, [...at, i]));
    });
  } else if (d.type === "union" && d.options) {
    const option = d.options.find((o) => o.safeParse(value).success);
    if (option) out.push(...requiredPaths(option, value, at));
  }
  return out;
}

function has(value: unknown, path: (string | number)[]): boolean {
  let cur = value;
  for (const key of path) {
    if (!cur || typeof cur !== "object" || !(key in cur)) return false;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur !== undefined;
}

/** parse() may throw only a ZodError. */
function parsesOrZodError(schema: ZodType, value: unknown): boolean {
  try {
    schema.parse(value);
    return true;
  } catch (e) {
    if (!(e instanceof z.ZodError)) throw e;
    return false;
  }
}

const schemas: { name: string; schema: Any; sample: Record<string, unknown> }[] = [
  ...Object.entries(packetSamples).map(([type, sample]) => ({
    name: `packet ${type}`,
    schema: Packet as unknown as Any,
    sample,
  })),
  ...callNames.map((name) => ({
    name: `call ${name}`,
    schema: Calls[name].args as unknown as Any,
    sample: callSamples[name],
  })),
  {
    name: "delivery request",
    schema: DeliveryRequest as unknown as Any,
    sample: { version: 1, portal: "P1", line: "L1", packets: Object.values(packetSamples) },
  },
];

describe("schema fuzzing", () => {
  it("has a valid sample for every packet type and every call", () => {
    expect(Object.keys(callSamples).sort()).toEqual([...callNames].sort());
    for (const { name, schema, sample } of schemas) expect(schema.safeParse(sample).success, name).toBe(true);
  });

  for (const { name, schema, sample } of schemas) {
    // status, connectors, deadLetters and redrive take only optional arguments.
    const required = requiredPaths(schema, sample);
    if (required.length > 0) {
      it(`${name}: refuses the sample without any one of its required fields`, () => {
        for (const path of required) {
          const without = setAt(sample, path, undefined);
          expect(schema.safeParse(without).success, `accepted without ${path.join(".")}`).toBe(false);
          expect(parsesOrZodError(schema, without)).toBe(false);
        }
      });
    }

    it(`${name}: mutated samples get a result or a ZodError, never another exception`, () => {
      fc.assert(
        fc.property(mutatedValue(sample), ({ value, how }) => {
          const safe = schema.safeParse(value);
          expect(parsesOrZodError(schema, value), how).toBe(safe.success);
          // Whatever it accepted holds every field its schema requires.
          if (safe.success) {
            for (const path of requiredPaths(schema, value)) expect(has(value, path), how).toBe(true);
          }
        }),
        { seed, numRuns: RUNS },
      );
    });

    it(`${name}: random values never throw anything but a ZodError`, () => {
      fc.assert(
        fc.property(
          fc.anything({ maxDepth: 4, withNullPrototype: true, withBigInt: true, withDate: true }),
          (v) => {
            const safe = schema.safeParse(v);
            expect(parsesOrZodError(schema, v)).toBe(safe.success);
          },
        ),
        { seed, numRuns: Math.ceil(RUNS / 3) },
      );
    });
  }

  it("delivery responses: random values never throw anything but a ZodError", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything({ maxDepth: 3 }), fc.record({ taken: fc.array(fc.anything()) })),
        (v) => {
          expect(parsesOrZodError(DeliveryResponse, v)).toBe(DeliveryResponse.safeParse(v).success);
        },
      ),
      { seed, numRuns: RUNS },
    );
  });

  it("a packet nested thousands of levels deep is refused with a ZodError", () => {
    let extra: unknown = "x";
    for (let i = 0; i < 5000; i++) extra = { a: extra };
    const sample = packetSamples.messages as { data: { message: Record<string, unknown> } };
    const deep = setAt(sample, ["data", "message", "extra"], { deep: extra });
    // `extra` is an open record: deep nesting inside it is accepted as data, and parses without a crash.
    expect(parsesOrZodError(Packet, deep)).toBe(true);
    const deepId = setAt(sample, ["data", "chat"], extra);
    expect(parsesOrZodError(Packet, deepId)).toBe(false);
  });
});
