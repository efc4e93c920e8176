import type { JsonSchema } from "../lib/types.ts";

/** "allowedOrigins" → "Allowed origins". */
export function humanize(key: string): string {
  const s = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const SECRET = /token|secret|password|key$/i;

/**
 * Form fields generated from a connector's settings schema (JSON Schema, as the hub publishes
 * it): text, number, checkbox, select, a list (one value per line) or a set of checkboxes.
 * Values are read back with `readSchemaForm` from the form's data.
 */
export function SchemaFields({ schema, idPrefix }: { schema: JsonSchema; idPrefix: string }) {
  const required = new Set(schema.required ?? []);
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([key, p]) => {
        const id = `${idPrefix}-${key}`;
        const label = p.title ?? humanize(key);
        const help = p.description && p.description !== label ? p.description : undefined;
        const helpId = help ? `${id}-help` : undefined;
        const req = required.has(key);
        const type = Array.isArray(p.type) ? p.type[0] : p.type;
        let field: React.ReactNode;
        if (type === "boolean") {
          return (
            <div className="field check" key={key}>
              <input
                id={id}
                name={key}
                type="checkbox"
                defaultChecked={p.default === true}
                aria-describedby={helpId}
              />
              <label htmlFor={id}>{label}</label>
              {help && (
                <small id={helpId} className="help">
                  {help}
                </small>
              )}
            </div>
          );
        }
        if (type === "array" && p.items?.enum) {
          const def = new Set((p.default as unknown[]) ?? []);
          return (
            <fieldset className="field" key={key} aria-describedby={helpId}>
              <legend>
                {label}
                {req ? " (required)" : ""}
              </legend>
              {p.items.enum.map((v) => (
                <label key={String(v)} className="check">
                  <input type="checkbox" name={key} value={String(v)} defaultChecked={def.has(v)} />{" "}
                  {String(v)}
                </label>
              ))}
              {help && (
                <small id={helpId} className="help">
                  {help}
                </small>
              )}
            </fieldset>
          );
        }
        if (type === "array") {
          field = (
            <textarea
              id={id}
              name={key}
              rows={3}
              required={req}
              aria-describedby={helpId}
              defaultValue={((p.default as unknown[]) ?? []).join("\n")}
              placeholder="One per line"
            />
          );
        } else if (p.enum) {
          field = (
            <select
              id={id}
              name={key}
              required={req}
              defaultValue={p.default as string | undefined}
              aria-describedby={helpId}
            >
              {!req && <option value="">—</option>}
              {p.enum.map((v) => (
                <option key={String(v)} value={String(v)}>
                  {String(v)}
                </option>
              ))}
            </select>
          );
        } else if (type === "integer" || type === "number") {
          field = (
            <input
              id={id}
              name={key}
              type="number"
              step={type === "integer" ? 1 : "any"}
              min={p.minimum}
              max={p.maximum}
              required={req}
              defaultValue={p.default as number | undefined}
              aria-describedby={helpId}
            />
          );
        } else {
          field = (
            <input
              id={id}
              name={key}
              type={SECRET.test(key) || p.writeOnly ? "password" : p.format === "uri" ? "url" : "text"}
              autoComplete="off"
              required={req}
              maxLength={p.maxLength}
              defaultValue={p.default as string | undefined}
              aria-describedby={helpId}
            />
          );
        }
        return (
          <div className="field" key={key}>
            <label htmlFor={id}>
              {label}
              {req ? " (required)" : ""}
            </label>
            {field}
            {help && (
              <small id={helpId} className="help">
                {help}
              </small>
            )}
          </div>
        );
      })}
    </>
  );
}

export function readSchemaForm(schema: JsonSchema, form: HTMLFormElement): Record<string, unknown> {
  const data = new FormData(form);
  const out: Record<string, unknown> = {};
  for (const [key, p] of Object.entries(schema.properties ?? {})) {
    const type = Array.isArray(p.type) ? p.type[0] : p.type;
    if (type === "boolean") out[key] = data.get(key) === "on";
    else if (type === "array" && p.items?.enum) out[key] = data.getAll(key).map(String);
    else if (type === "array")
      out[key] = String(data.get(key) ?? "")
        .split(/[\n,]/)
        .map((s) => s.trim())
        .filter(Boolean);
    else {
      const v = String(data.get(key) ?? "").trim();
      if (v === "") continue;
      out[key] = type === "integer" || type === "number" ? Number(v) : v;
    }
  }
  return out;
}
