import { OpenlinesError } from "@openlines/protocol";
import type { z } from "zod";

/** Parses a request body (or query) with a zod schema; a mismatch is VALIDATION_FAILED with the issues. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body ?? {});
  if (!r.success)
    throw new OpenlinesError("VALIDATION_FAILED", undefined, {
      details: r.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
    });
  return r.data;
}
