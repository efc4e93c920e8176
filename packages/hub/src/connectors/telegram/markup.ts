/**
 * The exchange markup (`@openlines/protocol/markup`), as the Telegram converters use it: entities
 * become a MarkupNode tree (entities.ts), and a tree becomes Telegram HTML (html.ts).
 */
export { type MarkupNode, parseMarkup, printMarkup, toPlainText } from "@openlines/protocol/markup";
