import type { Clock } from "@openlines/protocol";
import type { ChatContextStore } from "../contract.js";
import { PlatformError } from "../contract.js";
import type { Activity, ChannelAccount, ConversationAccount } from "./activity.js";

/** The most dialogs (users of a group conversation) remembered per chat; the oldest go first. */
export const MAX_DIALOGS = 100;

/**
 * What a reply to a Bot Framework conversation needs and only incoming activities tell (DESIGN 3.1,
 * the source's "furtherMessageProcessing"): where the conversation lives (serviceUrl), the
 * conversation, the bot's and the user's channel accounts, the tenant. Kept per chat (the
 * conversation) in the hub's chat context, with one entry per dialog (each user who wrote in it).
 */
export interface BotChatContext {
  channelId: string;
  serviceUrl: string;
  conversation: Pick<ConversationAccount, "id" | "name" | "isGroup" | "conversationType" | "tenantId">;
  bot: Account;
  /** The user who wrote last: the recipient of a reply that names no message. */
  user: Account;
  tenantId?: string;
  locale?: string;
  dialogs: Record<string, { user: Account; lastActivityId?: string; at: number }>;
}
type Account = Pick<ChannelAccount, "id" | "name" | "aadObjectId" | "role">;

const account = (a: ChannelAccount): Account => ({
  id: a.id,
  ...(a.name ? { name: a.name } : {}),
  ...(a.aadObjectId ? { aadObjectId: a.aadObjectId } : {}),
  ...(a.role ? { role: a.role } : {}),
});

function tenantOf(a: Activity): string | undefined {
  const data = a.channelData as { tenant?: { id?: unknown } } | undefined;
  const fromData = typeof data?.tenant?.id === "string" ? data.tenant.id : undefined;
  return a.conversation.tenantId ?? fromData;
}

/**
 * The incoming hook: records the conversation reference of an activity in the chat's context,
 * merged with what is already known (the dialogs of other users). Activities the bot itself
 * appears to send are not taken as the user.
 */
export async function rememberConversation(
  store: ChatContextStore,
  a: Activity,
  clock: Clock,
): Promise<void> {
  const chatId = a.conversation.id;
  const known = await store.get<BotChatContext>(chatId);
  const fromBot = a.from.id === a.recipient.id || a.from.role === "bot";
  const user = fromBot ? (known?.user ?? account(a.from)) : account(a.from);
  const dialogs = { ...(known?.dialogs ?? {}) };
  if (!fromBot)
    dialogs[a.from.id] = {
      user,
      lastActivityId: a.id ?? dialogs[a.from.id]?.lastActivityId,
      at: clock.now(),
    };
  const ids = Object.keys(dialogs);
  if (ids.length > MAX_DIALOGS)
    for (const id of ids.sort((x, y) => dialogs[x].at - dialogs[y].at).slice(0, ids.length - MAX_DIALOGS))
      delete dialogs[id];
  const { id, name, isGroup, conversationType } = a.conversation;
  const tenantId = tenantOf(a) ?? known?.tenantId;
  const next: BotChatContext = {
    channelId: a.channelId,
    serviceUrl: a.serviceUrl,
    conversation: {
      id,
      ...(name ? { name } : {}),
      ...(isGroup !== undefined ? { isGroup } : {}),
      ...(conversationType ? { conversationType } : {}),
      ...(tenantId ? { tenantId } : {}),
    },
    bot: account(a.recipient),
    user,
    ...(tenantId ? { tenantId } : {}),
    ...((a.locale ?? known?.locale) ? { locale: a.locale ?? known?.locale } : {}),
    dialogs,
  };
  await store.set(chatId, next as unknown as Record<string, unknown>);
}

/** Where and as whom an outgoing activity goes: the result of the outgoing hook. */
export interface ConversationRef {
  serviceUrl: string;
  conversationId: string;
  /** The addressing fields of every outgoing activity. */
  address: {
    channelId: string;
    from: Account;
    recipient: Account;
    conversation: BotChatContext["conversation"];
    locale?: string;
  };
}

/**
 * The outgoing hook (the source's "sendMessageProcessing"): mixes the chat's stored context into an
 * outgoing activity — from = the bot, recipient = the user of the dialog the reply answers (or the
 * last one who wrote), the conversation and its serviceUrl. A chat with no context cannot be
 * answered: Bot Framework tells the serviceUrl only in incoming activities.
 */
export function conversationRef(
  chatId: string,
  context: Record<string, unknown> | undefined,
  replyTo?: string,
): ConversationRef {
  const c = context as BotChatContext | undefined;
  if (!c?.serviceUrl || !c.conversation?.id || !c.bot)
    throw new PlatformError(
      "the customer has not written to the bot in this chat yet, so Bot Framework's address of the chat is unknown",
      { retryable: false },
    );
  const answered = replyTo
    ? Object.values(c.dialogs ?? {}).find((d) => d.lastActivityId === replyTo)?.user
    : undefined;
  return {
    serviceUrl: c.serviceUrl.replace(/\/+$/, ""),
    conversationId: c.conversation.id ?? chatId,
    address: {
      channelId: c.channelId,
      from: c.bot,
      recipient: answered ?? c.user,
      conversation: c.conversation,
      ...(c.locale ? { locale: c.locale } : {}),
    },
  };
}
