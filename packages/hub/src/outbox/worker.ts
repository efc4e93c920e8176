import { createHash } from "node:crypto";
import { type DeliveryStatusPayload, isOpenlinesError } from "@openlines/protocol";
import { PlatformError } from "../connectors/contract.js";
import { buildPacket } from "../connectors/pipeline/packets.js";
import type { ChatContexts } from "../lines/chat-context.js";
import type { HubServices } from "../lines/context.js";
import type { ConnectorInstances } from "../lines/instances.js";
import type { LineRepository } from "../lines/repository.js";
import { capabilityRefusal } from "./checks.js";
import { RateLimiter } from "./rate-limit.js";
import type { OutboxRow, OutboxStore } from "./store.js";

/** How long a claimed row stays away from other workers; a crashed worker's row is retried after. */
const CLAIM_MS = 60_000;
const BATCH = 50;

export interface OutboxEvents {
  /** Fired after each pass, for tests and metrics: what finished in it. */
  onPass?(r: { sent: number; failed: number; retried: number }): void;
}

/**
 * The outbox worker (DESIGN 3.6): woken in-process when a row is stored, and by one timer for the
 * earliest due row — nothing polls per line. Each row is claimed, checked against the channel's
 * capabilities, rate-limited per line and per platform, sent, and reported to the portal as a
 * `deliveryStatus` packet through the queue. A retryable failure waits with exponential back-off
 * (at least the platform's retry-after) until `giveUpAfterMs` has passed since the call.
 * Within a chat, send/update/delete go out in the order they were stored.
 */
export function outboxWorker(
  hub: HubServices,
  store: OutboxStore,
  lines: LineRepository,
  contexts: ChatContexts,
  instances: ConnectorInstances,
  events: OutboxEvents = {},
) {
  const limiter = new RateLimiter(() => hub.clock.now());
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;
  let timer: { cancel(): void } | undefined;
  let timerAt = Number.POSITIVE_INFINITY;

  async function status(row: OutboxRow, connector: string, data: Omit<DeliveryStatusPayload, "at" | "chat">) {
    const line = await lines.byId(row.line_connector_id);
    if (!line || !row.message_id) return;
    const id = `ds_${createHash("sha256").update(`${row.id}\n${data.status}`).digest("base64url")}`;
    const operation = row.kind === "update" || row.kind === "delete" ? { operation: row.kind } : {};
    const packet = buildPacket(line, {
      id,
      type: "deliveryStatus",
      connector,
      created: hub.clock.now(),
      data: { chat: { id: row.chat_id }, at: hub.clock.now(), ...operation, ...data },
    });
    await hub.queue.enqueue([{ lineConnectorId: line.id, packet }]);
  }

  async function finish(row: OutboxRow) {
    await store.remove(row.id);
    await store.releaseChat(row.line_connector_id, row.chat_id, hub.clock.now());
  }

  async function fail(row: OutboxRow, connector: string, reason: string, errorCode?: string) {
    hub.events.emit("outbox:failed", {
      lineConnectorId: row.line_connector_id,
      kind: row.kind,
      messageId: row.message_id ?? undefined,
      reason,
      code: errorCode,
    });
    if (row.kind === "send" || row.kind === "update" || row.kind === "delete")
      await status(row, connector, { messageId: row.message_id!, status: "failed", reason, errorCode });
    await finish(row);
  }

  /** Processes one claimed row; returns what happened. */
  async function process(row: OutboxRow): Promise<"sent" | "failed" | "retried" | "skipped"> {
    const now = hub.clock.now();
    const line = await lines.byId(row.line_connector_id);
    const body = JSON.parse(row.body);
    if (line?.status !== "active") {
      await fail(
        row,
        line?.connector ?? "unknown",
        "The line is not connected to the channel any more.",
        "LINE_INACTIVE",
      );
      return "failed";
    }
    const chat = await contexts.get(line.id, row.chat_id);
    const type = chat?.connector ?? line.connector;
    let instance: Awaited<ReturnType<typeof instances.get>>;
    try {
      instance = await instances.get(line);
    } catch (e) {
      await fail(row, type, isOpenlinesError(e) ? e.message : "The line cannot be used.", "SETTINGS_MISSING");
      return "failed";
    }
    const caps = hub.registry.has(type)
      ? hub.registry.get(type).capabilities
      : instance.resolved.capabilities;
    const refusal = capabilityRefusal(row.kind, body, caps, instance.connector, {
      lastInboundMs: chat?.last_inbound_ms == null ? null : Number(chat.last_inbound_ms),
      now,
    });
    if (refusal) {
      await fail(row, type, refusal, "CAPABILITY_REFUSED");
      return "failed";
    }
    const def = instance.resolved.definition;
    const d = hub.config.rateLimits;
    const wait = limiter.take([
      {
        key: `line:${line.id}`,
        perSecond: def.rateLimits?.perLine?.perSecond ?? d.perLinePerSecond,
        burst: def.rateLimits?.perLine?.burst ?? d.perLineBurst,
      },
      {
        key: `platform:${def.type}`,
        perSecond: def.rateLimits?.perPlatform?.perSecond ?? d.perPlatformPerSecond,
        burst: def.rateLimits?.perPlatform?.burst ?? d.perPlatformBurst,
      },
    ]);
    if (wait > 0) {
      await store.reschedule(row.id, now + wait, row.attempts, row.last_error);
      return "skipped";
    }
    const chatContext = chat?.data ? JSON.parse(chat.data) : undefined;
    const c = instance.connector;
    try {
      switch (row.kind) {
        case "send": {
          const r = await c.send({ ...body, connector: type, chatContext });
          await store.rememberSent(line.id, body.id, row.chat_id, r.platformMessageId);
          await status(row, type, {
            messageId: body.id,
            status: "sent",
            platformMessageId: r.platformMessageId,
          });
          break;
        }
        case "update": {
          const platformMessageId = (await store.platformId(line.id, body.id)) ?? body.platformMessageId;
          await c.update!({ ...body, platformMessageId, connector: type, chatContext });
          await status(row, type, { messageId: body.id, status: "sent", platformMessageId });
          break;
        }
        case "delete": {
          const platformMessageId = (await store.platformId(line.id, body.id)) ?? body.platformMessageId;
          await c.delete!({ ...body, platformMessageId, connector: type, chatContext });
          await status(row, type, { messageId: body.id, status: "sent", platformMessageId });
          break;
        }
        case "typing":
          if (caps.typing) await c.typing?.({ id: row.chat_id, connector: type, chatContext });
          break;
        case "markRead":
          if (caps.readReceipts)
            await c.markRead?.(
              { id: row.chat_id, connector: type, chatContext },
              body.platformMessageIds ?? [],
            );
          break;
      }
      await finish(row);
      hub.events.emit("outbox:done", {
        lineConnectorId: line.id,
        kind: row.kind,
        messageId: row.message_id ?? undefined,
      });
      return "sent";
    } catch (e) {
      const retryable = e instanceof PlatformError ? e.retryable : !isOpenlinesError(e);
      const reason =
        e instanceof PlatformError || isOpenlinesError(e)
          ? (e as Error).message
          : "The channel could not be reached.";
      if (!isOpenlinesError(e))
        hub.log.warn({ err: e, line: line.id, outbox: row.id }, "platform call failed");
      // typing and read marks are worth nothing late: never retried
      if (retryable && (row.kind === "send" || row.kind === "update" || row.kind === "delete")) {
        const attempts = row.attempts + 1;
        const backoff = Math.min(
          hub.config.outbox.retryMaxMs,
          hub.config.outbox.retryBaseMs * 2 ** (attempts - 1),
        );
        const delay = Math.max(backoff, e instanceof PlatformError ? (e.retryAfterMs ?? 0) : 0);
        if (now + delay - Number(row.created_ms) <= hub.config.outbox.giveUpAfterMs) {
          await store.reschedule(row.id, now + delay, attempts, reason);
          hub.events.emit("outbox:retry", {
            lineConnectorId: line.id,
            kind: row.kind,
            messageId: row.message_id ?? undefined,
            attempts,
            nextAt: now + delay,
            reason,
          });
          return "retried";
        }
      }
      await fail(
        row,
        type,
        reason,
        e instanceof PlatformError ? "PLATFORM_ERROR" : isOpenlinesError(e) ? e.code : "PLATFORM_ERROR",
      );
      return "failed";
    }
  }

  async function pass() {
    const counts = { sent: 0, failed: 0, retried: 0 };
    for (;;) {
      const now = hub.clock.now();
      const rows = await store.due(now, BATCH);
      if (rows.length === 0) break;
      let progressed = false;
      for (const row of rows) {
        if (stopped) return;
        const ordered = row.kind === "send" || row.kind === "update" || row.kind === "delete";
        if (ordered && (await store.olderInChat(row))) {
          // waits, off the due list, until the operation ahead of it finishes (releaseChat)
          await store.reschedule(row.id, now + hub.config.outbox.giveUpAfterMs, row.attempts, row.last_error);
          continue;
        }
        if (!(await store.claim(row, now + CLAIM_MS))) continue;
        const r = await process(row);
        if (r !== "skipped") {
          counts[r === "retried" ? "retried" : r === "failed" ? "failed" : "sent"]++;
          progressed = true;
        }
      }
      if (!progressed && rows.length < BATCH) break;
    }
    events.onPass?.(counts);
  }

  async function arm() {
    const at = await store.earliest();
    if (at === undefined || stopped) return;
    if (timer && timerAt <= at) return;
    timer?.cancel();
    timerAt = at;
    timer = hub.clock.setTimer(Math.max(0, at - hub.clock.now()), () => {
      timer = undefined;
      timerAt = Number.POSITIVE_INFINITY;
      wake();
    });
  }

  function wake(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        // a wake that arrives while the timer is being armed must not be lost: look again after it
        for (;;) {
          do {
            again = false;
            await pass();
          } while (again && !stopped);
          await arm();
          if (!again || stopped) break;
        }
      } catch (e) {
        hub.log.error({ err: e }, "outbox pass failed");
        timer?.cancel();
        timerAt = hub.clock.now() + 5000;
        timer = hub.clock.setTimer(5000, () => {
          timer = undefined;
          timerAt = Number.POSITIVE_INFINITY;
          wake();
        });
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  return {
    start() {
      stopped = false;
      return wake();
    },
    async stop() {
      stopped = true;
      timer?.cancel();
      timer = undefined;
      await running;
    },
    /** Called after rows are stored; resolves when the pass it started (or joined) ends. */
    wake,
    /** Resolves once the worker is idle (tests). */
    idle: () => running ?? Promise.resolve(),
  };
}
export type OutboxWorker = ReturnType<typeof outboxWorker>;
