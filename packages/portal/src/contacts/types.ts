/**
 * The contact contract: a contact is a person; each of their channel identities is an external
 * user (connector type + platform user id). `ctx.services.contacts`.
 */
export interface ExternalUserView {
  id: string;
  connector: string;
  platformUserId: string;
  username: string | null;
  profileUrl: string | null;
}

export interface ContactView {
  id: string;
  name: string | null;
  avatarUrl: string | null;
  phone: string | null;
  email: string | null;
  /** Set when merged into another contact. */
  mergedInto: string | null;
  externalUsers: ExternalUserView[];
  createdAt: number;
  updatedAt: number;
}

export interface MergeSuggestion {
  contact: ContactView;
  /** What matched. */
  by: Array<"phone" | "email">;
}

export interface ContactService {
  /** A merged contact id resolves to the contact it was merged into. */
  get(id: string): Promise<ContactView | undefined>;
  /** Contacts not merged away, newest first; `query` matches name, phone or e-mail. */
  list(o?: { query?: string; limit?: number; offset?: number }): Promise<ContactView[]>;
  /** Moves the source's external users, chats and history to the target and records the merge. */
  merge(targetId: string, sourceId: string, o?: { by?: string }): Promise<ContactView>;
  /** Other contacts with the same phone number or e-mail. */
  suggestions(contactId: string): Promise<MergeSuggestion[]>;
}

declare module "../context.js" {
  interface PortalServices {
    contacts: ContactService;
  }
}

declare module "../events/bus.js" {
  interface PortalEvents {
    /** Profile data changed (name, avatar, phone, e-mail), or the contact was merged into. */
    "contact.updated": { contact: ContactView };
    "contact.merged": { target: ContactView; sourceId: string };
  }
}
