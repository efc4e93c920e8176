import { useEffect, useState } from "react";
import { api, describeError } from "../lib/api.ts";
import type { ChatDetail, Contact } from "../lib/types.ts";
import { ChannelIcon, channelName } from "./channel-icon.tsx";
import { contactName } from "./workspace.tsx";

interface Suggestion {
  contact: Contact;
  by: string[];
}

/** The contact: how to reach them, their channels, merge suggestions, labels, past sessions. */
export function ContactCard({
  detail,
  onLabels,
  onMerged,
}: {
  detail: ChatDetail;
  onLabels: (labels: string[]) => void;
  onMerged: () => void;
}) {
  const c = detail.contact;
  const [suggestions, setSuggestions] = useState<Suggestion[]>([]);
  const [label, setLabel] = useState("");
  const [error, setError] = useState("");
  useEffect(() => {
    if (!c) return;
    api
      .get<{ suggestions: Suggestion[] }>(`/api/contacts/${c.id}/suggestions`)
      .then((r) => setSuggestions(r.suggestions))
      .catch(() => setSuggestions([]));
  }, [c]);

  const saveLabels = async (labels: string[]) => {
    try {
      const r = await api.put<{ labels: string[] }>(
        `/api/chats/${encodeURIComponent(detail.session.chatId)}/labels`,
        { labels },
      );
      onLabels(r.labels);
      setError("");
    } catch (e) {
      setError(describeError(e));
    }
  };
  const merge = async (sourceId: string) => {
    if (!c) return;
    try {
      await api.post(`/api/contacts/${c.id}/merge`, { sourceId });
      onMerged();
    } catch (e) {
      setError(describeError(e));
    }
  };
  return (
    <aside className="contact-card" aria-label="Contact">
      <h2>{contactName(c)}</h2>
      {c?.email && <p>✉ {c.email}</p>}
      {c?.phone && <p>☎ {c.phone}</p>}
      <h3>Channels</h3>
      <ul className="channels">
        {(c?.externalUsers ?? []).map((u) => (
          <li key={u.id}>
            <ChannelIcon connector={u.connector} /> {channelName(u.connector)}
            {u.username ? ` · @${u.username}` : ""}
          </li>
        ))}
      </ul>
      {suggestions.length > 0 && (
        <>
          <h3>Maybe the same person</h3>
          <ul className="suggestions">
            {suggestions.map((s) => (
              <li key={s.contact.id}>
                {contactName(s.contact)} (same {s.by.join(" and ")}){" "}
                <button type="button" onClick={() => merge(s.contact.id)}>
                  Merge into this contact
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      <h3>Labels</h3>
      <ul className="label-list">
        {detail.labels.map((l) => (
          <li key={l}>
            {l}
            <button
              type="button"
              aria-label={`Remove label ${l}`}
              onClick={() => saveLabels(detail.labels.filter((x) => x !== l))}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <form
        className="add-label"
        onSubmit={(e) => {
          e.preventDefault();
          if (label.trim()) saveLabels([...detail.labels, label.trim()]);
          setLabel("");
        }}
      >
        <label htmlFor="new-label">Add a label</label>
        <input id="new-label" value={label} maxLength={64} onChange={(e) => setLabel(e.target.value)} />
        <button type="submit">Add</button>
      </form>
      <h3>Sessions</h3>
      <ul className="sessions">
        {detail.sessions.map((s) => (
          <li key={s.id}>
            {new Date(s.openedAt).toLocaleDateString()} · {s.state}
            {s.rating !== null ? ` · rated ${s.rating}/5` : ""}
          </li>
        ))}
      </ul>
      <p className="error" role="alert">
        {error}
      </p>
    </aside>
  );
}
