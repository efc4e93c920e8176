import { createHash, randomBytes } from "node:crypto";
import { pipeline, Readable, Transform } from "node:stream";
import { OpenlinesError } from "@openlines/protocol";
import type { FastifyReply } from "fastify";
import type { Selectable } from "kysely";
import { newId } from "../contacts/store.js";
import type { PortalContext } from "../context.js";
import type { FileView } from "../messages/types.js";
import type { FileTable } from "../store/core-schema.js";
import type { FileLimits } from "./limits.js";
import type { FileService, FileStorage, PublicLink } from "./types.js";

export function fileView(r: Selectable<FileTable>): FileView {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    size: r.size === null ? null : Number(r.size),
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
  };
}

/** Passes the bytes through, failing with BODY_TOO_LARGE past `maxBytes`. */
function capped(data: Readable | Buffer, maxBytes: number): Readable {
  let seen = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > maxBytes) done(new OpenlinesError("BODY_TOO_LARGE", `Files up to ${maxBytes} bytes.`));
      else done(null, chunk);
    },
  });
  pipeline(Buffer.isBuffer(data) ? Readable.from([data]) : data, cap, () => {});
  return cap;
}

export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** A header-safe Content-Disposition for a file name (RFC 6266 with the UTF-8 form). */
function disposition(name: string, inline: boolean): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `${inline ? "inline" : "attachment"}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

const INLINE_TYPES = /^(image\/(png|jpeg|gif|webp)|video\/|audio\/)/;

export function createFileService(ctx: PortalContext, storage: FileStorage, limits: FileLimits): FileService {
  const db = ctx.database.db;

  async function row(fileId: string) {
    return db.selectFrom("file").selectAll().where("id", "=", fileId).executeTakeFirst();
  }

  async function open(fileId: string): Promise<{ stream: Readable; file: FileView }> {
    const r = await row(fileId);
    if (r?.status !== "ok" || !r.storage_key) throw new OpenlinesError("NOT_FOUND", "No such file.");
    return { stream: await storage.get(r.storage_key), file: fileView(r) };
  }

  async function reply(fileId: string, res: FastifyReply): Promise<FastifyReply> {
    const { stream, file } = await open(fileId);
    res.header("content-type", file.type);
    res.header("content-disposition", disposition(file.name, INLINE_TYPES.test(file.type)));
    res.header("x-content-type-options", "nosniff");
    // Files are the customers' and operators' content, never the portal's pages: no scripts, ever.
    res.header("content-security-policy", "sandbox; default-src 'none'");
    res.header("cache-control", "private, max-age=3600");
    if (file.size !== null) res.header("content-length", String(file.size));
    return res.send(stream);
  }

  return {
    async storeUpload(data, name, type, o = {}) {
      const stored = await storage.put(o.maxBytes === undefined ? data : capped(data, o.maxBytes));
      const id = newId("f");
      await db
        .insertInto("file")
        .values({
          id,
          name: name || "file",
          type: type || "application/octet-stream",
          size: stored.size,
          status: "ok",
          reason: null,
          origin: "upload",
          source_url: null,
          storage_key: stored.key,
          sha256: stored.sha256,
          created_ms: ctx.clock.now(),
        })
        .execute();
      return id;
    },
    async get(fileId) {
      const r = await row(fileId);
      return r ? fileView(r) : undefined;
    },
    open,
    reply,
    async publicLink(fileId, ttlMs = limits.publicLinkTtlMs): Promise<PublicLink> {
      const r = await row(fileId);
      if (r?.status !== "ok") throw new OpenlinesError("NOT_FOUND", "No such file.");
      const token = randomBytes(32).toString("base64url");
      const id = newId("fl");
      const now = ctx.clock.now();
      const expiresAt = now + ttlMs;
      await db
        .insertInto("file_link")
        .values({
          id,
          file_id: fileId,
          token_hash: tokenHash(token),
          expires_ms: expiresAt,
          revoked_ms: null,
          created_ms: now,
        })
        .execute();
      const base = ctx.config.publicUrl.replace(/\/+$/, "");
      return { id, url: `${base}/files/public/${token}/${encodeURIComponent(r.name)}`, expiresAt };
    },
    download: () => {
      throw new Error("files.download is set by the files module");
    },
    downloadsIdle: async () => {},
    async revoke(linkId) {
      await db
        .updateTable("file_link")
        .set({ revoked_ms: ctx.clock.now() })
        .where("id", "=", linkId)
        .where("revoked_ms", "is", null)
        .execute();
    },
  };
}

/**
 * Answers `GET /files/public/:token`: no session, the token is the permission. Unknown → 404;
 * revoked or expired → 410. Only the token's hash is stored, so a database leak gives no links.
 */
export async function replyPublic(ctx: PortalContext, files: FileService, token: string, res: FastifyReply) {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw new OpenlinesError("NOT_FOUND");
  const link = await ctx.database.db
    .selectFrom("file_link")
    .selectAll()
    .where("token_hash", "=", tokenHash(token))
    .executeTakeFirst();
  if (!link) throw new OpenlinesError("NOT_FOUND");
  if (link.revoked_ms !== null || Number(link.expires_ms) <= ctx.clock.now())
    throw new OpenlinesError("FILE_LINK_GONE");
  res.header("cache-control", "no-store");
  return files.reply(link.file_id, res);
}
