/**
 * The hub's durable queue towards portals (DESIGN 3.5): group-committed enqueue, a delivery
 * worker with per-line blocks, leases between instances, dead letters and re-drive.
 * How it works: docs/queue.md.
 */
export type {
  LineQueueState,
  Queue,
  QueuedPacket,
  QueueEventEmitter,
  QueueEventName,
  QueueEvents,
  QueueOptions,
  QueueSchedule,
} from "./interfaces.js";
export { queueDefaults } from "./options.js";
export { createQueue } from "./queue.js";
