/**
 * Measures the input: batches of new customer messages (new contacts and chats, half the
 * messages from returning customers) posted signed to /connector/input on one database.
 *   npx tsx packages/portal/test/support/measure-input.ts [sqlite|postgres|mysql] [packets] [batch]
 */
import { systemClock } from "@openlines/protocol";
import { createTestDatabase } from "@openlines/store/testing";
import { textPacket } from "./hub-stub.js";
import { startCorePortal } from "./portal.js";

const dialect = (process.argv[2] ?? "sqlite") as "sqlite" | "postgres" | "mysql";
const total = Number(process.argv[3] ?? 2000);
const batch = Number(process.argv[4] ?? 100);
const database = await createTestDatabase(dialect);
const portal = await startCorePortal(database.url, { clock: systemClock });
try {
  const started = performance.now();
  let taken = 0;
  for (let i = 0; i < total; i += batch) {
    const packets = Array.from({ length: Math.min(batch, total - i) }, (_, k) =>
      textPacket({ user: `u${(i + k) % (total / 2)}`, text: `message ${i + k}` }),
    );
    const res = await portal.deliver(packets);
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    taken += res.body.taken.length;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${dialect}: ${taken} packets in batches of ${batch}: ${seconds.toFixed(2)} s, ${(taken / seconds).toFixed(0)} packets/s`,
  );
} finally {
  await portal.close();
  await database.drop();
}
