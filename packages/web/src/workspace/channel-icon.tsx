/** A small badge per connector type, so an operator sees the channel at a glance. */
const channels: Record<string, { label: string; color: string; letter: string }> = {
  livechat: { label: "Live chat", color: "#2563eb", letter: "W" },
  form: { label: "Site form", color: "#7c3aed", letter: "F" },
  telegram: { label: "Telegram", color: "#229ed9", letter: "T" },
  whatsapp: { label: "WhatsApp", color: "#25d366", letter: "W" },
  facebook: { label: "Facebook Messenger", color: "#0866ff", letter: "M" },
  instagram: { label: "Instagram", color: "#e1306c", letter: "I" },
  vk: { label: "VK", color: "#0077ff", letter: "V" },
  slack: { label: "Slack", color: "#4a154b", letter: "S" },
  sms: { label: "SMS", color: "#475569", letter: "S" },
  botframework: { label: "Bot Framework", color: "#5c2d91", letter: "B" },
};

export function channelName(connector: string | null | undefined): string {
  if (!connector) return "Unknown channel";
  const base = connector.split(".")[0];
  const sub = connector.split(".")[1];
  const c = channels[base];
  return c ? (sub ? `${c.label} (${sub})` : c.label) : connector;
}

export function ChannelIcon({ connector }: { connector: string | null | undefined }) {
  const c = channels[(connector ?? "").split(".")[0]] ?? { color: "#64748b", letter: "?" };
  const name = channelName(connector);
  if (connector === "livechat")
    return (
      <svg className="channel-icon" viewBox="0 0 20 20" role="img" aria-label={name}>
        <title>{name}</title>
        <circle cx="10" cy="10" r="10" fill={c.color} />
        <path d="M5 6h10v6H9l-3 3v-3H5z" fill="#fff" />
      </svg>
    );
  return (
    <svg className="channel-icon" viewBox="0 0 20 20" role="img" aria-label={name}>
      <title>{name}</title>
      <circle cx="10" cy="10" r="10" fill={c.color} />
      <text x="10" y="14" textAnchor="middle" fontSize="11" fontWeight="700" fill="#fff">
        {c.letter}
      </text>
    </svg>
  );
}
