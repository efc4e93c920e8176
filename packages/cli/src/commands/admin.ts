import { createHub, type Hub, hubMigrations, loadHubConfig, registerPortal } from "@openlines/hub";
import { migrate, openDatabase } from "@openlines/store";
import Fastify from "fastify";
import pino from "pino";
import { flag } from "../config-file.js";

/**
 * Administration commands run on the hub's machine against the hub's database (same settings as
 * `openlines hub`): they work whether or not the hub is running, and never print secrets except
 * the one a new portal must be given.
 */
async function withHub<T>(settings: NodeJS.ProcessEnv, fn: (hub: Hub) => Promise<T>): Promise<T> {
  const config = loadHubConfig(settings);
  const database = openDatabase(config.databaseUrl);
  await migrate(database.db, database.dialect, hubMigrations, "hub");
  const hub = createHub(config, { app: Fastify(), database, log: pino({ level: "warn" }) });
  try {
    return await fn(hub);
  } finally {
    await hub.close();
    await database.close();
  }
}

function required(argv: string[], name: string): string {
  const v = flag(argv, name);
  if (!v) throw new Error(`--${name} is required.`);
  return v;
}

export async function portalsCommand(argv: string[], settings: NodeJS.ProcessEnv): Promise<void> {
  const [sub] = argv;
  await withHub(settings, async (hub) => {
    if (sub === "add") {
      const r = await registerPortal(
        { portals: hub.portals, clock: hub.services.clock, fetch },
        {
          id: required(argv, "id"),
          name: flag(argv, "name") ?? required(argv, "id"),
          baseUrl: required(argv, "url"),
        },
      );
      console.log(`portal ${r.id}: ${r.state}${r.error ? ` (${r.error.message})` : ""}`);
      console.log(`signing secret (shown once; set it as OPENLINES_HUB_SECRET on the portal): ${r.secret}`);
    } else if (sub === "list") {
      for (const p of await hub.portals.list()) console.log(`${p.id}\t${p.state}\t${p.baseUrl}\t${p.name}`);
    } else if (sub === "disable" || sub === "enable") {
      await hub.portals.setState(required(argv, "id"), sub === "disable" ? "disabled" : "active");
      console.log("done");
    } else {
      throw new Error(
        "Usage: openlines portals add --id <id> --name <name> --url <base url> | list | disable --id <id>",
      );
    }
  });
}

export async function deadLettersCommand(argv: string[], settings: NodeJS.ProcessEnv): Promise<void> {
  await withHub(settings, async (hub) => {
    const items = await hub.queue.deadLetters(required(argv, "portal"), {
      lineId: flag(argv, "line"),
      limit: Number(flag(argv, "limit") ?? 100),
    });
    for (const d of items) {
      console.log(`${d.id}\t${d.line}\t${d.type}\t${new Date(d.expiredAt).toISOString()}\t${d.reason}`);
    }
    console.log(`${items.length} dead letter(s)`);
  });
}

export async function redriveCommand(argv: string[], settings: NodeJS.ProcessEnv): Promise<void> {
  await withHub(settings, async (hub) => {
    const ids = flag(argv, "ids")?.split(",").filter(Boolean);
    const n = await hub.queue.redrive(required(argv, "portal"), { lineId: flag(argv, "line"), ids });
    console.log(`${n} packet(s) back in the queue`);
  });
}

export async function reparseCommand(argv: string[], settings: NodeJS.ProcessEnv): Promise<void> {
  await withHub(settings, async (hub) => {
    const raw = flag(argv, "raw");
    const target = raw
      ? Number(raw)
      : {
          line: required(argv, "line"),
          since: Date.parse(required(argv, "since")),
          until: flag(argv, "until") ? Date.parse(flag(argv, "until")!) : undefined,
        };
    if (typeof target === "object" && Number.isNaN(target.since)) throw new Error("--since must be a date.");
    const r = await hub.reparse(target);
    console.log(
      `${r.bodies} stored webhook(s) parsed again: ${r.queued} packet(s) queued, ${r.failed} failed`,
    );
  });
}
