import type { Capabilities } from "@openlines/protocol";
import { z } from "zod";

export const FormFields = ["name", "email", "phone", "text"] as const;
export type FormField = (typeof FormFields)[number];

/** The site form's settings. Email or phone is always needed: it is how the person is known again. */
export const FormSettings = z.object({
  /** Sites whose pages may post this form (`*` for any). */
  allowedOrigins: z
    .array(
      z
        .string()
        .trim()
        .refine((s) => s === "*" || /^https?:\/\/[^/\s?#]+$/i.test(s), {
          message: "an origin is scheme://host[:port] without a path, e.g. https://shop.example.com",
        })
        .transform((s) => (s === "*" ? s : s.toLowerCase())),
    )
    .min(1)
    .max(100),
  /** Where the browser goes after a successful post; without it the answer is JSON. */
  successRedirectUrl: z.string().url().optional(),
  /** Fields that must be filled, besides email-or-phone. */
  requiredFields: z.array(z.enum(FormFields)).default(["text"]),
  /** Submissions accepted per IP address and hour. */
  submissionsPerIpPerHour: z.number().int().min(1).max(1000).default(10),
});
export type FormSettings = z.infer<typeof FormSettings>;

/** A form receives; it cannot be answered through the hub (the operator answers by email or phone). */
export const formCapabilities: Capabilities = {
  edit: false,
  delete: false,
  typing: false,
  readReceipts: false,
  deliveryReceipts: false,
  groupChats: false,
  files: { kinds: [], maxSizeBytes: 0, maxCount: 0 },
  textMaxLength: 10_000,
  formatting: [],
  replyWindowHours: null,
  templates: false,
};
