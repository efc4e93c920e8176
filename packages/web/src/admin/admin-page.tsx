import { useCallback, useEffect, useState } from "react";
import { api, describeError } from "../lib/api.ts";
import { go } from "../lib/route.ts";
import { statusText } from "../lib/status.ts";
import type { Line, LineConnector, Operator } from "../lib/types.ts";
import { ChannelIcon, channelName } from "../workspace/channel-icon.tsx";
import { Attention } from "./attention.tsx";
import { ConnectWizard } from "./connect-wizard.tsx";
import { LineQueue } from "./line-queue.tsx";

/** Admin pages: lines needing attention, lines with operators and distribution, operators. */
export function AdminPage({ route }: { route: string[] }) {
  if (route[0] === "lines" && route[2] === "connect")
    return <ConnectWizard lineId={route[1]} presetType={route[3]} />;
  return <Overview />;
}

function Overview() {
  const [lines, setLines] = useState<Line[]>([]);
  const [operators, setOperators] = useState<Operator[]>([]);
  const [error, setError] = useState("");
  const load = useCallback(async () => {
    try {
      const [l, o] = await Promise.all([
        api.get<{ lines: Line[] }>("/api/lines"),
        api.get<{ operators: Operator[] }>("/api/operators"),
      ]);
      setLines(l.lines);
      setOperators(o.operators);
    } catch (e) {
      setError(describeError(e));
    }
  }, []);
  useEffect(() => {
    load();
  }, [load]);

  return (
    <main className="admin">
      <h1>Administration</h1>
      <p className="error" role="alert">
        {error}
      </p>
      <Attention lines={lines} />
      <section aria-labelledby="lines-title">
        <h2 id="lines-title">Lines</h2>
        {lines.map((l) => (
          <LineCard key={l.id} line={l} operators={operators} onSaved={load} />
        ))}
        <NewLine onCreated={load} />
      </section>
      <Operators operators={operators} onChanged={load} />
    </main>
  );
}

function LineCard({ line, operators, onSaved }: { line: Line; operators: Operator[]; onSaved: () => void }) {
  const [connectors, setConnectors] = useState<LineConnector[]>([]);
  const [showQueue, setShowQueue] = useState(false);
  const [msg, setMsg] = useState("");
  useEffect(() => {
    api
      .get<{ connectors: LineConnector[] }>(`/api/lines/${line.id}/connectors`)
      .then((r) => setConnectors(r.connectors))
      .catch(() => {});
  }, [line.id]);
  const id = (s: string) => `line-${line.id}-${s}`;
  const save = async (form: HTMLFormElement) => {
    const d = new FormData(form);
    const max = String(d.get("maxChatsPerOperator") ?? "");
    try {
      await api.patch(`/api/lines/${line.id}`, {
        name: d.get("name"),
        distribution: d.get("distribution"),
        maxChatsPerOperator: max ? Number(max) : null,
        noAnswerTimeoutMs: Number(d.get("noAnswerSeconds")) * 1000,
        ratingEnabled: d.get("ratingEnabled") === "on",
        welcomeText: String(d.get("welcomeText") ?? "") || null,
        operatorIds: operators.filter((o) => d.get(`op-${o.id}`) === "on").map((o) => o.id),
      });
      setMsg("Saved.");
      onSaved();
    } catch (e) {
      setMsg(describeError(e));
    }
  };
  return (
    <article className="card line" aria-labelledby={id("title")}>
      <h3 id={id("title")}>{line.name}</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save(e.currentTarget);
        }}
      >
        <div className="grid">
          <label htmlFor={id("name")}>Name</label>
          <input id={id("name")} name="name" defaultValue={line.name} required />
          <label htmlFor={id("distribution")}>Distribution</label>
          <select id={id("distribution")} name="distribution" defaultValue={line.distribution}>
            <option value="roundRobin">Round robin (one operator at a time, in turn)</option>
            <option value="all">Offer to all free operators</option>
            <option value="leastBusy">Least busy operator</option>
          </select>
          <label htmlFor={id("max")}>Chats per operator (empty: no line limit)</label>
          <input
            id={id("max")}
            name="maxChatsPerOperator"
            type="number"
            min={1}
            defaultValue={line.maxChatsPerOperator ?? ""}
          />
          <label htmlFor={id("noanswer")}>Seconds to answer before passing on</label>
          <input
            id={id("noanswer")}
            name="noAnswerSeconds"
            type="number"
            min={1}
            defaultValue={line.noAnswerTimeoutMs / 1000}
          />
          <label htmlFor={id("welcome")}>Welcome text</label>
          <input id={id("welcome")} name="welcomeText" defaultValue={line.welcomeText ?? ""} />
          <label htmlFor={id("rating")}>Ask for a rating on close</label>
          <input id={id("rating")} name="ratingEnabled" type="checkbox" defaultChecked={line.ratingEnabled} />
        </div>
        <fieldset>
          <legend>Operators (in round robin order)</legend>
          {operators.map((o) => (
            <label key={o.id} className="check">
              <input type="checkbox" name={`op-${o.id}`} defaultChecked={line.operatorIds.includes(o.id)} />{" "}
              {o.name} ({o.email})
            </label>
          ))}
        </fieldset>
        <button type="submit">Save line</button> <span role="status">{msg}</span>
      </form>
      <h4>Channels</h4>
      <ul className="connectors">
        {connectors.length === 0 && <li>No channel connected yet.</li>}
        {connectors.map((c) => (
          <li key={c.connector}>
            <ChannelIcon connector={c.connector} /> {channelName(c.connector)} —{" "}
            <strong>{statusText(c.status, c.reason)}</strong>
            {c.webhookUrl && (
              <>
                {" "}
                · <code>{c.webhookUrl}</code>
              </>
            )}{" "}
            <button type="button" onClick={() => go("admin", "lines", line.id, "connect", c.connector)}>
              Settings
            </button>
          </li>
        ))}
      </ul>
      <button type="button" onClick={() => go("admin", "lines", line.id, "connect")}>
        Connect a channel
      </button>{" "}
      <button type="button" aria-expanded={showQueue} onClick={() => setShowQueue(!showQueue)}>
        Hub queue
      </button>
      {showQueue && <LineQueue lineId={line.id} />}
    </article>
  );
}

function NewLine({ onCreated }: { onCreated: () => void }) {
  const [msg, setMsg] = useState("");
  return (
    <form
      className="card inline"
      onSubmit={async (e) => {
        e.preventDefault();
        const form = e.currentTarget;
        try {
          await api.post("/api/lines", { name: new FormData(form).get("name") });
          form.reset();
          setMsg("");
          onCreated();
        } catch (err) {
          setMsg(describeError(err));
        }
      }}
    >
      <label htmlFor="new-line-name">New line name</label>
      <input id="new-line-name" name="name" required />
      <button type="submit">Create line</button>
      <span role="alert">{msg}</span>
    </form>
  );
}

function Operators({ operators, onChanged }: { operators: Operator[]; onChanged: () => void }) {
  const [msg, setMsg] = useState("");
  const patch = async (id: string, body: unknown) => {
    try {
      await api.patch(`/api/operators/${id}`, body);
      onChanged();
    } catch (e) {
      setMsg(describeError(e));
    }
  };
  return (
    <section aria-labelledby="operators-title">
      <h2 id="operators-title">Operators</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Presence</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {operators.map((o) => (
            <tr key={o.id}>
              <td>{o.name}</td>
              <td>{o.email}</td>
              <td>{o.role}</td>
              <td>{o.presence}</td>
              <td>
                {o.status}{" "}
                <button
                  type="button"
                  onClick={() => patch(o.id, { status: o.status === "active" ? "disabled" : "active" })}
                >
                  {o.status === "active" ? `Disable ${o.name}` : `Enable ${o.name}`}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="card inline"
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const d = new FormData(form);
          try {
            await api.post("/api/operators", {
              name: d.get("name"),
              email: d.get("email"),
              role: d.get("role"),
              password: d.get("password"),
            });
            form.reset();
            setMsg("Operator added; they choose their own password at first sign-in.");
            onChanged();
          } catch (err) {
            setMsg(describeError(err));
          }
        }}
      >
        <label htmlFor="op-name">Name</label>
        <input id="op-name" name="name" required />
        <label htmlFor="op-email">Email</label>
        <input id="op-email" name="email" type="email" required />
        <label htmlFor="op-role">Role</label>
        <select id="op-role" name="role">
          <option value="operator">Operator</option>
          <option value="admin">Admin</option>
        </select>
        <label htmlFor="op-password">One-time password</label>
        <input id="op-password" name="password" type="password" minLength={10} required />
        <button type="submit">Add operator</button>
        <span role="status">{msg}</span>
      </form>
    </section>
  );
}
