import { z } from "zod";

/** An email address as a visitor types it; empty clears it. */
export const Email = z
  .string()
  .trim()
  .max(320)
  .refine((s) => s === "" || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s), "not an email address");

/**
 * The socket protocol between the widget and the hub (docs/livechat.md). Every frame is one JSON
 * object with a `type`. Visitor → hub frames are validated here; a frame that does not parse gets
 * an `error` frame back and changes nothing.
 */
export const VisitorFrame = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("message"),
    /** The widget's own id of the message: a frame re-sent after a reconnect is stored once. */
    clientId: z.string().min(1).max(64),
    text: z.string().max(10_000).default(""),
    files: z
      .array(z.object({ id: z.string().min(1).max(64) }))
      .max(5)
      .default([]),
  }),
  z.object({ type: z.literal("typing") }),
  z.object({ type: z.literal("read"), ids: z.array(z.string().min(1).max(64)).min(1).max(500) }),
  z.object({
    type: z.literal("profile"),
    name: z.string().trim().max(200).optional(),
    email: Email.optional(),
  }),
  z.object({ type: z.literal("ping") }),
]);
export type VisitorFrame = z.infer<typeof VisitorFrame>;

/** A message as the widget shows it. `html` is the hub's rendering of the exchange markup. */
export interface MessageFrame {
  type: "message";
  id: string;
  seq: number;
  from: "visitor" | "operator";
  clientId?: string;
  text: string;
  html: string;
  files: { url: string; name: string; type: string; size?: number }[];
  status: "sent" | "delivered" | "read" | "deleted";
  at: number;
}

export type HubFrame =
  | { type: "ready"; visitorId: string; title: string; greeting: string; color: string }
  | MessageFrame
  | { type: "status"; id: string; clientId?: string; status: "sent" | "delivered" | "read" }
  | { type: "typing" }
  | { type: "read"; ids: string[] }
  | { type: "edit"; id: string; text: string; html: string }
  | { type: "delete"; id: string }
  | { type: "pong" }
  | { type: "error"; code: string; message: string; clientId?: string };
