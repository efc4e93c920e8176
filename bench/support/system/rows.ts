import { loadavg } from "node:os";
import { machine, type ResultRow, type ScenarioResult } from "../harness.js";

/**
 * A row of the whole-system scenarios: the shape of the queue scenario's rows (`system`, `store`,
 * `throughput_per_s`, `p50_ms`, `p99_ms`) plus each scenario's own fields. `load_avg_1m` is the
 * machine's 1-minute load average when the row's measurement began: the bench machine is shared,
 * and a figure taken at load 12 on 2 cores is not one taken at load 1.
 */
export interface SystemRow {
  system: "openlines" | "fastify-noop";
  store: "sqlite" | "postgres" | "mysql" | "none";
  throughput_per_s: number;
  p50_ms: number;
  p99_ms: number;
  load_avg_1m?: number;
  [field: string]: unknown;
}

export const loadAverage = () => Math.round(loadavg()[0] * 100) / 100;

export function systemResult(rows: SystemRow[]): ScenarioResult {
  return { machine: machine(), results: rows as unknown as ResultRow[] };
}

/** Every field any row has, as a plain-text table (the queue scenario's table has fixed columns). */
export function formatRows(name: string, result: ScenarioResult): string {
  const rows = result.results as unknown as SystemRow[];
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== "settings");
  const cells = rows.map((r) => keys.map((k) => (r[k] === undefined ? "–" : String(r[k]))));
  const widths = keys.map((k, i) => Math.max(k.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i])).join("  ");
  const settings = rows.flatMap((r) => (r.settings ? [`  ${r.system}/${r.store}: ${r.settings}`] : []));
  return [
    `\n${name} — ${result.machine.cores} cores, node ${result.machine.node}`,
    line(keys),
    line(widths.map((w) => "-".repeat(w))),
    ...cells.map(line),
    ...settings,
  ].join("\n");
}

/** Same as `formatRows`, as a Markdown table (docs/performance.md). */
export function markdownRows(result: ScenarioResult): string {
  const rows = result.results as unknown as SystemRow[];
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== "settings");
  return [
    `| ${keys.join(" | ")} |`,
    `|${keys.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${keys.map((k) => (r[k] === undefined ? "–" : String(r[k]))).join(" | ")} |`),
  ].join("\n");
}

export const envNumber = (name: string, fallback: number) => {
  const raw = process.env[name];
  return raw === undefined || raw === "" ? fallback : Number(raw);
};

export const envList = (name: string, fallback: string[]) =>
  process.env[name]
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean) ?? fallback;
