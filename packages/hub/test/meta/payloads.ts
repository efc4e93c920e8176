import { PAGE_ID, PHONE_ID, WABA_ID } from "./fake-graph.js";

/** Webhook bodies shaped as in Meta's documentation (channels.md §3.2, §4.1). */
export const CUSTOMER = "16505551234";
export const PSID = "6012345678901234";
export const IGSID = "7012345678901234";
export const T0 = 1767607200; // seconds

export function waBody(value: Record<string, unknown>, phoneId = PHONE_ID) {
  return {
    object: "whatsapp_business_account",
    entry: [
      {
        id: WABA_ID,
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: "15550001111", phone_number_id: phoneId },
              ...value,
            },
          },
        ],
      },
    ],
  };
}

export function waMessage(message: Record<string, unknown>, name = "Alice") {
  return waBody({
    contacts: [{ profile: { name }, wa_id: CUSTOMER }],
    messages: [{ from: CUSTOMER, timestamp: String(T0), ...message }],
  });
}

export function waStatus(id: string, status: string, extra: Record<string, unknown> = {}) {
  return waBody({
    statuses: [
      {
        id,
        status,
        timestamp: String(T0 + 100),
        recipient_id: CUSTOMER,
        conversation: { id: "CONV_ID", origin: { type: "service" } },
        pricing: { billable: true, pricing_model: "PMP", category: "service" },
        ...extra,
      },
    ],
  });
}

export function pageBody(events: Record<string, unknown>[], object = "page", accountId = PAGE_ID) {
  return { object, entry: [{ id: accountId, time: T0 * 1000, messaging: events }] };
}

export function fromUser(event: Record<string, unknown>, user = PSID, accountId = PAGE_ID) {
  return { sender: { id: user }, recipient: { id: accountId }, timestamp: T0 * 1000, ...event };
}
