import fc from "fast-check";

/**
 * Fuzzing helpers shared by the hub, portal and protocol fuzz tests: real-shaped samples mutated
 * the ways hostile or broken senders mutate them (a field dropped, a wrong type, a huge string,
 * deep nesting, a flipped byte, invalid UTF-8, a wrong content type), and a printable seed.
 */

/** The seed of a fuzz run: `OPENLINES_FUZZ_SEED` to replay one, else random; printed by the caller. */
export function fuzzSeed(): number {
  const s = process.env.OPENLINES_FUZZ_SEED;
  return s ? Number(s) : Math.floor(Math.random() * 2 ** 31);
}

/** Runs per property: `OPENLINES_FUZZ_RUNS`, else `fallback`. */
export function fuzzRuns(fallback: number): number {
  return Number(process.env.OPENLINES_FUZZ_RUNS ?? fallback);
}

type Json = unknown;
type Path = (string | number)[];

/** Every path to a value inside `v` (the root included). */
export function pathsOf(v: Json, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) pathsOf(x, [...at, i], out);
  } else if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) pathsOf(x, [...at, k], out);
  return out;
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** A copy of `root` with the value at `path` replaced (`undefined` drops it). */
export function setAt(root: Json, path: Path, value: Json): Json {
  if (path.length === 0) return value;
  const copy = clone(root) as Record<string | number, unknown>;
  if (!copy || typeof copy !== "object") return copy;
  let cur = copy;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    // An earlier mutation changed the shape: this path is gone, the value stays as it is.
    if (!next || typeof next !== "object") return copy;
    cur = next as Record<string | number, unknown>;
  }
  if (!cur || typeof cur !== "object") return copy;
  const last = path[path.length - 1] as string | number;
  // An earlier mutation turned this object into an array: a named key (a Telegram entity's
  // `length`, say) is no longer a place to write.
  if (Array.isArray(cur) && typeof last !== "number") return copy;
  if (value === undefined) {
    if (Array.isArray(cur)) cur.splice(last as number, 1);
    else delete cur[last];
  } else cur[last] = value;
  return copy;
}

/** Values of the wrong type (and some of the right type with hostile content). */
export const wrongValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 0, 2 ** 53, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER + 2),
  fc.string(),
  fc.constantFrom("", " ", "__proto__", "constructor", "\u0000", "\ud800", "💩".repeat(50), "[b]x[/b"),
  fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.anything({ maxDepth: 2 }), { maxKeys: 4 }),
);

/** A value nested `depth` levels deep in arrays or objects. */
export function deepNest(depth: number, inObjects: boolean): Json {
  let v: Json = "bottom";
  for (let i = 0; i < depth; i++) v = inObjects ? { a: v } : [v];
  return v;
}

export interface Mutated {
  body: Buffer;
  contentType?: string;
  /** What was done, for the counterexample report. */
  how: string;
}

const contentTypes = fc.constantFrom<string | undefined>(
  "application/json",
  "application/json",
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  undefined,
);

/** A structural mutation of the parsed sample, serialised to JSON. */
function structural(sample: Json): fc.Arbitrary<{ value: Json; how: string }> {
  const paths = pathsOf(sample);
  const pick = fc.nat({ max: paths.length - 1 }).map((i) => paths[i] as Path);
  return fc.oneof(
    pick.map((p) => ({ value: setAt(sample, p, undefined), how: `drop ${p.join(".")}` })),
    fc
      .tuple(pick, wrongValue)
      .map(([p, v]) => ({ value: setAt(sample, p, v), how: `wrong type at ${p.join(".")}` })),
    fc.tuple(pick, fc.integer({ min: 10_000, max: 400_000 })).map(([p, n]) => ({
      value: setAt(sample, p, "x".repeat(n)),
      how: `huge string (${n}) at ${p.join(".")}`,
    })),
    fc.tuple(pick, fc.integer({ min: 50, max: 3000 }), fc.boolean()).map(([p, d, o]) => ({
      value: setAt(sample, p, deepNest(d, o)),
      how: `nesting ${d} deep at ${p.join(".")}`,
    })),
    fc.array(fc.tuple(pick, wrongValue), { minLength: 2, maxLength: 6 }).map((changes) => ({
      value: changes.reduce((acc, [p, v]) => setAt(acc, p, v), sample),
      how: `${changes.length} wrong values`,
    })),
    fc.constant({ value: sample, how: "unchanged" }),
  );
}

/** A byte-level mutation of the serialised sample. */
function bytewise(raw: Buffer): fc.Arbitrary<{ body: Buffer; how: string }> {
  return fc.oneof(
    fc.tuple(fc.nat({ max: raw.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const b = Buffer.from(raw);
      b[i] = (b[i] as number) ^ x;
      return { body: b, how: `byte ${i} xor ${x}` };
    }),
    fc.tuple(fc.nat({ max: raw.length }), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([i, ins]) => ({
      body: Buffer.concat([raw.subarray(0, i), Buffer.from([0xff, 0xfe, ...ins]), raw.subarray(i)]),
      how: `invalid UTF-8 at ${i}`,
    })),
    fc.nat({ max: raw.length }).map((i) => ({ body: raw.subarray(0, i), how: `cut at ${i}` })),
    fc.uint8Array({ maxLength: 300 }).map((b) => ({ body: Buffer.from(b), how: "random bytes" })),
  );
}

/** Mutations of a real-shaped sample: structural, byte-level, with a random content type. */
export function mutated(sample: Json): fc.Arbitrary<Mutated> {
  const raw = Buffer.from(JSON.stringify(sample));
  const body = fc.oneof(
    {
      weight: 3,
      arbitrary: structural(sample).map((s) => ({
        body: Buffer.from(JSON.stringify(s.value) ?? ""),
        how: s.how,
      })),
    },
    { weight: 2, arbitrary: bytewise(raw) },
    {
      weight: 1,
      arbitrary: fc
        .jsonValue({ maxDepth: 4 })
        .map((v) => ({ body: Buffer.from(JSON.stringify(v)), how: "random JSON" })),
    },
  );
  return fc
    .tuple(
      body,
      fc.oneof(
        { weight: 4, arbitrary: fc.constant("application/json") },
        { weight: 1, arbitrary: contentTypes },
      ),
    )
    .map(([b, contentType]) => withReport({ ...b, contentType }));
}

/** A short printable form for fast-check's counterexample report (bodies can be 400 kB). */
function withReport(m: Mutated): Mutated {
  const text = m.body.toString("utf8");
  const short = text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
  return Object.assign(m, {
    [fc.toStringMethod]: () => `${m.how} [${m.contentType ?? "no content type"}]: ${short}`,
  });
}

/** A valid sample's structural mutations as parsed values (for schema fuzzing, no bytes). */
export function mutatedValue(sample: Json): fc.Arbitrary<{ value: Json; how: string }> {
  return structural(sample);
}

/** Installs a process `unhandledRejection` listener for the duration of a suite; returns what it caught. */
export function catchUnhandled(): { caught: unknown[]; stop(): void } {
  const caught: unknown[] = [];
  const fn = (reason: unknown) => void caught.push(reason);
  process.on("unhandledRejection", fn);
  return { caught, stop: () => process.off("unhandledRejection", fn) };
}
