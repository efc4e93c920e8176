export * from "./calls.js";
export * from "./client.js";
export * from "./clock.js";
export * from "./errors.js";
export * from "./format.js";
export * from "./markup.js";
export * from "./signing.js";
