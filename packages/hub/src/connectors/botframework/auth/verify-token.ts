import { type Clock, OpenlinesError } from "@openlines/protocol";
import { decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import type { OpenIdKeys } from "./openid.js";

/** The issuer of every token the Bot Connector service sends to bots (channels.md §1.2). */
export const CHANNEL_TOKEN_ISSUER = "https://api.botframework.com";
/** The OpenID metadata path under the `openid` base URL. */
export const OPENID_METADATA_PATH = "/v1/.well-known/openidconfiguration";
/** Clock tolerance on `exp` and `nbf`, as the SDK allows. */
export const CLOCK_SKEW_SECONDS = 5 * 60;
const ALGORITHMS = ["RS256", "RS384", "RS512"];

export interface ChannelTokenCheck {
  authorization: string | undefined;
  appId: string;
  serviceUrl: string | undefined;
  channelId: string | undefined;
  metadataUrl: string;
  keys: OpenIdKeys;
  fetch: typeof fetch;
  clock: Clock;
}

const refuse = (why: string, cause?: unknown) =>
  new OpenlinesError("WEBHOOK_UNVERIFIED", `Bot Framework token refused: ${why}.`, {
    status: 401,
    cause,
  });

/**
 * Validates the bearer JWT of an incoming activity the way the Bot Connector documents it: a key
 * from the OpenID metadata's JWKS selected by `kid`, an RS* signature, issuer
 * `https://api.botframework.com`, audience = the bot's App ID, `exp`/`nbf` within 5 minutes of skew,
 * the `serviceurl` claim equal to the activity's serviceUrl, and the key endorsed for the
 * activity's channel. Every failure is a 401 WEBHOOK_UNVERIFIED; the message names the check
 * (never the token).
 */
export async function verifyChannelToken(c: ChannelTokenCheck): Promise<void> {
  const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(c.authorization ?? "");
  if (!m) throw refuse(c.authorization ? "the Authorization header is not one Bearer token" : "no token");
  const token = m[1];
  let kid: string | undefined;
  let alg: string | undefined;
  try {
    ({ kid, alg } = decodeProtectedHeader(token));
  } catch (e) {
    throw refuse("the token is malformed", e);
  }
  if (!kid) throw refuse("the token names no key id");
  if (!alg || !ALGORITHMS.includes(alg)) throw refuse("the token is not signed with RS256, RS384 or RS512");
  let signing: Awaited<ReturnType<OpenIdKeys["key"]>>;
  try {
    signing = await c.keys.key(c.metadataUrl, kid, { fetch: c.fetch, clock: c.clock });
  } catch (e) {
    throw refuse("the signing keys could not be fetched", e);
  }
  if (!signing) throw refuse("the token is signed by an unknown key");
  let payload: Record<string, unknown>;
  try {
    const key = await importJWK({ ...signing.jwk, alg }, alg);
    ({ payload } = await jwtVerify(token, key, {
      issuer: CHANNEL_TOKEN_ISSUER,
      audience: c.appId,
      algorithms: ALGORITHMS,
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: new Date(c.clock.now()),
      requiredClaims: ["exp"],
    }));
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why =
      code === "ERR_JWT_EXPIRED"
        ? "the token has expired"
        : code === "ERR_JWT_CLAIM_VALIDATION_FAILED"
          ? `the token's ${(e as { claim?: string }).claim ?? "claims"} claim is wrong`
          : code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
            ? "the signature does not match"
            : "the token is invalid";
    throw refuse(why, e);
  }
  if (!c.serviceUrl || payload.serviceurl !== c.serviceUrl)
    throw refuse("the serviceurl claim does not match the activity's serviceUrl");
  if (!c.channelId) throw refuse("the activity names no channelId");
  if (signing.endorsements.length > 0 && !signing.endorsements.includes(c.channelId))
    throw refuse(`the signing key is not endorsed for channel "${c.channelId}"`);
}
