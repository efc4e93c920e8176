import type { WorkingHours } from "./settings.js";

const weekdays: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The weekday (1 = Monday) and minute of the day at `ms` in the time zone. */
export function localTime(ms: number, timezone: string): { day: number; minute: number } {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-GB", {
      timeZone: timezone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timezone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return { day: weekdays[parts.weekday], minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether the line is open at `ms`; no working hours = always open. Intervals are [from, to). */
export function isOpen(hours: WorkingHours | null, ms: number): boolean {
  if (!hours) return true;
  const { day, minute } = localTime(ms, hours.timezone);
  return hours.intervals.some((i) => i.day === day && minute >= minutes(i.from) && minute < minutes(i.to));
}
