import { ManualClock } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { packet, textPacket } from "../support/hub-stub.js";
import { type CorePortal, startCorePortal } from "../support/portal.js";

type Report = "sent" | "delivered" | "read" | "failed";
const rank: Record<string, number> = { queued: 1, sent: 2, delivered: 3, read: 4 };

/**
 * The rule in words: a status never goes back, and a failure counts only before delivery. A read
 * receipt names platform message ids, so it can match only once a delivery report told the id.
 */
function model(reports: Report[]): string {
  let status = "queued";
  let idKnown = false;
  for (const r of reports) {
    if (r !== "read") idKnown = true;
    if (status === "failed") continue;
    if (r === "read" && !idKnown) continue;
    if (r === "failed") {
      if (rank[status] < rank.delivered) status = "failed";
    } else if (rank[r] > rank[status]) status = r;
  }
  return status;
}

describeEachDialect("portal delivery statuses in any order", (d) => {
  let p: CorePortal;
  let chatId: string;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    p = await startCorePortal(d.url(), { clock });
    await p.deliver([textPacket({ user: "prop", chat: "chat-prop" })]);
    chatId = p.events.find((e) => e.event === "message.received")!.payload.chat.id;
  });
  afterAll(async () => p?.close());

  it("ends where the forward-only rule says, whatever order the reports arrive in", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Report>("sent", "delivered", "read", "failed"), {
          minLength: 1,
          maxLength: 6,
        }),
        async (reports) => {
          const m = await p.ctx.services.messages.send({ chatId, authorId: "op", text: "prop" });
          const platformId = `tg-${m.id}`;
          let last = rank.queued;
          for (const r of reports) {
            const pk =
              r === "read"
                ? packet("readStatus", {
                    chat: { id: "chat-prop" },
                    platformMessageIds: [platformId],
                    at: clock.now(),
                  })
                : packet("deliveryStatus", {
                    chat: { id: "chat-prop" },
                    messageId: m.id,
                    status: r,
                    platformMessageId: platformId,
                    at: clock.now(),
                  });
            await p.deliver([pk]);
            const now = (await p.ctx.services.messages.get(m.id))!.status;
            if (now !== "failed") {
              expect(rank[now]).toBeGreaterThanOrEqual(last);
              last = rank[now];
            }
          }
          expect((await p.ctx.services.messages.get(m.id))!.status).toBe(model(reports));
        },
      ),
      { numRuns: 15 },
    );
  });
});
