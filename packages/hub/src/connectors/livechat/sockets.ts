import type { WebSocket } from "ws";

/**
 * The visitors' open sockets in this hub process, by line connector and visitor (a visitor may
 * have several tabs open). In-memory on purpose: a socket lives in one process; a message for a
 * visitor whose socket is elsewhere (or closed) waits in `livechat_message` for the catch-up.
 */
export class SocketRegistry {
  readonly #sockets = new Map<string, Set<WebSocket>>();

  #key(lineConnectorId: string, visitorId: string) {
    return `${lineConnectorId}\n${visitorId}`;
  }

  add(lineConnectorId: string, visitorId: string, ws: WebSocket): () => void {
    const key = this.#key(lineConnectorId, visitorId);
    let set = this.#sockets.get(key);
    if (!set) {
      set = new Set();
      this.#sockets.set(key, set);
    }
    set.add(ws);
    return () => {
      set.delete(ws);
      if (set.size === 0 && this.#sockets.get(key) === set) this.#sockets.delete(key);
    };
  }

  count(lineConnectorId: string, visitorId: string): number {
    return this.#sockets.get(this.#key(lineConnectorId, visitorId))?.size ?? 0;
  }

  /**
   * Sends a frame to every open socket of the visitor; resolves to how many sockets took it
   * (the write reached the socket; 0 = the visitor is not connected here).
   */
  async push(lineConnectorId: string, visitorId: string, frame: object): Promise<number> {
    const set = this.#sockets.get(this.#key(lineConnectorId, visitorId));
    if (!set || set.size === 0) return 0;
    const data = JSON.stringify(frame);
    const results = await Promise.all(
      [...set].map(
        (ws) =>
          new Promise<boolean>((resolve) => {
            if (ws.readyState !== ws.OPEN) return resolve(false);
            ws.send(data, (err) => resolve(!err));
          }),
      ),
    );
    return results.filter(Boolean).length;
  }

  closeAll(): void {
    for (const set of this.#sockets.values()) for (const ws of set) ws.close(1001, "hub stopping");
    this.#sockets.clear();
  }
}
