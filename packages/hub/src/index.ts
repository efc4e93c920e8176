/**
 * The hub (connector server): `createHub` assembles it; `registerPortal` and `reparse` are what
 * the `openlines` CLI calls; connectors are written against `connectors/contract.ts`.
 */
export { registerPortal, testPortal } from "./admin/register.js";
export { type HubConfig, hubConfig, hubDefaults, loadHubConfig } from "./config.js";
export * from "./connectors/contract.js";
export { builtinConnectors, createRegistry } from "./connectors/registry.js";
export type { HubEventName, HubEvents } from "./lines/events.js";
export { createHub, type Hub, type HubDeps, reparseStored } from "./server.js";
export { hubMigrations } from "./store/migrations.js";
export type { ReparseTarget } from "./webhook/reparse.js";
