import type { z } from "zod";
import { type ErrorBody, OpenlinesError } from "./errors.js";
import { DEFAULT_TOLERANCE_SECONDS, type SeenIds, signedHeaders, verifySignature } from "./signing.js";

/**
 * Signed JSON calls between hub and portal, both sides of the wire:
 * - `postSigned` sends one signed POST (the hub delivers packets with it, the client uses it);
 * - `createRpcClient` is the portal's output client: a Proxy that turns `hub.anyMethod(args)` into
 *   `POST <baseUrl>/rpc/anyMethod`, typed through a call table such as `Calls`;
 * - `verifyCall` is the hub's check of one incoming call, framework-free.
 * Errors are OpenlinesError with RPC_* codes for transport failures, or the remote's own code.
 */

/** The header that names the calling portal; its secret verifies the signature. */
export const PORTAL_HEADER = "openlines-portal";
/** Ten seconds: long enough for a loaded hub to store a call, short enough to free an operator's request. */
export const DEFAULT_RPC_TIMEOUT_MS = 10_000;

export type CallTable = Record<string, { args: z.ZodType; result: z.ZodType }>;

export interface PostSignedOptions {
  /** The signing secret(s), `whsec_…`; several sign with each (rotation). */
  secret: string | readonly string[];
  /** Abort after this many milliseconds (connect, answer and body). Default 10 000. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  /** Current time in milliseconds, for the signature timestamp. */
  now?: () => number;
  /** Extra headers; they cannot replace the signature headers. */
  headers?: Record<string, string>;
}

export interface SignedAnswer {
  status: number;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
  text: string;
  headers: Record<string, string>;
}

/**
 * POSTs a JSON body (a string, sent byte for byte as signed) with Standard Webhooks headers.
 * Any HTTP status is returned, not thrown; a network failure throws RPC_UNREACHABLE and no
 * answer within `timeoutMs` throws RPC_TIMEOUT.
 */
export async function postSigned(
  url: string,
  body: string,
  options: PostSignedOptions,
): Promise<SignedAnswer> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
  const headers = {
    "content-type": "application/json",
    ...options.headers,
    ...signedHeaders(options.secret, body, (options.now ?? Date.now)()),
  };
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const res = await doFetch(url, { method: "POST", headers, body, signal: controller.signal });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    const answerHeaders: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      answerHeaders[name] = value;
    });
    return { status: res.status, json, text, headers: answerHeaders };
  } catch (cause) {
    if (timedOut) {
      throw new OpenlinesError("RPC_TIMEOUT", `${safeOrigin(url)} did not answer within ${timeoutMs} ms.`, {
        cause,
      });
    }
    throw new OpenlinesError("RPC_UNREACHABLE", `${safeOrigin(url)} could not be reached.`, { cause });
  } finally {
    clearTimeout(timer);
  }
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "The remote service";
  }
}

function isErrorBody(v: unknown): v is ErrorBody {
  const e = (v as ErrorBody | undefined)?.error;
  return typeof e === "object" && e !== null && typeof e.code === "string" && typeof e.message === "string";
}

/** A local wrapper around one remote method: gets the next function, returns the one callers use. */
export type RpcWrapper = (
  next: (args: unknown) => Promise<unknown>,
  method: string,
) => (args: unknown) => Promise<unknown>;

export interface RpcClientOptions extends Omit<PostSignedOptions, "secret"> {
  /** The hub's base URL, e.g. `https://hub.example.com`; calls go to `<baseUrl>/rpc/<method>`. */
  baseUrl: string;
  /** This portal's id at the hub, sent in the `openlines-portal` header. */
  portalId: string;
  secret: string | readonly string[];
}

export interface RpcClientExtras {
  /** Local wrappers per method name, e.g. `{ status: cached({ ttlMs: 5000 }) }`. */
  wrap?: Record<string, RpcWrapper>;
}

/** One remote method; the argument may be left out when the schema accepts `{}` (e.g. `status()`). */
export type RpcMethod<A extends z.ZodType, R extends z.ZodType> =
  Record<string, never> extends z.input<A>
    ? (args?: z.input<A>) => Promise<z.output<R>>
    : (args: z.input<A>) => Promise<z.output<R>>;

/** The typed output client: exactly the table's methods, plus `call` for any other method. */
export type RpcClient<C extends CallTable> = {
  readonly [M in keyof C & string]: RpcMethod<C[M]["args"], C[M]["result"]>;
} & {
  /**
   * Calls a method by name: for methods the hub has and the table has not yet (sent and returned
   * unchecked). A name that is in the table is still validated and wrapped as usual.
   */
  call(method: string, args?: unknown): Promise<unknown>;
};

const METHOD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * Creates the output client. Every property is a remote method: arguments are validated against
 * the table before sending (VALIDATION_FAILED, nothing sent), the 2xx answer against the result
 * schema (RPC_BAD_RESPONSE). An error answer in our format is rethrown as the remote's
 * OpenlinesError; any other non-2xx is RPC_FAILED. Methods missing from the table are sent and
 * returned unchecked, through `client.call(name, args)` (or an untyped property access).
 */
export function createRpcClient<C extends CallTable>(
  calls: C,
  options: RpcClientOptions,
  extras: RpcClientExtras = {},
): RpcClient<C> {
  const base = options.baseUrl.replace(/\/+$/, "");
  const has = (m: string) => Object.hasOwn(calls, m);

  const invoke = async (method: string, args: unknown): Promise<unknown> => {
    if (!METHOD_NAME.test(method)) {
      throw new OpenlinesError("METHOD_UNKNOWN", `"${method.slice(0, 64)}" is not a valid method name.`);
    }
    const entry = has(method) ? calls[method] : undefined;
    let payload: unknown = args ?? {};
    if (entry) {
      const parsed = entry.args.safeParse(payload);
      if (!parsed.success) {
        throw new OpenlinesError("VALIDATION_FAILED", `Arguments of ${method} do not match its schema.`, {
          details: parsed.error.issues,
        });
      }
      payload = parsed.data;
    }
    const answer = await postSigned(`${base}/rpc/${method}`, JSON.stringify(payload), {
      secret: options.secret,
      timeoutMs: options.timeoutMs,
      fetch: options.fetch,
      now: options.now,
      headers: { ...options.headers, [PORTAL_HEADER]: options.portalId },
    });
    if (answer.status < 200 || answer.status > 299) {
      if (isErrorBody(answer.json)) throw OpenlinesError.fromBody(answer.json, answer.status);
      throw new OpenlinesError("RPC_FAILED", `${method} failed with HTTP ${answer.status}.`, {
        status: 502,
        details: { status: answer.status },
      });
    }
    if (answer.json === undefined) {
      throw new OpenlinesError("RPC_BAD_RESPONSE", `${method} answered with a body that is not JSON.`, {
        details: { status: answer.status },
      });
    }
    if (!entry) return answer.json;
    const result = entry.result.safeParse(answer.json);
    if (!result.success) {
      throw new OpenlinesError("RPC_BAD_RESPONSE", `The answer of ${method} does not match its schema.`, {
        details: result.error.issues,
      });
    }
    return result.data;
  };

  const methods = new Map<string, (args: unknown) => Promise<unknown>>();
  const methodFor = (name: string) => {
    let fn = methods.get(name);
    if (!fn) {
      const plain = (args: unknown) => invoke(name, args);
      const wrapper = extras.wrap && Object.hasOwn(extras.wrap, name) ? extras.wrap[name] : undefined;
      fn = wrapper ? wrapper(plain, name) : plain;
      methods.set(name, fn);
    }
    return fn;
  };
  const call = (method: string, args?: unknown) => methodFor(method)(args);

  return new Proxy(Object.create(null) as RpcClient<C>, {
    get(_target, prop) {
      // Not thenable (so `await client` is the client) and no symbol is a remote method.
      if (typeof prop !== "string" || prop === "then") return undefined;
      if (prop === "call") return call;
      return methodFor(prop);
    },
  });
}

export interface CachedOptions {
  /** How long an answer is reused, in milliseconds. */
  ttlMs: number;
  /** Time source (a Clock fits); default Date. */
  clock?: { now(): number };
}

export interface CachedWrapper extends RpcWrapper {
  /** Forgets cached answers: all, or those of one method, or of one method and arguments. */
  invalidate(method?: string, args?: unknown): void;
}

/**
 * A wrapper that reuses a method's answer for `ttlMs`, keyed by method and the JSON of the
 * arguments. Concurrent identical calls share one request; failures are not cached. Meant for
 * reads such as `status` that pages ask for often; call `invalidate()` after a change.
 */
export function cached(options: CachedOptions): CachedWrapper {
  const now = () => (options.clock ? options.clock.now() : Date.now());
  const entries = new Map<string, { at: number; value: Promise<unknown> }>();
  const key = (method: string, args: unknown) => `${method}\u0000${JSON.stringify(args ?? {})}`;
  const wrapper = ((next: (args: unknown) => Promise<unknown>, method: string) => async (args: unknown) => {
    const k = key(method, args);
    const hit = entries.get(k);
    if (hit && now() - hit.at < options.ttlMs) return hit.value;
    const value = next(args);
    const entry = { at: now(), value };
    entries.set(k, entry);
    value.catch(() => {
      if (entries.get(k) === entry) entries.delete(k);
    });
    return value;
  }) as CachedWrapper;
  wrapper.invalidate = (method?: string, args?: unknown) => {
    if (method === undefined) entries.clear();
    else if (args !== undefined) entries.delete(key(method, args));
    else for (const k of entries.keys()) if (k.startsWith(`${method}\u0000`)) entries.delete(k);
  };
  return wrapper;
}

export type VerifiedCall<C extends CallTable> = {
  [M in keyof C & string]: {
    portalId: string;
    method: M;
    args: z.output<C[M]["args"]>;
    /** The request's `webhook-id`. */
    requestId: string;
  };
}[keyof C & string];

export interface VerifyCallOptions<C extends CallTable> {
  /** The method name from the path `/rpc/:method`. */
  method: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body exactly as received: the signature covers the bytes. */
  rawBody: string | Buffer;
  /** The accepted secrets of a portal (several during rotation), or undefined when unknown. */
  secretsFor(portalId: string): Promise<readonly string[] | undefined> | readonly string[] | undefined;
  seen?: SeenIds;
  /** Current time in milliseconds. */
  now?: number | (() => number);
  toleranceSeconds?: number;
  calls: C;
}

/**
 * Checks one incoming call in the order that leaks least: the portal header (PORTAL_UNKNOWN),
 * the signature with replay protection (SIGNATURE_*), then JSON (BODY_NOT_JSON), the method
 * (METHOD_UNKNOWN) and the arguments (VALIDATION_FAILED, zod issues in details). Returns the
 * parsed arguments, defaults applied.
 */
export async function verifyCall<C extends CallTable>(o: VerifyCallOptions<C>): Promise<VerifiedCall<C>> {
  const raw = o.headers[PORTAL_HEADER];
  const portalId = Array.isArray(raw) ? raw[0] : raw;
  if (!portalId) throw new OpenlinesError("PORTAL_UNKNOWN", `The ${PORTAL_HEADER} header is missing.`);
  const secrets = await o.secretsFor(portalId);
  if (!secrets || secrets.length === 0) throw new OpenlinesError("PORTAL_UNKNOWN");
  const now = typeof o.now === "function" ? o.now() : (o.now ?? Date.now());
  const { id } = await verifySignature({
    secrets,
    headers: o.headers,
    rawBody: o.rawBody,
    now,
    seen: o.seen,
    toleranceSeconds: o.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
  });
  let body: unknown;
  try {
    body = JSON.parse(typeof o.rawBody === "string" ? o.rawBody : o.rawBody.toString("utf8"));
  } catch {
    throw new OpenlinesError("BODY_NOT_JSON");
  }
  if (!Object.hasOwn(o.calls, o.method)) {
    throw new OpenlinesError("METHOD_UNKNOWN", `No remote method is called "${o.method.slice(0, 64)}".`);
  }
  const parsed = o.calls[o.method].args.safeParse(body);
  if (!parsed.success) {
    throw new OpenlinesError("VALIDATION_FAILED", `Arguments of ${o.method} do not match its schema.`, {
      details: parsed.error.issues,
    });
  }
  return { portalId, method: o.method, args: parsed.data, requestId: id } as VerifiedCall<C>;
}
