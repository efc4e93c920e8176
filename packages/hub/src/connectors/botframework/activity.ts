import { z } from "zod";

/**
 * The fields of a Bot Framework Activity the connector reads (channels.md §1.4). Everything else
 * passes through untouched; unknown activity types are accepted and ignored by `parse`.
 */
export const ChannelAccount = z.looseObject({
  id: z.string().min(1),
  name: z.string().optional(),
  aadObjectId: z.string().optional(),
  role: z.string().optional(),
});
export type ChannelAccount = z.infer<typeof ChannelAccount>;

export const ConversationAccount = z.looseObject({
  id: z.string().min(1),
  name: z.string().optional(),
  isGroup: z.boolean().optional(),
  conversationType: z.string().optional(),
  tenantId: z.string().optional(),
});
export type ConversationAccount = z.infer<typeof ConversationAccount>;

export const Attachment = z.looseObject({
  contentType: z.string().default("application/octet-stream"),
  contentUrl: z.string().optional(),
  content: z.unknown().optional(),
  name: z.string().optional(),
  thumbnailUrl: z.string().optional(),
});
export type Attachment = z.infer<typeof Attachment>;

export const Entity = z.looseObject({
  type: z.string(),
  mentioned: z.looseObject({ id: z.string(), name: z.string().optional() }).optional(),
  text: z.string().optional(),
});
export type Entity = z.infer<typeof Entity>;

const Reaction = z.looseObject({ type: z.string() });

export const Activity = z.looseObject({
  type: z.string().min(1),
  id: z.string().optional(),
  timestamp: z.string().optional(),
  serviceUrl: z.string().min(1),
  channelId: z.string().min(1),
  from: ChannelAccount,
  recipient: ChannelAccount,
  conversation: ConversationAccount,
  text: z.string().optional(),
  textFormat: z.string().optional(),
  locale: z.string().optional(),
  attachments: z.array(Attachment).optional(),
  entities: z.array(Entity).optional(),
  replyToId: z.string().optional(),
  channelData: z.unknown().optional(),
  membersAdded: z.array(ChannelAccount).optional(),
  membersRemoved: z.array(ChannelAccount).optional(),
  reactionsAdded: z.array(Reaction).optional(),
  reactionsRemoved: z.array(Reaction).optional(),
  action: z.string().optional(),
  code: z.string().optional(),
});
export type Activity = z.infer<typeof Activity>;

/** Activity types this connector turns into exchange events. */
export const ActivityTypes = {
  message: "message",
  messageUpdate: "messageUpdate",
  messageDelete: "messageDelete",
  typing: "typing",
  messageReaction: "messageReaction",
  conversationUpdate: "conversationUpdate",
  installationUpdate: "installationUpdate",
  endOfConversation: "endOfConversation",
} as const;
