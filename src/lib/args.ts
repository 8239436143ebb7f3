/**
 * Option parsers shared by every command, defined once so `--limit`, durations, `--since`,
 * seconds and `--via` mean the same everywhere and fail with the same one-line usage error.
 */
import { UsageError, type ErrorCode } from "../kernel/errors.ts";

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** `--limit 50` → 50; anything but a positive whole number is a usage error naming the flag. */
export function parseLimit(value: unknown, flag = "--limit", code: ErrorCode = "E_USAGE"): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive whole number, got "${value}"`, { code, hint: `e.g. ${flag} 50` });
  return n;
}

/** `--timeout 2.5` → 2500 ms: a positive number of seconds. */
export function parseSeconds(value: unknown, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} expects a positive number of seconds, got "${value}"`);
  return n * 1000;
}

/**
 * Milliseconds in a duration such as `90d`, `12h`, `30m`, `2w` (units s, m, h, d, w, y). A bare
 * number takes `defaultUnit` when one is given, else it is an error.
 */
export function parseDuration(text: string, options: { flag?: string; defaultUnit?: string; code?: ErrorCode } = {}): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdwy]?)\s*$/i.exec(text);
  const unit = (m?.[2] || options.defaultUnit || "").toLowerCase();
  if (!m || !UNIT_MS[unit]) {
    throw new UsageError(`${options.flag ? `${options.flag} ` : ""}"${text}" is not a duration`, { code: options.code ?? "E_USAGE", hint: "Write a number and a unit: 90d, 12h, 30m, 2w (s, m, h, d, w, y)" });
  }
  return Math.round(Number(m[1]) * UNIT_MS[unit]);
}

/** `--since 2h` (a duration ago) or `--since 2025-01-31T12:00:00Z` (an ISO date that exists). */
export function parseSince(text: string, now: Date, code: ErrorCode = "E_USAGE"): Date {
  if (/^\s*\d+(?:\.\d+)?\s*[smhdwy]\s*$/i.test(text)) return new Date(now.getTime() - parseDuration(text));
  const ymd = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (ymd) {
    const t = Date.parse(text);
    // Date.parse rolls 2025-02-30 over to March 2: a calendar day that does not exist is an error.
    const day = new Date(Date.UTC(Number(ymd[1]), Number(ymd[2]) - 1, Number(ymd[3])));
    const real = day.getUTCFullYear() === Number(ymd[1]) && day.getUTCMonth() === Number(ymd[2]) - 1 && day.getUTCDate() === Number(ymd[3]);
    if (!Number.isNaN(t) && real) return new Date(t);
  }
  throw new UsageError(`--since "${text}" is neither a duration nor an ISO date`, { code, hint: "Use e.g. --since 2h, --since 7d or --since 2025-01-31T12:00:00Z" });
}

/** `--via a,b` → ["a", "b"], refusing ids that could be read as options or hold spaces. */
export function parseVia(value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === false || value === "") return undefined;
  const ids = String(value).split(",").map((s) => s.trim()).filter(Boolean);
  for (const id of ids) {
    if (id.startsWith("-") || /[\0-\x20\x7f]/.test(id)) throw new UsageError(`--via holds an invalid hop ${JSON.stringify(id)}`, { code: "E_VIA", hint: "Give inventory ids separated by commas: --via bastion,inner" });
  }
  return ids;
}
