import { useEffect, useState } from "react";
import { api, describeError } from "../lib/api.ts";
import { go } from "../lib/route.ts";
import { statusText } from "../lib/status.ts";
import type { Line } from "../lib/types.ts";
import { channelName } from "../workspace/channel-icon.tsx";

interface Item {
  lineId: string;
  connector: string;
  status: string;
  reason: string | null;
}

/** What an admin can do about a line connector that stopped, in plain words. */
export function howToFix(item: Item): string {
  const r = (item.reason ?? "").toLowerCase();
  if (r === "connectedelsewhere" || r.includes("elsewhere"))
    return "The same account was connected to another line, which took it over. Connect it here again to move it back, or connect another account.";
  if (r.includes("token") || r.includes("revoked") || r.includes("credential") || r.includes("unauthori"))
    return "The platform refused the credentials (revoked or changed). Open the settings, enter the new credentials, test the connection and activate.";
  if (item.status === "disabled")
    return "The channel is switched off. Open the settings and activate it again.";
  if (r.includes("dead"))
    return "Messages expired before the portal took them: look at the hub queue and re-drive them.";
  return "Open the settings, test the connection and fix what the test reports.";
}

export function Attention({ lines }: { lines: Line[] }) {
  const [items, setItems] = useState<Item[] | null>(null);
  const [hubError, setHubError] = useState<string | null>(null);
  useEffect(() => {
    api
      .get<{ items: Item[]; hubError: { message: string } | null }>("/api/lines/attention")
      .then((r) => {
        setItems(r.items);
        setHubError(r.hubError?.message ?? null);
      })
      .catch((e) => setHubError(describeError(e)));
  }, []);
  const name = (id: string) => lines.find((l) => l.id === id)?.name ?? id;
  return (
    <section aria-labelledby="attention-title" className="attention">
      <h2 id="attention-title">Needs attention</h2>
      {hubError && (
        <p className="error" role="alert">
          The hub could not be asked: {hubError}
        </p>
      )}
      {items?.length === 0 && <p>All channels are working.</p>}
      <ul>
        {items?.map((i) => (
          <li key={`${i.lineId}|${i.connector}`} className="card warn">
            <strong>
              {name(i.lineId)} · {channelName(i.connector)}
            </strong>{" "}
            — {statusText(i.status, i.reason)}
            <p>{howToFix(i)}</p>
            <button type="button" onClick={() => go("admin", "lines", i.lineId, "connect", i.connector)}>
              Fix {channelName(i.connector)} on {name(i.lineId)}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
