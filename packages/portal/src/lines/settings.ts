import { z } from "zod";
import type { LineTable } from "../store/lines-schema.js";

/** How a line hands new sessions to its operators. */
export const Distributions = { roundRobin: "roundRobin", all: "all", leastBusy: "leastBusy" } as const;
export type Distribution = (typeof Distributions)[keyof typeof Distributions];

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, "HH:MM");

/** Weekly working hours in one time zone; day 1 = Monday … 7 = Sunday; `to` may be 24:00. */
export const WorkingHours = z.object({
  timezone: z.string().min(1).max(64),
  intervals: z.array(z.object({ day: z.number().int().min(1).max(7), from: hhmm, to: hhmm })).max(100),
});
export type WorkingHours = z.infer<typeof WorkingHours>;

/**
 * What a waiting customer is told (issue 5, item 7). Placeholders: {place}, {wait} ("about 4
 * minutes"), {minutes}. The estimate is the median first-answer time of the line's last
 * `sampleSize` answered sessions × place, or `defaultAnswerMs` × place while there is no history.
 */
export const QueueNotice = z.object({
  enabled: z.boolean().default(true),
  template: z.string().max(2000).default("You are number {place} in the queue. Estimated wait: {wait}."),
  /** After this long in the queue the customer is told again; 0 = never. */
  longWaitMs: z
    .number()
    .int()
    .nonnegative()
    .default(10 * 60_000),
  longWaitTemplate: z
    .string()
    .max(2000)
    .default(
      "Sorry for the wait. You are number {place} in the queue; an operator will answer as soon as possible.",
    ),
  sampleSize: z.number().int().min(1).max(1000).default(20),
  defaultAnswerMs: z
    .number()
    .int()
    .positive()
    .default(2 * 60_000),
});
export type QueueNotice = z.infer<typeof QueueNotice>;

/** The settings an admin edits; every field has a default. */
export const LineSettings = z.object({
  name: z.string().min(1).max(255),
  distribution: z.enum(["roundRobin", "all", "leastBusy"]).default("roundRobin"),
  /** Simultaneous sessions per operator on this line; null = only the operator's own cap. */
  maxChatsPerOperator: z.number().int().positive().nullable().default(null),
  /** How long an offered operator has to take or answer before the session passes on. */
  noAnswerTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(2 * 60_000),
  /** An active session closes after this long without a message; 0 = never. */
  inactivityTimeoutMs: z
    .number()
    .int()
    .nonnegative()
    .default(24 * 3600_000),
  workingHours: WorkingHours.nullable().default(null),
  outOfHoursText: z.string().max(4000).nullable().default(null),
  welcomeText: z.string().max(4000).nullable().default(null),
  ratingEnabled: z.boolean().default(true),
  ratingWindowMs: z
    .number()
    .int()
    .positive()
    .default(24 * 3600_000),
  ratingText: z
    .string()
    .max(2000)
    .nullable()
    .default("Please rate this conversation: reply with a number from 1 (bad) to 5 (excellent)."),
  queueNotice: QueueNotice.default(QueueNotice.parse({})),
});
export type LineSettings = z.infer<typeof LineSettings>;
export const LineSettingsPatch = LineSettings.partial();

export interface Line extends LineSettings {
  id: string;
  operatorIds: string[];
  createdAt: number;
  updatedAt: number;
}

export function toLine(row: LineTable, operatorIds: string[]): Line {
  return {
    id: row.id,
    name: row.name,
    distribution: row.distribution as Distribution,
    maxChatsPerOperator: row.max_chats_per_operator === null ? null : Number(row.max_chats_per_operator),
    noAnswerTimeoutMs: Number(row.no_answer_timeout_ms),
    inactivityTimeoutMs: Number(row.inactivity_timeout_ms),
    workingHours: row.working_hours ? WorkingHours.parse(JSON.parse(row.working_hours)) : null,
    outOfHoursText: row.out_of_hours_text,
    welcomeText: row.welcome_text,
    ratingEnabled: Number(row.rating_enabled) === 1,
    ratingWindowMs: Number(row.rating_window_ms),
    ratingText: row.rating_text,
    queueNotice: QueueNotice.parse(JSON.parse(row.queue_notice)),
    operatorIds,
    createdAt: Number(row.created_ms),
    updatedAt: Number(row.updated_ms),
  };
}

export function toLineRow(s: Partial<LineSettings>): Partial<LineTable> {
  const row: Partial<LineTable> = {};
  if (s.name !== undefined) row.name = s.name;
  if (s.distribution !== undefined) row.distribution = s.distribution;
  if (s.maxChatsPerOperator !== undefined) row.max_chats_per_operator = s.maxChatsPerOperator;
  if (s.noAnswerTimeoutMs !== undefined) row.no_answer_timeout_ms = s.noAnswerTimeoutMs;
  if (s.inactivityTimeoutMs !== undefined) row.inactivity_timeout_ms = s.inactivityTimeoutMs;
  if (s.workingHours !== undefined)
    row.working_hours = s.workingHours ? JSON.stringify(s.workingHours) : null;
  if (s.outOfHoursText !== undefined) row.out_of_hours_text = s.outOfHoursText;
  if (s.welcomeText !== undefined) row.welcome_text = s.welcomeText;
  if (s.ratingEnabled !== undefined) row.rating_enabled = s.ratingEnabled ? 1 : 0;
  if (s.ratingWindowMs !== undefined) row.rating_window_ms = s.ratingWindowMs;
  if (s.ratingText !== undefined) row.rating_text = s.ratingText;
  if (s.queueNotice !== undefined) row.queue_notice = JSON.stringify(s.queueNotice);
  return row;
}
