/**
 * The service the audit plugin provides as "audit". Every method that persists throws an
 * IoError (exit 74) when the record could not be made durable: callers fail closed on it.
 */
import type { AuditAction, AuditInput, SnapshotRef } from "../../src/kernel/index.ts";

// The record the gate writes is declared by the kernel (it must not depend on a plugin); the
// audit plugin stores exactly that, chained.
export type { AuditAction, AuditInput, SnapshotRef };

export interface AuditRecord extends AuditInput {
  seq: number;
  ts: string;
  prevHash: string;
  hash: string;
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
