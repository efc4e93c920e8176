import { randomUUID } from "node:crypto";
import type { UserProfile } from "@openlines/protocol";
import type { Kysely, Selectable } from "kysely";
import type { ContactTable, ExternalUserTable } from "../store/core-schema.js";
import type { PortalDatabase } from "../store/index.js";
import { emailKey, phoneKey, profileFields, profileHash } from "./profile.js";
import type { ContactView } from "./types.js";

type Db = Kysely<PortalDatabase>;
export type ContactRow = Selectable<ContactTable>;
export type ExternalUserRow = Selectable<ExternalUserTable>;

export function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, "")}`;
}

let counter = 0;
/**
 * An id that sorts by creation within a process (time, then a counter, then randomness): messages
 * created in the same millisecond keep their order in a history sorted by (time, id).
 */
export function sortableId(prefix: string, now: number): string {
  counter = (counter + 1) % 36 ** 4;
  const time = Math.max(0, Math.floor(now)).toString(36).padStart(9, "0");
  return `${prefix}_${time}${counter.toString(36).padStart(4, "0")}${randomUUID().replace(/-/g, "").slice(0, 16)}`;
}

export function contactView(c: ContactRow, users: ExternalUserRow[]): ContactView {
  return {
    id: c.id,
    name: c.name,
    avatarUrl: c.avatar_url,
    phone: c.phone,
    email: c.email,
    mergedInto: c.merged_into,
    externalUsers: users.map((u) => {
      const p = JSON.parse(u.profile) as UserProfile;
      return {
        id: u.id,
        connector: u.connector,
        platformUserId: u.platform_user_id,
        username: p.username ?? null,
        profileUrl: p.profileUrl ?? null,
      };
    }),
    createdAt: Number(c.created_ms),
    updatedAt: Number(c.updated_ms),
  };
}

/** Contacts with their external users, in the order of `ids`. */
export async function loadContacts(db: Db, ids: string[]): Promise<ContactView[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom("contact").selectAll().where("id", "in", ids).execute();
  const users = await db
    .selectFrom("external_user")
    .selectAll()
    .where("contact_id", "in", ids)
    .orderBy("created_ms")
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids
    .map((id) => byId.get(id))
    .filter((r): r is ContactRow => r !== undefined)
    .map((r) =>
      contactView(
        r,
        users.filter((u) => u.contact_id === r.id),
      ),
    );
}

export interface Identified {
  contactId: string;
  externalUserId: string;
  /** The contact was created by this call. */
  created: boolean;
  /** The profile hash changed and the contact's fields were updated. */
  updated: boolean;
}

/**
 * Finds or creates the contact of an external user, inside the caller's transaction. A known
 * user with the same profile hash costs one read; a changed hash updates the external user and
 * refreshes the contact's name, avatar, phone and e-mail (only fields the platform gives).
 */
export async function identify(
  trx: Db,
  connector: string,
  user: UserProfile,
  now: number,
): Promise<Identified> {
  const hash = profileHash(user);
  const existing = await trx
    .selectFrom("external_user")
    .selectAll()
    .where("connector", "=", connector)
    .where("platform_user_id", "=", user.id)
    .executeTakeFirst();
  const fields = profileFields(user);
  if (existing) {
    if (existing.profile_hash === hash) {
      return { contactId: existing.contact_id, externalUserId: existing.id, created: false, updated: false };
    }
    await trx
      .updateTable("external_user")
      .set({ profile_hash: hash, profile: JSON.stringify(user), updated_ms: now })
      .where("id", "=", existing.id)
      .execute();
    const set: Partial<ContactRow> = { updated_ms: now };
    if (fields.name) set.name = fields.name;
    if (fields.avatarUrl) set.avatar_url = fields.avatarUrl;
    if (fields.phone) Object.assign(set, { phone: fields.phone, phone_key: phoneKey(fields.phone) });
    if (fields.email) Object.assign(set, { email: fields.email, email_key: emailKey(fields.email) });
    await trx.updateTable("contact").set(set).where("id", "=", existing.contact_id).execute();
    return { contactId: existing.contact_id, externalUserId: existing.id, created: false, updated: true };
  }
  const contactId = newId("ct");
  const externalUserId = newId("xu");
  await trx
    .insertInto("contact")
    .values({
      id: contactId,
      name: fields.name,
      avatar_url: fields.avatarUrl,
      phone: fields.phone,
      email: fields.email,
      phone_key: phoneKey(fields.phone),
      email_key: emailKey(fields.email),
      merged_into: null,
      created_ms: now,
      updated_ms: now,
    })
    .execute();
  await trx
    .insertInto("external_user")
    .values({
      id: externalUserId,
      connector,
      platform_user_id: user.id,
      contact_id: contactId,
      profile_hash: hash,
      profile: JSON.stringify(user),
      created_ms: now,
      updated_ms: now,
    })
    .execute();
  return { contactId, externalUserId, created: true, updated: false };
}
