/** Events the input publishes besides message events (messages/types.ts). */
declare module "../events/bus.js" {
  interface PortalEvents {
    /** The hub deactivated a line connector (connected elsewhere, credentials revoked...). */
    "line.deactivated": { lineId: string; connector: string; reason: string; message: string };
    /** A testConnection packet from the hub arrived (the hub can reach this portal). */
    "hub.testConnection": { lineId: string; connector: string; nonce: string };
  }
}

export {};
