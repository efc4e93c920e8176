import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../../..");

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (/\.(ts|tsx|js)$/.test(name)) out.push(path);
  }
  return out;
}

describe("docs/settings.md", () => {
  const doc = readFileSync(join(root, "docs/settings.md"), "utf8");
  const code = readdirSync(join(root, "packages"))
    .flatMap((p) => sources(join(root, "packages", p, "src")).map((f) => readFileSync(f, "utf8")))
    .join("\n");

  it("lists every setting the code reads", () => {
    const read = new Set(code.match(/OPENLINES_[A-Z0-9_]*[A-Z0-9]/g) ?? []);
    // Platform base URL overrides are one documented pattern, not one setting per platform.
    const missing = [...read].filter((v) => !v.startsWith("OPENLINES_BASEURL") && !doc.includes(`\`${v}\``));
    expect(missing).toEqual([]);
  });

  it("lists no setting the code does not read", () => {
    const tests = readdirSync(join(root, "packages"))
      .flatMap((p) => {
        try {
          return sources(join(root, "packages", p, "test"));
        } catch {
          return [];
        }
      })
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    const documented = new Set(doc.match(/OPENLINES_[A-Z0-9_]*[A-Z0-9]/g) ?? []);
    const stale = [...documented].filter(
      (v) => !v.startsWith("OPENLINES_BASEURL_") && !code.includes(v) && !tests.includes(v),
    );
    expect(stale).toEqual([]);
  });
});
