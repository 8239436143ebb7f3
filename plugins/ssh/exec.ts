/**
 * Remote exec on one server as one orchestrated action (policy → approval → audit → connect + run →
 * audit), and fan-out over many with bounded concurrency.
 */
import type { CommandContext, RemoteAction, RemoteActionResult, Verdict } from "../../src/kernel/index.ts";
import { EXIT, isOpstermError } from "../../src/kernel/index.ts";
import { exitCodeFor, runRemoteAction } from "../../src/lib/remote-action.ts";
import { connect, type ConnectOptions } from "./connect.ts";
import type { ResolvedServer } from "./types.ts";

export interface ExecActionOptions {
  connect: ConnectOptions;
  origin?: RemoteAction["origin"];
  preApproved?: boolean;
  approve?: (action: RemoteAction, verdict: Verdict) => Promise<string | false>;
  timeoutMs?: number;
  maxCapture?: number;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

export interface ExecActionResult extends RemoteActionResult {
  /** Remote signal name, when the command was killed by one. */
  signal?: string | null;
  /** The fix for `error`, when known (connect errors carry one). */
  hint?: string;
  /** Exit code of the error that stopped the connection (nothing was sent to the host), if that happened. */
  connectExitCode?: number;
}

/** Runs `command` on `server` through the orchestrator. Never throws for remote failures. */
export async function execAction(ctx: CommandContext, server: ResolvedServer, command: string, options: ExecActionOptions): Promise<ExecActionResult> {
  let hint: string | undefined;
  let signal: string | null = null;
  let connectExitCode: number | undefined;
  const action: RemoteAction = { kind: "exec", server: server.id, tier: server.tier, command, origin: options.origin ?? "user", runId: ctx.runId };
  const result = await runRemoteAction(
    ctx,
    action,
    async (abort) => {
      let conn;
      try {
        conn = await connect(server, { ...options.connect, signal: abort });
      } catch (error) {
        if (isOpstermError(error)) hint = error.hint;
        connectExitCode = isOpstermError(error) ? error.exitCode : EXIT.UNAVAILABLE;
        return { exitCode: null, completed: false, error: { code: isOpstermError(error) ? error.code : "E_SSH_CONNECT", message: (error as Error).message } };
      }
      try {
        const r = await conn.exec(command, { signal: abort, timeoutMs: options.timeoutMs, maxCapture: options.maxCapture, onStdout: options.onStdout, onStderr: options.onStderr });
        signal = r.signal;
        const error = r.error ?? (r.signal ? { code: "E_REMOTE_SIGNAL", message: `the remote command was killed by signal ${r.signal}` } : undefined);
        return { exitCode: r.exitCode, completed: r.exitCode !== null, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated, error };
      } finally {
        conn.close();
      }
    },
    { preApproved: options.preApproved, approve: options.approve, signal: options.signal ?? ctx.signal, auditArgs: server.via.length ? { via: server.via.map((h) => h.id) } : undefined },
  );
  return { ...result, signal, hint, connectExitCode };
}

/**
 * CLI exit code for one host: a connection that never came up is its error's code (69
 * unreachable or login failed, 77 host key refused, 78 bad key file, 130 interrupted: nothing was
 * sent); a command whose status is unknown (connection lost, deadline, signal) is 255 like ssh.
 */
export function exitCodeOf(result: ExecActionResult): number {
  if (result.attempted && result.connectExitCode !== undefined && result.auditStatus !== "partial") return result.connectExitCode;
  const code = result.error?.code ?? "";
  if (code.startsWith("E_HOSTKEY") || code === "E_KNOWN_HOSTS_UNREADABLE") return EXIT.DENIED;
  if (code === "E_INTERRUPTED") return EXIT.INTERRUPTED;
  return exitCodeFor(result);
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Exit code of a fan-out: 0 when all succeeded; 74 if audit failed anywhere; 77 when all were refused; else 1. */
export function fanoutExitCode(codes: number[]): number {
  if (codes.every((c) => c === 0)) return EXIT.OK;
  if (codes.includes(EXIT.IO)) return EXIT.IO;
  if (codes.every((c) => c === EXIT.DENIED)) return EXIT.DENIED;
  if (codes.every((c) => c === EXIT.INTERRUPTED || c === 0)) return EXIT.INTERRUPTED;
  return EXIT.FAILURE;
}
