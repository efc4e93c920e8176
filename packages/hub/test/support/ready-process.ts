import { type ChildProcess, spawn } from "node:child_process";

/** A test's child process (a hub or queue script run with tsx) and the port it announced. */
export interface ReadyProcess {
  proc: ChildProcess;
  /** Resolves with the port of the script's `READY <port>` line; rejects if it exits first. */
  port: Promise<number>;
  exited: Promise<void>;
}

/** Spawns `script` under tsx with `env` added to this process's environment. */
export function spawnReady(script: string, env: Record<string, string>): ReadyProcess {
  const proc = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const port = new Promise<number>((resolve, reject) => {
    let out = "";
    proc.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /READY (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once("exit", (code, signal) =>
      reject(new Error(`hub process exited (${code ?? signal}) before ready`)),
    );
  });
  port.catch(() => {});
  return { proc, port, exited };
}
