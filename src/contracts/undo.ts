/**
 * The service the audit plugin provides as "audit.undo": put remote files back as they were
 * before writes made through opsterm (`put`, `scp`, the remote_write_file / remote_patch_file
 * tools, workflow steps), from the audit log's records and the snapshot store. Every undo is
 * itself a write through the caller's gate: classified, approved, audited and snapshotted, so an
 * undo can be undone. What an `exec` command changed is never undoable (there is no snapshot).
 * Type-only: `opsterm undo` and the agent's `/undo` share it.
 */
import type { Actions, Approver, Origin } from "../kernel/index.ts";

/** Which writes to undo: one audit record, every write of a run or conversation, or the last write (of a run). */
export type UndoTarget = { seq: number } | { run: string } | { last: true; run?: string };

export interface UndoOptions {
  /** The caller's gate: its terminal (approval prompts), run id and signal. */
  actions: Pick<Actions, "run" | "preview">;
  /** Check and show what would be restored; write nothing. */
  dryRun?: boolean;
  /** Approve the undo's writes in advance (`--yes`, or the approver id to record). */
  preApproved?: boolean | string;
  /** Replaces the gate's terminal approver (the agent's prompt, the MCP queue). */
  approver?: Approver;
  origin?: Origin;
  /** Who undoes, as audit and history record it; default `<user> (<origin>)`. */
  actor?: string;
  /** Links the undo's actions to a conversation. */
  conversation?: string;
  signal?: AbortSignal;
}

/** One remote file the undo puts back. */
export interface UndoFile {
  server: string;
  /** The remote path that was written (a symlink's target when the write went through a link). */
  path: string;
  /** `restore`: write the before-state back; `remove`: the file did not exist before, so it is removed. */
  op: "restore" | "remove";
  /** Audit seqs of the result records of the writes undone, oldest first. */
  writes: number[];
  /** The restored state's mode (octal) and owner, when the write recorded them. */
  mode?: string;
  uid?: number;
  gid?: number;
  /** `conflict`: the file no longer holds what opsterm wrote; `not-run`: stopped before this file. */
  status: "undone" | "would-undo" | "conflict" | "failed" | "not-run";
  /** Audit seq of the undo's own write (its intent record). */
  auditSeq?: number;
  /** Unified diff from the current content to what the undo writes (redacted). */
  diff?: string;
  /** A conflict's three states: the diffs before → after-as-written and after-as-written → current (redacted). */
  conflict?: { expectedSha256: string | null; currentSha256: string | null; written: string; since: string };
  error?: { code: string; message: string; hint?: string };
}

export interface UndoReport {
  ok: boolean;
  dryRun: boolean;
  /** What `opsterm undo` exits with: 0, 75 (changed since), 77 (not approved), 74 (audit) … */
  exitCode: number;
  /** The run id when a run or conversation was undone. */
  run?: string;
  files: UndoFile[];
  /** What was left alone and why (commands a run ran cannot be undone). */
  notes: string[];
  error?: { code: string; message: string; hint?: string };
}

export interface UndoService {
  /**
   * Undoes the writes `target` names. Throws an OpstermError when it names nothing that can be
   * undone (no such record 2, an exec record 65, a write whose content was not kept 65); a file
   * that changed since (75), a refusal (77) or a failed write are in the report.
   */
  undo(target: UndoTarget, options: UndoOptions): Promise<UndoReport>;
}

declare module "../kernel/context.ts" {
  interface OpstermServices {
    "audit.undo": UndoService;
  }
}
