/**
 * The service the history plugin provides as "history", and the shape of what it stores.
 *
 * Events reach history through the `history` hook or `record()`. Recognised fields (all optional
 * except `mode`); anything else is kept as extra data and shown by `history show`:
 * - questions and answers: `question`, `answer` (or `content`), `provider`, `model`,
 *   `promptTokens`, `completionTokens` (or `usage: {promptTokens, completionTokens}`),
 *   `durationMs`, `finishReason`, `conversation` (an id you choose; groups messages).
 * - executions (any event with a `command`): `server`, `command`, `path`, `exitCode`,
 *   `durationMs`, `decision`, `rule`, `approver`, `origin`, `runId`.
 */
import type { HistoryEvent } from "../../src/kernel/index.ts";

export type EntryKind = "message" | "execution" | "event";

/** One row of `history` output. */
export interface HistoryEntry {
  id: number;
  /** Stable event id, assigned when the event was recorded. */
  uid: string;
  /** ISO time the event was recorded. */
  at: string;
  mode: string;
  kind: EntryKind;
  server?: string;
  conversation?: string;
  /** Question, command or description. */
  input: string;
  /** Answer or output. */
  output?: string;
  durationMs?: number;
  exitCode?: number | null;
  decision?: string;
  rule?: string;
  approver?: string;
  origin?: string;
  runId?: string;
  path?: string;
  provider?: string;
  model?: string;
  promptTokens?: number;
  completionTokens?: number;
  finishReason?: string;
  extra?: Record<string, unknown>;
}

export interface SearchOptions {
  /** Full-text query (words are ANDed; `word*` matches a prefix). */
  query?: string;
  limit?: number;
  mode?: string;
  server?: string;
}

export interface ConversationMessages {
  conversation: string;
  messages: { role: "user" | "assistant"; content: string }[];
}

export interface HistoryService {
  /** Redacts and appends one event to the journal (no database load). Returns the event id. */
  record(event: HistoryEvent): Promise<string>;
  search(options?: SearchOptions): Promise<HistoryEntry[]>;
  /** By numeric id (as listed) or event id. */
  get(id: number | string): Promise<HistoryEntry | undefined>;
  /** The most recent conversation, for `ask --continue`. */
  lastConversation(): Promise<ConversationMessages | undefined>;
  /**
   * Adds events recorded elsewhere (migrate: the original OpsTerm's history.db) with their own
   * ids and times, redacted, straight into history.db. An id already stored (or deleted with
   * `history rm`) is skipped, so importing twice adds nothing. Returns how many were added.
   */
  importEvents(records: { id: string; ts: number; event: HistoryEvent }[]): Promise<{ added: number }>;
}

declare module "../../src/kernel/context.ts" {
  interface OpstermServices {
    history: HistoryService;
  }
}
