import { z } from "zod";

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A line connector's Bot Framework settings, as the Azure Bot resource shows them. */
export const BotFrameworkSettings = z.object({
  botHandle: z
    .string()
    .trim()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_.-]+$/, "the bot handle is letters, digits, '-', '_' and '.'")
    .describe("Bot handle (the name of the Azure Bot resource)"),
  appId: z
    .string()
    .trim()
    .regex(guid, "a Microsoft App ID is a GUID: 00000000-0000-0000-0000-000000000000")
    .describe("Microsoft App ID"),
  appSecret: z.string().min(1).max(1024).describe("App secret (client secret of the app registration)"),
  tenantId: z
    .string()
    .trim()
    .regex(/^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9.-]+\.[a-z]{2,})$/i, {
      message: "a tenant is a GUID or a domain such as contoso.onmicrosoft.com",
    })
    .optional()
    .describe("Tenant id, for a single-tenant bot only (leave empty for a multi-tenant bot)"),
});
export type BotFrameworkSettings = z.infer<typeof BotFrameworkSettings>;
