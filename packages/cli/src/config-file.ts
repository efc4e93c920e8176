import { readFileSync } from "node:fs";

/**
 * Settings come from environment variables; `--config <file.json>` (or OPENLINES_CONFIG) may hold
 * the same names as keys, and the environment wins over the file. docs/settings.md lists them.
 */
export function loadSettings(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string | undefined> {
  const i = argv.indexOf("--config");
  const file = i >= 0 ? argv[i + 1] : env.OPENLINES_CONFIG;
  let fromFile: Record<string, string> = {};
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
      throw new Error(`Cannot read the config file ${file}: ${(e as Error).message}`);
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new Error(`The config file ${file} must hold a JSON object of setting names to values.`);
    }
    fromFile = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
  }
  return { ...fromFile, ...env };
}

/** Reads `--name value` from the command line. */
export function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
