import { EventEmitter } from "node:events";

/** What happens in the hub, as typed events that logs and metrics subscribe to (the modules never log it). */
export interface HubEvents {
  /** A verified webhook was parsed and its events committed to the queue. */
  "webhook:accepted": { lineConnectorId: string; events: number; queued: number };
  /** A webhook was refused (unknown or inactive line, verification, body). */
  "webhook:refused": { lineConnectorId?: string; code: string; status: number };
  /** A platform call of the outbox succeeded. */
  "outbox:done": { lineConnectorId: string; kind: string; messageId?: string; platformMessageId?: string };
  /** A platform call will be tried again at `nextAt`. */
  "outbox:retry": {
    lineConnectorId: string;
    kind: string;
    messageId?: string;
    attempts: number;
    nextAt: number;
    reason: string;
  };
  /** The outbox gave up or refused; the portal gets a failed delivery status. */
  "outbox:failed": {
    lineConnectorId: string;
    kind: string;
    messageId?: string;
    reason: string;
    code?: string;
  };
  /** A line now needs an administrator; its portal gets a `deactivate` packet. */
  "line:needsAttention": { lineConnectorId: string; reason: string };
}
export type HubEventName = keyof HubEvents;

export class HubEventEmitter {
  readonly #ee = new EventEmitter();
  on<E extends HubEventName>(event: E, fn: (e: HubEvents[E]) => void): this {
    this.#ee.on(event, fn);
    return this;
  }
  off<E extends HubEventName>(event: E, fn: (e: HubEvents[E]) => void): this {
    this.#ee.off(event, fn);
    return this;
  }
  emit<E extends HubEventName>(event: E, e: HubEvents[E]): void {
    this.#ee.emit(event, e);
  }
}
