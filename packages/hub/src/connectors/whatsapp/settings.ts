import { z } from "zod";
import { metaId, metaSettingsShape, metaToken } from "../meta/settings.js";

/** A line connector's WhatsApp Cloud API settings: one business phone number. */
export const WhatsAppSettings = z.object({
  phoneNumberId: metaId("phone number id").describe("Phone number id (WhatsApp Manager → API setup)"),
  accessToken: metaToken("paste the access token (a system user token does not expire)").describe(
    "Access token",
  ),
  businessAccountId: metaId("WhatsApp Business Account id")
    .optional()
    .describe("WhatsApp Business Account id (needed to list message templates)"),
  ...metaSettingsShape,
});
export type WhatsAppSettings = z.infer<typeof WhatsAppSettings>;
