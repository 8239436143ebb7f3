/**
 * The service the audit plugin provides as "audit". Every method that persists throws an
 * IoError (exit 74) when the record could not be made durable: callers fail closed on it.
 */
import type { Decision } from "../../src/kernel/index.ts";

export type AuditAction = "exec" | "write" | "read" | "transfer" | "session-start" | "session-end" | "approval";

export interface AuditInput {
  runId: string;
  /** Who acted: OS user, plus origin (`alice (ai)`). */
  actor: string;
  server: string;
  action: AuditAction;
  /** Command line, path, etc. Redacted by the audit plugin before it is written. */
  args: Record<string, unknown>;
  decision?: Decision;
  rule?: string;
  /** `tty:alice`, `flag:--yes`, or undefined. */
  approver?: string;
  phase: "intent" | "result" | "event";
  exitCode?: number | null;
  durationMs?: number;
  /**
   * File writes: the snapshot commits of `server:path` before and after the write (from
   * `snapshot()`), so `opsterm audit show <seq>` can print the diff. Not redacted.
   */
  snapshot?: { path: string; before?: string; after?: string };
}

export interface AuditRecord extends AuditInput {
  seq: number;
  ts: string;
  prevHash: string;
  hash: string;
}

export interface SnapshotRef {
  /** Commit id in the snapshot repo. */
  commit: string;
  /** Path of the file inside the snapshot repo. */
  path: string;
}

export interface AuditService {
  /** Appends one record (lock, append, fsync, head anchor). Throws IoError if it is not durable. */
  append(input: AuditInput): Promise<AuditRecord>;
  /** Commits `content` (null = file absent) as the state of `server:path`. Throws IoError on failure. */
  snapshot(server: string, path: string, content: Uint8Array | null, message: string): Promise<SnapshotRef>;
}

declare module "../../src/kernel/context.ts" {
  interface OpstermServices {
    audit: AuditService;
  }
}
