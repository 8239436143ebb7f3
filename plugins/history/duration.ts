/**
 * Ages like `90d`, `12h`, `2w`: for `history prune --older-than`.
 */
import { UsageError } from "../../src/kernel/index.ts";

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** Milliseconds in an age such as `90d` (units s, m, h, d, w, y; a bare number is days). */
export function parseAge(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdwy]?)\s*$/i.exec(text);
  if (!m) {
    throw new UsageError(`"${text}" is not an age`, { code: "E_HISTORY_AGE", hint: 'Write a number and a unit: 90d, 12h, 2w (s, m, h, d, w, y)' });
  }
  return Math.round(Number(m[1]) * UNIT_MS[(m[2] || "d").toLowerCase()]);
}
