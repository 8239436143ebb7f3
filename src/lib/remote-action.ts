/**
 * The orchestrator rule (DESIGN.md §5), the one path every remote action takes:
 * validate → classify with policy → approval → audit intent (durable) → execute → audit result →
 * history → structured result.
 *
 * Fail closed by construction: no policy service, no verdict, a throwing policy hook or a
 * malformed verdict all mean "reject"; no audit service or an intent that cannot be written means
 * the action does not run. Hooks from other plugins can only make a verdict stricter.
 */
import { userInfo } from "node:os";
import type { CommandContext } from "../kernel/context.ts";
import { EXIT, isOpstermError } from "../kernel/errors.ts";
import { DECISION_RANK, type RemoteAction, type RemoteActionResult, type Verdict } from "../kernel/types.ts";

/**
 * What the orchestrator hands the `audit` service. Declared here, not imported from the audit
 * plugin, so shared code depends on no feature; tests/lib/remote-action.test.ts checks at compile
 * time that the audit plugin's service accepts it.
 */
export interface AuditInput {
  runId: string;
  actor: string;
  server: string;
  action: "exec" | "write" | "read" | "transfer" | "session-start" | "session-end" | "approval";
  args: Record<string, unknown>;
  decision?: Verdict["decision"];
  rule?: string;
  approver?: string;
  phase: "intent" | "result" | "event";
  exitCode?: number | null;
  durationMs?: number;
}

/** The part of the `audit` service the orchestrator uses: append one record durably, or throw. */
export interface AuditSink {
  append(input: AuditInput): Promise<unknown>;
}

/** The part of the `policy` service the orchestrator uses. */
export interface PolicyClassifier {
  classify(command: string, options?: { server?: string; tier?: string }): Verdict;
  load?(): Promise<void>;
}

export interface ExecuteOutcome {
  exitCode: number | null;
  completed: boolean;
  stdout?: string;
  stderr?: string;
  truncated?: { stdout: boolean; stderr: boolean };
  error?: { code: string; message: string };
}

export interface RemoteActionOptions {
  /** `--yes`: approval-required actions run without asking (never rejected ones). */
  preApproved?: boolean;
  /** Custom approver (e.g. one question for a whole fan-out). Returns the approver id, or false. */
  approve?: (action: RemoteAction, verdict: Verdict) => Promise<string | false>;
  /** Extra fields for the audit record (redacted by the audit plugin), e.g. snapshot refs. */
  auditArgs?: Record<string, unknown>;
  signal?: AbortSignal;
}

/** The subset of a command context the orchestrator needs (tests build one directly). */
export type ActionContext = Pick<CommandContext, "hooks" | "tryUse" | "prompt" | "io" | "env">;

const REFUSAL_CODES = new Set(["E_POLICY_REJECT", "E_APPROVAL_DENIED", "E_NO_POLICY"]);

export async function runRemoteAction(
  ctx: ActionContext,
  action: RemoteAction,
  execute: (signal: AbortSignal) => Promise<ExecuteOutcome>,
  options: RemoteActionOptions = {},
): Promise<RemoteActionResult> {
  const started = Date.now();
  const finish = (partial: Partial<RemoteActionResult>): RemoteActionResult => ({
    action,
    attempted: false,
    completed: false,
    exitCode: null,
    auditStatus: "failed",
    ...partial,
    durationMs: Date.now() - started,
  });

  const invalid = validateAction(action);
  if (invalid) return finish({ error: { code: "E_ACTION_INVALID", message: invalid } });

  const verdict = await decide(ctx, action);
  const audit = ctx.tryUse("audit") as AuditSink | undefined;
  const actor = actorOf(ctx, action);
  const record = (fields: Partial<AuditInput> & Pick<AuditInput, "phase" | "action">): AuditInput => ({
    runId: action.runId,
    actor,
    server: action.server,
    args: { command: action.command, path: action.path, kind: action.kind, ...options.auditArgs },
    decision: verdict.decision,
    rule: verdict.rule,
    ...fields,
  });

  if (verdict.decision === "reject") {
    const logged = await tryAppend(audit, record({ phase: "event", action: "approval", approver: undefined, exitCode: null }));
    const code = verdict.rule.startsWith("kernel.") ? "E_NO_POLICY" : "E_POLICY_REJECT";
    return finish({ verdict, auditStatus: logged ? "written" : "failed", error: { code, message: `Refused by policy (${verdict.rule}): ${verdict.reason}` } });
  }

  let approver: string | undefined;
  if (verdict.decision === "approval-required") {
    const answer = await obtainApproval(ctx, action, verdict, options);
    if (answer.approver === false) {
      const logged = await tryAppend(audit, record({ phase: "event", action: "approval", approver: `refused:${answer.by}`, exitCode: null }));
      return finish({ verdict, auditStatus: logged ? "written" : "failed", error: { code: "E_APPROVAL_DENIED", message: answer.message } });
    }
    approver = answer.approver;
  }

  if (!audit) {
    return finish({ verdict, approver, error: { code: "E_AUDIT_MISSING", message: "No audit plugin is loaded, so nothing was run (remote actions need an audit record first)" } });
  }
  try {
    await audit.append(record({ phase: "intent", action: auditActionOf(action, "intent"), approver }));
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).replace(/;? nothing was run\.?$/, "");
    return finish({ verdict, approver, error: { code: "E_AUDIT_WRITE", message: `Audit intent could not be written, so nothing was run: ${message}` } });
  }

  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let outcome: ExecuteOutcome;
  try {
    outcome = await execute(controller.signal);
  } catch (error) {
    outcome = { exitCode: null, completed: false, error: { code: isOpstermError(error) ? error.code : "E_EXECUTE", message: error instanceof Error ? error.message : String(error) } };
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
  // "Completed" with no exit status is not success: a lost connection must never read as 0.
  const exitCode = outcome.completed ? outcome.exitCode : null;

  let auditStatus: RemoteActionResult["auditStatus"] = "written";
  let auditError: { code: string; message: string } | undefined;
  try {
    await audit.append(record({ phase: "result", action: auditActionOf(action, "result"), approver, exitCode, durationMs: Date.now() - started }));
  } catch (error) {
    auditStatus = "partial";
    auditError = { code: "E_AUDIT_RESULT", message: `The action ran, but its audit result could not be written: ${error instanceof Error ? error.message : String(error)}` };
  }

  const result = finish({
    verdict,
    approver,
    attempted: true,
    completed: outcome.completed && exitCode !== null,
    exitCode,
    stdout: outcome.stdout,
    stderr: outcome.stderr,
    truncated: outcome.truncated,
    auditStatus,
    error: outcome.error ?? auditError,
  });
  await notify(ctx, result);
  return result;
}

/** The exit code a CLI command should return for one action (DESIGN.md §7). */
export function exitCodeFor(result: RemoteActionResult): number {
  const code = result.error?.code;
  if (code && REFUSAL_CODES.has(code)) return EXIT.DENIED;
  if (code === "E_AUDIT_WRITE" || code === "E_AUDIT_MISSING" || code === "E_AUDIT_RESULT" || result.auditStatus === "partial") return EXIT.IO;
  if (code === "E_ACTION_INVALID") return EXIT.USAGE;
  if (!result.attempted) return EXIT.FAILURE;
  // 255 is what ssh itself returns when the remote status is unknown.
  if (!result.completed || result.exitCode === null) return 255;
  return result.exitCode;
}

async function decide(ctx: ActionContext, action: RemoteAction): Promise<Verdict> {
  const policy = ctx.tryUse("policy") as PolicyClassifier | undefined;
  if (!policy || typeof policy.classify !== "function") {
    return { decision: "reject", rule: "kernel.no-policy", reason: "no policy plugin is loaded; remote actions are refused without one" };
  }
  const verdicts: Verdict[] = [];
  try {
    await policy.load?.();
    if (action.kind === "exec") verdicts.push(policy.classify(action.command, { server: action.server, tier: action.tier }));
    const fromHooks = await ctx.hooks.call("beforeRemoteAction", action);
    if (fromHooks) verdicts.push(fromHooks);
  } catch (error) {
    return { decision: "reject", rule: "kernel.policy-error", reason: `the policy check failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (verdicts.length === 0) {
    return { decision: "reject", rule: "kernel.no-decision", reason: `no plugin decided on this ${action.kind} action` };
  }
  for (const v of verdicts) {
    if (!v || !(v.decision in DECISION_RANK)) return { decision: "reject", rule: "kernel.malformed-verdict", reason: "the policy returned an invalid decision" };
  }
  return verdicts.reduce((a, b) => (DECISION_RANK[b.decision] > DECISION_RANK[a.decision] ? b : a));
}

// Approval prompts from concurrent actions (fan-out) must not interleave on one terminal.
let promptQueue: Promise<unknown> = Promise.resolve();

async function obtainApproval(
  ctx: ActionContext,
  action: RemoteAction,
  verdict: Verdict,
  options: RemoteActionOptions,
): Promise<{ approver: string; by?: undefined; message?: undefined } | { approver: false; by: string; message: string }> {
  if (options.preApproved) return { approver: "flag:--yes" };
  if (options.approve) {
    const who = await options.approve(action, verdict);
    return who === false ? { approver: false, by: "user", message: "Not approved" } : { approver: who };
  }
  if (!ctx.prompt.interactive) {
    return {
      approver: false,
      by: "no-tty",
      message: `Needs approval (${verdict.rule}: ${verdict.reason}) and there is no terminal to ask on; pass --yes to approve in advance`,
    };
  }
  const ask = async () => {
    const s = ctx.io.errStyle;
    ctx.io.err(`${s.bold(action.server)} ${s.dim(`(${action.kind})`)}: ${action.command}${action.path ? ` ${action.path}` : ""}`);
    ctx.io.err(`${s.yellow("approval required")} ${s.dim(`${verdict.rule}:`)} ${verdict.reason}`);
    return ctx.prompt.confirm("Run it?", { default: false, what: "This action" });
  };
  const turn = promptQueue.then(ask, ask);
  promptQueue = turn.catch(() => undefined);
  const yes = await turn;
  return yes ? { approver: `tty:${userName(ctx)}` } : { approver: false, by: "user", message: "Not approved at the prompt" };
}

function validateAction(action: RemoteAction): string | undefined {
  if (!action.server || /[\0-\x1f\x7f]/.test(action.server) || action.server.startsWith("-")) return `invalid server id ${JSON.stringify(action.server)}`;
  if (typeof action.command !== "string") return "the action has no command";
  if (!action.runId) return "the action has no run id";
  return undefined;
}

async function tryAppend(audit: AuditSink | undefined, input: AuditInput): Promise<boolean> {
  if (!audit) return false;
  try {
    await audit.append(input);
    return true;
  } catch {
    return false;
  }
}

async function notify(ctx: ActionContext, result: RemoteActionResult): Promise<void> {
  try {
    await ctx.hooks.call("afterRemoteAction", result);
  } catch (error) {
    ctx.io.warn(`afterRemoteAction: ${(error as Error).message}`);
  }
  try {
    await ctx.hooks.call("history", {
      mode: result.action.kind === "exec" ? "exec" : result.action.kind,
      server: result.action.server,
      command: result.action.command,
      path: result.action.path,
      origin: result.action.origin,
      runId: result.action.runId,
      exitCode: result.exitCode,
      durationMs: result.durationMs,
      decision: result.verdict?.decision,
      rule: result.verdict?.rule,
      approver: result.approver,
    });
  } catch (error) {
    ctx.io.warn(`history was not recorded: ${(error as Error).message}`);
  }
}

/** A session's intent is its start and its result its end; other kinds keep their name. */
function auditActionOf(action: RemoteAction, phase: "intent" | "result"): AuditInput["action"] {
  if (action.kind === "session") return phase === "intent" ? "session-start" : "session-end";
  return action.kind;
}

function userName(ctx: ActionContext): string {
  try {
    return ctx.env.USER || userInfo().username;
  } catch {
    return "unknown";
  }
}

function actorOf(ctx: ActionContext, action: RemoteAction): string {
  return `${userName(ctx)} (${action.origin})`;
}
