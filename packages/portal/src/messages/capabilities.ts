import { type Capabilities, OpenlinesError } from "@openlines/protocol";
import type { FileView } from "./types.js";

/** Why a reply was refused: `details.reason` of CAPABILITY_REFUSED. */
export type RefusalReason =
  | "replyWindow"
  | "textTooLong"
  | "noFiles"
  | "tooManyFiles"
  | "fileTooLarge"
  | "fileKind"
  | "templates"
  | "edit"
  | "delete";

export function refuse(reason: RefusalReason, message: string, extra: Record<string, unknown> = {}): never {
  throw new OpenlinesError("CAPABILITY_REFUSED", message, { details: { reason, ...extra } });
}

export function fileKind(type: string): "image" | "video" | "audio" | "document" {
  const t = type.toLowerCase();
  if (t.startsWith("image/")) return "image";
  if (t.startsWith("video/")) return "video";
  if (t.startsWith("audio/")) return "audio";
  return "document";
}

/**
 * Checks a reply against the channel's capabilities before anything is stored or sent. A template
 * message is the one way to write outside the reply window, where the channel has templates.
 */
export function checkReply(
  caps: Capabilities,
  o: { text: string; files: FileView[]; template?: unknown; lastInboundAt: number | null; now: number },
): void {
  if (o.template && !caps.templates) refuse("templates", "This channel has no message templates.");
  if (caps.replyWindowHours !== null && !o.template) {
    const windowMs = caps.replyWindowHours * 3_600_000;
    if (o.lastInboundAt === null || o.now - o.lastInboundAt > windowMs) {
      refuse(
        "replyWindow",
        `The channel allows free replies only within ${caps.replyWindowHours} hours of the customer's last message; send a template instead.`,
        { replyWindowHours: caps.replyWindowHours },
      );
    }
  }
  if (o.text.length > caps.textMaxLength) {
    refuse("textTooLong", `The text is longer than the channel allows (${caps.textMaxLength} characters).`, {
      textMaxLength: caps.textMaxLength,
    });
  }
  if (o.files.length === 0) return;
  if (caps.files.maxCount === 0) refuse("noFiles", "This channel cannot send files.");
  if (o.files.length > caps.files.maxCount) {
    refuse("tooManyFiles", `The channel sends at most ${caps.files.maxCount} files in one message.`, {
      maxCount: caps.files.maxCount,
    });
  }
  for (const f of o.files) {
    if (f.size !== null && f.size > caps.files.maxSizeBytes) {
      refuse(
        "fileTooLarge",
        `"${f.name}" is larger than the channel allows (${caps.files.maxSizeBytes} bytes).`,
        {
          fileId: f.id,
          maxSizeBytes: caps.files.maxSizeBytes,
        },
      );
    }
    const kind = fileKind(f.type);
    const kinds = caps.files.kinds as string[];
    const ok =
      kinds.includes(kind) || kinds.includes("other") || (kind === "audio" && kinds.includes("voice"));
    if (!ok)
      refuse("fileKind", `The channel cannot send ${kind} files ("${f.name}").`, { fileId: f.id, kind });
  }
}
