import { useCallback, useEffect, useRef, useState } from "react";
import { api, describeError } from "../lib/api.ts";
import { newerOf } from "../lib/messages.ts";
import type { StreamEvent } from "../lib/stream.ts";
import type { ChatDetail, Line, Message, Operator, Session } from "../lib/types.ts";
import { ChannelIcon, channelName } from "./channel-icon.tsx";
import { Composer } from "./composer.tsx";
import { ContactCard } from "./contact-card.tsx";
import { MessageItem } from "./message-item.tsx";
import { contactName, type Subscribe } from "./workspace.tsx";

const TYPING_SHOWN_MS = 5000;
const HISTORY_PAGE = 50;

/** One conversation: history across the contact's sessions, live marks, actions, the composer. */
export function ChatView({
  me,
  chatId,
  subscribe,
  reloads,
  onChanged,
}: {
  me: Operator;
  chatId: string;
  subscribe: Subscribe;
  reloads: number;
  onChanged: () => void;
}) {
  const [detail, setDetail] = useState<ChatDetail | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [error, setError] = useState("");
  const [typing, setTyping] = useState(false);
  const [more, setMore] = useState(false);
  const keepScroll = useRef(false);
  const listRef = useRef<HTMLOListElement>(null);
  const typingTimer = useRef<ReturnType<typeof setTimeout>>(undefined);

  // Reading clears the unread counts: the list refetches once the portal has it.
  const markRead = useCallback(
    () =>
      api
        .post(`/api/chats/${encodeURIComponent(chatId)}/read`)
        .then(onChanged)
        .catch(() => {}),
    [chatId, onChanged],
  );

  const load = useCallback(async () => {
    try {
      const d = await api.get<ChatDetail>(`/api/chats/${encodeURIComponent(chatId)}?limit=${HISTORY_PAGE}`);
      setDetail(d);
      setMessages([...d.history].reverse());
      setMore(d.history.length >= HISTORY_PAGE);
      setError("");
      if (d.session.unread > 0 || d.history.some((m) => m.direction === "in" && m.status === "received"))
        await markRead();
    } catch (e) {
      setError(describeError(e));
    }
  }, [chatId, markRead]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a stream reload (reloads + 1) refetches
  useEffect(() => {
    load();
  }, [load, reloads]);

  const upsert = useCallback((m: Message) => {
    setMessages((list) => {
      const i = list.findIndex((x) => x.id === m.id);
      if (i < 0) return [...list, m].sort((a, b) => a.createdAt - b.createdAt);
      const next = [...list];
      next[i] = newerOf(list[i], m);
      return next;
    });
  }, []);

  useEffect(
    () =>
      subscribe((e: StreamEvent) => {
        const d = e.data ?? {};
        if (e.type === "message.received" && d.message?.chatId === chatId) {
          upsert(d.message);
          setTyping(false);
          if (!document.hidden) markRead();
        } else if (
          (e.type === "message.created" || e.type === "message.updated") &&
          d.message?.chatId === chatId
        ) {
          upsert(d.message);
        } else if (e.type === "session.changed" && d.session?.chatId === chatId) {
          const s = d.session as Session;
          setDetail((x) =>
            x
              ? {
                  ...x,
                  session: x.session.id === s.id || s.openedAt >= x.session.openedAt ? s : x.session,
                  sessions: x.sessions.some((o) => o.id === s.id)
                    ? x.sessions.map((o) => (o.id === s.id ? s : o))
                    : [s, ...x.sessions],
                }
              : x,
          );
        } else if (e.type === "chat.typing" && d.chatId === chatId) {
          setTyping(true);
          clearTimeout(typingTimer.current);
          typingTimer.current = setTimeout(() => setTyping(false), TYPING_SHOWN_MS);
        } else if (e.type === "chat.read" && d.chatId === chatId) {
          const ids = new Set<string>(d.messageIds ?? []);
          setMessages((list) =>
            list.map((m) => (ids.has(m.id) && m.direction === "out" ? { ...m, status: "read" } : m)),
          );
        }
      }),
    [subscribe, chatId, upsert, markRead],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll down when a message arrives
  useEffect(() => {
    const el = listRef.current;
    if (el && !keepScroll.current) el.scrollTop = el.scrollHeight;
    keepScroll.current = false;
  }, [messages.length]);

  if (!detail) {
    return (
      <main className="chat">
        <p role="alert" className="error">
          {error}
        </p>
        {!error && <p>Loading…</p>}
      </main>
    );
  }
  const s = detail.session;
  const earlier = async () => {
    const oldest = messages[0]?.createdAt;
    if (oldest === undefined) return;
    try {
      const d = await api.get<ChatDetail>(
        `/api/chats/${encodeURIComponent(chatId)}?before=${oldest}&limit=${HISTORY_PAGE}`,
      );
      keepScroll.current = true;
      setMessages((list) => [
        ...[...d.history].reverse().filter((m) => !list.some((x) => x.id === m.id)),
        ...list,
      ]);
      setMore(d.history.length >= HISTORY_PAGE);
    } catch (e) {
      setError(describeError(e));
    }
  };
  const act = async (what: string, body: unknown = {}) => {
    try {
      const r = await api.post<{ session: Session }>(`/api/sessions/${s.id}/${what}`, body);
      setDetail((x) => (x ? { ...x, session: r.session } : x));
      setError("");
      onChanged();
    } catch (e) {
      setError(describeError(e));
    }
  };
  return (
    <main className="chat" aria-labelledby="chat-title">
      <header className="chat-head">
        <ChannelIcon connector={detail.chat?.connector} />
        <div>
          <h1 id="chat-title">{contactName(detail.contact)}</h1>
          <p className="meta">
            {channelName(detail.chat?.connector)} · session <span data-testid="session-state">{s.state}</span>
          </p>
        </div>
        <div className="actions">
          {(s.state === "queued" || s.state === "offered") && (
            <button type="button" onClick={() => act("take")}>
              Take
            </button>
          )}
          {s.state !== "closed" && <Transfer me={me} onTransfer={(body) => act("transfer", body)} />}
          {s.state !== "closed" && (
            <button type="button" onClick={() => act("close")}>
              Close
            </button>
          )}
        </div>
      </header>
      <p className="error" role="alert">
        {error}
      </p>
      <div className="chat-body">
        <section className="conversation" aria-label="Messages">
          <ol className="messages" ref={listRef} aria-live="polite" aria-relevant="additions">
            {more && (
              <li className="earlier">
                <button type="button" onClick={earlier}>
                  Load earlier messages
                </button>
              </li>
            )}
            {messages.map((m) => (
              <MessageItem key={m.id} m={m} me={me} caps={detail.capabilities} onChange={upsert} />
            ))}
          </ol>
          <div className="typing" aria-live="polite">
            {typing ? `${contactName(detail.contact)} is typing…` : ""}
          </div>
          <Composer detail={detail} onSent={upsert} />
        </section>
        <ContactCard
          detail={detail}
          onLabels={(labels) => setDetail({ ...detail, labels })}
          onMerged={load}
        />
      </div>
    </main>
  );
}

function Transfer({
  me,
  onTransfer,
}: {
  me: Operator;
  onTransfer: (b: { operatorId?: string; lineId?: string }) => void;
}) {
  const [open, setOpen] = useState(false);
  const [ops, setOps] = useState<Operator[]>([]);
  const [lines, setLines] = useState<Line[]>([]);
  useEffect(() => {
    if (!open) return;
    api
      .get<{ operators: Operator[] }>("/api/operators")
      .then((r) => setOps(r.operators.filter((o) => o.id !== me.id && o.status === "active")));
    api.get<{ lines: Line[] }>("/api/lines").then((r) => setLines(r.lines));
  }, [open, me.id]);
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Transfer…
      </button>
    );
  return (
    <form
      className="transfer"
      onSubmit={(e) => {
        e.preventDefault();
        const v = String(new FormData(e.currentTarget).get("to") ?? "");
        if (!v) return;
        const [kind, id] = v.split(":");
        onTransfer(kind === "op" ? { operatorId: id } : { lineId: id });
        setOpen(false);
      }}
    >
      <label htmlFor="transfer-to">Transfer to</label>
      <select id="transfer-to" name="to" ref={(el) => el?.focus()}>
        <option value="">Choose…</option>
        <optgroup label="Operators">
          {ops.map((o) => (
            <option key={o.id} value={`op:${o.id}`}>
              {o.name} ({o.presence})
            </option>
          ))}
        </optgroup>
        <optgroup label="Lines (back to the queue)">
          {lines.map((l) => (
            <option key={l.id} value={`line:${l.id}`}>
              {l.name}
            </option>
          ))}
        </optgroup>
      </select>
      <button type="submit">Transfer</button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
    </form>
  );
}
