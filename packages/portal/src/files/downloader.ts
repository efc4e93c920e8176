import { pipeline, type Readable, Transform } from "node:stream";
import type { PortalContext } from "../context.js";
import type { FileLimits } from "./limits.js";
import { typeAllowed } from "./limits.js";
import { AddressRefused, guardedAgent, guardedGet } from "./safe-fetch.js";
import type { FileStorage } from "./types.js";

class Refused extends Error {}

/**
 * Downloads pending inbound files in the background, a few at a time. Each outcome is written to
 * the file row (ok with its key and size, or failed with a reason an operator can read) and
 * announced with `file.updated`. Pending files left by a stopped process are picked up at start.
 */
export class Downloader {
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  #running = 0;
  #stopped = false;
  readonly #idleWaiters: Array<() => void> = [];
  readonly #agent;

  constructor(
    private readonly ctx: PortalContext,
    private readonly storage: FileStorage,
    private readonly limits: FileLimits,
  ) {
    this.#agent = guardedAgent(ctx.config.allowPrivateAddresses, limits.connectTimeoutMs);
  }

  enqueue(fileIds: string[]): void {
    for (const id of fileIds) {
      if (this.#queued.has(id)) continue;
      this.#queued.add(id);
      this.#queue.push(id);
    }
    this.#pump();
  }

  /** Resolves when nothing is queued or running (tests, shutdown). */
  idle(): Promise<void> {
    if (this.#running === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  async resumePending(): Promise<void> {
    const rows = await this.ctx.database.db
      .selectFrom("file")
      .select("id")
      .where("status", "=", "pending")
      .where("origin", "=", "inbound")
      .execute();
    this.enqueue(rows.map((r) => r.id));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#queue.length = 0;
    await this.idle();
    await this.#agent.close();
  }

  #pump(): void {
    while (!this.#stopped && this.#running < this.limits.concurrency && this.#queue.length > 0) {
      const id = this.#queue.shift()!;
      this.#running++;
      this.#download(id)
        .catch((e) => this.ctx.log.error({ err: e, fileId: id }, "file download bookkeeping failed"))
        .finally(() => {
          this.#running--;
          this.#queued.delete(id);
          this.#pump();
          if (this.#running === 0 && this.#queue.length === 0) {
            for (const w of this.#idleWaiters.splice(0)) w();
          }
        });
    }
  }

  async #download(fileId: string): Promise<void> {
    const db = this.ctx.database.db;
    const row = await db.selectFrom("file").selectAll().where("id", "=", fileId).executeTakeFirst();
    if (row?.status !== "pending" || !row.source_url) return;
    const limits = this.limits;
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Refused("The download took too long.")),
      limits.totalTimeoutMs,
    );
    let result:
      | { status: "ok"; key: string; size: number; sha256: string; type: string }
      | { status: "failed"; reason: string };
    try {
      const res = await guardedGet(row.source_url, {
        agent: this.#agent,
        allowPrivate: this.ctx.config.allowPrivateAddresses,
        maxRedirects: limits.maxRedirects,
        headersTimeoutMs: limits.connectTimeoutMs,
        bodyTimeoutMs: limits.totalTimeoutMs,
        signal: controller.signal,
      });
      if (res.status !== 200) {
        await res.body.dump().catch(() => {});
        throw new Refused(`The platform answered ${res.status} for the file link.`);
      }
      const header = res.headers["content-type"];
      const type = (Array.isArray(header) ? header[0] : header) || row.type;
      if (!typeAllowed(type, limits.allowedTypes)) {
        discard(res.body);
        throw new Refused(`Files of type ${type.split(";")[0]} are not accepted.`);
      }
      const length = Number(res.headers["content-length"] ?? Number.NaN);
      if (length > limits.maxSizeBytes) {
        discard(res.body);
        throw new Refused(`The file is larger than ${limits.maxSizeBytes} bytes.`);
      }
      let seen = 0;
      const cap = new Transform({
        transform(chunk: Buffer, _enc, done) {
          seen += chunk.length;
          if (seen > limits.maxSizeBytes)
            done(new Refused(`The file is larger than ${limits.maxSizeBytes} bytes.`));
          else done(null, chunk);
        },
      });
      // pipeline (not pipe): an error on either side destroys both, so a stalled or aborted
      // body ends the store's write instead of leaving it waiting.
      pipeline(res.body, cap, () => {});
      const stored = await this.storage.put(cap);
      result = { status: "ok", ...stored, type: type.split(";")[0].trim() };
    } catch (e) {
      const cause = controller.signal.aborted ? controller.signal.reason : e;
      const reason =
        cause instanceof Refused || cause instanceof AddressRefused
          ? cause.message
          : (findRefusal(cause) ?? `The file could not be downloaded (${describe(cause)}).`);
      result = { status: "failed", reason };
    } finally {
      clearTimeout(timer);
    }
    if (result.status === "ok") {
      await db
        .updateTable("file")
        .set({
          status: "ok",
          reason: null,
          storage_key: result.key,
          size: result.size,
          sha256: result.sha256,
          type: result.type,
        })
        .where("id", "=", fileId)
        .where("status", "=", "pending")
        .execute();
    } else {
      this.ctx.log.warn({ fileId, reason: result.reason }, "inbound file not downloaded");
      await db
        .updateTable("file")
        .set({ status: "failed", reason: result.reason })
        .where("id", "=", fileId)
        .where("status", "=", "pending")
        .execute();
    }
    const link = await db
      .selectFrom("message_file")
      .select("message_id")
      .where("file_id", "=", fileId)
      .executeTakeFirst();
    const updated = await db
      .selectFrom("file")
      .selectAll()
      .where("id", "=", fileId)
      .executeTakeFirstOrThrow();
    this.ctx.bus.emit("file.updated", {
      file: {
        id: updated.id,
        name: updated.name,
        type: updated.type,
        size: updated.size === null ? null : Number(updated.size),
        status: updated.status,
        ...(updated.reason ? { reason: updated.reason } : {}),
      },
      messageId: link?.message_id ?? null,
    });
  }
}

/** An address refusal or our own refusal may be wrapped by undici as a cause. */
function findRefusal(e: unknown): string | undefined {
  for (let c: any = e, i = 0; c && i < 5; c = c.cause, i++) {
    if (c instanceof AddressRefused || c instanceof Refused) return c.message;
  }
  return undefined;
}

function describe(e: unknown): string {
  const err = e as { code?: string; name?: string; message?: string };
  if (err?.code === "UND_ERR_HEADERS_TIMEOUT" || err?.code === "UND_ERR_BODY_TIMEOUT") return "timed out";
  if (err?.code === "UND_ERR_CONNECT_TIMEOUT") return "connection timed out";
  return err?.code ?? err?.name ?? "network error";
}

/** Drops a response body we do not want, without an unhandled error from the abort. */
function discard(body: Readable): void {
  body.on("error", () => {});
  body.destroy();
}
