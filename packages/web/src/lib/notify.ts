/**
 * A new conversation: a short chime (a WAV generated once, no audio file to ship) and a browser
 * notification when the operator allowed them and the tab is not in front.
 */
let chime: string | undefined;

function chimeUri(): string {
  if (chime) return chime;
  const rate = 8000;
  const n = Math.floor(rate * 0.25);
  const buf = new DataView(new ArrayBuffer(44 + n));
  const str = (o: number, s: string) => {
    for (let i = 0; i < s.length; i++) buf.setUint8(o + i, s.charCodeAt(i));
  };
  str(0, "RIFF");
  buf.setUint32(4, 36 + n, true);
  str(8, "WAVEfmt ");
  buf.setUint32(16, 16, true);
  buf.setUint16(20, 1, true); // PCM
  buf.setUint16(22, 1, true); // mono
  buf.setUint32(24, rate, true);
  buf.setUint32(28, rate, true);
  buf.setUint16(32, 1, true);
  buf.setUint16(34, 8, true);
  str(36, "data");
  buf.setUint32(40, n, true);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const fade = 1 - i / n;
    const freq = i < n / 2 ? 880 : 1320;
    buf.setUint8(44 + i, 128 + Math.round(60 * fade * Math.sin(2 * Math.PI * freq * t)));
  }
  let bin = "";
  const bytes = new Uint8Array(buf.buffer);
  for (const b of bytes) bin += String.fromCharCode(b);
  chime = `data:audio/wav;base64,${btoa(bin)}`;
  return chime;
}

export function askNotificationPermission(): void {
  if ("Notification" in window && Notification.permission === "default")
    Notification.requestPermission().catch(() => {});
}

export function notifyNewConversation(title: string, body: string): void {
  new Audio(chimeUri()).play().catch(() => {}); // autoplay may be refused before any click
  if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
    try {
      new Notification(title, { body, tag: "openlines-new" });
    } catch {
      /* some browsers only allow notifications from a service worker */
    }
  }
}
