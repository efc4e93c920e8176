import { PlatformError } from "../contract.js";

/** Graph API's error envelope: `{error: {message, type, code, error_subcode?, error_data?, fbtrace_id}}`. */
export interface GraphErrorBody {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  is_transient?: boolean;
  error_user_msg?: string;
  error_data?: { details?: string } | string;
  fbtrace_id?: string;
}

/** Graph codes that mean "too many calls": application, user, page, custom, WhatsApp throughput. */
export const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80007, 130429, 131056]);

/** The reason for a Graph error code, in words an operator understands; undefined when generic. */
export function reasonOf(code: number | undefined, subcode?: number): string | undefined {
  if (code === 190)
    return "the access token has expired or was revoked: connect the line again with a new token";
  if ((code === 10 && subcode === 2018278) || code === 131047)
    return "the customer last wrote more than 24 hours ago; only a template message can be sent now";
  if (code === 10 && subcode === 2018108)
    return "the customer cannot be messaged: they have not written to this account";
  if (code === 131026 || code === 551)
    return "the recipient cannot be reached: the number or person is not available on this channel";
  if (code === 131030) return "the recipient is not in the list of allowed test numbers";
  if (code === 131051) return "this message type is not supported by the channel";
  if (code === 131052 || code === 131053) return "the channel could not download the file at the given link";
  if (code === 132000) return "the template parameters do not match the template";
  if (code === 132001) return "the template does not exist in this language or is not approved";
  if (code === 368) return "the account is temporarily blocked for policy violations";
  if (code === 100 && subcode === 2018001) return "the customer cannot be found";
  if (code === 100 && subcode === 33)
    return "the id in the settings does not exist, or the access token has no access to it";
  if (code === 10 || (code !== undefined && code >= 200 && code < 300))
    return "the app lacks a permission for this (check the token's permissions and the app review)";
  if (code !== undefined && RATE_LIMIT_CODES.has(code)) return "the channel's rate limit was reached";
  return undefined;
}

/**
 * Turns a Graph error answer into a PlatformError: rate limits, transient errors, 5xx and
 * unreadable answers are retryable (the outbox backs off); everything else fails at once with a
 * reason. The platform's own message is kept after the reason; it never contains the token.
 */
export function graphError(what: string, httpStatus: number, error?: GraphErrorBody): PlatformError {
  const code = error?.code;
  const base = {
    platformStatus: httpStatus,
    platformCode: code === undefined ? String(httpStatus) : String(code),
  };
  const detail = error?.message ?? `HTTP ${httpStatus}`;
  if (code !== undefined && RATE_LIMIT_CODES.has(code))
    return new PlatformError(`${reasonOf(code)} (${detail})`, { ...base, retryable: true });
  const reason = reasonOf(code, error?.error_subcode);
  if (reason) return new PlatformError(reason, { ...base, retryable: false });
  if (httpStatus === 429)
    return new PlatformError(`the channel's rate limit was reached (${detail})`, {
      ...base,
      retryable: true,
    });
  if (error?.is_transient || httpStatus >= 500 || code === 1 || code === 2 || error === undefined)
    return new PlatformError(`Meta failed (${what}): ${detail}`, { ...base, retryable: true });
  return new PlatformError(`Meta refused ${what}: ${detail}`, { ...base, retryable: false });
}
