import { useEffect, useRef } from "react";

/** A curated grid of common emoji; arrow keys move, Enter picks, Escape closes. */
const EMOJI = [
  ["😀", "grinning face"],
  ["😂", "face with tears of joy"],
  ["😊", "smiling face"],
  ["😉", "winking face"],
  ["😍", "heart eyes"],
  ["🤔", "thinking face"],
  ["😅", "sweat smile"],
  ["😢", "crying face"],
  ["😮", "surprised face"],
  ["🙁", "frowning face"],
  ["😎", "cool face"],
  ["🙏", "folded hands"],
  ["👍", "thumbs up"],
  ["👎", "thumbs down"],
  ["👋", "waving hand"],
  ["👌", "OK hand"],
  ["👏", "clapping hands"],
  ["💪", "flexed biceps"],
  ["🎉", "party popper"],
  ["❤️", "red heart"],
  ["🔥", "fire"],
  ["✅", "check mark"],
  ["❌", "cross mark"],
  ["⚠️", "warning"],
  ["⏳", "hourglass"],
  ["📦", "package"],
  ["🚚", "delivery truck"],
  ["💳", "credit card"],
  ["📞", "telephone"],
  ["📧", "e-mail"],
  ["🙂", "slightly smiling face"],
  ["😇", "smiling face with halo"],
] as const;

export function EmojiPicker({ onPick, onClose }: { onPick: (e: string) => void; onClose: () => void }) {
  const ref = useRef<HTMLFieldSetElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLButtonElement>("button")?.focus();
  }, []);
  const move = (e: React.KeyboardEvent) => {
    const buttons = [...(ref.current?.querySelectorAll<HTMLButtonElement>("button") ?? [])];
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 8, ArrowUp: -8 }[e.key];
    if (step !== undefined && i >= 0) {
      e.preventDefault();
      buttons[(i + step + buttons.length) % buttons.length]?.focus();
    } else if (e.key === "Escape") {
      e.preventDefault();
      onClose();
    }
  };
  return (
    <fieldset className="emoji-picker" ref={ref} onKeyDown={move}>
      <legend className="sr-only">Emoji</legend>
      {EMOJI.map(([emoji, name]) => (
        <button key={emoji} type="button" aria-label={name} title={name} onClick={() => onPick(emoji)}>
          {emoji}
        </button>
      ))}
    </fieldset>
  );
}
