/**
 * The portal API from the browser: JSON in and out, the session cookie sent by the browser, and
 * the CSRF token (from `GET`/`POST /api/session`) on every call that changes something. An error
 * answer becomes an `ApiError` carrying the catalogue code and the portal's message.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let unauthorized: () => void = () => {};
/** Called when the portal no longer knows the session (expired, signed out elsewhere). */
export function onUnauthorized(fn: () => void): void {
  unauthorized = fn;
}
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

async function call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const h: Record<string, string> = { ...headers };
  if (method !== "GET" && csrfToken) h["x-csrf-token"] = csrfToken;
  let payload: BodyInit | undefined;
  if (body instanceof Blob) payload = body;
  else if (body !== undefined) {
    h["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const r = await fetch(path, { method, headers: h, body: payload, credentials: "same-origin" });
  const text = await r.text();
  const data = text ? safeJson(text) : null;
  if (r.status === 401 && !(method === "POST" && path === "/api/session")) unauthorized();
  if (!r.ok) {
    const e = (data as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
    throw new ApiError(r.status, e?.code ?? `HTTP_${r.status}`, e?.message ?? r.statusText, e?.details);
  }
  return data as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: { message: text.slice(0, 200) } };
  }
}

export const api = {
  get: <T>(path: string) => call<T>("GET", path),
  post: <T>(path: string, body: unknown = {}) => call<T>("POST", path, body),
  put: <T>(path: string, body: unknown) => call<T>("PUT", path, body),
  patch: <T>(path: string, body: unknown) => call<T>("PATCH", path, body),
  del: <T>(path: string) => call<T>("DELETE", path),
  upload: <T>(file: File) =>
    call<T>("POST", `/api/files?name=${encodeURIComponent(file.name)}`, file, {
      "content-type": file.type || "application/octet-stream",
    }),
};

/** A message for people: the portal's words, with validation details flattened. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    const issues = Array.isArray(e.details)
      ? (e.details as Array<{ path?: unknown[]; message?: string }>)
          .map((i) => `${(i.path ?? []).join(".")}: ${i.message ?? ""}`.replace(/^: /, ""))
          .join("; ")
      : "";
    return issues ? `${e.message} (${issues})` : e.message;
  }
  return e instanceof Error ? e.message : String(e);
}
