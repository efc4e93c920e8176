import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * A TypeScript module of bench/support/system run as a child process with an IPC channel (tsx
 * loader), so a server under test, a load generator and a portal stub never share an event loop.
 * Messages are `{type, ...}` objects; `request` sends one and waits for the answer of `answerType`.
 */
export interface Child {
  process: ChildProcess;
  pid: number;
  /** Resolves with the next message of this type. */
  next<T = any>(type: string, timeoutMs?: number): Promise<T>;
  request<T = any>(message: { type: string } & Record<string, unknown>, answerType: string): Promise<T>;
  send(message: { type: string } & Record<string, unknown>): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
  readonly exited: Promise<number | null>;
}

export function startChild(
  module: string,
  env: Record<string, string | undefined> = {},
  nodeArgs: string[] = [],
): Child {
  const file = fileURLToPath(new URL(module, import.meta.url));
  const proc = fork(file, [], {
    execArgv: ["--import", "tsx", ...nodeArgs],
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const next = <T>(type: string, timeoutMs = 120_000) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: any) => {
        if (m?.type === "error") return done(() => reject(new Error(`${module}: ${m.message}`)));
        if (m?.type === type) done(() => resolve(m as T));
      };
      const onExit = (code: number | null) =>
        done(() => reject(new Error(`${module} exited (${code}) before "${type}"`)));
      const timer = setTimeout(
        () => done(() => reject(new Error(`${module}: no "${type}" within ${timeoutMs} ms`))),
        timeoutMs,
      );
      const done = (f: () => void) => {
        clearTimeout(timer);
        proc.off("message", onMessage);
        proc.off("exit", onExit);
        f();
      };
      proc.on("message", onMessage);
      proc.once("exit", onExit);
    });
  const child: Child = {
    process: proc,
    pid: proc.pid!,
    next,
    send: (m) => proc.send(m),
    request: <T>(m: { type: string } & Record<string, unknown>, answerType: string) => {
      const answer = next<T>(answerType);
      proc.send(m);
      return answer;
    },
    async stop(graceMs = 15_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
    },
    exited,
  };
  return child;
}

/** In a child: answers messages of the parent; a failing handler reports `{type: "error"}`. */
export function serveParent(handlers: Record<string, (m: any) => Promise<unknown> | unknown>): void {
  process.on("message", (m: any) => {
    const h = handlers[m?.type];
    if (!h) return;
    Promise.resolve()
      .then(() => h(m))
      .then(
        (answer) => {
          if (answer !== undefined) process.send!(answer);
        },
        (e: Error) => process.send!({ type: "error", message: e.stack ?? String(e) }),
      );
  });
}

export function reportFailure(e: unknown): never {
  process.send?.({ type: "error", message: (e as Error)?.stack ?? String(e) });
  setTimeout(() => process.exit(1), 100);
  throw e;
}
