import autocannon from "autocannon";
import { Agent, request } from "undici";
import { benchNow, percentile, round } from "../stats.js";
import { reportFailure, serveParent } from "./child.js";
import { SECRET_HEADER, updateBody } from "./telegram.js";

/**
 * Child process entry: the load generator, in its own process so it never shares the server's
 * event loop. Two drivers:
 *  - `autocannon`: full speed, `connections` keep-alive connections for `durationS`, every request
 *    a fresh Telegram update (its own update_id and `#seq`) to the next line in turn;
 *  - `drive`: each message `seq` of a range posted once, either open-loop at `rate` per second or
 *    closed-loop with `concurrency` in flight; with `retry`, a failed request (connection refused,
 *    5xx) is sent again to the next hub the way Telegram retries, until one answers 200. Reports
 *    the send time and outcome of every message, so the caller can tell acknowledged from lost.
 */
export interface Target {
  hash: string;
  secret: string;
}

interface AutocannonJob {
  url: string;
  targets: Target[];
  connections: number;
  durationS: number;
  seqStart: number;
}

async function runAutocannon(j: AutocannonJob) {
  let seq = j.seqStart;
  const result = await autocannon({
    url: j.url,
    connections: j.connections,
    duration: j.durationS,
    requests: [
      {
        method: "POST",
        setupRequest: (req: any) => {
          const s = seq++;
          const t = j.targets[s % j.targets.length];
          return {
            ...req,
            path: `/webhook?line=${t.hash}`,
            headers: { "content-type": "application/json", [SECRET_HEADER]: t.secret },
            body: updateBody(s),
          };
        },
      },
    ],
  });
  return {
    type: "autocannon",
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    requests: result.requests.total,
    throughput_per_s: round(result["2xx"] / (result.duration || j.durationS), 0),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    seqEnd: seq,
  };
}

interface DriveJob {
  bases: string[];
  targets: Target[];
  seqStart: number;
  count: number;
  rate?: number;
  concurrency?: number;
  retry?: boolean;
}

async function drive(j: DriveJob) {
  const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000, pipelining: 1 });
  const sent = new Float64Array(j.count);
  const acked = new Float64Array(j.count);
  const statuses: Record<string, number> = {};
  let retries = 0;
  const one = async (k: number) => {
    const seq = j.seqStart + k;
    const t = j.targets[seq % j.targets.length];
    let base = seq % j.bases.length;
    sent[k] = benchNow();
    for (let attempt = 0; attempt < 200; attempt++) {
      let status: number | string;
      try {
        const res = await request(`${j.bases[base]}/webhook?line=${t.hash}`, {
          method: "POST",
          dispatcher: agent,
          headers: { "content-type": "application/json", [SECRET_HEADER]: t.secret },
          body: updateBody(seq),
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
        await res.body.text();
        status = res.statusCode;
      } catch (e) {
        status = (e as { code?: string }).code ?? "error";
      }
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === 200) {
        acked[k] = benchNow();
        return;
      }
      if (!j.retry) return;
      retries++;
      base = (base + 1) % j.bases.length;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const t0 = benchNow();
  if (j.rate) {
    const pending: Promise<void>[] = [];
    for (let k = 0; k < j.count; k++) {
      const due = t0 + (k * 1000) / j.rate;
      const wait = due - benchNow();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      pending.push(one(k));
    }
    await Promise.all(pending);
  } else {
    let next = 0;
    const worker = async () => {
      for (let k = next++; k < j.count; k = next++) await one(k);
    };
    await Promise.all(Array.from({ length: j.concurrency ?? 32 }, worker));
  }
  const elapsed = benchNow() - t0;
  await agent.close();
  const lat: number[] = [];
  for (let k = 0; k < j.count; k++) if (acked[k] > 0) lat.push(acked[k] - sent[k]);
  lat.sort((a, b) => a - b);
  return {
    type: "drive",
    sent: Array.from(sent),
    acked: Array.from(acked),
    statuses,
    retries,
    elapsed_ms: elapsed,
    p50_ms: round(percentile(lat, 0.5)),
    p99_ms: round(percentile(lat, 0.99)),
  };
}

serveParent({
  autocannon: (m: AutocannonJob) => runAutocannon(m),
  drive: (m: DriveJob) => drive(m),
});
process.once("SIGTERM", () => process.exit(0));
try {
  process.send!({ type: "ready" });
} catch (e) {
  reportFailure(e);
}
