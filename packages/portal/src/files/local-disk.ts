import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { OpenlinesError } from "@openlines/protocol";
import type { FileStorage } from "./types.js";

/**
 * Files on local disk, named by the SHA-256 of their content in two levels of sharded
 * directories (`ab/cd/abcd…`), so a directory never holds more than a few thousand entries and
 * the same bytes are stored once. Writes go to `tmp/` first and are renamed into place, so a
 * half-written file never has a key. Because keys are shared by equal content, `delete` is for a
 * sweeper that knows no file row still refers to the key.
 */
export class LocalDiskStorage implements FileStorage {
  constructor(readonly dir: string) {}

  #path(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new OpenlinesError("NOT_FOUND", "No such stored file.");
    return join(this.dir, key.slice(0, 2), key.slice(2, 4), key);
  }

  async put(data: Readable | Buffer): Promise<{ key: string; size: number; sha256: string }> {
    const tmpDir = join(this.dir, "tmp");
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, randomUUID());
    const hash = createHash("sha256");
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(Buffer.isBuffer(data) ? Readable.from([data]) : data, meter, createWriteStream(tmp));
      const key = hash.digest("hex");
      const path = this.#path(key);
      await mkdir(join(path, ".."), { recursive: true });
      await rename(tmp, path);
      return { key, size, sha256: key };
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async get(key: string): Promise<Readable> {
    const path = this.#path(key);
    try {
      await stat(path);
    } catch {
      throw new OpenlinesError("NOT_FOUND", "The file's bytes are not in the store.");
    }
    return createReadStream(path);
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }
}
