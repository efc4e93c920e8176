import { useEffect, useState } from "react";
import { api, describeError } from "../lib/api.ts";
import { go } from "../lib/route.ts";
import { statusText } from "../lib/status.ts";
import type { ConnectorType, Line } from "../lib/types.ts";
import { ChannelIcon } from "../workspace/channel-icon.tsx";
import { readSchemaForm, SchemaFields } from "./schema-form.tsx";

type Step = "choose" | "settings" | "check" | "done";
const STEPS: Array<[Step, string]> = [
  ["choose", "Choose the channel"],
  ["settings", "Enter its settings"],
  ["check", "Test the connection"],
  ["done", "Activate"],
];

/**
 * Connecting a channel to a line, step by step: pick a connector type, fill the form generated
 * from its settings schema (the hub validates and stores them), copy the webhook URL, test the
 * connection against the platform, activate.
 */
export function ConnectWizard({ lineId, presetType }: { lineId: string; presetType?: string }) {
  const [types, setTypes] = useState<ConnectorType[]>([]);
  const [line, setLine] = useState<Line | null>(null);
  const [type, setType] = useState<string | undefined>(presetType);
  const [step, setStep] = useState<Step>(presetType ? "settings" : "choose");
  const [webhookUrl, setWebhookUrl] = useState("");
  const [error, setError] = useState("");
  const [test, setTest] = useState<{
    ok: boolean;
    account?: { id: string; name?: string };
    error?: { message: string };
  } | null>(null);
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    api.get<{ connectors: ConnectorType[] }>("/api/connectors").then(
      (r) => setTypes(r.connectors),
      (e) => setError(describeError(e)),
    );
    api.get<{ line: Line }>(`/api/lines/${lineId}`).then(
      (r) => setLine(r.line),
      (e) => setError(describeError(e)),
    );
  }, [lineId]);
  const connector = types.find((t) => t.type === type);
  const base = `/api/lines/${encodeURIComponent(lineId)}/connectors/${encodeURIComponent(type ?? "")}`;
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError("");
    try {
      await fn();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(webhookUrl);
      setCopied(true);
    } catch {
      setError("The browser refused the clipboard; select the address and copy it.");
    }
  };
  const stepIndex = STEPS.findIndex(([s]) => s === step);

  return (
    <main className="admin wizard">
      <p>
        <a href="#/admin">← Administration</a>
      </p>
      <h1>Connect a channel to {line?.name ?? "the line"}</h1>
      <ol className="steps" aria-label="Steps">
        {STEPS.map(([s, label], i) => (
          <li key={s} aria-current={s === step ? "step" : undefined} className={i < stepIndex ? "past" : ""}>
            {label}
          </li>
        ))}
      </ol>
      <p className="error" role="alert" data-testid="wizard-error">
        {error}
      </p>

      {step === "choose" && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (type) setStep("settings");
          }}
        >
          <fieldset>
            <legend>Which channel?</legend>
            {types.map((t) => (
              <label key={t.type} className="check channel-choice">
                <input
                  type="radio"
                  name="type"
                  value={t.type}
                  checked={type === t.type}
                  onChange={() => setType(t.type)}
                />{" "}
                <ChannelIcon connector={t.type} /> {t.title}
              </label>
            ))}
          </fieldset>
          <button type="submit" disabled={!type}>
            Next
          </button>
        </form>
      )}

      {step === "settings" && connector && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const settings = readSchemaForm(connector.settingsSchema, e.currentTarget);
            run(async () => {
              const r = await api.put<{ webhookUrl: string; status: string }>(`${base}/settings`, {
                settings,
              });
              setWebhookUrl(r.webhookUrl);
              setStatus(r.status);
              setTest(null);
              setStep("check");
            });
          }}
        >
          <h2>
            <ChannelIcon connector={connector.type} /> {connector.title}
          </h2>
          <p>Saved settings are kept secret: to change them, enter them again.</p>
          <SchemaFields schema={connector.settingsSchema} idPrefix={`s-${connector.type}`} />
          {!presetType && (
            <button type="button" onClick={() => setStep("choose")}>
              Back
            </button>
          )}{" "}
          <button type="submit" disabled={busy}>
            Save settings
          </button>
        </form>
      )}
      {step === "settings" && !connector && types.length > 0 && <p>The hub offers no connector “{type}”.</p>}

      {(step === "check" || step === "done") && (
        <section aria-labelledby="webhook-title">
          <h2 id="webhook-title">Webhook address</h2>
          <p>
            The platform sends this line's messages here. Where the platform has no API to install it, paste
            it into its settings.
          </p>
          <div className="copy-row">
            <label htmlFor="webhook-url" className="sr-only">
              Webhook URL
            </label>
            <input id="webhook-url" readOnly value={webhookUrl} onFocus={(e) => e.currentTarget.select()} />
            <button type="button" onClick={copy}>
              {copied ? "Copied" : "Copy"}
            </button>
          </div>
          <p>
            Status: <strong data-testid="connector-status">{statusText(status)}</strong>
          </p>
        </section>
      )}

      {step === "check" && (
        <section aria-labelledby="check-title">
          <h2 id="check-title">Test the connection</h2>
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              run(async () => {
                setTest(await api.post(`${base}/test`));
              })
            }
          >
            Test connection
          </button>
          {test?.ok && (
            <p className="ok" role="status">
              The connection works{test.account ? `: ${test.account.name ?? ""} (${test.account.id})` : ""}.
            </p>
          )}
          {test && !test.ok && (
            <p className="error" role="alert" data-testid="test-error">
              The check failed: {test.error?.message ?? "the platform refused"}. Go back, correct the settings
              and test again.
            </p>
          )}
          <p>
            <button type="button" onClick={() => setStep("settings")}>
              Back to the settings
            </button>{" "}
            <button
              type="button"
              disabled={busy || !test?.ok}
              onClick={() =>
                run(async () => {
                  const r = await api.post<{ status: string; webhookUrl: string }>(`${base}/activate`);
                  setStatus(r.status);
                  setWebhookUrl(r.webhookUrl);
                  setStep("done");
                })
              }
            >
              Activate
            </button>
          </p>
        </section>
      )}

      {step === "done" && (
        <section aria-labelledby="done-title">
          <h2 id="done-title">Connected</h2>
          <p role="status">
            The channel is {statusText(status)}. New conversations from it arrive in the line's queue.
          </p>
          <button type="button" onClick={() => go("admin")}>
            Back to administration
          </button>
        </section>
      )}
    </main>
  );
}
