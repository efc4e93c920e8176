import { createHash } from "node:crypto";
import type { UserProfile } from "@openlines/protocol";

/** The contact fields a platform profile fills. */
export interface ProfileFields {
  name: string | null;
  avatarUrl: string | null;
  phone: string | null;
  email: string | null;
}

export function profileFields(p: UserProfile): ProfileFields {
  const joined = [p.firstName, p.lastName].filter(Boolean).join(" ");
  return {
    name: p.name || joined || p.username || null,
    avatarUrl: p.avatarUrl ?? null,
    phone: p.phone ?? null,
    email: p.email ?? null,
  };
}

/**
 * SHA-256 over the profile's fields in a fixed order: equal profiles hash equal whatever the key
 * order the hub sent, so an unchanged profile costs one comparison and no write.
 */
export function profileHash(p: UserProfile): string {
  const keys = [
    "id",
    "name",
    "firstName",
    "lastName",
    "username",
    "avatarUrl",
    "phone",
    "email",
    "language",
    "profileUrl",
    "bot",
  ] as const;
  const canonical = JSON.stringify(keys.map((k) => p[k] ?? null));
  return createHash("sha256").update(canonical).digest("hex");
}

/** Digits only, without a leading international prefix of zeros: "+7 (900) 1-23" → "790012 3". */
export function phoneKey(phone: string | null | undefined): string | null {
  const digits = (phone ?? "").replace(/\D+/g, "").replace(/^0+/, "");
  return digits.length >= 6 ? digits : null;
}

export function emailKey(email: string | null | undefined): string | null {
  const e = (email ?? "").trim().toLowerCase();
  return e.includes("@") ? e : null;
}
