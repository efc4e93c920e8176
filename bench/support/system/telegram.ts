/**
 * Telegram-shaped webhook traffic (channels.md §2): a private-chat text update with a bold entity
 * and an emoticon, so the connector's entity conversion and the emoji pass both run. The update
 * number `seq` is unique per request (Telegram's update_id, the hub's de-duplication key) and is
 * written into the text as `#<seq>`, which is how the stubs and the portal recognise it.
 */
export const SECRET_HEADER = "x-telegram-bot-api-secret-token";

export function updateBody(seq: number, chat = seq % 50): string {
  const text = `#${seq} Hello :) my order has not arrived yet, can you check please?`;
  return JSON.stringify({
    update_id: 100_000_000 + seq,
    message: {
      message_id: seq + 1,
      from: {
        id: 500_000 + chat,
        is_bot: false,
        first_name: "Alex",
        username: `alex${chat}`,
        language_code: "en",
      },
      chat: { id: 500_000 + chat, type: "private", first_name: "Alex", username: `alex${chat}` },
      date: Math.floor(Date.now() / 1000),
      text,
      entities: [{ type: "bold", offset: text.indexOf("Hello"), length: 5 }],
    },
  });
}

/** The `#<seq>` a message text carries, or -1. */
export function seqOf(text: unknown): number {
  if (typeof text !== "string") return -1;
  const m = /#(\d+)/.exec(text);
  return m ? Number(m[1]) : -1;
}
