import type { Readable } from "node:stream";
import type { FastifyReply } from "fastify";
import type { FileView } from "../messages/types.js";

/**
 * Where file bytes live. Keys are chosen by the store (content hash); the local disk store is the
 * default, an S3-compatible store can implement the same three operations.
 */
export interface FileStorage {
  /** Stores the bytes and returns their key, size and SHA-256 (hex). */
  put(data: Readable | Buffer): Promise<{ key: string; size: number; sha256: string }>;
  get(key: string): Promise<Readable>;
  delete(key: string): Promise<void>;
}

export interface PublicLink {
  /** Id to revoke the link with. */
  id: string;
  url: string;
  expiresAt: number;
}

/** `ctx.services.files`. */
export interface FileService {
  /**
   * Stores an operator's upload; returns the file id to pass to `messages.send({files})`.
   * `maxBytes` is enforced while streaming (BODY_TOO_LARGE), whatever the request announced.
   */
  storeUpload(
    data: Readable | Buffer,
    name: string,
    type: string,
    o?: { maxBytes?: number },
  ): Promise<string>;
  get(fileId: string): Promise<FileView | undefined>;
  /** The bytes of a stored file; NOT_FOUND when unknown or not downloaded. */
  open(fileId: string): Promise<{ stream: Readable; file: FileView }>;
  /**
   * Answers an operator's `GET /api/files/:id` (the API module mounts it behind its session
   * check): streams the file with its type and name, 404 when unknown or not (yet) stored.
   */
  reply(fileId: string, reply: FastifyReply): Promise<FastifyReply>;
  /** An unguessable link a platform can fetch without a session until it expires or is revoked. */
  publicLink(fileId: string, ttlMs?: number): Promise<PublicLink>;
  revoke(linkId: string): Promise<void>;
  /** Queues pending inbound files for download (the input calls it after commit). */
  download(fileIds: string[]): void;
  /** Resolves when no download is queued or running (tests, shutdown). */
  downloadsIdle(): Promise<void>;
}

declare module "../context.js" {
  interface PortalServices {
    files: FileService;
  }
  interface PortalConfig {
    /** Limits of inbound file downloads; defaults in files/limits.ts. */
    files?: Partial<import("./limits.js").FileLimits>;
  }
}

declare module "../events/bus.js" {
  interface PortalEvents {
    /** An inbound file was downloaded (status ok) or failed. */
    "file.updated": { file: FileView; messageId: string | null };
  }
}
