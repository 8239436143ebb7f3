/**
 * The record format of audit.jsonl: one canonical JSON object per line, fields in a fixed order,
 * `hash = sha256(prevHash + canonical record without hash)`. A line is valid only if it is
 * byte-identical to the canonical serialization of what it parses to, so no edit can hide in
 * whitespace, escapes, key order or invalid UTF-8.
 */
import { createHash } from "node:crypto";
import type { AuditRecord } from "./types.ts";

/** prevHash of the first record. */
export const GENESIS = "0".repeat(64);

/** Every field a line may carry, in the order it is written. `hash` is always last. */
export const FIELDS = [
  "seq",
  "ts",
  "runId",
  "actor",
  "server",
  "action",
  "args",
  "decision",
  "rule",
  "approver",
  "phase",
  "exitCode",
  "durationMs",
  "snapshot",
  "prevHash",
] as const;

/** JSON with object keys sorted at every level (arrays keep their order). */
function sortedJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : sortedJson(v))).join(",")}]`;
  const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${sortedJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
}

/** The record without its hash, as the exact text that is hashed. Undefined fields are left out. */
export function canonical(record: Omit<AuditRecord, "hash"> | Record<string, unknown>): string {
  const r = record as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of FIELDS) {
    if (r[key] === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${sortedJson(r[key])}`);
  }
  return `{${parts.join(",")}}`;
}

export function hashOf(prevHash: string, canonicalText: string): string {
  return createHash("sha256").update(prevHash).update(canonicalText).digest("hex");
}

/** The full line (without newline): the canonical record with `hash` appended. */
export function lineOf(canonicalText: string, hash: string): string {
  return `${canonicalText.slice(0, -1)}${canonicalText.length > 2 ? "," : ""}"hash":"${hash}"}`;
}

export type LineCheck = { ok: true; record: AuditRecord } | { ok: false; problem: string; record?: Partial<AuditRecord> };

/**
 * Checks one line (without its newline) against the record that must precede it.
 * Returns the parsed record when the line is canonical, chained and correctly hashed.
 */
export function checkLine(bytes: Uint8Array, expectedSeq: number, prevHash: string): LineCheck {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, problem: "is not valid JSON" };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { ok: false, problem: "is not a JSON object" };
  const rec = parsed as Record<string, unknown>;
  const claimed = rec as Partial<AuditRecord>;
  if (typeof rec.hash !== "string" || !/^[0-9a-f]{64}$/.test(rec.hash)) return { ok: false, problem: "has no valid hash", record: claimed };
  const canon = canonical(rec);
  const rebuilt = Buffer.from(lineOf(canon, rec.hash), "utf8");
  if (!rebuilt.equals(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) {
    return { ok: false, problem: "is not in canonical form (edited by hand, unknown field or invalid UTF-8)", record: claimed };
  }
  if (rec.seq !== expectedSeq) {
    return { ok: false, problem: `has seq ${JSON.stringify(rec.seq)} where ${expectedSeq} belongs (records deleted, inserted or reordered)`, record: claimed };
  }
  if (rec.prevHash !== prevHash) return { ok: false, problem: "does not link to the record before it (prevHash differs)", record: claimed };
  if (hashOf(prevHash, canon) !== rec.hash) return { ok: false, problem: "has a hash that does not match its content", record: claimed };
  return { ok: true, record: rec as unknown as AuditRecord };
}

/** Splits a buffer into lines at "\n"; `terminated` is false for a final line with no newline. */
export function* splitLines(buf: Uint8Array, base = 0): Generator<{ start: number; end: number; terminated: boolean }> {
  let start = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(0x0a, start);
    if (nl === -1) {
      yield { start: base + start, end: base + buf.length, terminated: false };
      return;
    }
    yield { start: base + start, end: base + nl, terminated: true };
    start = nl + 1;
  }
}
