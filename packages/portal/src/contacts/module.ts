import type { PortalModule } from "../module.js";
import { createContactService } from "./service.js";

/** Registers `ctx.services.contacts`. Contacts are created by the input (contacts/store.ts identify). */
export function contactsModule(): PortalModule {
  return {
    name: "contacts",
    register(_app, ctx) {
      ctx.services.contacts = createContactService(ctx);
    },
  };
}
