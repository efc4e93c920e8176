import type { Packet } from "@openlines/protocol";
import type { QueuePort } from "../../src/lines/context.js";

/** An in-memory stand-in for the durable queue, idempotent by packet id, for framework unit tests. */
export class FakeQueue implements QueuePort {
  readonly packets = new Map<string, { lineConnectorId: string; packet: Packet }>();
  enqueueCalls = 0;
  #waiters: (() => void)[] = [];
  async enqueue(items: { lineConnectorId: string; packet: Packet }[]) {
    this.enqueueCalls++;
    for (const i of items) if (!this.packets.has(i.packet.id)) this.packets.set(i.packet.id, i);
    for (const w of this.#waiters.splice(0)) w();
  }
  async start() {}
  async stop() {}
  async ack(_portalId: string, ids: string[]) {
    let n = 0;
    for (const id of ids) if (this.packets.delete(id)) n++;
    return n;
  }
  async deadLetters() {
    return [];
  }
  async redrive() {
    return 0;
  }
  async lineState(lineConnectorId: string) {
    const waiting = [...this.packets.values()].filter((p) => p.lineConnectorId === lineConnectorId).length;
    return { waiting, attempts: 0, blockedUntil: null, firstFailureAt: null, deadLetters: 0 };
  }
  list(type?: Packet["type"]): Packet[] {
    return [...this.packets.values()].map((p) => p.packet).filter((p) => !type || p.type === type);
  }
  /** Resolves when a queued packet matches, re-checking after each enqueue. */
  async waitFor(pred: (p: Packet) => boolean, timeoutMs = 5000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.list().find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error("no matching packet was queued");
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 50).unref();
      });
    }
  }
}
