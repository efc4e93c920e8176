import {
  MemorySeenIds,
  OpenlinesError,
  type SeenIds,
  signedHeaders,
  verifySignature,
} from "@openlines/protocol";
import type { PortalContext } from "../context.js";
import type { PortalModule } from "../module.js";
import { takePackets } from "./take.js";
import "./types.js";

export interface InputModuleOptions {
  /** Replay window in seconds (signature timestamps). Default: the protocol's 5 minutes. */
  toleranceSeconds?: number;
  /** Request ids seen in the window; default in memory (packet ids are de-duplicated durably anyway). */
  seen?: SeenIds;
}

/**
 * `POST /connector/input`: the hub's deliveries. The raw body is verified (Standard Webhooks,
 * replay window, seen request ids) before it is parsed; a bad signature answers 401 and changes
 * nothing. Packets are taken one by one in order (each in its own transaction); the answer
 * `{taken: [ids]}` lists what is committed, and is the hub queue's acknowledgement. A packet whose
 * effects failed to commit is left out, so the hub delivers it again.
 */
export function inputModule(o: InputModuleOptions = {}): PortalModule {
  return {
    name: "input",
    async register(app, ctx) {
      const seen = o.seen ?? new MemorySeenIds(() => ctx.clock.now());
      await app.register(async (scope) => {
        scope.removeAllContentTypeParsers();
        scope.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
        scope.post("/connector/input", async (request, reply) => {
          const raw = request.body as Buffer | undefined;
          if (!Buffer.isBuffer(raw) || raw.length === 0)
            throw new OpenlinesError("BAD_REQUEST", "Empty body.");
          await verifySignature({
            secrets: ctx.config.hubSecret,
            headers: request.headers,
            rawBody: raw,
            now: ctx.clock.now(),
            toleranceSeconds: o.toleranceSeconds,
            seen,
          });
          // The answer is signed too, so the hub can tell it came from this portal.
          const answer = JSON.stringify({ taken: await takeBatch(ctx, raw) });
          reply.headers({
            "content-type": "application/json",
            ...signedHeaders(ctx.config.hubSecret, answer, ctx.clock.now()),
          });
          return reply.send(answer);
        });
      });
    },
  };
}

export async function takeBatch(ctx: PortalContext, raw: Buffer): Promise<string[]> {
  let body: any;
  try {
    const text = raw.toString("utf8");
    // NUL characters are dropped from every string: PostgreSQL text refuses them, so a customer
    // message holding one could never be taken and would block its line until it expired (found
    // by fuzzing). JSON can carry NUL only as the escape, so bodies without it skip the reviver.
    body = JSON.parse(text, text.includes("\\u0000") ? dropNul : undefined);
  } catch {
    throw new OpenlinesError("BODY_NOT_JSON");
  }
  if (!body || typeof body !== "object" || !Array.isArray(body.packets)) {
    throw new OpenlinesError("VALIDATION_FAILED", "A delivery must carry a `packets` array.");
  }
  if (body.portal !== undefined && body.portal !== ctx.config.portalId) {
    throw new OpenlinesError("VALIDATION_FAILED", "The delivery is addressed to another portal.");
  }
  return takePackets(ctx, body.packets as unknown[]);
}

function dropNul(_key: string, value: unknown): unknown {
  return typeof value === "string" ? value.replaceAll("\u0000", "") : value;
}
