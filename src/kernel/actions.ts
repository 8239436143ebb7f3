/**
 * The one gate (DESIGN.md §5). Every execution — a person's `exec`, a model's suggestion, a
 * workflow step, an agent or MCP tool call, an undo — is one `run()`:
 *
 *   validate → resolve target → check + classify (the `beforeAction` veto: one channel) →
 *   approval (a pluggable approver) → audit intent (durable) → expand (secrets, for the executor
 *   only) → executor → audit result → `afterAction` → structured result.
 *
 * Fail closed by construction: no verdict, a throwing or malformed one, no audit sink, an intent
 * that cannot be written, a snapshot that cannot be taken — each means the executor never runs.
 * Executors are registered by kind by built-in plugins; nothing else can reach one.
 */
import { randomUUID } from "node:crypto";
import type { CommandContext } from "./context.ts";
import { DeniedError, EXIT, isOpstermError, IoError, OpstermError, type ErrorCode } from "./errors.ts";
import type { ActionExpansion, HookBus } from "./hooks.ts";
import {
  DECISION_RANK,
  type Action,
  type ActionKind,
  type ActionRequest,
  type ActionResult,
  type ActionTarget,
  type FileSnapshots,
  type FileState,
  type Origin,
  type SnapshotRef,
  type Verdict,
} from "./types.ts";
import { currentUser } from "../lib/user.ts";
import { createMasker } from "../lib/mask.ts";

/** The invocation an action runs in: prompts, io, abort, config (a command's context, or a plugin's). */
export type ActionContext = Pick<CommandContext, "hooks" | "tryUse" | "prompt" | "io" | "env" | "config" | "paths" | "signal" | "runId" | "debug" | "runtime">;

/** Streams and limits for executors that run a command. */
export interface ExecutorIo {
  /** Sent to the command's stdin, then EOF (a stream is piped as it arrives). Default: EOF at once. */
  stdin?: string | Uint8Array | AsyncIterable<Uint8Array>;
  /** Each chunk of output; a returned promise holds the source until it settles (backpressure). */
  onStdout?: (chunk: Buffer) => void | Promise<void>;
  onStderr?: (chunk: Buffer) => void | Promise<void>;
  /** Bytes kept per stream in the result; the rest is only streamed. */
  maxCapture?: number;
  /** Deadline for the command once it started. */
  timeoutMs?: number;
}

/** What an executor gets for one approved, audited action. */
export interface Execution<T extends ActionTarget = ActionTarget> {
  action: Action;
  /** What the executor's resolve() returned. */
  target: T;
  /** The command line to run, secret references resolved. Never log it. */
  command: string;
  params: Record<string, unknown>;
  signal: AbortSignal;
  io: ExecutorIo;
  /** The invocation (host-key questions, config, env). */
  ctx: ActionContext;
  /**
   * Snapshots a file's state before or after a write, through the snapshot hooks, into the
   * action's record (with `state`: mode, owner, sha256 — what an undo needs besides the content).
   * Throws when no snapshot could be made: the write must then not happen.
   */
  snapshot(which: "before" | "after", path: string, content: Uint8Array | null, state?: FileState): Promise<SnapshotRef>;
}

export interface ExecuteOutcome {
  exitCode: number | null;
  /** It ran to the end (an exit status is known). */
  completed: boolean;
  stdout?: string;
  stderr?: string;
  truncated?: { stdout: boolean; stderr: boolean };
  /** `exitCode` on the error: what a CLI should exit with when this failure means nothing was done (69 unreachable, 77 host key …). */
  error?: { code: ErrorCode; message: string; hint?: string; exitCode?: number };
  details?: Record<string, unknown>;
  data?: unknown;
}

/** One kind of work the gate can hand out. Registered by a built-in plugin in its setup. */
export interface Executor<T extends ActionTarget = ActionTarget> {
  kind: ActionKind;
  /** Finds the target (an inventory lookup). Throw an OpstermError for an unknown one. */
  resolve(request: ActionRequest, ctx: ActionContext): Promise<T>;
  execute(run: Execution<T>): Promise<ExecuteOutcome>;
}

// deno-lint-ignore no-explicit-any
export type AnyExecutor = Executor<any>;

export interface ApprovalRequest {
  action: Action;
  verdict: Verdict;
  /** What the person is asked about: the command, or the summary plus `display`. */
  display: string;
}

export type ApprovalAnswer = { approved: true; approver: string } | { approved: false; by: string; message: string };

/** Decides approval-required actions: a terminal prompt, a workflow's pre-approval, the MCP queue … */
export interface Approver {
  approve(request: ApprovalRequest): Promise<ApprovalAnswer>;
}

export interface RunOptions {
  /** Approval-required actions run without asking (`--yes`); `true` records `flag:--yes`. Rejected ones never run. */
  preApproved?: boolean | string;
  /** Replaces the invocation's terminal approver. */
  approver?: Approver;
  signal?: AbortSignal;
  io?: ExecutorIo;
}

export interface Preview {
  action?: Action;
  verdict: Verdict;
  error?: ActionResult["error"];
}

/** `ctx.actions`: the only way to act on a server or run a command. */
export interface Actions {
  run(request: ActionRequest, options?: RunOptions): Promise<ActionResult>;
  /** The verdict without running anything (chat offers, explain-last, `--dry-run`). */
  preview(request: ActionRequest): Promise<Preview>;
  /** Kinds with a registered executor. */
  kinds(): ActionKind[];
}

/** What the gate asks of the `audit` service: append one record durably (or throw) and say its seq. */
export interface AuditSink {
  append(input: AuditInput): Promise<{ seq: number }>;
}

/** One audit record as the gate writes it. The audit plugin redacts and chains it. */
export interface AuditInput {
  runId: string;
  /** Who acted: `alice (user)`, `ai:openai/gpt-4o`, `mcp:claude-code`. */
  actor: string;
  server: string;
  action: AuditAction;
  /** Command line, path, target, details. Redacted by the audit plugin before it is written. */
  args: Record<string, unknown>;
  decision?: Verdict["decision"];
  rule?: string;
  /** `tty:alice`, `flag:--yes`, `workflow:<run>`, `refused:<who>`, or undefined. */
  approver?: string;
  phase: "intent" | "result" | "event";
  exitCode?: number | null;
  durationMs?: number;
  /** The last file written: its snapshot commits, for `audit show` (not redacted). */
  snapshot?: { path: string; before?: string; after?: string };
}

export type AuditAction = Exclude<ActionKind, "session"> | "session-start" | "session-end" | "approval" | "transfer";

/** The executor registry and the gate, one per kernel. */
export interface ActionGate {
  register(plugin: string, executor: AnyExecutor): void;
  /** The gate bound to one invocation (its prompts, io, signal and run id). */
  bind(ctx: ActionContext): Actions;
  kinds(): ActionKind[];
}

const REFUSAL_CODES = new Set<string>(["E_POLICY_REJECT", "E_APPROVAL_DENIED", "E_NO_POLICY"]);
const AUDIT_CODES = new Set<string>(["E_AUDIT_WRITE", "E_AUDIT_MISSING", "E_AUDIT_RESULT", "E_SNAPSHOT_MISSING", "E_SNAPSHOT_BEFORE", "E_SNAPSHOT_AFTER"]);
const COMMAND_KINDS = new Set<ActionKind>(["exec", "session", "local"]);

export function createActionGate(hooks: Pick<HookBus, "call">): ActionGate {
  const executors = new Map<ActionKind, { plugin: string; executor: AnyExecutor }>();
  // Approval prompts from concurrent actions (a fan-out) must not interleave on one terminal.
  let promptQueue: Promise<unknown> = Promise.resolve();

  function register(plugin: string, executor: AnyExecutor): void {
    const existing = executors.get(executor.kind);
    if (existing) {
      throw new OpstermError("E_EXECUTOR_CONFLICT", `Plugin "${plugin}" registers an executor for "${executor.kind}", which "${existing.plugin}" already serves`, { plugin });
    }
    executors.set(executor.kind, { plugin, executor });
  }

  function bind(ctx: ActionContext): Actions {
    const terminal: Approver = {
      async approve(request) {
        if (!ctx.prompt.interactive) {
          return {
            approved: false,
            by: "no-tty",
            message: `Needs approval (${request.verdict.rule}: ${request.verdict.reason}) and there is no terminal to ask on; pass --yes to approve it in advance`,
          };
        }
        const ask = async () => {
          const s = ctx.io.errStyle;
          const { action, verdict } = request;
          ctx.io.err(`${s.bold(action.server)} ${s.dim(`(${action.kind})`)}: ${request.display}`);
          ctx.io.err(`${s.yellow("approval required")} ${s.dim(`${verdict.rule}:`)} ${verdict.reason}`);
          return ctx.prompt.confirm("Run it?", { default: false, what: "This action" });
        };
        const turn = promptQueue.then(ask, ask);
        promptQueue = turn.catch(() => undefined);
        return (await turn) ? { approved: true, approver: `tty:${currentUser(ctx.env)}` } : { approved: false, by: "user", message: "Not approved at the prompt" };
      },
    };

    async function prepare(request: ActionRequest): Promise<{ action?: Action; executor?: AnyExecutor; target?: ActionTarget; error?: ActionResult["error"] }> {
      const invalid = validate(request);
      if (invalid) return { error: { code: "E_ACTION_INVALID", message: invalid, exitCode: EXIT.USAGE } };
      const entry = executors.get(request.kind);
      if (!entry) {
        return { error: { code: "E_NO_EXECUTOR", message: `Nothing can run a "${request.kind}" action: no plugin serves it`, hint: 'Run "opsterm doctor" to see which plugins failed to load', exitCode: EXIT.UNAVAILABLE } };
      }
      let target: ActionTarget;
      try {
        target = await entry.executor.resolve(request, ctx);
      } catch (error) {
        return { error: errorOf(error) };
      }
      const origin: Origin = request.origin ?? "user";
      const action: Action = {
        kind: request.kind,
        server: target.id,
        tier: target.tier,
        command: request.command ?? request.summary ?? request.kind,
        cwd: request.cwd,
        path: request.path,
        recursive: request.recursive,
        origin,
        actor: request.actor ?? `${currentUser(ctx.env)} (${origin})`,
        runId: request.runId ?? ctx.runId,
        conversation: request.conversation,
        interactive: request.interactive,
        target,
      };
      try {
        await hooks.call("checkAction", action);
      } catch (error) {
        return { action, error: errorOf(error) };
      }
      return { action, executor: entry.executor, target };
    }

    async function classify(action: Action): Promise<Verdict> {
      let verdict: Verdict | undefined;
      try {
        verdict = await hooks.call("beforeAction", action);
      } catch (error) {
        return { decision: "reject", rule: "kernel.policy-error", reason: `the policy check failed: ${error instanceof Error ? error.message : String(error)}` };
      }
      if (!verdict) return { decision: "reject", rule: "kernel.no-policy", reason: `no policy plugin is loaded (nothing decided on this ${action.kind} action); actions are refused without one` };
      if (!(verdict.decision in DECISION_RANK)) return { decision: "reject", rule: "kernel.malformed-verdict", reason: "the policy returned an invalid decision" };
      return verdict;
    }

    async function run(request: ActionRequest, options: RunOptions = {}): Promise<ActionResult> {
      // Moved forward by the time spent at the approval prompt: a duration is the action's own.
      let started = Date.now();
      const snapshots: FileSnapshots[] = [];
      const prepared = await prepare(request);
      const action = prepared.action ?? placeholderAction(request, ctx);
      const finish = (partial: Partial<ActionResult>): ActionResult => ({
        action,
        attempted: false,
        completed: false,
        exitCode: null,
        auditStatus: "failed",
        snapshots,
        details: {},
        ...partial,
        durationMs: Date.now() - started,
      });
      if (prepared.error || !prepared.executor || !prepared.target) return finish({ error: prepared.error });
      const { executor, target } = prepared;

      const verdict = await classify(action);
      const audit = ctx.tryUse("audit") as AuditSink | undefined;
      const record = (fields: Partial<AuditInput> & Pick<AuditInput, "phase" | "action">): AuditInput => ({
        runId: action.runId,
        actor: action.actor,
        server: action.server,
        args: auditArgs(action),
        decision: verdict.decision,
        rule: verdict.rule,
        ...fields,
      });

      if (verdict.decision === "reject") {
        const logged = await tryAppend(audit, record({ phase: "event", action: "approval", exitCode: null }));
        const code = verdict.rule.startsWith("kernel.") ? "E_NO_POLICY" : "E_POLICY_REJECT";
        return notify(finish({ verdict, auditStatus: logged ? "written" : "failed", error: { code, message: `Refused by policy (${verdict.rule}): ${verdict.reason}`, exitCode: EXIT.DENIED } }));
      }

      let approver: string | undefined;
      if (verdict.decision === "approval-required") {
        const asked = Date.now();
        const answer = await approve(action, verdict, request, options);
        started += Date.now() - asked;
        if (!answer.approved) {
          const logged = await tryAppend(audit, record({ phase: "event", action: "approval", approver: `refused:${answer.by}`, exitCode: null }));
          return notify(finish({ verdict, auditStatus: logged ? "written" : "failed", error: { code: "E_APPROVAL_DENIED", message: answer.message, exitCode: EXIT.DENIED } }));
        }
        approver = answer.approver;
      }

      if (!audit || typeof audit.append !== "function") {
        return finish({ verdict, approver, error: { code: "E_AUDIT_MISSING", message: "No audit plugin is loaded, so nothing was run (every action needs its audit record first)", exitCode: EXIT.IO } });
      }
      let auditSeq: number;
      try {
        auditSeq = (await audit.append(record({ phase: "intent", action: auditActionOf(action, "intent"), approver }))).seq;
      } catch (error) {
        const message = (error instanceof Error ? error.message : String(error)).replace(/;? nothing was run\.?$/, "");
        return finish({ verdict, approver, error: { code: "E_AUDIT_WRITE", message: `Audit intent could not be written, so nothing was run: ${message}`, exitCode: EXIT.IO } });
      }

      let expansion: ActionExpansion = { action, command: action.command, secrets: [] };
      try {
        expansion = await hooks.call("expandAction", expansion);
      } catch (error) {
        const failure = errorOf(error);
        await tryAppend(audit, record({ phase: "result", action: auditActionOf(action, "result"), approver, exitCode: null, durationMs: Date.now() - started }));
        return notify(finish({ verdict, approver, auditSeq, auditStatus: "written", error: failure }));
      }

      const controller = new AbortController();
      const outer = options.signal ?? ctx.signal;
      const onAbort = () => controller.abort(outer?.reason);
      if (outer?.aborted) onAbort();
      else outer?.addEventListener("abort", onAbort, { once: true });
      const io = maskSecrets(options.io ?? {}, expansion.secrets);
      let outcome: ExecuteOutcome;
      try {
        outcome = await executor.execute({
          action,
          target,
          command: expansion.command,
          params: request.params ?? {},
          signal: controller.signal,
          io: io.io,
          ctx,
          snapshot: (which, path, content, state) => snapshot(action, snapshots, which, path, content, state),
        });
      } catch (error) {
        outcome = { exitCode: null, completed: false, error: errorOf(error) };
      } finally {
        outer?.removeEventListener("abort", onAbort);
        io.flush();
      }
      // "Completed" with no exit status is not success: a lost connection never reads as 0.
      const exitCode = outcome.completed ? outcome.exitCode : null;
      const durationMs = Date.now() - started;
      const last = snapshots.at(-1);
      let auditStatus: ActionResult["auditStatus"] = "written";
      let auditError: ActionResult["error"];
      try {
        await audit.append(
          record({
            phase: "result",
            action: auditActionOf(action, "result"),
            approver,
            exitCode,
            durationMs,
            args: { ...auditArgs(action), ...outcome.details, ...(snapshots.length ? { snapshots: snapshots.map(snapshotArgs) } : {}) },
            snapshot: last && { path: (last.after ?? last.before)!.path, before: last.before?.commit, after: last.after?.commit },
          }),
        );
      } catch (error) {
        auditStatus = "partial";
        auditError = { code: "E_AUDIT_RESULT", message: `The action ran, but its audit result could not be written: ${error instanceof Error ? error.message : String(error)}`, exitCode: EXIT.IO };
      }
      const mask = io.mask;
      return notify(
        finish({
          verdict,
          approver,
          auditSeq,
          attempted: true,
          completed: outcome.completed && exitCode !== null,
          exitCode,
          stdout: outcome.stdout === undefined ? undefined : mask(outcome.stdout),
          stderr: outcome.stderr === undefined ? undefined : mask(outcome.stderr),
          truncated: outcome.truncated,
          auditStatus,
          details: outcome.details ?? {},
          data: outcome.data,
          error: outcome.error ? { ...outcome.error, message: mask(outcome.error.message) } : auditError,
        }),
      );
    }

    async function approve(action: Action, verdict: Verdict, request: ActionRequest, options: RunOptions): Promise<ApprovalAnswer> {
      if (options.preApproved) return { approved: true, approver: typeof options.preApproved === "string" ? options.preApproved : "flag:--yes" };
      const display = COMMAND_KINDS.has(action.kind) ? action.command : [action.command + (action.path ? ` ${action.path}` : ""), request.display].filter(Boolean).join("\n");
      try {
        return await (options.approver ?? terminal).approve({ action, verdict, display });
      } catch (error) {
        return { approved: false, by: "error", message: error instanceof Error ? error.message : String(error) };
      }
    }

    async function notify(result: ActionResult): Promise<ActionResult> {
      try {
        await hooks.call("afterAction", result);
      } catch (error) {
        ctx.io.warn(`afterAction: ${(error as Error).message}`);
      }
      return result;
    }

    async function snapshot(action: Action, list: FileSnapshots[], which: "before" | "after", path: string, content: Uint8Array | null, state?: FileState): Promise<SnapshotRef> {
      const message = `${which} ${action.kind} by run ${action.runId}`;
      const ref = await hooks.call(which === "before" ? "beforeFileWrite" : "afterFileWrite", { action, path, content, message });
      if (!ref) throw new IoError("E_SNAPSHOT_MISSING", `No plugin takes snapshots of file writes (is the audit plugin loaded?), so ${action.server}:${path} was not written`);
      let entry = list.find((e) => e.remote === path && !e.after);
      if (!entry || which === "before") list.push((entry = { remote: path }));
      entry[which] = ref;
      if (state) entry[which === "before" ? "beforeState" : "afterState"] = state;
      return ref;
    }

    return {
      run,
      async preview(request) {
        const prepared = await prepare(request);
        if (prepared.error || !prepared.action) {
          return { action: prepared.action, verdict: { decision: "reject", rule: "kernel.invalid", reason: prepared.error?.message ?? "invalid action" }, error: prepared.error };
        }
        return { action: prepared.action, verdict: await classify(prepared.action) };
      },
      kinds: () => [...executors.keys()],
    };
  }

  return { register, bind, kinds: () => [...executors.keys()] };
}

/** The exit code a CLI command should return for one action (DESIGN.md §7). */
export function exitCodeFor(result: ActionResult): number {
  const code = result.error?.code;
  if (code && REFUSAL_CODES.has(code)) return EXIT.DENIED;
  if ((code && AUDIT_CODES.has(code)) || result.auditStatus === "partial") return EXIT.IO;
  if (!result.attempted) return result.error?.exitCode ?? EXIT.FAILURE;
  if (code === "E_INTERRUPTED") return EXIT.INTERRUPTED;
  // A connection that never came up: nothing was sent, the error says why (69, 77, 78, 130).
  if (result.error?.exitCode !== undefined && result.exitCode === null) return result.error.exitCode;
  // 255 is what ssh itself returns when the remote status is unknown.
  if (!result.completed || result.exitCode === null) return 255;
  return result.exitCode;
}

/** Throws the refusal or failure of a result as an OpstermError (for callers that want one). */
export function throwIfRefused(result: ActionResult): void {
  const e = result.error;
  if (!e || result.attempted) return;
  if (REFUSAL_CODES.has(e.code)) throw new DeniedError(e.code, e.message, { hint: e.hint });
  throw new OpstermError(e.code, e.message, { hint: e.hint, exitCode: exitCodeFor(result) });
}

function validate(request: ActionRequest): string | undefined {
  if (!request || typeof request !== "object") return "the action is not an object";
  const t = request.target;
  if (typeof t !== "string" || !t || /[\0-\x1f\x7f]/.test(t) || t.startsWith("-")) return `invalid target ${JSON.stringify(t)}`;
  if (COMMAND_KINDS.has(request.kind) && (typeof request.command !== "string" || request.command.trim() === "")) return `a ${request.kind} action needs a command`;
  if (!COMMAND_KINDS.has(request.kind) && (typeof request.path !== "string" || request.path === "" || request.path.includes("\0"))) return `a ${request.kind} action needs a path`;
  if (request.command?.includes("\0")) return "the command holds a NUL byte";
  if (request.cwd !== undefined && (typeof request.cwd !== "string" || request.cwd === "" || /[\0\n]/.test(request.cwd))) return "invalid cwd";
  return undefined;
}

function errorOf(error: unknown): NonNullable<ActionResult["error"]> {
  if (isOpstermError(error)) return { code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode };
  return { code: "E_EXECUTE", message: error instanceof Error ? error.message : String(error) };
}

/** What the result says when the request never became an action (invalid, unknown target). */
function placeholderAction(request: ActionRequest, ctx: ActionContext): Action {
  const origin = request?.origin ?? "user";
  const server = typeof request?.target === "string" ? request.target : "?";
  return {
    kind: request?.kind,
    server,
    command: request?.command ?? request?.summary ?? String(request?.kind),
    path: request?.path,
    origin,
    actor: request?.actor ?? `${currentUser(ctx.env)} (${origin})`,
    runId: request?.runId ?? ctx.runId ?? randomUUID(),
    target: { id: server },
  };
}

function auditArgs(action: Action): Record<string, unknown> {
  const t = action.target;
  const where = t.scope === "local" || t.host === undefined ? undefined : { scope: t.scope, host: t.host, port: t.port, ...(t.shadows ? { shadows: t.shadows.at } : {}) };
  return {
    command: action.command,
    ...(action.cwd !== undefined ? { cwd: action.cwd } : {}),
    ...(action.path !== undefined ? { path: action.path } : {}),
    kind: action.kind,
    ...(action.recursive ? { recursive: true } : {}),
    ...(where ? { target: where } : {}),
    ...(t.via?.length ? { via: t.via } : {}),
    ...(action.conversation ? { conversation: action.conversation } : {}),
  };
}

function snapshotArgs(s: FileSnapshots): Record<string, unknown> {
  return {
    remote: s.remote,
    path: (s.after ?? s.before)?.path,
    before: s.before?.commit,
    after: s.after?.commit,
    ...(s.beforeState ? { beforeState: stateArgs(s.beforeState) } : {}),
    ...(s.afterState ? { afterState: stateArgs(s.afterState) } : {}),
  };
}

/** A file state as the audit record keeps it: the mode in octal, like the write's own details. */
function stateArgs(s: FileState): Record<string, unknown> {
  return { ...s, ...(s.mode !== undefined ? { mode: "0" + s.mode.toString(8).padStart(3, "0") } : {}) };
}

/** A session's intent is its start and its result its end; other kinds keep their name. */
function auditActionOf(action: Action, phase: "intent" | "result"): AuditAction {
  if (action.kind === "session") return phase === "intent" ? "session-start" : "session-end";
  return action.kind;
}

async function tryAppend(audit: AuditSink | undefined, input: AuditInput): Promise<boolean> {
  if (!audit || typeof audit.append !== "function") return false;
  try {
    await audit.append(input);
    return true;
  } catch {
    return false;
  }
}

/**
 * Output of a command that received resolved secrets is masked before anyone sees it: the
 * streams shown to the user and the captured text. Only then — binary output (`pg_dump`) of an
 * action without secrets passes untouched.
 */
function maskSecrets(io: ExecutorIo, secrets: string[]): { io: ExecutorIo; mask: (text: string) => string; flush: () => void } {
  if (secrets.length === 0) return { io, mask: (t) => t, flush: () => {} };
  const masker = createMasker(secrets);
  const streams = { stdout: masker.stream(), stderr: masker.stream() };
  // A character split across two chunks must not be garbled: decode each stream as a stream.
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const wrap = (which: "stdout" | "stderr", sink?: ExecutorIo["onStdout"]) =>
    sink &&
    ((chunk: Buffer) => {
      const safe = streams[which].push(decoders[which].decode(chunk, { stream: true }));
      return safe ? sink(Buffer.from(safe)) : undefined;
    });
  const onStdout = wrap("stdout", io.onStdout);
  const onStderr = wrap("stderr", io.onStderr);
  return {
    io: { ...io, onStdout, onStderr },
    mask: masker.mask,
    flush() {
      const out = streams.stdout.push(decoders.stdout.decode()) + streams.stdout.end();
      if (out && io.onStdout) void io.onStdout(Buffer.from(out));
      const err = streams.stderr.push(decoders.stderr.decode()) + streams.stderr.end();
      if (err && io.onStderr) void io.onStderr(Buffer.from(err));
    },
  };
}
