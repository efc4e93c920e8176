import { type KeyboardEvent, useEffect, useRef, useState } from "react";
import { api, describeError } from "../lib/api.ts";
import type { CannedAnswer, ChatDetail, FileView, Message } from "../lib/types.ts";
import { EmojiPicker } from "./emoji-picker.tsx";
import { formatBytes } from "./message-item.tsx";

const TYPING_EVERY_MS = 3000;

/** What the file input may offer, from the channel's file kinds ("" = anything). */
function acceptOf(kinds: string[]): string {
  if (kinds.includes("document") || kinds.includes("other")) return "";
  const map: Record<string, string> = {
    image: "image/*",
    sticker: "image/*",
    video: "video/*",
    audio: "audio/*",
    voice: "audio/*",
  };
  return [...new Set(kinds.map((k) => map[k]).filter(Boolean))].join(",");
}

/**
 * The reply box. It follows the channel: no free reply once the reply window has closed (the
 * channel's templates are offered instead), files only as many and as large as the channel takes.
 * Enter sends, Shift+Enter breaks the line; a note is stored for operators and never sent.
 */
export function Composer({ detail, onSent }: { detail: ChatDetail; onSent: (m: Message) => void }) {
  const [text, setText] = useState("");
  const [files, setFiles] = useState<FileView[]>([]);
  const [note, setNote] = useState(false);
  const [emoji, setEmoji] = useState(false);
  const [canned, setCanned] = useState<CannedAnswer[] | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const textRef = useRef<HTMLTextAreaElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const lastTyping = useRef(0);
  const chatId = detail.session.chatId;
  const caps = detail.capabilities;
  const closed = detail.session.state === "closed";
  const windowMs = caps?.replyWindowHours ? caps.replyWindowHours * 3600_000 : null;
  const lastIn = detail.chat?.lastInboundAt ?? null;
  const windowClosed = windowMs !== null && lastIn !== null && Date.now() - lastIn > windowMs;
  const canReply = !closed && !windowClosed;
  const maxFiles = caps ? caps.files.maxCount : 10;

  useEffect(() => {
    if (!canReply) setNote(true);
  }, [canReply]);

  const insert = (s: string) => {
    const el = textRef.current;
    const at = el?.selectionStart ?? text.length;
    setText(text.slice(0, at) + s + text.slice(el?.selectionEnd ?? at));
    setEmoji(false);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(at + s.length, at + s.length);
    });
  };

  const send = async () => {
    if (busy || (!text.trim() && files.length === 0)) return;
    setBusy(true);
    try {
      const r = await api.post<{ message: Message }>(`/api/chats/${encodeURIComponent(chatId)}/messages`, {
        text: text.trim(),
        files: files.map((f) => f.id),
        note,
      });
      onSent(r.message);
      setText("");
      setFiles([]);
      setError("");
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
      textRef.current?.focus();
    }
  };

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  };
  const onInput = (v: string) => {
    setText(v);
    if (!note && caps?.typing && Date.now() - lastTyping.current > TYPING_EVERY_MS) {
      lastTyping.current = Date.now();
      api.post(`/api/chats/${encodeURIComponent(chatId)}/typing`).catch(() => {});
    }
  };
  const attach = async (list: FileList | null) => {
    setError("");
    for (const f of [...(list ?? [])]) {
      if (files.length >= maxFiles) {
        setError(`This channel takes at most ${maxFiles} files per message.`);
        break;
      }
      if (caps && f.size > caps.files.maxSizeBytes) {
        setError(
          `${f.name} is ${formatBytes(f.size)}; this channel takes files up to ${formatBytes(caps.files.maxSizeBytes)}.`,
        );
        continue;
      }
      try {
        const r = await api.upload<{ file: FileView }>(f);
        setFiles((x) => [...x, r.file]);
      } catch (e) {
        setError(`${f.name}: ${describeError(e)}`);
      }
    }
    if (fileRef.current) fileRef.current.value = "";
  };
  const openCanned = async () => {
    if (canned) return setCanned(null);
    try {
      setCanned((await api.get<{ answers: CannedAnswer[] }>("/api/canned-answers")).answers);
    } catch (e) {
      setError(describeError(e));
    }
  };

  return (
    <>
      {!closed && windowClosed && caps?.templates && <TemplateForm chatId={chatId} onSent={onSent} />}
      <form
        className={`composer${note ? " note" : ""}`}
        aria-label="Reply box"
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        {closed && (
          <p className="notice">
            The session is closed: the customer writes first. You can add an internal note.
          </p>
        )}
        {!closed && windowClosed && (
          <p className="notice" role="status">
            The channel's reply window ({caps?.replyWindowHours} h after the customer's last message) has
            closed; a free reply is not allowed.{" "}
            {caps?.templates
              ? "Send one of the channel's approved templates to reopen the conversation."
              : "This channel has no templates; wait for the customer to write."}
          </p>
        )}
        <label htmlFor="reply-text" className="sr-only">
          {note ? "Internal note" : "Reply"}
        </label>
        <textarea
          id="reply-text"
          ref={textRef}
          value={text}
          rows={3}
          maxLength={note ? 100_000 : caps?.textMaxLength}
          placeholder={
            note
              ? "Internal note — the customer never sees it"
              : "Write a reply… (Enter sends, Shift+Enter: new line)"
          }
          onChange={(e) => onInput(e.target.value)}
          onKeyDown={onKey}
        />
        {files.length > 0 && (
          <ul className="attached" aria-label="Attached files">
            {files.map((f) => (
              <li key={f.id}>
                {f.name}
                <button
                  type="button"
                  aria-label={`Remove ${f.name}`}
                  onClick={() => setFiles(files.filter((x) => x.id !== f.id))}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        {emoji && (
          <EmojiPicker
            onPick={insert}
            onClose={() => {
              setEmoji(false);
              textRef.current?.focus();
            }}
          />
        )}
        {canned && (
          <ul className="canned" aria-label="Quick answers">
            {canned.length === 0 && <li>No quick answers yet.</li>}
            {canned.map((a) => (
              <li key={a.id}>
                <button
                  type="button"
                  onClick={() => {
                    insert(a.text);
                    setCanned(null);
                  }}
                >
                  <strong>{a.title}</strong> {a.text.slice(0, 60)}
                </button>
              </li>
            ))}
            <li>
              <SaveCanned text={text} onSaved={(a) => setCanned([...(canned ?? []), a])} />
            </li>
          </ul>
        )}
        <div className="composer-bar">
          <button type="button" aria-label="Emoji" aria-expanded={emoji} onClick={() => setEmoji(!emoji)}>
            🙂
          </button>
          <button
            type="button"
            aria-label="Quick answers"
            aria-expanded={canned !== null}
            onClick={openCanned}
          >
            ⚡
          </button>
          <input
            ref={fileRef}
            id="reply-files"
            type="file"
            multiple={maxFiles > 1}
            accept={caps ? acceptOf(caps.files.kinds) : undefined}
            className="sr-only"
            tabIndex={-1}
            aria-label="Files to attach"
            onChange={(e) => attach(e.target.files)}
          />
          <button
            type="button"
            aria-label={maxFiles === 0 ? "Attach a file (this channel takes no files)" : "Attach a file"}
            disabled={maxFiles === 0 || note}
            onClick={() => fileRef.current?.click()}
          >
            📎
          </button>
          <label className="note-toggle">
            <input
              id="reply-note"
              type="checkbox"
              checked={note}
              disabled={!canReply}
              onChange={(e) => setNote(e.target.checked)}
            />{" "}
            Internal note
          </label>
          <span className="limits">{caps && !note ? `${text.length}/${caps.textMaxLength}` : ""}</span>
          <button type="submit" className="primary" disabled={busy}>
            {note ? "Add note" : "Send"}
          </button>
        </div>
        <p className="error" role="alert">
          {error}
        </p>
      </form>
    </>
  );
}

/**
 * A channel template (e.g. WhatsApp's approved messages), the one way to write after the reply
 * window closed: its name and language as approved on the platform, and its parameters.
 */
function TemplateForm({ chatId, onSent }: { chatId: string; onSent: (m: Message) => void }) {
  const [error, setError] = useState("");
  return (
    <form
      className="template-form"
      aria-label="Send a template"
      onSubmit={async (e) => {
        e.preventDefault();
        const form = e.currentTarget;
        const d = new FormData(form);
        const parameters = String(d.get("parameters") ?? "")
          .split("\n")
          .map((p) => p.trim())
          .filter(Boolean);
        try {
          const r = await api.post<{ message: Message }>(
            `/api/chats/${encodeURIComponent(chatId)}/messages`,
            {
              text: "",
              template: { name: d.get("name"), language: d.get("language"), parameters },
            },
          );
          onSent(r.message);
          form.reset();
          setError("");
        } catch (err) {
          setError(describeError(err));
        }
      }}
    >
      <label htmlFor="template-name">Template name</label>
      <input id="template-name" name="name" required />
      <label htmlFor="template-language">Language</label>
      <input id="template-language" name="language" defaultValue="en" required size={6} />
      <label htmlFor="template-parameters">Parameters (one per line)</label>
      <textarea id="template-parameters" name="parameters" rows={2} />
      <button type="submit">Send template</button>
      <p className="error" role="alert">
        {error}
      </p>
    </form>
  );
}

function SaveCanned({ text, onSaved }: { text: string; onSaved: (a: CannedAnswer) => void }) {
  const [title, setTitle] = useState("");
  return (
    <span className="save-canned">
      <label htmlFor="canned-title">Save the reply box as a quick answer named</label>
      <input id="canned-title" value={title} onChange={(e) => setTitle(e.target.value)} />
      <button
        type="button"
        disabled={!title || !text.trim()}
        onClick={async () => {
          const r = await api.post<{ answer: CannedAnswer }>("/api/canned-answers", { title, text });
          onSaved(r.answer);
          setTitle("");
        }}
      >
        Save
      </button>
    </span>
  );
}
