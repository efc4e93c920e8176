import { z } from "zod";
import { metaId, metaSettingsShape, metaToken } from "../meta/settings.js";

/** A line connector's Instagram settings: one Instagram professional account of one Meta app. */
export const InstagramSettings = z.object({
  accountId: metaId("Instagram account id").describe("Instagram professional account id"),
  accessToken: metaToken("paste the access token").describe(
    "Access token: the linked Page's token, or an Instagram user token with messaging permission",
  ),
  ...metaSettingsShape,
});
export type InstagramSettings = z.infer<typeof InstagramSettings>;
