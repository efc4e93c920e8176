import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ResultRow, Scenario, ScenarioResult } from "./support/harness.js";

/**
 * `npm run bench [-- <scenario>…]`: runs the scenarios exported by bench/scenarios/*.ts (all of
 * them, or those named), prints a table per scenario and merges each result into
 * bench/results/latest.json, replacing that scenario's entry and keeping the others.
 */
const here = fileURLToPath(new URL(".", import.meta.url));
const resultsFile = join(here, "results", "latest.json");

async function loadScenarios(): Promise<Scenario[]> {
  const dir = join(here, "scenarios");
  const all: Scenario[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith(".ts") || file.endsWith(".test.ts")) continue;
    const mod = (await import(new URL(`./scenarios/${file}`, import.meta.url).href)) as {
      scenarios?: Scenario[];
    };
    all.push(...(mod.scenarios ?? []));
  }
  return all;
}

function readResults(): Record<string, ScenarioResult | undefined> {
  if (!existsSync(resultsFile)) return {};
  try {
    return JSON.parse(readFileSync(resultsFile, "utf8"));
  } catch {
    return {};
  }
}

export function formatTable(name: string, result: ScenarioResult): string {
  const cols: [string, (r: ResultRow) => string][] = [
    ["system", (r) => r.system],
    ["store", (r) => r.store],
    ["messages", (r) => String(r.messages)],
    ["msg/s", (r) => String(r.throughput_per_s)],
    ["p50 ms", (r) => String(r.p50_ms)],
    ["p99 ms", (r) => String(r.p99_ms)],
    ["enqueue/s", (r) => String(r.enqueue_per_s)],
    ["requests", (r) => String(r.requests)],
    ["dups", (r) => String(r.duplicates)],
  ];
  if (result.results.some((r) => r.outage))
    cols.push(["p99 ÷ no outage", (r) => String(r.p99_vs_no_outage ?? "–")]);
  const cells = result.results.map((r) => cols.map(([, f]) => f(r)));
  const widths = cols.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c.map((v, i) => (i < 2 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  const out = [
    `\n${name} — ${result.machine.cores} cores, node ${result.machine.node}`,
    line(cols.map(([h]) => h)),
    line(widths.map((w) => "-".repeat(w))),
    ...cells.map(line),
  ];
  const pg = result.results.filter((r) => r.store === "postgres" || r.store === "redis");
  const ours = pg.find((r) => r.system === "openlines");
  const peerRows = pg.filter((r) => r.system !== "openlines");
  if (ours && peerRows.length > 0) {
    const best = peerRows.reduce((a, b) => (b.throughput_per_s > a.throughput_per_s ? b : a));
    out.push(
      `openlines/postgres vs best peer (${best.system}/${best.store}): ` +
        `${(ours.throughput_per_s / best.throughput_per_s).toFixed(2)}× throughput, ` +
        `p99 ${ours.p99_ms} ms vs ${best.p99_ms} ms`,
    );
  }
  return out.join("\n");
}

/** `--markdown`: the tables of latest.json as Markdown (for docs/performance.md), nothing run. */
export function markdown(results: Record<string, ScenarioResult | undefined>): string {
  const out: string[] = [];
  for (const [name, result] of Object.entries(results)) {
    if (!result) continue;
    const outage = result.results.some((r) => r.outage);
    out.push(`**${name}** (${result.machine.cores} cores, node ${result.machine.node})`, "");
    out.push(
      `| system | store | messages | msg/s | p50 ms | p99 ms | enqueue/s | requests | duplicates |${outage ? " p99 ÷ no outage |" : ""}`,
      `|---|---|--:|--:|--:|--:|--:|--:|--:|${outage ? "--:|" : ""}`,
    );
    for (const r of result.results) {
      out.push(
        `| ${r.system} | ${r.store} | ${r.messages} | ${r.throughput_per_s} | ${r.p50_ms} | ${r.p99_ms} | ${r.enqueue_per_s} | ${r.requests} | ${r.duplicates} |${outage ? ` ${r.p99_vs_no_outage ?? "–"} |` : ""}`,
      );
    }
    out.push("");
  }
  return out.join("\n");
}

async function main(): Promise<void> {
  if (process.argv.includes("--markdown")) {
    console.log(markdown(readResults()));
    return;
  }
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  const all = await loadScenarios();
  const unknown = wanted.filter((w) => !all.some((s) => s.name === w));
  if (unknown.length > 0) {
    throw new Error(`Unknown scenario ${unknown.join(", ")}; known: ${all.map((s) => s.name).join(", ")}`);
  }
  const chosen = wanted.length > 0 ? all.filter((s) => wanted.includes(s.name)) : all;
  for (const scenario of chosen) {
    const started = Date.now();
    const previous = readResults();
    const result = await scenario.run({ previous, log: (l) => console.error(l) });
    const format = (scenario as { format?: typeof formatTable }).format ?? formatTable;
    console.log(format(scenario.name, result));
    console.log(`(${Math.round((Date.now() - started) / 1000)} s)`);
    const merged = { ...readResults(), [scenario.name]: result };
    mkdirSync(join(here, "results"), { recursive: true });
    writeFileSync(resultsFile, `${JSON.stringify(merged, null, 2)}\n`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
