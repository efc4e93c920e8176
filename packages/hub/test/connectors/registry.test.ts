import { Capabilities } from "@openlines/protocol";
import { describe, expect, it } from "vitest";
import { builtinConnectors, createRegistry, settingsJsonSchema } from "../../src/connectors/registry.js";
import { echoConnector } from "../support/echo-connector.js";

describe("the connector registry", () => {
  it("resolves a real type and a virtual type to the real connector with the virtual capabilities", () => {
    const r = createRegistry([echoConnector]);
    expect(r.get("echo").definition).toBe(echoConnector);
    const v = r.get("echo.window");
    expect(v.definition).toBe(echoConnector);
    expect(v.capabilities.replyWindowHours).toBe(24);
    expect(r.list().map((x) => x.type)).toEqual(["echo", "echo.window"]);
  });

  it("refuses an unknown type with CONNECTOR_UNKNOWN and a type registered twice", () => {
    const r = createRegistry([echoConnector]);
    expect(() => r.get("fax")).toThrow(expect.objectContaining({ code: "CONNECTOR_UNKNOWN", status: 400 }));
    expect(() => createRegistry([echoConnector, echoConnector])).toThrow(/registered twice/);
  });

  it("holds built-in connectors that each declare valid capabilities and a settings schema", () => {
    const r = createRegistry(builtinConnectors);
    for (const c of r.list()) {
      expect(Capabilities.safeParse(c.capabilities).success, c.type).toBe(true);
      expect(settingsJsonSchema(c.definition), c.type).toMatchObject({ type: "object" });
    }
  });
});
