import cookie from "@fastify/cookie";
import { OpenlinesError } from "@openlines/protocol";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { PortalContext } from "../context.js";
import type { PortalModule } from "../module.js";
import { Accounts, type Operator, toOperator } from "./accounts.js";
import { Credentials, FailureLimiter, sameToken } from "./credentials.js";
import { hashPassword, verifyPassword } from "./passwords.js";
import { parseBody } from "./validate.js";

export const SESSION_COOKIE = "openlines_session";
const SESSION_TTL_MS = 7 * 24 * 3600_000;
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

declare module "fastify" {
  interface FastifyInstance {
    /** preHandler: the caller must be a signed-in operator (cookie + CSRF on writes, or API token). */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** preHandler: as `authenticate`, and the operator must be an admin. */
    requireAdmin: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
  interface FastifyRequest {
    /** The signed-in operator, set by `authenticate`. */
    operator?: Operator;
    authVia?: "cookie" | "token";
  }
}

export interface AuthService {
  accounts: Accounts;
  credentials: Credentials;
  /** Who is calling: the operator behind the request's cookie or bearer token, or undefined. */
  identify(
    request: FastifyRequest,
  ): Promise<{ operator: Operator; via: "cookie" | "token"; csrfToken?: string } | undefined>;
  ensureAdmin(): Promise<{ email: string; password: string } | null>;
}

declare module "../context.js" {
  interface PortalServices {
    auth: AuthService;
  }
}

const SignIn = z.object({ email: z.string().min(1).max(255), password: z.string().min(1).max(1024) });
const ChangePassword = z.object({
  currentPassword: z.string().min(1).max(1024),
  newPassword: z.string().min(10).max(1024),
});
const NewToken = z.object({ name: z.string().min(1).max(255) });

/**
 * Accounts and authentication (issue 5, item 8): sign-in sessions in an HttpOnly SameSite=Lax
 * cookie, CSRF tokens per session, API tokens for integrations, and the `authenticate` /
 * `requireAdmin` preHandlers other modules put on their routes.
 */
export const authModule: PortalModule = {
  name: "auth",
  async register(app: FastifyInstance, ctx: PortalContext) {
    if (!app.hasDecorator("parseCookie")) await app.register(cookie);
    const now = () => ctx.clock.now();
    const accounts = new Accounts(ctx.database.db, now);
    const credentials = new Credentials(ctx.database.db, now, SESSION_TTL_MS);
    const limiter = new FailureLimiter(now);
    const secure = ctx.config.publicUrl.startsWith("https:");
    const dummyHash = hashPassword("not a password");

    const identify: AuthService["identify"] = async (request) => {
      const header = request.headers.authorization;
      if (header?.startsWith("Bearer ")) {
        const found = await credentials.findToken(header.slice(7).trim());
        if (!found) return undefined;
        const row = await accounts.findRow(found.operatorId);
        return row ? { operator: toOperator(row), via: "token" } : undefined;
      }
      const sid = request.cookies?.[SESSION_COOKIE];
      if (!sid) return undefined;
      const s = await credentials.findSession(sid);
      if (!s) return undefined;
      const row = await accounts.findRow(s.operatorId);
      return row ? { operator: toOperator(row), via: "cookie", csrfToken: s.csrfToken } : undefined;
    };

    const authenticate = async (request: FastifyRequest) => {
      if (request.operator) return;
      const who = await identify(request);
      if (!who) throw new OpenlinesError("UNAUTHORIZED");
      if (who.operator.status !== "active")
        throw new OpenlinesError("FORBIDDEN", "This account is disabled.");
      if (who.via === "cookie" && !SAFE_METHODS.has(request.method)) {
        const sent = request.headers["x-csrf-token"];
        if (!sameToken(typeof sent === "string" ? sent : undefined, who.csrfToken!))
          throw new OpenlinesError("CSRF_TOKEN_INVALID");
      }
      request.operator = who.operator;
      request.authVia = who.via;
    };
    const requireAdmin = async (request: FastifyRequest) => {
      await authenticate(request);
      if (request.operator?.role !== "admin")
        throw new OpenlinesError("FORBIDDEN", "Only an admin can do this.");
    };
    app.decorate("authenticate", async (request: FastifyRequest, _reply: FastifyReply) =>
      authenticate(request),
    );
    app.decorate("requireAdmin", async (request: FastifyRequest, _reply: FastifyReply) =>
      requireAdmin(request),
    );
    app.decorateRequest("operator", undefined);
    app.decorateRequest("authVia", undefined);

    ctx.services.auth = { accounts, credentials, identify, ensureAdmin: () => accounts.ensureAdmin() };

    app.post("/api/session", async (request, reply) => {
      const body = parseBody(SignIn, request.body);
      const key = `${body.email.trim().toLowerCase()}|${request.ip}`;
      if (limiter.blocked(key))
        throw new OpenlinesError("RATE_LIMITED", "Too many failed sign-ins; wait 15 minutes.");
      const row = await accounts.findRowByEmail(body.email);
      const ok = await verifyPassword(body.password, row?.password_hash ?? (await dummyHash));
      if (!row || !ok) {
        limiter.fail(key);
        throw new OpenlinesError("UNAUTHORIZED", "Wrong email or password.");
      }
      if (row.status !== "active") throw new OpenlinesError("FORBIDDEN", "This account is disabled.");
      limiter.clear(key);
      const s = await credentials.openSession(row.id);
      reply.setCookie(SESSION_COOKIE, s.id, {
        path: "/",
        httpOnly: true,
        sameSite: "lax",
        secure,
        expires: new Date(s.expiresMs),
      });
      return { operator: toOperator(row), csrfToken: s.csrfToken };
    });

    app.get("/api/session", async (request) => {
      const who = await identify(request);
      if (!who) throw new OpenlinesError("UNAUTHORIZED");
      return { operator: who.operator, csrfToken: who.csrfToken ?? null };
    });

    app.delete("/api/session", { preHandler: app.authenticate }, async (request, reply) => {
      const sid = request.cookies?.[SESSION_COOKIE];
      if (sid) await credentials.closeSession(sid);
      reply.clearCookie(SESSION_COOKIE, { path: "/" });
      return { ok: true };
    });

    app.post("/api/session/password", { preHandler: app.authenticate }, async (request) => {
      const body = parseBody(ChangePassword, request.body);
      const row = await accounts.findRow(request.operator!.id);
      if (!row || !(await verifyPassword(body.currentPassword, row.password_hash)))
        throw new OpenlinesError("FORBIDDEN", "The current password is wrong.");
      const operator = await accounts.update(row.id, {
        password: body.newPassword,
        mustChangePassword: false,
      });
      return { operator };
    });

    app.get("/api/tokens", { preHandler: app.authenticate }, async (request) => ({
      tokens: await credentials.listTokens(request.operator!.id),
    }));
    app.post("/api/tokens", { preHandler: app.authenticate }, async (request, reply) => {
      const body = parseBody(NewToken, request.body);
      const t = await credentials.createToken(request.operator!.id, body.name);
      reply.status(201);
      return t;
    });
    app.delete<{ Params: { id: string } }>(
      "/api/tokens/:id",
      { preHandler: app.authenticate },
      async (request) => {
        if (!(await credentials.revokeToken(request.operator!.id, request.params.id)))
          throw new OpenlinesError("NOT_FOUND", "No token of yours has this id.");
        return { ok: true };
      },
    );
  },
};
