import { describe, expect, it } from "vitest";
import { newerOf } from "../../src/lib/messages.js";
import type { Message } from "../../src/lib/types.js";

const base: Message = {
  id: "m1",
  chatId: "c1",
  contactId: "k1",
  direction: "out",
  authorType: "operator",
  authorId: "o1",
  text: "hello",
  files: [],
  status: "stored",
  failureReason: null,
  replyTo: null,
  internal: false,
  attempt: 1,
  createdAt: 1,
  editedAt: null,
  deletedAt: null,
};

describe("merging two views of one message", () => {
  it("keeps a status the stream already moved forward when the API's older answer arrives late", () => {
    const live = { ...base, status: "sent" as const };
    expect(newerOf(live, { ...base, status: "queued" }).status).toBe("sent");
    expect(newerOf(live, { ...base, status: "read" }).status).toBe("read");
  });

  it("lets a retry (a later attempt) replace a failed one, and never the other way round", () => {
    const failed = { ...base, status: "failed" as const, failureReason: "blocked" };
    const retried = { ...base, status: "stored" as const, attempt: 2 };
    expect(newerOf(failed, retried)).toMatchObject({ status: "stored", attempt: 2, failureReason: null });
    expect(newerOf(retried, failed)).toMatchObject({ status: "stored", attempt: 2 });
  });

  it("takes an edit or a delete even from a view that is behind on status", () => {
    const read = { ...base, status: "read" as const };
    const edited = newerOf(read, { ...base, status: "sent", text: "hello!", editedAt: 5 });
    expect(edited).toMatchObject({ status: "read", text: "hello!", editedAt: 5 });
  });
});
