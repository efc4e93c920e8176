import type { UserProfile } from "@openlines/protocol";
import type { ConnectorContext } from "../contract.js";

/** A failed profile fetch is tried again after this long, not on every message. */
export const PROFILE_RETRY_MS = 6 * 3600_000;
/** A profile fetch must not hold the webhook answer long: Meta retries slow webhooks. */
export const PROFILE_TIMEOUT_MS = 3000;

/** What the Meta connectors keep in a chat's context (the chat id is the customer's id). */
export interface MetaChatData {
  profile?: UserProfile;
  /** When a profile fetch last failed. */
  profileFailedMs?: number;
  /** When the customer last wrote (Messenger's message tags outside 24 hours). */
  lastInboundMs?: number;
  /** The customer's last message id (WhatsApp mark-read without ids). */
  lastMessageId?: string;
}

/**
 * The customer's profile (name, avatar) fetched once and kept in the chat context, so each message
 * carries it without a Graph call. A failure is logged and the message goes on with the bare id;
 * the fetch is tried again after PROFILE_RETRY_MS.
 */
export async function cachedProfile(
  ctx: ConnectorContext,
  chatId: string,
  fetchProfile: () => Promise<UserProfile>,
): Promise<UserProfile> {
  const data = (await ctx.chatContext.get<MetaChatData>(chatId)) ?? {};
  if (data.profile) return data.profile;
  const now = ctx.clock.now();
  if (data.profileFailedMs !== undefined && now - data.profileFailedMs < PROFILE_RETRY_MS)
    return { id: chatId };
  try {
    const profile = await fetchProfile();
    await ctx.chatContext.set(chatId, { ...((await ctx.chatContext.get(chatId)) ?? {}), profile });
    return profile;
  } catch (e) {
    ctx.log.warn({ err: e, chat: chatId }, "profile fetch failed; the message goes on without a name");
    await ctx.chatContext.set(chatId, {
      ...((await ctx.chatContext.get(chatId)) ?? {}),
      profileFailedMs: now,
    });
    return { id: chatId };
  }
}

/** Merges fields into a chat's context data. */
export async function updateChat(ctx: ConnectorContext, chatId: string, patch: MetaChatData): Promise<void> {
  const data = (await ctx.chatContext.get<MetaChatData>(chatId)) ?? {};
  await ctx.chatContext.set(chatId, { ...data, ...patch });
}
