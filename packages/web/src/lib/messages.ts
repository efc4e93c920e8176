import type { Message } from "./types.ts";

/** How far along its delivery a message is; a later answer must not move it back. */
const PROGRESS: Record<string, number> = {
  stored: 0,
  unsent: 1,
  queued: 2,
  sent: 3,
  failed: 3,
  delivered: 4,
  read: 5,
  received: 0,
};

/**
 * The same message seen twice (the API's answer and the stream's update race each other): keep
 * the later attempt and, within one attempt, the further status, with the newest text and flags.
 */
export function newerOf(a: Message, b: Message): Message {
  const behind =
    b.attempt < a.attempt ||
    (b.attempt === a.attempt && (PROGRESS[b.status] ?? 0) < (PROGRESS[a.status] ?? 0));
  if (!behind) return b;
  return {
    ...b,
    status: a.status,
    failureReason: a.failureReason,
    attempt: a.attempt,
    editedAt: b.editedAt ?? a.editedAt,
    deletedAt: b.deletedAt ?? a.deletedAt,
  };
}
