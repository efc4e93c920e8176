import { createHash } from "node:crypto";
import type { MessagePayload } from "@openlines/protocol";
import { printMarkup } from "@openlines/protocol";
import type { FormField, FormSettings } from "./settings.js";

/** The spam trap: a field hidden from people; a bot that fills it gets a success and nothing is queued. */
export const HONEYPOT_FIELD = "website";

export interface Submission {
  name?: string;
  email?: string;
  phone?: string;
  text?: string;
}

const limits: Record<FormField, number> = { name: 200, email: 320, phone: 32, text: 10_000 };

/**
 * Reads and checks a submission. Returns the cleaned fields, or the field errors (a message a
 * person can act on, by field name) for a 422 answer.
 */
export function validateSubmission(
  raw: Record<string, unknown>,
  settings: Pick<FormSettings, "requiredFields">,
): { ok: true; value: Submission } | { ok: false; fields: Record<string, string> } {
  const fields: Record<string, string> = {};
  const value: Submission = {};
  for (const f of ["name", "email", "phone", "text"] as const) {
    const v = raw[f];
    if (v === undefined || v === null || v === "") continue;
    if (typeof v !== "string") {
      fields[f] = "must be text";
      continue;
    }
    const s = v.trim();
    if (s.length > limits[f]) fields[f] = `must be at most ${limits[f]} characters`;
    else if (s) value[f] = s;
  }
  if (value.email !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value.email))
    fields.email = "is not an email address";
  if (value.phone !== undefined && normalizePhone(value.phone).replace("+", "").length < 5)
    fields.phone = "is not a phone number";
  for (const f of settings.requiredFields) if (!value[f] && !fields[f]) fields[f] = "is required";
  if (!value.email && !value.phone && !fields.email && !fields.phone)
    fields.email = "an email or a phone number is required";
  return Object.keys(fields).length ? { ok: false, fields } : { ok: true, value };
}

export function normalizePhone(phone: string): string {
  const digits = phone.replace(/[^\d+]/g, "");
  return digits.startsWith("+") ? `+${digits.slice(1).replace(/\+/g, "")}` : digits.replace(/\+/g, "");
}

/**
 * The same person gets the same user id on this line: derived from the email (lower case) or,
 * without one, from the phone number's digits. Hashed, so the id does not carry the address.
 */
export function userIdOf(lineConnectorId: string, s: Submission): string {
  const key = s.email ? `email:${s.email.toLowerCase()}` : `phone:${normalizePhone(s.phone ?? "")}`;
  return `form_${createHash("sha256").update(`${lineConnectorId}\n${key}`).digest("base64url").slice(0, 32)}`;
}

/** The `messages` payload of one submission. */
export function toMessage(
  lineConnectorId: string,
  s: Submission,
  o: { messageId: string; at: number; pageUrl?: string },
): MessagePayload {
  const id = userIdOf(lineConnectorId, s);
  return {
    kind: "new",
    chat: { id, type: "private" },
    user: {
      id,
      ...(s.name ? { name: s.name } : {}),
      ...(s.email ? { email: s.email } : {}),
      ...(s.phone ? { phone: s.phone } : {}),
      ...(o.pageUrl ? { pageUrl: o.pageUrl } : {}),
    },
    message: {
      id: o.messageId,
      date: o.at,
      text: printMarkup([{ type: "text", text: s.text ?? "" }]),
      files: [],
      extra: { form: { ...s, ...(o.pageUrl ? { pageUrl: o.pageUrl } : {}) } },
    },
  };
}
