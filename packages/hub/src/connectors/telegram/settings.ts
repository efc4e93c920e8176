import { z } from "zod";

/** A line connector's Telegram settings, as the admin wizard asks for them. */
export const TelegramSettings = z.object({
  botToken: z
    .string()
    .trim()
    .regex(/^\d+:[A-Za-z0-9_-]{20,}$/, "a bot token looks like 123456789:AAH…, as @BotFather gives it")
    .describe("Bot token from @BotFather"),
  allowGroups: z
    .boolean()
    .default(false)
    .describe("Also take messages from groups the bot is a member of (off: private chats only)"),
});
export type TelegramSettings = z.infer<typeof TelegramSettings>;
