import type { Capabilities } from "@openlines/protocol";
import { z } from "zod";

/** An origin as browsers send it: scheme, host and optional port, no path; or `*` for any site. */
const Origin = z
  .string()
  .trim()
  .refine((s) => s === "*" || /^https?:\/\/[^/\s?#]+$/i.test(s), {
    message: "an origin is scheme://host[:port] without a path, e.g. https://shop.example.com",
  })
  .transform((s) => (s === "*" ? s : s.toLowerCase()));

/** The live chat's settings, as the admin wizard fills them in. */
export const LivechatSettings = z.object({
  title: z.string().trim().min(1).max(120).default("Chat with us"),
  greeting: z.string().max(1000).default("Hello! How can we help you?"),
  /** Sites allowed to embed the widget (checked on the session, socket and upload requests). */
  allowedOrigins: z.array(Origin).min(1).max(100),
  /** Accent colour of the widget, #rgb or #rrggbb. */
  color: z
    .string()
    .regex(/^#([0-9a-f]{3}|[0-9a-f]{6})$/i, "a colour is #rgb or #rrggbb")
    .default("#2563eb"),
  /** Messages a visitor may send per minute (a token bucket of this size, refilled over a minute). */
  visitorMessagesPerMinute: z.number().int().min(1).max(600).default(20),
  /** Largest file a visitor may upload, in bytes. */
  maxUploadBytes: z
    .number()
    .int()
    .min(1024)
    .max(100 * 1024 * 1024)
    .default(10 * 1024 * 1024),
});
export type LivechatSettings = z.infer<typeof LivechatSettings>;

export const livechatCapabilities: Capabilities = {
  edit: true,
  delete: true,
  typing: true,
  readReceipts: true,
  deliveryReceipts: true,
  groupChats: false,
  files: { kinds: ["image", "document", "other"], maxSizeBytes: 10 * 1024 * 1024, maxCount: 5 },
  textMaxLength: 10_000,
  formatting: ["bold", "italic", "link", "code", "quote"],
  replyWindowHours: null,
  templates: false,
};

/** Whether a request's Origin header names a site this line allows. */
export function originAllowed(settings: { allowedOrigins: string[] }, origin: string | undefined): boolean {
  if (settings.allowedOrigins.includes("*")) return true;
  if (!origin) return false;
  return settings.allowedOrigins.includes(origin.toLowerCase());
}
