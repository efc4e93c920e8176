import { z } from "zod";
import { DEFAULT_GRAPH_VERSION } from "./graph.js";

/** The settings every Meta connector shares: the app's secret, our verify token, the Graph version. */
export const metaSettingsShape = {
  appSecret: z
    .string()
    .trim()
    .regex(
      /^[0-9a-f]{32}$/i,
      "the app secret is 32 hexadecimal characters (App Dashboard → Settings → Basic)",
    )
    .describe("App secret (signs every webhook)"),
  verifyToken: z
    .string()
    .trim()
    .min(8, "choose a verify token of at least 8 characters")
    .max(256)
    .describe("Verify token: any text you also enter in the App Dashboard's webhook settings"),
  graphVersion: z
    .string()
    .trim()
    .regex(/^v\d+\.\d+$/, "a Graph API version looks like v21.0")
    .default(DEFAULT_GRAPH_VERSION)
    .describe("Graph API version"),
};

/** Meta ids (page, phone number, account, WABA) are decimal strings. */
export const metaId = (what: string) =>
  z
    .string()
    .trim()
    .regex(/^\d{5,32}$/, `the ${what} is a number, as shown in Meta's dashboard`);

/** A Graph access token field; `hint` says where to get one when it is missing or cut short. */
export const metaToken = (hint: string) => z.string().trim().min(20, hint);
