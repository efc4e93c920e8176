/**
 * The error catalogue shared by hub and portal: every error has a stable `code`, the HTTP status
 * it maps to, and a message a person can act on. Add codes here, never inline.
 * docs/errors.md lists them; keep the two in step.
 */
export const ErrorCodes = {
  // request shape
  BAD_REQUEST: { status: 400, message: "The request is malformed." },
  BODY_NOT_JSON: { status: 400, message: "The request body is not valid JSON." },
  BODY_TOO_LARGE: { status: 413, message: "The request body is larger than allowed." },
  VALIDATION_FAILED: { status: 422, message: "The request does not match the expected schema." },
  // signing
  SIGNATURE_HEADER_MISSING: {
    status: 401,
    message: "The request has no webhook-id, webhook-timestamp or webhook-signature header.",
  },
  SIGNATURE_MALFORMED: {
    status: 401,
    message: "The signature headers are not in the Standard Webhooks format.",
  },
  SIGNATURE_MISMATCH: {
    status: 401,
    message: "No signature matches: the body was altered or it was signed with another secret.",
  },
  SIGNATURE_TIMESTAMP_STALE: {
    status: 401,
    message: "The request timestamp is older than the replay window; check the sender's clock.",
  },
  SIGNATURE_TIMESTAMP_FUTURE: {
    status: 401,
    message: "The request timestamp is ahead of this server's clock by more than the replay window.",
  },
  SIGNATURE_REPLAYED: {
    status: 409,
    message: "This request id was already taken; it is not processed twice.",
  },
  SECRET_INVALID: { status: 500, message: "The signing secret is not a valid whsec_ base64 secret." },
  // identities
  PORTAL_UNKNOWN: { status: 401, message: "No portal is registered with this id." },
  PORTAL_INACTIVE: { status: 403, message: "The portal is registered but not active." },
  LINE_UNKNOWN: { status: 404, message: "No line connector has this hash." },
  LINE_INACTIVE: { status: 409, message: "The line connector is not active." },
  CONNECTOR_UNKNOWN: { status: 400, message: "No connector of this type is installed on the hub." },
  SETTINGS_INVALID: { status: 422, message: "The connector settings are incomplete or invalid." },
  SETTINGS_MISSING: { status: 409, message: "The connector has no settings yet; call saveSettings first." },
  METHOD_UNKNOWN: { status: 404, message: "No remote method has this name." },
  NOT_FOUND: { status: 404, message: "Not found." },
  UNAUTHORIZED: { status: 401, message: "Sign in first." },
  FORBIDDEN: { status: 403, message: "You are not allowed to do this." },
  CSRF_TOKEN_INVALID: { status: 403, message: "The CSRF token is missing or wrong; reload the page." },
  CONFLICT: { status: 409, message: "The request conflicts with the current state." },
  RATE_LIMITED: { status: 429, message: "Too many requests; wait and try again." },
  CAPABILITY_REFUSED: { status: 422, message: "The channel does not allow this." },
  // remote calls
  RPC_UNREACHABLE: { status: 502, message: "The remote service could not be reached." },
  RPC_TIMEOUT: { status: 504, message: "The remote service did not answer in time." },
  RPC_BAD_RESPONSE: {
    status: 502,
    message: "The remote service answered with a body that is not understood.",
  },
  RPC_FAILED: { status: 502, message: "The remote service answered with an error." },
  PLATFORM_ERROR: { status: 502, message: "The channel platform refused the request." },
  INTERNAL: { status: 500, message: "An internal error occurred; it has been logged." },
  WEBHOOK_UNVERIFIED: { status: 401, message: "The webhook request does not carry the platform's secret." },
  FILE_LINK_GONE: { status: 410, message: "This download link was revoked or has expired." },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

/** The JSON body of every error answer, hub and portal alike. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** A typed error: stable code, HTTP status, an actionable message, optional details and cause. */
export class OpenlinesError extends Error {
  readonly code: ErrorCode | (string & {});
  readonly status: number;
  readonly details?: unknown;

  constructor(
    code: ErrorCode,
    message?: string,
    options: { details?: unknown; cause?: unknown; status?: number } = {},
  ) {
    super(
      message ?? ErrorCodes[code].message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "OpenlinesError";
    this.code = code;
    this.status = options.status ?? ErrorCodes[code].status;
    this.details = options.details;
  }

  /** Rebuilds an error received from the other service (its code may be newer than ours). */
  static fromBody(body: ErrorBody, status: number): OpenlinesError {
    const known = body.error.code in ErrorCodes ? (body.error.code as ErrorCode) : "RPC_FAILED";
    const e = new OpenlinesError(known, body.error.message, { details: body.error.details, status });
    (e as { code: string }).code = body.error.code;
    return e;
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

export function isOpenlinesError(e: unknown, code?: ErrorCode): e is OpenlinesError {
  return e instanceof OpenlinesError && (code === undefined || e.code === code);
}

/**
 * Maps any thrown value to the HTTP answer both services give: typed errors keep their status and
 * code; the web framework's own body errors (too large, not JSON) get ours; anything else is a
 * 500 INTERNAL whose details stay in the log, never in the answer.
 */
export function errorReply(error: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (error instanceof OpenlinesError) return { status: error.status, body: error.toBody(), internal: false };
  const e = error as { statusCode?: number; code?: string; message?: string };
  const typed = (code: ErrorCode, message?: string) => {
    const err = new OpenlinesError(code, message);
    return { status: err.status, body: err.toBody(), internal: false };
  };
  if (e?.code === "FST_ERR_CTP_BODY_TOO_LARGE") return typed("BODY_TOO_LARGE");
  if (e?.code === "FST_ERR_CTP_INVALID_JSON_BODY" || e?.code === "FST_ERR_CTP_EMPTY_JSON_BODY")
    return typed("BODY_NOT_JSON");
  if (e?.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") return typed("BAD_REQUEST", "Unsupported content type.");
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) return typed("BAD_REQUEST", e.message);
  return { ...typed("INTERNAL"), internal: true };
}
