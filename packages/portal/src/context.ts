import type { Clock } from "@openlines/protocol";
import type { Database } from "@openlines/store";
import type { Logger } from "pino";
import type { EventBus } from "./events/bus.js";
import type { PortalDatabase } from "./store/index.js";

/** Settings of the portal; docs/settings.md lists each with its environment variable. */
export interface PortalConfig {
  /** This portal's id on the hub. */
  portalId: string;
  /** The portal's public base URL (the hub posts packets to `<publicUrl>/connector/input`). */
  publicUrl: string;
  /** Database URL: sqlite:…, postgres://…, mysql://… */
  databaseUrl: string;
  /** The hub's base URL and the signing secret it issued to this portal. */
  hubUrl: string;
  hubSecret: string;
  /** Where files are stored (local disk store). */
  filesDir: string;
  /** Allow file downloads from private and loopback addresses (tests, single-machine installs). */
  allowPrivateAddresses: boolean;
}

/**
 * Services that portal modules offer each other, filled in at registration. Each module adds its
 * own entry by declaration merging in its own file:
 *   declare module "../context.js" { interface PortalServices { messages: MessageService } }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in each module
export interface PortalServices {}

export interface PortalContext {
  config: PortalConfig;
  database: Database<PortalDatabase>;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  services: PortalServices;
}
