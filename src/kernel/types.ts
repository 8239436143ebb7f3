/**
 * Contract types shared by the kernel and plugins. They describe data that crosses the hook bus;
 * no behaviour lives here.
 */

/** The three outcomes of the policy gate, most permissive first. */
export type Decision = "auto-allow" | "approval-required" | "reject";

/** Decisions ordered by restrictiveness, used to merge verdicts from several plugins. */
export const DECISION_RANK: Record<Decision, number> = {
  "auto-allow": 0,
  "approval-required": 1,
  reject: 2,
};

/** What a plugin says about a remote action. */
export interface Verdict {
  decision: Decision;
  /** Stable id of the rule that decided, e.g. `hard.rm-root` or `user.deny[2]`. */
  rule: string;
  /** One line a person can act on. */
  reason: string;
  /** The part of the command line the rule applied to. */
  segment?: string;
  /** Plugin that returned it (filled in by the hook bus). */
  by?: string;
}

export type RemoteActionKind = "exec" | "write" | "read" | "transfer" | "session";

/** A request to touch a server, as it reaches the policy gate and the audit log. */
export interface RemoteAction {
  kind: RemoteActionKind;
  /** Inventory id of the target server. */
  server: string;
  /** Policy tier of the server (e.g. `prod`), when known. */
  tier?: string;
  /** Shell command line for `exec`; a description for other kinds. */
  command: string;
  /** Remote path for `write`, `read` and `transfer`. */
  path?: string;
  /** Who proposed it: a person at the CLI, a model, a workflow or a plugin. */
  origin: "user" | "ai" | "workflow" | "plugin";
  /** Correlates every record of one CLI invocation. */
  runId: string;
  /** A person at a terminal drives it (a session whose stdin is a TTY, not a pipe or a program). */
  interactive?: boolean;
}

/** The structured result of one remote action (DESIGN.md §5). */
export interface RemoteActionResult {
  action: RemoteAction;
  verdict?: Verdict;
  attempted: boolean;
  completed: boolean;
  exitCode: number | null;
  stdout?: string;
  stderr?: string;
  truncated?: { stdout: boolean; stderr: boolean };
  durationMs: number;
  approver?: string;
  auditStatus: "written" | "failed" | "partial";
  error?: { code: string; message: string };
}

export interface CommandEvent {
  command: string;
  args: Record<string, unknown>;
  runId: string;
}

export interface CommandOutcome extends CommandEvent {
  exitCode: number;
  durationMs: number;
  error?: { code: string; message: string };
}

export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
}

export interface ChatRequestEvent {
  provider: string;
  model: string;
  messages: ChatMessage[];
  /** How many values the redactor replaced so far (plugins add to it). */
  redactions: number;
}

export interface ChatResponseEvent {
  provider: string;
  model: string;
  content: string;
  finishReason: string | null;
  durationMs: number;
  usage?: { promptTokens?: number; completionTokens?: number };
}

/** One row for the history store. */
export interface HistoryEvent {
  mode: string;
  [field: string]: unknown;
}

export type DoctorStatus = "ok" | "warn" | "fail";

/**
 * What a plugin tells `opsterm doctor`: a check (`fail` makes doctor exit non-zero, so use it
 * only for what a command of this plugin cannot work without) or a state file it uses.
 */
export type DoctorFinding =
  | { kind: "check"; name: string; status: DoctorStatus; detail: string; hint?: string }
  | { kind: "file"; path: string; description: string };
