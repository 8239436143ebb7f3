/**
 * Contract types shared by the kernel and plugins. They describe data that crosses the hook bus;
 * no behaviour lives here.
 */

import type { ErrorCode } from "./error-codes.ts";

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

/**
 * What the gate can do, one executor per kind (DESIGN.md §5): `exec` and `session` on a server
 * (ssh), `read`/`write`/`list`/`stat`/`find` of remote files (scp), `local` on this machine.
 */
export type ActionKind = "exec" | "session" | "local" | "read" | "write" | "list" | "stat" | "find";

/** Who proposed an action: a person at the CLI, a model, a workflow, an MCP client or a plugin. */
export type Origin = "user" | "ai" | "workflow" | "mcp" | "plugin";

/** What a caller hands `ctx.actions.run()` / `preview()`. */
export interface ActionRequest {
  kind: ActionKind;
  /** Inventory id of the server (`local` for kind `local`). */
  target: string;
  /** The command line for `exec`, `session` and `local`, as policy and audit see it (secret references unresolved). */
  command?: string;
  /** Directory the command runs in (`exec`, `local`); classified and audited with the command. */
  cwd?: string;
  /** Remote path for the file kinds. */
  path?: string;
  /** A tree, not one file (`scp -r`, a recursive listing or download). */
  recursive?: boolean;
  /** Kind-specific input for the executor (content to write, mode, pattern, limits). Never written to the audit log as such. */
  params?: Record<string, unknown>;
  /** One line for the approval prompt and the audit log when there is no command, e.g. `write file (12 KiB)`. */
  summary?: string;
  /** Shown at the approval prompt under the summary (e.g. the unified diff of a write). */
  display?: string;
  origin?: Origin;
  /** Who acts, as audit and history record it (`ai:openai/gpt-4o`, `mcp:claude-code`); default `<user> (<origin>)`. */
  actor?: string;
  /** Conversation or workflow run this action belongs to (links audit, history and the conversation). */
  conversation?: string;
  /** Correlates every record of one invocation; default: the invocation's run id. */
  runId?: string;
  /** Jump hosts (inventory ids) replacing the inventory's chain. */
  via?: string[];
  /** A person at a terminal drives it (a session whose stdin is a TTY). */
  interactive?: boolean;
}

/** Where an action goes, as resolved by its executor (the inventory entry, or this machine). */
export interface ActionTarget {
  id: string;
  tier?: string;
  host?: string;
  port?: number;
  user?: string;
  /** Which inventory file the entry came from. */
  scope?: "global" | "workspace" | "local";
  /** file:line:col of the entry. */
  at?: string;
  /** Set when a workspace entry hides a global one with the same id. */
  shadows?: { scope: "global"; at: string; host?: string; port?: number };
  /** Jump chain, first hop first (inventory ids). */
  via?: string[];
}

/** A request after validation and target resolution: what the policy, approvers and audit see. */
export interface Action {
  kind: ActionKind;
  /** Inventory id of the target (`local` for kind `local`). */
  server: string;
  /** Policy tier of the server (e.g. `prod`), when known. */
  tier?: string;
  /** Command line for `exec`/`session`/`local`; the summary for the file kinds. */
  command: string;
  cwd?: string;
  path?: string;
  recursive?: boolean;
  origin: Origin;
  actor: string;
  runId: string;
  conversation?: string;
  interactive?: boolean;
  target: ActionTarget;
}

/** A git snapshot of a remote file's state (see the audit plugin). */
export interface SnapshotRef {
  /** Commit id in the snapshot repo. */
  commit: string;
  /** Path of the file inside the snapshot repo. */
  path: string;
}

/**
 * What a file was like at a snapshot, beside its content: enough to put it back as it was (undo
 * restores content, mode and owner) and to know it is still the same file (the sha256).
 */
export interface FileState {
  exists: boolean;
  /** Permission bits (e.g. 0o640). */
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  /** Of the content; left out for secret content (a hash of a short password is as good as it). */
  sha256?: string;
  /** The snapshot holds the whole content (false: a size/sha256 stub, too large or secret). */
  stored?: boolean;
}

/** One file written by an action: its snapshots before and after the write. */
export interface FileSnapshots {
  /** The remote path. */
  remote: string;
  before?: SnapshotRef;
  after?: SnapshotRef;
  beforeState?: FileState;
  afterState?: FileState;
}

/** The structured result of one action (DESIGN.md §5). */
export interface ActionResult {
  action: Action;
  verdict?: Verdict;
  /** The executor was called (the audit intent was written first). */
  attempted: boolean;
  /** It ran to the end with a known exit status. */
  completed: boolean;
  exitCode: number | null;
  stdout?: string;
  stderr?: string;
  /** Output beyond the capture limit was streamed but not kept. */
  truncated?: { stdout: boolean; stderr: boolean };
  durationMs: number;
  approver?: string;
  /** Sequence number of the audit intent record. */
  auditSeq?: number;
  auditStatus: "written" | "failed" | "partial";
  /** Files written, with their snapshot refs. */
  snapshots: FileSnapshots[];
  /** What the executor reports about the work (bytes, sha256, mode, files …); also in the audit result record. */
  details: Record<string, unknown>;
  /** Executor output for the caller only (file content, listings); never audited. */
  data?: unknown;
  error?: { code: ErrorCode; message: string; hint?: string; exitCode?: number };
}

/** A file write about to happen or just done, for the snapshot hooks. */
export interface FileWriteEvent {
  action: Action;
  /** Remote path (a symlink's target when the path was a link). */
  path: string;
  /** The file's content; null when it does not exist (before) or was removed (after). */
  content: Uint8Array | null;
  message: string;
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
  /** An assistant turn that calls tools (OpenAI's shape: arguments are a JSON string). */
  tool_calls?: ChatToolCall[];
  /** A tool turn: the call it answers. */
  tool_call_id?: string;
  /** A tool turn: the tool's name (some servers want it). */
  name?: string;
}

/** One tool call as the chat-completions protocol carries it. */
export interface ChatToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
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
