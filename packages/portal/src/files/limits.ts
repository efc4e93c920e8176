/** Limits on files the portal downloads from platform links. */
export interface FileLimits {
  /** Largest file taken, in bytes. Default 50 MiB (the largest most platforms let bots fetch). */
  maxSizeBytes: number;
  /** Most files taken from one message; the rest are marked failed. Default 10. */
  maxCount: number;
  /** Content types taken: exact (`image/png`) or a family (`image/*`). Default: common media and documents. */
  allowedTypes: string[];
  /** Time to get the response headers, and the whole download. Defaults 10 s and 120 s. */
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  /** Redirects followed (each target checked like the first). Default 3. */
  maxRedirects: number;
  /** Downloads at once. Default 4. */
  concurrency: number;
  /** Lifetime of public links given to platforms. Default 24 h. */
  publicLinkTtlMs: number;
}

export const defaultFileLimits: FileLimits = {
  maxSizeBytes: 50 * 1024 * 1024,
  maxCount: 10,
  allowedTypes: [
    "image/*",
    "video/*",
    "audio/*",
    "text/plain",
    "text/csv",
    "application/pdf",
    "application/zip",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.*",
    "application/vnd.ms-excel",
    "application/vnd.oasis.opendocument.*",
    "application/octet-stream",
  ],
  connectTimeoutMs: 10_000,
  totalTimeoutMs: 120_000,
  maxRedirects: 3,
  concurrency: 4,
  publicLinkTtlMs: 24 * 60 * 60 * 1000,
};

export function fileLimits(partial: Partial<FileLimits> | undefined): FileLimits {
  return Object.freeze({ ...defaultFileLimits, ...partial });
}

/** Whether a content type is on the allow-list (parameters such as `; charset=` are ignored). */
export function typeAllowed(type: string, allowed: readonly string[]): boolean {
  const t = type.split(";")[0].trim().toLowerCase();
  return allowed.some((a) => {
    const p = a.toLowerCase();
    return p.endsWith("*") ? t.startsWith(p.slice(0, -1)) : t === p;
  });
}
