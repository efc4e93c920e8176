import type { Capabilities, OutgoingMessage } from "@openlines/protocol";
import type { Connector } from "../connectors/contract.js";
import type { OutboxKind } from "./store.js";

/**
 * What a channel allows, checked before any platform call; a refusal is a reason an operator
 * understands, reported as a failed delivery status.
 */
export function capabilityRefusal(
  kind: OutboxKind,
  body: any,
  caps: Capabilities,
  connector: Connector,
  o: { lastInboundMs: number | null; now: number },
): string | undefined {
  if (kind === "update" && (!caps.edit || !connector.update))
    return "This channel does not allow editing sent messages.";
  if (kind === "delete" && (!caps.delete || !connector.delete))
    return "This channel does not allow deleting sent messages.";
  if (kind === "update" && typeof body.text === "string" && body.text.length > caps.textMaxLength)
    return `The text is longer than this channel allows (${caps.textMaxLength} characters).`;
  if (kind !== "send") return undefined;
  const m = body as OutgoingMessage;
  if (m.template && !caps.templates) return "This channel does not support message templates.";
  if ((m.text ?? "").length > caps.textMaxLength)
    return `The text is longer than this channel allows (${caps.textMaxLength} characters).`;
  const files = m.files ?? [];
  if (files.length > 0 && (caps.files.maxCount === 0 || caps.files.kinds.length === 0))
    return "This channel does not accept files.";
  if (files.length > caps.files.maxCount)
    return `Too many files: this channel accepts ${caps.files.maxCount} per message.`;
  for (const f of files) {
    if (f.size !== undefined && f.size > caps.files.maxSizeBytes)
      return `The file "${f.name}" is larger than this channel allows (${Math.floor(caps.files.maxSizeBytes / 1048576)} MB).`;
    const kind = f.kind ?? "document";
    if (!caps.files.kinds.includes(kind) && !caps.files.kinds.includes("other"))
      return `This channel does not accept ${kind} files ("${f.name}").`;
  }
  if (!m.template && caps.replyWindowHours !== null) {
    const windowMs = caps.replyWindowHours * 3600_000;
    if (o.lastInboundMs === null || o.now - o.lastInboundMs > windowMs)
      return `The customer last wrote more than ${caps.replyWindowHours} hours ago; this channel allows only a template message now.`;
  }
  return undefined;
}
