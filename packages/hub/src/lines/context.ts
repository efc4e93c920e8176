import type { DialectName } from "@openlines/store";
import type { Kysely } from "kysely";
import type { Clock } from "../clock.js";
import type { HubConfig } from "../config.js";
import type { ConnectorRegistry } from "../connectors/registry.js";
import type { Queue } from "../queue/interfaces.js";
import type { HubDatabase } from "../store/schema.js";
import type { SecretBox } from "../store/settings-crypto.js";
import type { HubEventEmitter } from "./events.js";

/** What the hub uses of the durable queue towards portals (queue/interfaces.ts). */
export type QueuePort = Pick<
  Queue,
  "enqueue" | "start" | "stop" | "ack" | "deadLetters" | "redrive" | "lineState"
>;

export interface HubLog {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
}

/** The services every hub module works with; built once by `createHub`. */
export interface HubServices {
  db: Kysely<HubDatabase>;
  dialect: DialectName;
  box: SecretBox;
  clock: Clock;
  fetch: typeof fetch;
  log: HubLog;
  config: HubConfig;
  registry: ConnectorRegistry;
  queue: QueuePort;
  events: HubEventEmitter;
}
