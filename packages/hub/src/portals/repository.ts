import { randomUUID } from "node:crypto";
import { OpenlinesError } from "@openlines/protocol";
import type { Kysely } from "kysely";
import type { HubDatabase, PortalTable } from "../store/schema.js";
import type { SecretBox } from "../store/settings-crypto.js";

export const PortalStates = { pending: "pending", active: "active", disabled: "disabled" } as const;
export type PortalState = (typeof PortalStates)[keyof typeof PortalStates];

/** A portal as the hub knows it; the signing secret is read apart, through `secret()`. */
export interface Portal {
  id: string;
  name: string;
  baseUrl: string;
  state: PortalState;
  createdMs: number;
  updatedMs: number;
}

export interface NewPortal {
  /** Default: random. */
  id?: string;
  name: string;
  baseUrl: string;
  /** The signing secret (`whsec_…`), sealed with the hub's key before it is stored. */
  secret: string;
  state?: PortalState;
}

function toPortal(r: Omit<PortalTable, "secret_enc">): Portal {
  return {
    id: r.id,
    name: r.name,
    baseUrl: r.base_url,
    state: r.state,
    createdMs: Number(r.created_ms),
    updatedMs: Number(r.updated_ms),
  };
}

const publicColumns = ["id", "name", "base_url", "state", "created_ms", "updated_ms"] as const;

/**
 * The portal rows of the hub: create (secret sealed by the SecretBox), read, list, change state,
 * change the base URL or secret. Registration over the API is built on top of this elsewhere.
 */
export class PortalRepository {
  constructor(
    private readonly db: Kysely<HubDatabase>,
    private readonly box: SecretBox,
    private readonly now: () => number = Date.now,
  ) {}

  async create(p: NewPortal): Promise<Portal> {
    const t = this.now();
    const row = {
      id: p.id ?? randomUUID(),
      name: p.name,
      base_url: p.baseUrl,
      secret_enc: this.box.seal(p.secret),
      state: p.state ?? PortalStates.pending,
      created_ms: t,
      updated_ms: t,
    };
    await this.db.insertInto("portal").values(row).execute();
    return toPortal(row);
  }

  async get(id: string): Promise<Portal | undefined> {
    const r = await this.db
      .selectFrom("portal")
      .select(publicColumns)
      .where("id", "=", id)
      .executeTakeFirst();
    return r ? toPortal(r) : undefined;
  }

  /** Like `get`, but an unknown id is PORTAL_UNKNOWN. */
  async require(id: string): Promise<Portal> {
    const p = await this.get(id);
    if (!p) throw new OpenlinesError("PORTAL_UNKNOWN");
    return p;
  }

  async list(): Promise<Portal[]> {
    const rows = await this.db.selectFrom("portal").select(publicColumns).orderBy("created_ms").execute();
    return rows.map(toPortal);
  }

  /** The portal's signing secret, opened. */
  async secret(id: string): Promise<string> {
    const r = await this.db.selectFrom("portal").select("secret_enc").where("id", "=", id).executeTakeFirst();
    if (!r) throw new OpenlinesError("PORTAL_UNKNOWN");
    return this.box.open(r.secret_enc);
  }

  async setState(id: string, state: PortalState): Promise<void> {
    const res = await this.db
      .updateTable("portal")
      .set({ state, updated_ms: this.now() })
      .where("id", "=", id)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new OpenlinesError("PORTAL_UNKNOWN");
  }

  async update(id: string, change: { name?: string; baseUrl?: string; secret?: string }): Promise<void> {
    const res = await this.db
      .updateTable("portal")
      .set({
        ...(change.name === undefined ? {} : { name: change.name }),
        ...(change.baseUrl === undefined ? {} : { base_url: change.baseUrl }),
        ...(change.secret === undefined ? {} : { secret_enc: this.box.seal(change.secret) }),
        updated_ms: this.now(),
      })
      .where("id", "=", id)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new OpenlinesError("PORTAL_UNKNOWN");
  }
}
