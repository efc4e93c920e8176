import { z } from "zod";

/**
 * The parts of a Telegram `Update` the connector reads, validated; everything else passes through
 * untouched (Telegram adds fields often). Shapes follow the Bot API documentation.
 */
const User = z.looseObject({
  id: z.number().int(),
  is_bot: z.boolean().optional(),
  first_name: z.string(),
  last_name: z.string().optional(),
  username: z.string().optional(),
  language_code: z.string().optional(),
});
export type TelegramUser = z.infer<typeof User>;

const Chat = z.looseObject({
  id: z.number().int(),
  type: z.enum(["private", "group", "supergroup", "channel"]),
  title: z.string().optional(),
  username: z.string().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
});

const Entity = z.looseObject({
  type: z.string(),
  offset: z.number().int().nonnegative(),
  length: z.number().int().nonnegative(),
  url: z.string().optional(),
  user: User.optional(),
  language: z.string().optional(),
  custom_emoji_id: z.string().optional(),
});

const FileBase = {
  file_id: z.string().min(1),
  file_unique_id: z.string(),
  file_size: z.number().int().nonnegative().optional(),
};
const PhotoSize = z.looseObject({ ...FileBase, width: z.number(), height: z.number() });
const NamedFile = z.looseObject({
  ...FileBase,
  file_name: z.string().optional(),
  mime_type: z.string().optional(),
});
const Sticker = z.looseObject({
  ...FileBase,
  emoji: z.string().optional(),
  is_animated: z.boolean().optional(),
  is_video: z.boolean().optional(),
});
const Location = z.looseObject({
  latitude: z.number(),
  longitude: z.number(),
  horizontal_accuracy: z.number().optional(),
  live_period: z.number().optional(),
});

const MessageBase = z.looseObject({
  message_id: z.number().int(),
  from: User.optional(),
  sender_chat: Chat.optional(),
  chat: Chat,
  date: z.number().int().nonnegative(),
  edit_date: z.number().int().optional(),
  text: z.string().optional(),
  entities: z.array(Entity).optional(),
  caption: z.string().optional(),
  caption_entities: z.array(Entity).optional(),
  photo: z.array(PhotoSize).min(1).optional(),
  document: NamedFile.optional(),
  voice: NamedFile.optional(),
  audio: NamedFile.extend({ title: z.string().optional(), performer: z.string().optional() }).optional(),
  video: NamedFile.optional(),
  video_note: z.looseObject(FileBase).optional(),
  sticker: Sticker.optional(),
  animation: NamedFile.optional(),
  location: Location.optional(),
  venue: z
    .looseObject({
      location: Location,
      title: z.string(),
      address: z.string(),
      foursquare_id: z.string().optional(),
    })
    .optional(),
  contact: z
    .looseObject({
      phone_number: z.string(),
      first_name: z.string(),
      last_name: z.string().optional(),
      user_id: z.number().int().optional(),
      vcard: z.string().optional(),
    })
    .optional(),
  forward_origin: z
    .looseObject({
      type: z.string(),
      date: z.number().int(),
      sender_user: User.optional(),
      sender_user_name: z.string().optional(),
      sender_chat: Chat.optional(),
      chat: Chat.optional(),
    })
    .optional(),
});
const Message = MessageBase.extend({ reply_to_message: MessageBase.optional() });
export type TelegramMessage = z.infer<typeof Message>;

const ChatMember = z.looseObject({ status: z.string(), user: User });

export const Update = z.looseObject({
  update_id: z.number().int().nonnegative(),
  message: Message.optional(),
  edited_message: Message.optional(),
  my_chat_member: z
    .looseObject({
      chat: Chat,
      from: User,
      date: z.number().int().nonnegative(),
      old_chat_member: ChatMember,
      new_chat_member: ChatMember,
    })
    .optional(),
});
export type Update = z.infer<typeof Update>;
