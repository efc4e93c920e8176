import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Calls } from "../src/calls.js";
import { ErrorCodes } from "../src/errors.js";
import { PacketTypes } from "../src/format.js";

const doc = (name: string) => readFileSync(new URL(`../../../docs/${name}`, import.meta.url), "utf8");

describe("docs stay in step with the code", () => {
  const errors = doc("errors.md");
  /** Rows of the catalogue tables: `CODE` → status. */
  const rows = new Map(
    [...errors.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map(
      (m) => [m[1], Number(m[2])] as const,
    ),
  );

  it.each(Object.keys(ErrorCodes))("docs/errors.md has a row for %s", (code) => {
    expect(rows.has(code), `add a row for ${code} to docs/errors.md`).toBe(true);
  });

  it("docs/errors.md gives each code the status of the catalogue and lists no other code", () => {
    for (const [code, status] of rows) {
      expect(code in ErrorCodes, `${code} is documented but not in ErrorCodes`).toBe(true);
      expect(status, code).toBe(ErrorCodes[code as keyof typeof ErrorCodes].status);
    }
  });

  const protocol = doc("protocol.md");
  it.each(Object.values(PacketTypes))("docs/protocol.md describes the %s packet", (type) => {
    expect(protocol).toContain(`### \`${type}\``);
  });
  it.each(Object.keys(Calls))("docs/protocol.md describes the %s call", (name) => {
    expect(protocol).toMatch(new RegExp(`^\\|\\s*\`${name}\`\\s*\\|`, "m"));
  });
});
