import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../lib/api.ts";
import { askNotificationPermission, notifyNewConversation } from "../lib/notify.ts";
import { openStream, type StreamEvent } from "../lib/stream.ts";
import type { ChatListItem, Operator } from "../lib/types.ts";
import { ChannelIcon, channelName } from "./channel-icon.tsx";
import { ChatView } from "./chat-view.tsx";

export type Tab = "queue" | "mine" | "closed";
const TABS: Array<[Tab, string]> = [
  ["queue", "Queue"],
  ["mine", "Mine"],
  ["closed", "Closed"],
];

export type Subscribe = (fn: (e: StreamEvent) => void) => () => void;

export function contactName(c: { name: string | null; email?: string | null } | null | undefined): string {
  return c?.name || c?.email || "Visitor";
}

/**
 * The operator's workspace: the conversation list (queue / mine / closed, with unread counts) and
 * the open chat. One live stream feeds both; the list refetches on any change, the open chat
 * applies events in place.
 */
export function Workspace({
  me,
  chatId,
  onOpen,
}: {
  me: Operator;
  chatId?: string;
  onOpen: (id: string) => void;
}) {
  const [tab, setTab] = useState<Tab>("queue");
  const [chats, setChats] = useState<ChatListItem[]>([]);
  const [counts, setCounts] = useState({ queue: 0, mine: 0, queueSize: 0 });
  const [live, setLive] = useState(false);
  const [reloads, setReloads] = useState(0);
  const [announce, setAnnounce] = useState("");
  const listeners = useRef(new Set<(e: StreamEvent) => void>());
  const known = useRef(new Set<string>());
  const drops = useRef(0);
  const tabRef = useRef(tab);
  tabRef.current = tab;

  const refresh = useCallback(async () => {
    const [list, unread, queue] = await Promise.all([
      api.get<{ chats: ChatListItem[] }>(`/api/chats?filter=${tabRef.current}`),
      api.get<{ mine: number; queue: number }>("/api/chats/unread"),
      api.get<{ chats: ChatListItem[] }>("/api/chats?filter=queue"),
    ]);
    for (const c of queue.chats) known.current.add(c.id);
    setChats(list.chats);
    setCounts({ queue: unread.queue, mine: unread.mine, queueSize: queue.chats.length });
  }, []);

  // Coalesce bursts of events into one refetch.
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const scheduleRefresh = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => refresh().catch(() => {}), 150);
  }, [refresh]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new tab refetches (refresh reads it from a ref)
  useEffect(() => {
    refresh().catch(() => {});
  }, [refresh, tab]);

  useEffect(() => {
    askNotificationPermission();
    const stream = openStream({
      onEvent(e) {
        const session = e.data?.session as ChatListItem | undefined;
        const fresh = session && !known.current.has(session.id) && session.state !== "closed";
        if (e.type === "session.offered" || (e.type === "message.received" && fresh)) {
          if (session && !known.current.has(session.id)) {
            known.current.add(session.id);
            notifyNewConversation("New conversation", "A customer is waiting for an answer.");
            setAnnounce(`New conversation ${new Date().toLocaleTimeString()}`);
          }
        }
        if (e.type.startsWith("session.") || e.type === "message.received" || e.type === "chat.read")
          scheduleRefresh();
        for (const fn of listeners.current) fn(e);
      },
      onReload() {
        scheduleRefresh();
        setReloads((n) => n + 1);
      },
      onState(connected) {
        setLive(connected);
        // A stream that keeps failing may mean the sign-in ended: asking says so (401 → sign-in).
        drops.current = connected ? 0 : drops.current + 1;
        if (drops.current === 3) api.get("/api/session").catch(() => {});
      },
    });
    return () => stream.close();
  }, [scheduleRefresh]);

  const subscribe: Subscribe = useCallback((fn) => {
    listeners.current.add(fn);
    return () => listeners.current.delete(fn);
  }, []);

  const badge = (t: Tab) => (t === "queue" ? counts.queueSize : t === "mine" ? counts.mine : 0);
  return (
    <div className="workspace">
      <aside className="chat-list" aria-label="Conversations">
        <div className="live-state" role="status">
          {live ? "● Live" : "○ Reconnecting…"}
        </div>
        <div role="tablist" aria-label="Conversation lists" className="tabs">
          {TABS.map(([t, label]) => (
            <button
              key={t}
              type="button"
              role="tab"
              id={`tab-${t}`}
              aria-selected={tab === t}
              aria-controls="chat-list-panel"
              onClick={() => setTab(t)}
            >
              {label}
              {badge(t) > 0 && (
                <span className="count">
                  {badge(t)}
                  <span className="sr-only">{t === "queue" ? " waiting" : " unread"}</span>
                </span>
              )}
            </button>
          ))}
        </div>
        <ul id="chat-list-panel" role="tabpanel" aria-labelledby={`tab-${tab}`} className="chats">
          {chats.length === 0 && <li className="empty">No conversations here.</li>}
          {chats.map((c) => (
            <li key={c.id}>
              <button
                type="button"
                className={`chat-item${c.chatId === chatId ? " selected" : ""}`}
                aria-current={c.chatId === chatId ? "true" : undefined}
                onClick={() => onOpen(c.chatId)}
              >
                <ChannelIcon connector={c.connector} />
                <span className="who">{contactName(c.contact)}</span>
                <span className="meta">
                  {channelName(c.connector)} · {c.state}
                  {c.offeredToMe ? " · offered to you" : ""}
                </span>
                {c.labels.length > 0 && <span className="labels">{c.labels.join(", ")}</span>}
                {c.unread > 0 && (
                  <span className="count">
                    {c.unread}
                    <span className="sr-only"> unread</span>
                  </span>
                )}
              </button>
            </li>
          ))}
        </ul>
        <div className="sr-only" aria-live="assertive">
          {announce}
        </div>
      </aside>
      {chatId ? (
        <ChatView
          key={chatId}
          me={me}
          chatId={chatId}
          subscribe={subscribe}
          reloads={reloads}
          onChanged={scheduleRefresh}
        />
      ) : (
        <main className="chat-empty">
          <p>Choose a conversation.</p>
        </main>
      )}
    </div>
  );
}
