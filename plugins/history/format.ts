/**
 * Human output for history entries. Stored text can hold terminal escapes (command output,
 * model answers); they are shown, not obeyed.
 */
import type { Style } from "../../src/lib/style.ts";
import type { HistoryEntry } from "./types.ts";

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f\x9b]/g;

export function safe(text: string): string {
  return text.replace(CONTROL, (c) => (c === "\x1b" ? "␛" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`));
}

function oneLine(text: string, width: number): string {
  const flat = safe(text.replace(/\s+/g, " ").trim());
  return flat.length > width ? flat.slice(0, width - 1) + "…" : flat;
}

function when(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function formatList(entries: HistoryEntry[], s: Style): string[] {
  const idWidth = Math.max(2, ...entries.map((e) => String(e.id).length));
  return entries.map((e) => {
    const status = e.kind === "execution" ? (e.exitCode === 0 ? s.green(" ✓") : e.exitCode === null || e.exitCode === undefined ? s.yellow(" ?") : s.red(` exit ${e.exitCode}`)) : "";
    const where = e.server ? s.cyan(safe(e.server)) + " " : "";
    return `${String(e.id).padStart(idWidth)}  ${s.dim(when(e.at))}  ${e.mode.padEnd(5)} ${where}${oneLine(e.input || e.output || "", 90)}${status}`;
  });
}

export function formatEntry(e: HistoryEntry, s: Style): string[] {
  const rows: [string, unknown][] = [
    ["id", `${e.id} (${e.uid})`],
    ["at", e.at],
    ["mode", e.mode],
    ["server", e.server],
    ["conversation", e.conversation],
    ["provider", e.provider],
    ["model", e.model],
    ["tokens", e.promptTokens !== undefined || e.completionTokens !== undefined ? `${e.promptTokens ?? "?"} in, ${e.completionTokens ?? "?"} out` : undefined],
    ["finish", e.finishReason],
    ["path", e.path],
    ["exit code", e.kind === "execution" ? (e.exitCode ?? "none") : undefined],
    ["decision", e.decision ? `${e.decision}${e.rule ? ` (${e.rule})` : ""}` : undefined],
    ["approver", e.approver],
    ["origin", e.origin],
    ["duration", e.durationMs !== undefined ? `${e.durationMs} ms` : undefined],
    ["run", e.runId],
  ];
  const lines = rows.filter(([, v]) => v !== undefined && v !== "").map(([k, v]) => `${s.dim(k.padEnd(13))}${safe(String(v))}`);
  for (const [k, v] of Object.entries(e.extra ?? {})) lines.push(`${s.dim(k.padEnd(13))}${safe(typeof v === "string" ? v : JSON.stringify(v))}`);
  const label = e.kind === "execution" ? "command" : e.kind === "message" ? "question" : "text";
  if (e.input) lines.push("", s.bold(label), safe(e.input));
  if (e.output) lines.push("", s.bold(e.kind === "message" ? "answer" : "output"), safe(e.output));
  return lines;
}
