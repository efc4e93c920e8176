import { toHtml } from "@openlines/protocol/markup";
import { useState } from "react";
import { api, describeError } from "../lib/api.ts";
import type { Capabilities, LedgerEntry, Message, Operator } from "../lib/types.ts";

const MARKS: Record<string, string> = {
  stored: "Sending…",
  queued: "Sending…",
  unsent: "Waiting for the hub…",
  sent: "✓ Sent",
  delivered: "✓✓ Delivered",
  read: "✓✓ Read",
  failed: "Failed",
};

function fileUrl(id: string): string {
  return `/api/files/${encodeURIComponent(id)}`;
}

/** One message: markup rendered to safe HTML, files (images inline), its mark, retry, ledger. */
export function MessageItem({
  m,
  me,
  caps,
  onChange,
}: {
  m: Message;
  me: Operator;
  caps: Capabilities | null;
  onChange: (m: Message) => void;
}) {
  const [ledger, setLedger] = useState<LedgerEntry[] | null>(null);
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState("");
  const outgoing = m.authorType === "operator" && !m.internal;
  const who =
    m.authorType === "customer"
      ? "Customer"
      : m.authorType === "system"
        ? "System"
        : m.authorId === me.id
          ? "You"
          : "Operator";
  const retry = async () => {
    try {
      onChange((await api.post<{ message: Message }>(`/api/messages/${m.id}/retry`)).message);
      setError("");
    } catch (e) {
      setError(describeError(e));
    }
  };
  const mine = outgoing && m.authorId === me.id && !m.deletedAt && m.status !== "failed";
  const change = async (how: "PATCH" | "DELETE", text?: string) => {
    try {
      const r =
        how === "PATCH"
          ? await api.patch<{ message: Message }>(`/api/messages/${m.id}`, { text })
          : await api.del<{ message: Message }>(`/api/messages/${m.id}`);
      onChange(r.message);
      setEditing(false);
      setError("");
    } catch (e) {
      setError(describeError(e));
    }
  };
  const toggleLedger = async () => {
    if (ledger) return setLedger(null);
    try {
      setLedger((await api.get<{ ledger: LedgerEntry[] }>(`/api/messages/${m.id}/ledger`)).ledger);
    } catch (e) {
      setError(describeError(e));
    }
  };
  const cls = ["message", m.direction === "in" ? "in" : "out", m.internal ? "note" : "", m.authorType].join(
    " ",
  );
  return (
    <li className={cls} data-message-id={m.id}>
      <span className="author">
        {who}
        {m.internal ? " · internal note" : ""}
      </span>
      {m.deletedAt ? (
        <p className="deleted">Message deleted</p>
      ) : editing ? (
        <form
          className="edit"
          onSubmit={(e) => {
            e.preventDefault();
            change("PATCH", String(new FormData(e.currentTarget).get("text") ?? ""));
          }}
        >
          <label htmlFor={`edit-${m.id}`} className="sr-only">
            Edit the message
          </label>
          <textarea id={`edit-${m.id}`} name="text" defaultValue={m.text} rows={2} required />
          <button type="submit">Save</button>
          <button type="button" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        // biome-ignore lint/security/noDangerouslySetInnerHtml: toHtml escapes the text and emits only its own safe tags and links
        <div className="text" dangerouslySetInnerHTML={{ __html: toHtml(m.text) }} />
      )}
      {!m.deletedAt &&
        m.files.map((f) =>
          f.status !== "ok" ? (
            <p key={f.id} className="file-missing">
              📄 {f.name} —{" "}
              {f.status === "pending" ? "downloading…" : `not available: ${f.reason ?? "failed"}`}
            </p>
          ) : f.type.startsWith("image/") ? (
            <a key={f.id} href={fileUrl(f.id)} target="_blank" rel="noreferrer" className="file image">
              <img src={fileUrl(f.id)} alt={f.name} loading="lazy" />
            </a>
          ) : (
            <a key={f.id} href={fileUrl(f.id)} download={f.name} className="file">
              📄 {f.name}
              {f.size !== null ? ` (${formatBytes(f.size)})` : ""}
            </a>
          ),
        )}
      <span className="footer">
        <time dateTime={new Date(m.createdAt).toISOString()}>
          {new Date(m.createdAt).toLocaleString([], { dateStyle: "short", timeStyle: "short" })}
        </time>
        {m.editedAt ? " · edited" : ""}
        {outgoing && (
          <span className={`mark ${m.status}`} data-status={m.status}>
            {MARKS[m.status] ?? m.status}
          </span>
        )}
        {outgoing && (
          <button type="button" className="link" aria-expanded={ledger !== null} onClick={toggleLedger}>
            Delivery details
          </button>
        )}
        {mine && caps?.edit && !editing && (
          <button type="button" className="link" onClick={() => setEditing(true)}>
            Edit
          </button>
        )}
        {mine && caps?.delete && (
          <button
            type="button"
            className="link"
            onClick={() => window.confirm("Delete this message for the customer too?") && change("DELETE")}
          >
            Delete
          </button>
        )}
      </span>
      {m.status === "failed" && (
        <div className="failure" role="alert">
          Not delivered: {m.failureReason ?? "the channel refused it"}.{" "}
          <button type="button" onClick={retry}>
            Retry
          </button>
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {ledger && (
        <table className="ledger">
          <caption>Delivery ledger</caption>
          <thead>
            <tr>
              <th scope="col">Attempt</th>
              <th scope="col">Step</th>
              <th scope="col">When</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {ledger.map((l, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: ledger rows have no id and never reorder
              <tr key={i}>
                <td>{l.attempt}</td>
                <td>{l.hop.replaceAll("_", " ")}</td>
                <td>{new Date(l.at).toLocaleTimeString()}</td>
                <td>{l.detail ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </li>
  );
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
