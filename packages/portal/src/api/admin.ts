import { OpenlinesError } from "@openlines/protocol";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { parseBody } from "../auth/validate.js";
import type { PortalContext } from "../context.js";
import { LineSettings, LineSettingsPatch } from "../lines/settings.js";

const NewOperator = z.object({
  name: z.string().min(1).max(255),
  email: z.string().email().max(255),
  role: z.enum(["admin", "operator"]).default("operator"),
  password: z.string().min(10).max(1024),
  maxChats: z.number().int().positive().nullable().optional(),
});
const OperatorPatch = z.object({
  name: z.string().min(1).max(255).optional(),
  email: z.string().email().max(255).optional(),
  role: z.enum(["admin", "operator"]).optional(),
  status: z.enum(["active", "disabled"]).optional(),
  maxChats: z.number().int().positive().nullable().optional(),
  password: z.string().min(10).max(1024).optional(),
});
const NewLine = LineSettings.extend({ operatorIds: z.array(z.string().min(1)).max(1000).default([]) });
const LinePatch = LineSettingsPatch.extend({ operatorIds: z.array(z.string().min(1)).max(1000).optional() });
const LineOperators = z.object({ operatorIds: z.array(z.string().min(1)).max(1000) });
const Settings = z.object({ settings: z.record(z.string(), z.unknown()) });
const Redrive = z.object({ ids: z.array(z.string().min(1)).max(10_000).optional() });

/**
 * Admin calls: operators, lines with their operators and distribution settings, the connectors of
 * a line (through the hub's output client; what the hub answers is mirrored locally), lines that
 * need attention and a line's queue on the hub (status, dead letters, re-drive).
 */
export function registerAdminRoutes(app: FastifyInstance, ctx: PortalContext): void {
  const admin = { preHandler: app.requireAdmin };
  const auth = { preHandler: app.authenticate };
  const accounts = () => ctx.services.auth.accounts;
  const store = () => ctx.services.lines.store;
  const hub = () => ctx.services.hub;

  app.get("/api/operators", auth, async () => ({ operators: await accounts().list() }));
  app.post("/api/operators", admin, async (request, reply) => {
    const body = parseBody(NewOperator, request.body);
    const operator = await accounts().create({ ...body, mustChangePassword: true });
    reply.status(201);
    return { operator };
  });
  app.patch<{ Params: { id: string } }>("/api/operators/:id", admin, async (request) => {
    const body = parseBody(OperatorPatch, request.body);
    const operator = await accounts().update(request.params.id, {
      ...body,
      ...(body.password ? { mustChangePassword: true } : {}),
    });
    if (body.status === "disabled" || body.password)
      await ctx.services.auth.credentials.closeSessionsOf(operator.id);
    if (body.status === "disabled") await ctx.services.lines.router.releaseOperator(operator.id);
    return { operator };
  });
  app.delete<{ Params: { id: string } }>("/api/operators/:id", admin, async (request) => {
    if (request.params.id === request.operator!.id)
      throw new OpenlinesError("CONFLICT", "You cannot delete yourself.");
    await accounts().get(request.params.id);
    await ctx.services.lines.router.releaseOperator(request.params.id);
    await accounts().remove(request.params.id);
    return { ok: true };
  });

  app.get("/api/lines", auth, async (request) => {
    const all = await store().list();
    const op = request.operator!;
    return { lines: op.role === "admin" ? all : all.filter((l) => l.operatorIds.includes(op.id)) };
  });
  app.post("/api/lines", admin, async (request, reply) => {
    const { operatorIds, ...settings } = parseBody(NewLine, request.body);
    const line = await store().create(settings, operatorIds);
    reply.status(201);
    return { line };
  });
  app.get("/api/lines/attention", admin, async () => {
    const mirrored = (await store().connectors()).filter((c) => c.status !== "active" && c.status !== "new");
    let remote: Array<{ line: string; connector: string; status: string; reason?: string }> = [];
    let hubError: { code: string; message: string } | null = null;
    try {
      remote = (await hub().status({})).lines.filter(
        (l) => l.status === "needsAttention" || l.queue.deadLetters > 0,
      );
    } catch (e) {
      const err = e as OpenlinesError;
      hubError = { code: String(err.code ?? "RPC_UNREACHABLE"), message: err.message };
    }
    const byKey = new Map<
      string,
      { lineId: string; connector: string; status: string; reason: string | null }
    >();
    for (const c of mirrored) byKey.set(`${c.lineId}|${c.connector}`, { ...c });
    for (const r of remote)
      byKey.set(`${r.line}|${r.connector}`, {
        lineId: r.line,
        connector: r.connector,
        status: r.status,
        reason: r.reason ?? byKey.get(`${r.line}|${r.connector}`)?.reason ?? null,
      });
    return { items: [...byKey.values()], hubError };
  });
  app.get<{ Params: { id: string } }>("/api/lines/:id", auth, async (request) => ({
    line: await store().get(request.params.id),
  }));
  app.patch<{ Params: { id: string } }>("/api/lines/:id", admin, async (request) => {
    const { operatorIds, ...patch } = parseBody(LinePatch, request.body);
    await store().update(request.params.id, patch);
    if (operatorIds) await store().setOperators(request.params.id, operatorIds);
    await ctx.services.lines.router.lineOperatorsChanged(request.params.id);
    return { line: await store().get(request.params.id) };
  });
  app.put<{ Params: { id: string } }>("/api/lines/:id/operators", admin, async (request) => {
    const body = parseBody(LineOperators, request.body);
    await store().get(request.params.id);
    await store().setOperators(request.params.id, body.operatorIds);
    await ctx.services.lines.router.lineOperatorsChanged(request.params.id);
    return { line: await store().get(request.params.id) };
  });
  app.delete<{ Params: { id: string } }>("/api/lines/:id", admin, async (request) => {
    await store().get(request.params.id);
    if ((await ctx.services.lines.router.openSessions(request.params.id)) > 0)
      throw new OpenlinesError("CONFLICT", "The line has open sessions; close or transfer them first.");
    await store().remove(request.params.id);
    return { ok: true };
  });

  app.get("/api/connectors", admin, async () => hub().connectors({}));
  app.get<{ Params: { id: string } }>("/api/lines/:id/connectors", admin, async (request) => ({
    connectors: await store().connectors(request.params.id),
  }));
  app.put<{ Params: { id: string; type: string } }>(
    "/api/lines/:id/connectors/:type/settings",
    admin,
    async (request) => {
      const { id, type } = request.params;
      const body = parseBody(Settings, request.body);
      await store().get(id);
      const r = await hub().saveSettings({ line: id, connector: type, settings: body.settings });
      await store().saveConnector(id, type, { status: r.status, webhookUrl: r.webhookUrl });
      hub().forget();
      return r;
    },
  );
  app.post<{ Params: { id: string; type: string } }>(
    "/api/lines/:id/connectors/:type/test",
    admin,
    async (request) => {
      const { id, type } = request.params;
      const r = await hub().testConnect({ line: id, connector: type });
      if (!r.ok)
        await store().saveConnector(id, type, {
          status: "needsAttention",
          reason: r.error?.message ?? "test failed",
        });
      return r;
    },
  );
  for (const action of ["activate", "deactivate"] as const)
    app.post<{ Params: { id: string; type: string } }>(
      `/api/lines/:id/connectors/:type/${action}`,
      admin,
      async (request) => {
        const { id, type } = request.params;
        await store().get(id);
        const r = await hub()[action]({ line: id, connector: type });
        await store().saveConnector(id, type, {
          status: r.status,
          webhookUrl: "webhookUrl" in r ? (r.webhookUrl as string) : undefined,
        });
        hub().forget();
        return r;
      },
    );

  app.get<{ Params: { id: string } }>("/api/lines/:id/queue", admin, async (request) => {
    const id = request.params.id;
    const [status, dead] = await Promise.all([
      hub().status({ line: id }),
      hub().deadLetters({ line: id, limit: 100 }),
    ]);
    for (const l of status.lines)
      await store().saveConnector(id, l.connector, {
        status: l.status,
        reason: l.reason ?? null,
        webhookUrl: l.webhookUrl,
      });
    return { connectors: status.lines, deadLetters: dead.items };
  });
  app.post<{ Params: { id: string } }>("/api/lines/:id/queue/redrive", admin, async (request) => {
    const body = parseBody(Redrive, request.body);
    return hub().redrive({ line: request.params.id, ids: body.ids });
  });
}
