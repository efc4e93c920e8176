import type { Clock } from "../clock.js";

/**
 * Runs `fn` every `intervalMs` on the hub's clock, never two at once: a tick that comes while a run
 * is in progress asks for one more run right after it (so a late tick still sees the latest time).
 */
export function periodic(
  clock: Clock,
  intervalMs: number,
  fn: () => Promise<unknown>,
  onError: (e: unknown) => void,
) {
  let timer: { cancel(): void } | undefined;
  let running = false;
  let again = false;
  async function run() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        try {
          await fn();
        } catch (e) {
          onError(e);
        }
      } while (again && timer);
    } finally {
      running = false;
    }
  }
  function arm() {
    timer = clock.setTimer(intervalMs, () => {
      arm();
      void run();
    });
  }
  return {
    start() {
      if (!timer) arm();
    },
    stop() {
      timer?.cancel();
      timer = undefined;
    },
  };
}
