import { EventEmitter } from "node:events";

/**
 * The portal's in-process event bus (DESIGN 5, "events"). Input publishes what arrived; the lines
 * module, the operators' WebSocket stream and later modules (CRM, bots, analytics) subscribe.
 * Events are published after the data they describe is committed. Each module adds its events
 * to PortalEvents by declaration merging in its own file:
 *   declare module "../events/bus.js" { interface PortalEvents { "x.y": {...} } }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in each module
export interface PortalEvents {}

type Listener<T> = (payload: T) => void | Promise<void>;

export class EventBus {
  readonly #emitter = new EventEmitter({ captureRejections: false });
  #onError: (event: string, error: unknown) => void = () => {};

  constructor() {
    this.#emitter.setMaxListeners(100);
  }

  /** Where a failing listener's error goes (logged); a listener's failure never reaches the publisher. */
  onError(fn: (event: string, error: unknown) => void): void {
    this.#onError = fn;
  }

  on<K extends keyof PortalEvents>(event: K, fn: Listener<PortalEvents[K]>): () => void {
    const wrapped = (p: PortalEvents[K]) => {
      try {
        const r = fn(p);
        if (r && typeof (r as Promise<void>).catch === "function") {
          (r as Promise<void>).catch((e) => this.#onError(String(event), e));
        }
      } catch (e) {
        this.#onError(String(event), e);
      }
    };
    this.#emitter.on(event as string, wrapped);
    return () => this.#emitter.off(event as string, wrapped);
  }

  emit<K extends keyof PortalEvents>(event: K, payload: PortalEvents[K]): void {
    this.#emitter.emit(event as string, payload);
  }
}
