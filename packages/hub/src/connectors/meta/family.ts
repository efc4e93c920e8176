/**
 * The single-connection family of the Meta connectors. A Page, its Instagram account and a
 * WhatsApp number have distinct ids, and one Meta app's webhooks all come to one callback URL;
 * sharing the family keeps an id bound to one line across the three types (a Page connected as
 * Messenger on one line cannot also be taken by another line under another Meta type).
 */
export const META_FAMILY = "meta";
