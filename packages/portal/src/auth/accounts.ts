import { randomUUID } from "node:crypto";
import { OpenlinesError } from "@openlines/protocol";
import type { Kysely } from "kysely";
import type { PortalDatabase } from "../store/index.js";
import type { OperatorTable } from "../store/lines-schema.js";
import { hashPassword, randomPassword } from "./passwords.js";

export const Roles = { admin: "admin", operator: "operator" } as const;
export type Role = (typeof Roles)[keyof typeof Roles];
export const Presences = { online: "online", away: "away", offline: "offline" } as const;
export type Presence = (typeof Presences)[keyof typeof Presences];

/** An operator as the rest of the portal sees it: never the password hash. */
export interface Operator {
  id: string;
  name: string;
  email: string;
  role: Role;
  status: "active" | "disabled";
  presence: Presence;
  maxChats: number | null;
  mustChangePassword: boolean;
}

export function toOperator(row: OperatorTable): Operator {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    role: row.role as Role,
    status: row.status as Operator["status"],
    presence: row.presence as Presence,
    maxChats: row.max_chats === null ? null : Number(row.max_chats),
    mustChangePassword: Number(row.must_change_password) === 1,
  };
}

export interface NewOperator {
  name: string;
  email: string;
  role: Role;
  password: string;
  maxChats?: number | null;
  mustChangePassword?: boolean;
}

/** Operator accounts: one SQL operation per method. */
export class Accounts {
  constructor(
    private readonly db: Kysely<PortalDatabase>,
    private readonly now: () => number,
  ) {}

  async create(input: NewOperator): Promise<Operator> {
    const email = input.email.trim().toLowerCase();
    const existing = await this.findRowByEmail(email);
    if (existing) throw new OpenlinesError("CONFLICT", "An operator with this email already exists.");
    const row: OperatorTable = {
      id: randomUUID(),
      name: input.name,
      email,
      role: input.role,
      password_hash: await hashPassword(input.password),
      status: "active",
      presence: "offline",
      max_chats: input.maxChats ?? null,
      must_change_password: input.mustChangePassword ? 1 : 0,
      created_ms: this.now(),
      updated_ms: this.now(),
    };
    await this.db.insertInto("operator").values(row).execute();
    return toOperator(row);
  }

  async count(): Promise<number> {
    const r = await this.db
      .selectFrom("operator")
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  findRowByEmail(email: string): Promise<OperatorTable | undefined> {
    return this.db
      .selectFrom("operator")
      .selectAll()
      .where("email", "=", email.trim().toLowerCase())
      .executeTakeFirst();
  }

  findRow(id: string): Promise<OperatorTable | undefined> {
    return this.db.selectFrom("operator").selectAll().where("id", "=", id).executeTakeFirst();
  }

  async get(id: string): Promise<Operator> {
    const row = await this.findRow(id);
    if (!row) throw new OpenlinesError("NOT_FOUND", "No operator has this id.");
    return toOperator(row);
  }

  async list(): Promise<Operator[]> {
    const rows = await this.db.selectFrom("operator").selectAll().orderBy("name").execute();
    return rows.map(toOperator);
  }

  async update(
    id: string,
    patch: Partial<{
      name: string;
      email: string;
      role: Role;
      status: Operator["status"];
      maxChats: number | null;
      password: string;
      mustChangePassword: boolean;
    }>,
  ): Promise<Operator> {
    const values: Partial<OperatorTable> = { updated_ms: this.now() };
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.email !== undefined) {
      const email = patch.email.trim().toLowerCase();
      const other = await this.findRowByEmail(email);
      if (other && other.id !== id)
        throw new OpenlinesError("CONFLICT", "An operator with this email already exists.");
      values.email = email;
    }
    if (patch.role !== undefined) values.role = patch.role;
    if (patch.status !== undefined) values.status = patch.status;
    if (patch.maxChats !== undefined) values.max_chats = patch.maxChats;
    if (patch.password !== undefined) values.password_hash = await hashPassword(patch.password);
    if (patch.mustChangePassword !== undefined)
      values.must_change_password = patch.mustChangePassword ? 1 : 0;
    const r = await this.db.updateTable("operator").set(values).where("id", "=", id).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new OpenlinesError("NOT_FOUND", "No operator has this id.");
    return this.get(id);
  }

  async setPresence(id: string, presence: Presence): Promise<void> {
    await this.db
      .updateTable("operator")
      .set({ presence, updated_ms: this.now() })
      .where("id", "=", id)
      .execute();
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom("operator_session").where("operator_id", "=", id).execute();
    await this.db.deleteFrom("api_token").where("operator_id", "=", id).execute();
    await this.db.deleteFrom("line_operator").where("operator_id", "=", id).execute();
    await this.db.deleteFrom("operator").where("id", "=", id).execute();
  }

  /**
   * For the all-in-one start: when no operator exists, creates `admin@localhost` with a random
   * one-time password that must be changed at first sign-in. Returns the password to print once,
   * or null when operators exist already.
   */
  async ensureAdmin(): Promise<{ email: string; password: string } | null> {
    if ((await this.count()) > 0) return null;
    const password = randomPassword();
    await this.create({
      name: "Administrator",
      email: "admin@localhost",
      role: "admin",
      password,
      mustChangePassword: true,
    });
    return { email: "admin@localhost", password };
  }
}
