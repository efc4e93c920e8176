import { type Capabilities, OpenlinesError } from "@openlines/protocol";
import { z } from "zod";
import { botframework } from "./botframework/index.js";
import type { ConnectorDefinition } from "./contract.js";
import { facebook } from "./facebook/index.js";
import { form } from "./form/index.js";
import { instagram } from "./instagram/index.js";
import { livechat } from "./livechat/index.js";
import { telegram } from "./telegram/index.js";
import { whatsapp } from "./whatsapp/index.js";

/**
 * The connectors installed on this hub. Adding a connector = one folder under `connectors/<type>/`
 * exporting a ConnectorDefinition, plus one line in this list.
 */
export const builtinConnectors: ConnectorDefinition[] = [
  // one line per connector type, e.g. `telegram,` (import { telegram } from "./telegram/index.js")
  livechat,
  form,
  telegram,
  botframework,
  whatsapp,
  facebook,
  instagram,
];

/** A connector type resolved to its definition; a virtual type resolves to the real connector. */
export interface ResolvedConnector {
  definition: ConnectorDefinition;
  /** The type as asked for (`botframework.skype`). */
  type: string;
  /** Capabilities of that type (the virtual channel's own when it declares them). */
  capabilities: Capabilities;
  title: string;
}

/** The factory from connector type to implementation (DESIGN 3.3). */
export interface ConnectorRegistry {
  /** Resolves a type or throws CONNECTOR_UNKNOWN. */
  get(type: string): ResolvedConnector;
  has(type: string): boolean;
  /** Every selectable type, real and virtual, for the admin wizard. */
  list(): ResolvedConnector[];
  definitions(): ConnectorDefinition[];
}

export function createRegistry(
  definitions: readonly ConnectorDefinition[] = builtinConnectors,
): ConnectorRegistry {
  const byType = new Map<string, ResolvedConnector>();
  for (const definition of definitions) {
    if (byType.has(definition.type))
      throw new Error(`Connector type "${definition.type}" is registered twice.`);
    byType.set(definition.type, {
      definition,
      type: definition.type,
      capabilities: definition.capabilities,
      title: definition.title,
    });
    for (const [type, v] of Object.entries(definition.virtual ?? {})) {
      if (byType.has(type)) throw new Error(`Connector type "${type}" is registered twice.`);
      byType.set(type, {
        definition,
        type,
        capabilities: v.capabilities ?? definition.capabilities,
        title: v.title,
      });
    }
  }
  return {
    get(type) {
      const r = byType.get(type);
      if (!r)
        throw new OpenlinesError(
          "CONNECTOR_UNKNOWN",
          `No connector of type "${type}" is installed on the hub.`,
        );
      return r;
    },
    has: (type) => byType.has(type),
    list: () => [...byType.values()],
    definitions: () => [...definitions],
  };
}

/** The JSON Schema of a connector's settings, for the portal's generated form. */
export function settingsJsonSchema(definition: ConnectorDefinition): unknown {
  try {
    return z.toJSONSchema(definition.settings as z.ZodType, { unrepresentable: "any", io: "input" });
  } catch {
    return {};
  }
}
