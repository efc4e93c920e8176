import { Worker } from "node:worker_threads";
import { COUNTERS, Counter, type Recording, startStubCore } from "./portal-stub-core.js";

/**
 * A local portal that acknowledges everything it is sent and records when each message arrived
 * (see portal-stub-core.ts for what it accepts). By default it runs in a worker thread of its own,
 * like a portal on another machine would not share the hub's event loop; `thread: false` runs it
 * in the caller's thread (tests).
 */
export interface PortalStub {
  /** Base URL, `http://127.0.0.1:<port>`; a path under `/down` answers 503. */
  readonly url: string;
  /** Starts recording a run: message ids `<tag>-<0..size-1>`, complete after `expected` arrivals. */
  record(tag: string, size: number, expected?: number): Promise<RunRecording>;
  close(): Promise<void>;
}

export interface RunRecording {
  readonly arrivals: Float64Array;
  counter(name: keyof typeof Counter): number;
  /** Resolves when every expected message arrived; rejects after `timeoutMs` with the count. */
  complete(timeoutMs: number): Promise<void>;
}

function newRecording(tag: string, size: number, expected: number): Recording {
  return {
    tag,
    arrivals: new Float64Array(new SharedArrayBuffer(size * 8)),
    counters: new Int32Array(new SharedArrayBuffer(COUNTERS * 4)),
    expected,
  };
}

function runRecording(rec: Recording, completed: Promise<void>): RunRecording {
  return {
    arrivals: rec.arrivals,
    counter: (name) => Atomics.load(rec.counters, Counter[name]),
    complete: (timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          const got = Atomics.load(rec.counters, Counter.arrived);
          reject(new Error(`portal stub: ${got} of ${rec.expected} messages arrived in ${timeoutMs} ms`));
        }, timeoutMs);
        completed.then(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

export async function startPortalStub(options: { secret: string; thread?: boolean }): Promise<PortalStub> {
  if (options.thread === false) {
    let onComplete = () => {};
    const core = await startStubCore({ secret: options.secret, onComplete: () => onComplete() });
    return {
      url: core.url,
      record: async (tag, size, expected = size) => {
        const rec = newRecording(tag, size, expected);
        const completed = new Promise<void>((resolve) => {
          onComplete = resolve;
        });
        core.record(rec);
        return runRecording(rec, completed);
      },
      close: async () => {
        core.server.closeAllConnections();
        await new Promise((resolve) => core.server.close(resolve));
      },
    };
  }

  const worker = new Worker(new URL("./thread-boot.mjs", import.meta.url), {
    workerData: { entry: new URL("./portal-stub-thread.ts", import.meta.url).href, secret: options.secret },
  });
  const replies = (type: string) =>
    new Promise<any>((resolve, reject) => {
      const onMessage = (m: any) => {
        if (m.type !== type) return;
        worker.off("message", onMessage);
        worker.off("error", reject);
        resolve(m);
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
    });
  const ready = await replies("ready");
  let onComplete = () => {};
  worker.on("message", (m) => {
    if (m.type === "complete") onComplete();
  });
  return {
    url: ready.url as string,
    record: async (tag, size, expected = size) => {
      const rec = newRecording(tag, size, expected);
      const completed = new Promise<void>((resolve) => {
        onComplete = resolve;
      });
      const ack = replies("recording");
      worker.postMessage({ type: "record", recording: rec });
      await ack;
      return runRecording(rec, completed);
    },
    close: async () => {
      const closed = replies("closed");
      worker.postMessage({ type: "close" });
      await closed;
      await worker.terminate();
    },
  };
}
