/**
 * Ages like `90d`, `12h`, `2w`: for `history prune --older-than`.
 */
import { parseDuration } from "../../src/lib/args.ts";

/** Milliseconds in an age such as `90d` (units s, m, h, d, w, y; a bare number is days). */
export function parseAge(text: string): number {
  return parseDuration(text, { defaultUnit: "d", code: "E_HISTORY_AGE" });
}
