import { PlatformError } from "./contract.js";

/**
 * Passes a platform's file download on to whoever fetched the hub file link: the body streamed,
 * only its type and length kept (never the platform's other headers). A refusal becomes a
 * PlatformError — `refusal` names who refused what ("Telegram refused the file download") — that
 * is retried only for a 5xx.
 */
export async function streamPlatformFile(
  res: Response,
  refusal: string,
  fallbackType?: string,
): Promise<Response> {
  if (!res.ok) {
    await res.body?.cancel();
    throw new PlatformError(`${refusal} (HTTP ${res.status})`, {
      retryable: res.status >= 500,
      platformStatus: res.status,
    });
  }
  const headers = new Headers();
  const type = res.headers.get("content-type") ?? fallbackType;
  if (type) headers.set("content-type", type);
  const length = res.headers.get("content-length");
  if (length) headers.set("content-length", length);
  return new Response(res.body, { status: 200, headers });
}
