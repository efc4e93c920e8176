import { periodic } from "../health/periodic.js";
import type { HubServices } from "../lines/context.js";

/**
 * One timer per hub that forgets what is kept only for a while: raw webhook bodies, queued
 * platform-event ids, seen request ids, platform ids of long-sent messages.
 */
export function pruner(hub: HubServices) {
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
    await hub.db
      .deleteFrom("sent_message")
      .where("created_ms", "<", now - hub.config.sentMessageRetentionMs)
      .execute();
  }
  const timer = periodic(hub.clock, hub.config.pruneIntervalMs, once, (e) =>
    hub.log.error({ err: e }, "prune failed"),
  );
  return {
    once,
    start: () => timer.start(),
    stop: () => timer.stop(),
  };
}
