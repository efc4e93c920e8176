import { APP_ID } from "./fake-bot-connector.js";

/**
 * Activities shaped as in the Bot Framework documentation (channels.md §1.4, the Activity spec),
 * one builder per channel, with the serviceUrl of the fake connector.
 */
export const BOT = { id: `28:${APP_ID}`, name: "HelpBot" };

export function activity(serviceUrl: string, channelId: string, fields: Record<string, unknown> = {}) {
  const users: Record<string, { from: any; conversation: any; recipient: any }> = {
    skype: {
      from: { id: "29:1AbCdEfSkypeUser", name: "Alice Skype" },
      conversation: { id: "29:1AbCdEfSkypeUser" },
      recipient: { id: `28:${APP_ID}`, name: "HelpBot" },
    },
    msteams: {
      from: {
        id: "29:1TeamsUserAbc",
        name: "Alice Teams",
        aadObjectId: "00000000-0000-0000-0000-00000000a11c",
      },
      conversation: {
        id: "a:1XyZTeamsPersonal",
        conversationType: "personal",
        tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
      },
      recipient: BOT,
    },
    telegram: {
      from: { id: "123456789", name: "alice_tg" },
      conversation: { id: "123456789" },
      recipient: { id: "help_bot", name: "HelpBot" },
    },
    slack: {
      from: { id: "U0123ABC:T0456DEF", name: "alice" },
      conversation: { id: "B0789GHI:T0456DEF:D0123JKL" },
      recipient: { id: "B0789GHI:T0456DEF", name: "helpbot" },
    },
    facebook: {
      from: { id: "1843224209091112", name: "Alice Facebook" },
      conversation: { id: "1843224209091112-1566666666666" },
      recipient: { id: "1566666666666", name: "HelpBot" },
    },
    webchat: {
      from: { id: "dl_user-1", name: "You" },
      conversation: { id: "ABCwebchat1-us" },
      recipient: { id: "helpbot@abc", name: "HelpBot" },
    },
    directline: {
      from: { id: "dl_customer-42", name: "Customer" },
      conversation: { id: "DLconv9-eu" },
      recipient: { id: "helpbot@abc", name: "HelpBot" },
    },
    sms: {
      from: { id: "+15555550100", name: "+15555550100" },
      conversation: { id: "+15555550100" },
      recipient: { id: "+15555550199", name: "+15555550199" },
    },
    email: {
      from: { id: "alice@example.com", name: "Alice Email" },
      conversation: { id: "alice@example.com" },
      recipient: { id: "helpbot@contoso.com", name: "HelpBot" },
    },
    kik: {
      from: { id: "alice.kik", name: "alice.kik" },
      conversation: { id: "kikconv-1" },
      recipient: { id: "helpbot", name: "helpbot" },
    },
  };
  return {
    type: "message",
    id: `${channelId}-activity-1`,
    timestamp: "2026-01-05T10:00:00.123Z",
    localTimestamp: "2026-01-05T11:00:00.123+01:00",
    serviceUrl,
    channelId,
    ...users[channelId],
    locale: "en-US",
    ...fields,
  };
}
