import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { OpenlinesError } from "@openlines/protocol";

/**
 * Visitors' uploads on the hub's local disk, one file per upload named by its random id. The
 * size limit is enforced while streaming, so an oversized upload never fills the disk.
 */
export class UploadDir {
  constructor(readonly dir: string) {}

  #path(id: string): string {
    if (!/^f_[\w-]{10,40}$/.test(id)) throw new OpenlinesError("NOT_FOUND");
    return join(this.dir, id);
  }

  /** Writes the stream to the file `id`; throws BODY_TOO_LARGE (and keeps nothing) past `maxBytes`. */
  async save(id: string, body: Readable, maxBytes: number): Promise<number> {
    await mkdir(this.dir, { recursive: true });
    const path = this.#path(id);
    let size = 0;
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            size += chunk.length;
            if (size > maxBytes)
              throw new OpenlinesError("BODY_TOO_LARGE", `The file is larger than ${maxBytes} bytes.`);
            yield chunk;
          }
        },
        createWriteStream(path, { flags: "wx" }),
      );
    } catch (e) {
      await rm(path, { force: true });
      throw e;
    }
    return size;
  }

  async open(id: string): Promise<{ stream: Readable; size: number }> {
    const path = this.#path(id);
    const s = await stat(path).catch(() => undefined);
    if (!s) throw new OpenlinesError("NOT_FOUND", "The file is no longer on the hub.");
    return { stream: createReadStream(path), size: s.size };
  }
}

/** The exchange file kind of a MIME type, within what the live chat declares. */
export function fileKind(type: string): "image" | "document" | "other" {
  if (/^image\/(png|jpe?g|gif|webp|bmp|svg\+xml|heic|avif)$/i.test(type)) return "image";
  if (
    /^(application\/(pdf|msword|rtf|vnd\.(openxmlformats|oasis|ms-excel|ms-powerpoint)[^;]*)|text\/(plain|csv))$/i.test(
      type,
    )
  )
    return "document";
  return "other";
}
