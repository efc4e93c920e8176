import { generateSecret } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { expect, it } from "vitest";
import { PortalRepository } from "../../src/portals/index.js";
import { box, openHubDatabase } from "../queue/helpers.js";

describeEachDialect("portal repository", (ctx) => {
  it("stores a portal with its secret sealed, reads, lists and changes it", async () => {
    const database = await openHubDatabase(ctx.url());
    try {
      let t = 1_000;
      const portals = new PortalRepository(database.db, box, () => t);
      const secret = generateSecret();
      const created = await portals.create({ name: "Acme", baseUrl: "http://127.0.0.1:1/", secret });
      expect(created).toMatchObject({ name: "Acme", state: "pending", createdMs: 1000, updatedMs: 1000 });
      const row = await database.db.selectFrom("portal").select("secret_enc").executeTakeFirstOrThrow();
      expect(row.secret_enc).not.toContain(secret.slice(6));
      expect(await portals.secret(created.id)).toBe(secret);
      expect(await portals.get(created.id)).toEqual(created);
      expect(JSON.stringify(await portals.get(created.id))).not.toContain("whsec_");

      t = 2_000;
      await portals.setState(created.id, "active");
      await portals.update(created.id, { baseUrl: "http://127.0.0.1:2", secret: generateSecret() });
      expect(await portals.require(created.id)).toMatchObject({
        state: "active",
        baseUrl: "http://127.0.0.1:2",
        updatedMs: 2000,
      });
      expect(await portals.secret(created.id)).not.toBe(secret);
      await portals.create({ id: "second", name: "B", baseUrl: "http://127.0.0.1:3", secret });
      expect((await portals.list()).map((p) => p.id)).toEqual([created.id, "second"]);

      expect(await portals.get("nope")).toBeUndefined();
      await expect(portals.require("nope")).rejects.toMatchObject({ code: "PORTAL_UNKNOWN" });
      await expect(portals.setState("nope", "disabled")).rejects.toMatchObject({ code: "PORTAL_UNKNOWN" });
      await expect(portals.secret("nope")).rejects.toMatchObject({ code: "PORTAL_UNKNOWN" });
    } finally {
      await database.close();
    }
  });
});
