import { createHash, randomBytes } from "node:crypto";
import { OpenlinesError } from "@openlines/protocol";
import type { FastifyRequest } from "fastify";
import type { Connector, ConnectorContext, ConnectorDefinition } from "../contract.js";
import { PlatformError } from "../contract.js";
import { allowOrigin, clientIp, lineOf, preflight, useErrorReplies } from "../livechat/http.js";
import { RateLimiter } from "../livechat/rate-limit.js";
import { originAllowed } from "../livechat/settings.js";
import { FormSettings, formCapabilities } from "./settings.js";
import { HONEYPOT_FIELD, toMessage, userIdOf, validateSubmission } from "./submission.js";

const HOUR_MS = 3600_000;
const FORM_BODY_LIMIT_BYTES = 64 * 1024;

/**
 * The site form connector (`form`): an HTML form on the company's site posts to
 * `POST /form/submit?line=<hash>` (urlencoded or JSON); each submission becomes one `messages`
 * packet from a user known by email or phone. Nothing can be sent back through the hub.
 */
export const form: ConnectorDefinition<FormSettings> = {
  type: "form",
  title: "Form on your site",
  settings: FormSettings,
  capabilities: formCapabilities,

  async routes(app, hub) {
    const limiter = new RateLimiter(hub.clock);
    await app.register(async (scope) => {
      useErrorReplies(scope);
      if (!scope.hasContentTypeParser("application/x-www-form-urlencoded"))
        scope.addContentTypeParser(
          "application/x-www-form-urlencoded",
          { parseAs: "string", bodyLimit: FORM_BODY_LIMIT_BYTES },
          (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
        );
      scope.options("/form/submit", async (req, reply) => {
        const ctx = await lineOf<FormSettings>(hub, req, "form");
        const origin = req.headers.origin;
        if (!origin || !originAllowed(ctx.settings, origin)) throw new OpenlinesError("FORBIDDEN");
        preflight(reply, origin);
      });
      scope.post("/form/submit", { bodyLimit: FORM_BODY_LIMIT_BYTES }, async (req, reply) => {
        const ctx = await lineOf<FormSettings>(hub, req, "form");
        const origin = originOf(req);
        if (!originAllowed(ctx.settings, origin))
          throw new OpenlinesError("FORBIDDEN", "This site is not allowed to post this form.");
        if (origin && req.headers.origin === origin) allowOrigin(req, reply, () => true);
        const body = req.body;
        if (!body || typeof body !== "object" || Array.isArray(body))
          throw new OpenlinesError("BAD_REQUEST", "Post the form urlencoded or as a JSON object.");
        const raw = body as Record<string, unknown>;
        const json =
          (req.headers.accept ?? "").includes("application/json") ||
          req.headers["content-type"]?.includes("json");
        const done = () =>
          ctx.settings.successRedirectUrl && !json
            ? reply.redirect(ctx.settings.successRedirectUrl, 303)
            : reply.send({ ok: true });
        if (!limiter.take(`${ctx.line.id}:${clientIp(req)}`, ctx.settings.submissionsPerIpPerHour, HOUR_MS))
          throw new OpenlinesError(
            "RATE_LIMITED",
            "Too many submissions from this address; try again later.",
          );
        // a bot filled the hidden field: it is told all went well, and nothing is queued
        if (typeof raw[HONEYPOT_FIELD] === "string" && raw[HONEYPOT_FIELD] !== "") return done();
        const checked = validateSubmission(raw, ctx.settings);
        if (!checked.ok)
          throw new OpenlinesError("VALIDATION_FAILED", "Some fields are missing or wrong.", {
            details: { fields: checked.fields },
          });
        const at = hub.clock.now();
        // A double click or a browser's retry within the same minute is queued once.
        const dedupKey = createHash("sha256")
          .update(
            JSON.stringify([userIdOf(ctx.line.id, checked.value), checked.value, Math.floor(at / 60_000)]),
          )
          .digest("base64url");
        await hub.ingest(ctx.line.hash, [
          {
            type: "messages",
            dedupKey,
            data: toMessage(ctx.line.id, checked.value, {
              messageId: `fs_${randomBytes(12).toString("base64url")}`,
              at,
              pageUrl: pageUrlOf(req),
            }),
          },
        ]);
        return done();
      });
    });
  },

  create(ctx: ConnectorContext<FormSettings>): Connector {
    const noReplies = () =>
      new PlatformError("A site form cannot receive replies; answer by email.", { retryable: false });
    return {
      async testConnect() {
        return { account: { id: ctx.line.id, name: "Site form" } };
      },
      async accountId() {
        return ctx.line.id;
      },
      async verify() {
        throw new OpenlinesError("NOT_FOUND", "The site form takes no webhooks; forms post to /form/submit.");
      },
      async parse() {
        return { events: [] };
      },
      async send() {
        throw noReplies();
      },
    };
  },
};

/** Origin of the posting page: the Origin header, else the Referer's (some browsers omit Origin). */
function originOf(req: FastifyRequest): string | undefined {
  const o = req.headers.origin;
  if (o && o !== "null") return o;
  const r = req.headers.referer;
  if (!r) return undefined;
  try {
    return new URL(r).origin;
  } catch {
    return undefined;
  }
}

function pageUrlOf(req: FastifyRequest): string | undefined {
  const r = req.headers.referer;
  return r && r.length <= 4096 ? r : undefined;
}
