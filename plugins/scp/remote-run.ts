/**
 * One transfer as one remote action: resolve the server, then policy → approval → audit intent →
 * connect + SFTP + the transfer body → audit result, with a CLI exit code that tells a refused
 * action (77), a failed snapshot (74), a failed transfer (1) and an interrupt (130) apart.
 */
import { EXIT, isOpstermError, OpstermError, type CommandContext, type RemoteAction, type RemoteActionKind, type RemoteActionResult, type Verdict } from "../../src/kernel/index.ts";
import { exitCodeFor, runRemoteAction } from "../../src/lib/remote-action.ts";
import type { Connection, ResolvedServer } from "../ssh/types.ts";
import { openConnection, resolveServer } from "./connection.ts";
import { openSftp, SftpError, type Sftp } from "./sftp.ts";

export interface Session {
  ctx: CommandContext;
  server: ResolvedServer;
  conn: Connection;
  sftp: Sftp;
  signal: AbortSignal;
  /** The audit record's args; fields added during the transfer reach the result record. */
  auditArgs: Record<string, unknown>;
}

export interface RunSpec {
  kind: Extract<RemoteActionKind, "write" | "read">;
  server: string;
  via?: string[];
  /** What the approval prompt and the audit log show, e.g. `write file (12 KiB from stdin)`. */
  command: string;
  path: string;
  origin?: RemoteAction["origin"];
  preApproved?: boolean;
  approve?: (action: RemoteAction, verdict: Verdict) => Promise<string | false>;
  signal?: AbortSignal;
  auditArgs?: Record<string, unknown>;
}

export interface Failure {
  code: string;
  message: string;
  hint?: string;
  exitCode: number;
}

export interface RunOutcome {
  action: RemoteActionResult;
  server: string;
  failure?: Failure;
  exitCode: number;
}

/** Thrown by a transfer body when a snapshot before or after the write could not be committed (exit 74). */
export class SnapshotFailure extends OpstermError {
  constructor(code: "E_SNAPSHOT_BEFORE" | "E_SNAPSHOT_AFTER", message: string, cause?: unknown) {
    super(code, message, { cause, exitCode: EXIT.IO, hint: "Check the audit snapshot store (opsterm audit verify); remote writes need their snapshots" });
  }
}

export async function runTransfer(ctx: CommandContext, spec: RunSpec, body: (session: Session) => Promise<void>): Promise<RunOutcome> {
  const server = await resolveServer(ctx, spec.server, spec.via);
  const action: RemoteAction = {
    kind: spec.kind,
    server: server.id,
    tier: server.tier,
    command: spec.command,
    path: spec.path,
    origin: spec.origin ?? "user",
    runId: ctx.runId,
  };
  const auditArgs: Record<string, unknown> = { ...spec.auditArgs, ...(spec.via ? { via: spec.via } : {}) };
  let failure: Failure | undefined;
  const signal = spec.signal ?? ctx.signal;
  const result = await runRemoteAction(
    ctx,
    action,
    async (actionSignal) => {
      let conn: Connection | undefined;
      try {
        conn = await openConnection(ctx, server, actionSignal);
        const sftp = await openSftp(conn.client);
        await body({ ctx, server, conn, sftp, signal: actionSignal, auditArgs });
        return { exitCode: 0, completed: true };
      } catch (error) {
        failure = toFailure(error, actionSignal);
        // A snapshot that failed after the write: the transfer itself completed.
        const wrote = failure.code === "E_SNAPSHOT_AFTER";
        return { exitCode: wrote ? 1 : null, completed: wrote, error: { code: failure.code, message: failure.message } };
      } finally {
        conn?.close();
      }
    },
    { preApproved: spec.preApproved, approve: spec.approve, auditArgs, signal },
  );
  let exitCode = failure ? failure.exitCode : exitCodeFor(result);
  // An audit result that could not be written outranks a transfer that otherwise went well.
  if (exitCode === EXIT.OK && result.auditStatus !== "written") exitCode = EXIT.IO;
  if (!failure && result.error) failure = { code: result.error.code, message: result.error.message, exitCode, hint: hintFor(result.error.code) };
  return { action: result, server: server.id, failure, exitCode };
}

function hintFor(code: string): string | undefined {
  if (code === "E_APPROVAL_DENIED") return "Run it from a terminal to approve it, or pass --yes to approve it in advance";
  if (code === "E_POLICY_REJECT") return "The policy refuses this even with --yes; see your policy rules";
  if (code.startsWith("E_AUDIT")) return "Check that the audit directory is writable; nothing runs without its audit record";
  return undefined;
}

function toFailure(error: unknown, signal: AbortSignal): Failure {
  if (signal.aborted) return { code: "E_INTERRUPTED", message: "Interrupted; the target was not replaced unless the final rename had already been sent", exitCode: EXIT.INTERRUPTED };
  if (isOpstermError(error)) return { code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode };
  if (error instanceof SftpError) return { code: "E_SCP_SFTP", message: error.message, exitCode: EXIT.FAILURE };
  const message = error instanceof Error ? error.message : String(error);
  return { code: "E_SCP_FAILED", message, exitCode: EXIT.FAILURE };
}
