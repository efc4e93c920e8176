import { randomBytes, randomUUID } from "node:crypto";
import {
  type Clock,
  FORMAT_VERSION,
  generateSecret,
  isOpenlinesError,
  OpenlinesError,
  PORTAL_HEADER,
  postSigned,
} from "@openlines/protocol";
import { z } from "zod";
import type { PortalRepository, PortalState } from "../portals/index.js";

export const NewPortalArgs = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "letters, digits, dot, dash, underscore; at most 64"),
  name: z.string().min(1).max(255),
  baseUrl: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u), "must be an http(s) URL")
    .transform((u) => u.replace(/\/+$/, "")),
});
export type NewPortalArgs = z.input<typeof NewPortalArgs>;

export interface RegistrationDeps {
  portals: PortalRepository;
  clock: Clock;
  fetch: typeof fetch;
  /** Timeout of the test call. Default 10 s. */
  timeoutMs?: number;
}

export interface RegistrationResult {
  id: string;
  /** The signing secret, shown once: the portal's administrator enters it in the portal. */
  secret?: string;
  state: PortalState;
  /** Why the portal is still pending, when the test call failed. */
  error?: { code: string; message: string };
}

/**
 * Sends a signed `testConnection` packet straight to the portal's input (not through the queue)
 * and marks the portal active when it answers 2xx with the packet id taken.
 */
export async function testPortal(deps: RegistrationDeps, id: string): Promise<RegistrationResult> {
  const portal = await deps.portals.require(id);
  const secret = await deps.portals.secret(id);
  const now = deps.clock.now();
  const packet = {
    id: `tc_${randomUUID()}`,
    version: FORMAT_VERSION,
    portal: id,
    line: "_hub",
    connector: "hub",
    created: now,
    type: "testConnection",
    data: { nonce: randomBytes(12).toString("base64url"), at: now },
  };
  const body = JSON.stringify({ version: FORMAT_VERSION, portal: id, line: "_hub", packets: [packet] });
  try {
    const answer = await postSigned(`${portal.baseUrl}/connector/input`, body, {
      secret,
      fetch: deps.fetch,
      now: () => deps.clock.now(),
      timeoutMs: deps.timeoutMs ?? 10_000,
      headers: { [PORTAL_HEADER]: id },
    });
    const taken = (answer.json as { taken?: unknown } | undefined)?.taken;
    if (answer.status >= 200 && answer.status < 300 && Array.isArray(taken) && taken.includes(packet.id)) {
      if (portal.state !== "active") await deps.portals.setState(id, "active");
      return { id, state: "active" };
    }
    return {
      id,
      state: portal.state === "active" ? "active" : "pending",
      error: {
        code: "RPC_FAILED",
        message: `The portal answered HTTP ${answer.status} without taking the test packet; check its URL and secret.`,
      },
    };
  } catch (e) {
    const err = isOpenlinesError(e) ? e : new OpenlinesError("RPC_UNREACHABLE");
    return { id, state: portal.state, error: { code: err.code, message: err.message } };
  }
}

/**
 * Registers a portal on the hub (DESIGN 4; issue 4 item 1): stores it with a new signing secret
 * (sealed), confirms it is reachable with a signed `testConnection`, and answers the secret once.
 * The `openlines` CLI and `POST /admin/portals` both call this.
 *
 * A portal can only take the test packet once it knows the secret. `onSecret` lets a caller that
 * can configure the portal itself (the all-in-one start, the CLI) hand it over before the test;
 * otherwise the portal stays `pending` until its administrator has entered the secret and
 * `testPortal` (`POST /admin/portals/<id>/test`) succeeds.
 */
export async function registerPortal(
  deps: RegistrationDeps,
  args: NewPortalArgs,
  o: { onSecret?: (secret: string) => void | Promise<void> } = {},
): Promise<RegistrationResult> {
  const parsed = NewPortalArgs.safeParse(args);
  if (!parsed.success)
    throw new OpenlinesError("VALIDATION_FAILED", "The portal's id, name or base URL is invalid.", {
      details: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  const a = parsed.data;
  if (await deps.portals.get(a.id))
    throw new OpenlinesError("CONFLICT", `A portal with id "${a.id}" is already registered.`);
  const secret = generateSecret();
  await deps.portals.create({ id: a.id, name: a.name, baseUrl: a.baseUrl, secret, state: "pending" });
  await o.onSecret?.(secret);
  const r = await testPortal(deps, a.id);
  return { ...r, secret };
}
