import { useCallback, useEffect, useState } from "react";
import { api, describeError } from "../lib/api.ts";
import { statusText } from "../lib/status.ts";
import type { DeadLetter, LineStatus } from "../lib/types.ts";
import { channelName } from "../workspace/channel-icon.tsx";

/** A line's queue on the hub (waiting, attempts, blocked until) and its dead letters with re-drive. */
export function LineQueue({ lineId }: { lineId: string }) {
  const [data, setData] = useState<{ connectors: LineStatus[]; deadLetters: DeadLetter[] } | null>(null);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [msg, setMsg] = useState("");
  const load = useCallback(async () => {
    try {
      setData(await api.get(`/api/lines/${lineId}/queue`));
    } catch (e) {
      setMsg(describeError(e));
    }
  }, [lineId]);
  useEffect(() => {
    load();
  }, [load]);
  const redrive = async (ids?: string[]) => {
    try {
      const r = await api.post<{ requeued: number }>(
        `/api/lines/${lineId}/queue/redrive`,
        ids ? { ids } : {},
      );
      setMsg(`${r.requeued} put back in the queue.`);
      setPicked(new Set());
      load();
    } catch (e) {
      setMsg(describeError(e));
    }
  };
  if (!data)
    return (
      <p role="status" className="error">
        {msg || "Loading…"}
      </p>
    );
  return (
    <div className="queue">
      <table>
        <caption>Hub queue</caption>
        <thead>
          <tr>
            <th scope="col">Channel</th>
            <th scope="col">Status</th>
            <th scope="col">Waiting</th>
            <th scope="col">Attempts</th>
            <th scope="col">Blocked until</th>
            <th scope="col">Dead letters</th>
          </tr>
        </thead>
        <tbody>
          {data.connectors.map((c) => (
            <tr key={c.connector}>
              <td>{channelName(c.connector)}</td>
              <td>{statusText(c.status, c.reason)}</td>
              <td>{c.queue.waiting}</td>
              <td>{c.queue.attempts}</td>
              <td>{c.queue.blockedUntil ? new Date(c.queue.blockedUntil).toLocaleString() : "—"}</td>
              <td>{c.queue.deadLetters}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data.deadLetters.length > 0 && (
        <fieldset>
          <legend>Dead letters</legend>
          {data.deadLetters.map((d) => (
            <label key={d.id} className="check">
              <input
                type="checkbox"
                checked={picked.has(d.id)}
                onChange={(e) => {
                  const next = new Set(picked);
                  e.target.checked ? next.add(d.id) : next.delete(d.id);
                  setPicked(next);
                }}
              />{" "}
              {d.type} from {new Date(d.created).toLocaleString()}, expired{" "}
              {new Date(d.expiredAt).toLocaleString()}: {d.reason}
            </label>
          ))}
          <button type="button" disabled={picked.size === 0} onClick={() => redrive([...picked])}>
            Re-drive selected
          </button>{" "}
          <button type="button" onClick={() => redrive()}>
            Re-drive all
          </button>
        </fieldset>
      )}
      <button type="button" onClick={load}>
        Refresh
      </button>{" "}
      <span role="status">{msg}</span>
    </div>
  );
}
