import type { HubServices } from "../lines/context.js";

/**
 * One timer per hub that forgets what is kept only for a while: raw webhook bodies, queued
 * platform-event ids, seen request ids.
 */
export function pruner(hub: HubServices) {
  let timer: { cancel(): void } | undefined;
  async function once() {
    const now = hub.clock.now();
    await hub.db
      .deleteFrom("webhook_raw")
      .where("received_ms", "<", now - hub.config.rawWebhookRetentionMs)
      .execute();
    await hub.db
      .deleteFrom("platform_event")
      .where("created_ms", "<", now - hub.config.platformEventRetentionMs)
      .execute();
    await hub.db.deleteFrom("seen_request").where("expires_ms", "<", now).execute();
  }
  function arm() {
    timer = hub.clock.setTimer(hub.config.pruneIntervalMs, () => {
      once()
        .catch((e) => hub.log.error({ err: e }, "prune failed"))
        .finally(() => {
          if (timer) arm();
        });
    });
  }
  return {
    once,
    start() {
      arm();
    },
    stop() {
      timer?.cancel();
      timer = undefined;
    },
  };
}
