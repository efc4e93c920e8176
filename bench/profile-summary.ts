import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Summarises V8 CPU profiles (`node --cpu-prof`): self time per function and per file, heaviest
 * first. Usage: `tsx bench/profile-summary.ts <dir with .cpuprofile files> [top]`.
 * See docs/performance.md for the command that profiles the openlines run.
 */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function short(url: string): string {
  const i = url.indexOf("node_modules/");
  if (i >= 0) return url.slice(i + "node_modules/".length);
  const j = url.indexOf("/work/main/");
  return j >= 0 ? url.slice(j + "/work/main/".length) : url || "(native)";
}

function summarise(file: string, top: number): void {
  const p: Profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let k = 0; k < p.samples.length; k++) {
    self.set(p.samples[k], (self.get(p.samples[k]) ?? 0) + (p.timeDeltas[k] ?? 0));
  }
  const total = (p.endTime - p.startTime) / 1000;
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const f = short(n.callFrame.url);
    const key = `${n.callFrame.functionName || "(anonymous)"} ${f}:${n.callFrame.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us / 1000);
    const pkg = f.startsWith("packages/")
      ? f
      : f
          .split("/")
          .slice(0, f.startsWith("@") ? 2 : 1)
          .join("/");
    files.set(pkg, (files.get(pkg) ?? 0) + us / 1000);
  }
  const idle = fns.get("(idle) (native):1") ?? 0;
  console.log(`\n${file}: ${total.toFixed(0)} ms sampled, ${(total - idle).toFixed(0)} ms busy`);
  const show = (title: string, m: Map<string, number>) => {
    console.log(`  ${title}`);
    for (const [k, ms] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(
        `    ${ms.toFixed(0).padStart(7)} ms  ${((ms / total) * 100).toFixed(1).padStart(5)}%  ${k}`,
      );
    }
  };
  show("by file / package (self time)", files);
  show("by function (self time)", fns);
}

const dir = process.argv[2] ?? "/tmp/openlines-profile";
const top = Number(process.argv[3] ?? 25);
for (const f of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) summarise(join(dir, f), top);
