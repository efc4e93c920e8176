/** A line connector's status and the hub's reason codes in words. */
const STATUS: Record<string, string> = {
  new: "not activated",
  active: "active",
  needsAttention: "needs attention",
  disabled: "disabled",
};
const REASON: Record<string, string> = {
  connectedElsewhere: "connected to another line",
};

export function statusText(status: string, reason?: string | null): string {
  const s = STATUS[status] ?? status;
  return reason ? `${s} (${REASON[reason] ?? reason})` : s;
}
