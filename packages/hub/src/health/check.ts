import type { HubServices } from "../lines/context.js";
import type { ConnectorInstances } from "../lines/instances.js";
import type { LineRepository } from "../lines/repository.js";
import type { LineService } from "../lines/service.js";
import { periodic } from "./periodic.js";

/**
 * One timer per hub: every `healthCheckIntervalMs` the active lines whose connector has a
 * `healthCheck` are asked whether their credentials still work and the webhook still points here.
 * A failing line needs an administrator, and its portal gets a `deactivate` packet. A check that
 * throws (the platform unreachable) changes nothing: the next round asks again.
 */
export function healthChecker(
  hub: HubServices,
  lines: LineRepository,
  instances: ConnectorInstances,
  service: LineService,
) {
  async function once(): Promise<{ checked: number; failed: number }> {
    let checked = 0;
    let failed = 0;
    for (const row of await lines.listActive()) {
      try {
        const { connector } = await instances.get(row);
        if (!connector.healthCheck) continue;
        checked++;
        const r = await connector.healthCheck();
        if (!r.ok) {
          failed++;
          await service.needsAttention(row, r.revoked ? "credentialsRevoked" : "webhookLost", r.reason);
        }
      } catch (e) {
        hub.log.warn({ err: e, line: row.id }, "health check could not run");
      }
    }
    return { checked, failed };
  }
  const timer = periodic(hub.clock, hub.config.healthCheckIntervalMs, once, (e) =>
    hub.log.error({ err: e }, "health check round failed"),
  );
  return {
    once,
    start: () => timer.start(),
    stop: () => timer.stop(),
  };
}
