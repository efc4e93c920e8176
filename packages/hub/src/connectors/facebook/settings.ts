import { z } from "zod";
import { metaId, metaSettingsShape, metaToken } from "../meta/settings.js";

/** A line connector's Messenger settings: one Facebook Page of one Meta app. */
export const FacebookSettings = z.object({
  pageId: metaId("page id").describe("Facebook Page id"),
  pageAccessToken: metaToken("paste the Page access token").describe("Page access token"),
  ...metaSettingsShape,
});
export type FacebookSettings = z.infer<typeof FacebookSettings>;
