/**
 * Runs a workflow: every step on every host is one action through the gate (`ctx.actions.run`)
 * with the invocation's run id. Before step 1 every step is previewed on every host: a step the
 * policy rejects refuses the whole workflow, and so do approvals (or `confirm` steps) with no
 * terminal and no --yes — nothing runs and only the refusal is recorded.
 */
import { isAbsolute, resolve } from "node:path";
import {
  EXIT,
  exitCodeFor,
  OpstermError,
  type ActionRequest,
  type ActionResult,
  type ApprovalAnswer,
  type Approver,
  type AuditInput,
  type CommandContext,
  type Verdict,
} from "../../src/kernel/index.ts";
import { ConfigError } from "../../src/kernel/index.ts";
import { currentUser } from "../../src/lib/user.ts";
import { describeAction } from "./load.ts";
import { dependsOnRun, evaluateWhen, render, type Scope } from "./template.ts";
import type { HostRecord, HostStatus, RunRecord, StepDef, StepRecord, WorkflowDef } from "./types.ts";

export interface RunInput {
  wf: WorkflowDef;
  vars: Record<string, string>;
  yes: boolean;
  dryRun: boolean;
  cron: boolean;
  json: boolean;
  /** The run being resumed: only what did not succeed in it runs again. */
  resume?: RunRecord;
}

export interface PreviewRow {
  step: number;
  name: string;
  host: string;
  kind: string;
  what: string;
  decision: Verdict["decision"] | "confirm" | "skip";
  rule: string;
  reason: string;
}

export interface RunOutcome {
  record: RunRecord;
  exitCode: number;
  /** What a cron run prints on stderr when it failed (the whole report). */
  report: string[];
  preview?: PreviewRow[];
}

const LOCAL = "local";
const REFUSAL = new Set(["E_POLICY_REJECT", "E_APPROVAL_DENIED", "E_NO_POLICY"]);
const DEFAULT_PARALLEL = 32;
const CAPTURE = 256 * 1024;

const isRemote = (s: StepDef) => {
  const a = s.action;
  return a.type === "exec" || a.type === "put" || a.type === "get" || (a.type === "wait" && a.until !== undefined && !a.local);
};

/** Runs `fn` over `items`, at most `limit` at once, keeping order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal?.aborted) return done();
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", finish);
      done();
    }
    signal?.addEventListener("abort", finish, { once: true });
  });
}

export async function runWorkflow(ctx: CommandContext, input: RunInput): Promise<RunOutcome> {
  const { wf } = input;
  const runId = ctx.runId;
  const started = new Date();
  const report: string[] = [];
  const quiet = input.cron || input.json;
  const say = (line: string) => {
    report.push(line);
    if (!quiet) ctx.io.out(line);
  };
  const s = ctx.io.style;
  const baseDir = wf.baseDir ?? ctx.runtime.cwd();
  const interactive = !input.cron && ctx.prompt.interactive;
  const user = currentUser(ctx.env);
  const record: RunRecord = {
    runId,
    workflow: wf.name,
    status: "running",
    exitCode: null,
    startedAt: started.toISOString(),
    cron: input.cron,
    resumedFrom: input.resume?.runId,
    vars: input.vars,
    steps: wf.steps.map((st) => ({ index: st.index, name: st.name, kind: st.action.type, hosts: [] })),
  };
  const baseScope: Scope = { ...input.vars, workflow: wf.name, "run.id": runId, "run.failed": "false" };

  // ---- Targets: every remote step's hosts, from the inventory.
  const inventory = wf.steps.some(isRemote) ? ctx.use("inventory") : undefined;
  const hostsOf = new Map<number, string[]>();
  for (const st of wf.steps) {
    if (!isRemote(st)) {
      hostsOf.set(st.index, [LOCAL]);
      continue;
    }
    const spec = render(st.targets ?? wf.targets ?? "", baseScope, false);
    try {
      hostsOf.set(st.index, (await inventory!.resolveTargets(spec)).map((h) => h.id));
    } catch (error) {
      throw new ConfigError("E_WORKFLOW_REF", `${st.at}: step ${st.index + 1}: ${(error as Error).message}`, { hint: (error as OpstermError).hint });
    }
  }

  const previous = (step: number, host: string): HostStatus | undefined => input.resume?.steps[step]?.hosts.find((h) => h.host === host)?.status;
  const firstResumed = input.resume ? input.resume.steps.findIndex((st) => st.hosts.some((h) => h.status !== "ok" && h.status !== "skipped")) : 0;
  /** Hosts a step would run on at start (resume: what did not succeed; a static `when: false`: none). */
  const plannedHosts = (st: StepDef): string[] => {
    if (st.when && !dependsOnRun(st.when) && !evaluateWhen(st.when, baseScope)) return [];
    const hosts = hostsOf.get(st.index)!;
    if (!input.resume) return hosts;
    if (st.always) return hosts;
    if (st.index < firstResumed) return [];
    return hosts.filter((h) => previous(st.index, h) !== "ok");
  };

  const requestsFor = (st: StepDef, host: string, scope: Scope): ActionRequest[] => {
    const a = st.action;
    const common = { origin: "workflow" as const, runId, actor: `${user} (workflow ${wf.name})` };
    const local = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
    const cwd = wf.baseDir;
    switch (a.type) {
      case "exec":
        return [{ ...common, kind: "exec", target: host, command: render(a.command, scope, true) }];
      case "local":
        return [{ ...common, kind: "local", target: LOCAL, command: render(a.command, scope, true), cwd }];
      case "put": {
        const src = local(render(a.src, scope, false));
        return [{ ...common, kind: "write", target: host, path: render(a.dest, scope, false), recursive: a.recursive, summary: `workflow upload ${src}`, params: { local: src, mode: a.mode, forceMode: a.mode !== undefined, progress: false } }];
      }
      case "get":
        return [{ ...common, kind: "read", target: host, path: render(a.src, scope, false), summary: "workflow download", params: { local: local(render(a.dest, scope, false)), progress: false } }];
      case "wait":
        if (!a.until) return [];
        return a.local || host === LOCAL ? [{ ...common, kind: "local", target: LOCAL, command: render(a.until, scope, true), cwd }] : [{ ...common, kind: "exec", target: host, command: render(a.until, scope, true) }];
      case "confirm":
        return [];
    }
  };
  const scopeFor = (host: string, failed: boolean): Scope => ({ ...baseScope, "run.failed": String(failed), ...(host === LOCAL ? {} : { host }) });

  // ---- Preflight: every step on every host, through the gate's preview.
  const preflightStarted = performance.now();
  const rows: PreviewRow[] = [];
  const jobs: Promise<void>[] = [];
  for (const st of wf.steps) {
    const planned = plannedHosts(st);
    if (planned.length === 0) {
      rows.push({ step: st.index, name: st.name, host: "-", kind: st.action.type, what: describeAction(st.action), decision: "skip", rule: input.resume ? "resume.done" : "when", reason: input.resume ? "succeeded in the resumed run" : `when: ${st.when} is false` });
      continue;
    }
    if (st.confirm || st.action.type === "confirm") {
      rows.push({ step: st.index, name: st.name, host: LOCAL, kind: "confirm", what: render(st.confirm ?? (st.action as { message: string }).message, baseScope, false), decision: "confirm", rule: "workflow.confirm", reason: "asks before going on" });
    }
    for (const host of planned) {
      for (const request of requestsFor(st, host, scopeFor(host, false))) {
        const row: PreviewRow = { step: st.index, name: st.name, host, kind: request.kind, what: request.command ?? `${request.summary} → ${request.path}`, decision: "auto-allow", rule: "", reason: "" };
        rows.push(row);
        jobs.push(
          ctx.actions.preview(request).then((p) => {
            if (p.error && p.error.code !== "E_ACTION_INVALID") {
              throw new OpstermError(p.error.code, `${st.at}: step ${st.index + 1} on ${host}: ${p.error.message}`, { hint: p.error.hint, exitCode: p.error.exitCode ?? EXIT.CONFIG });
            }
            row.decision = p.verdict.decision;
            row.rule = p.verdict.rule;
            row.reason = p.verdict.reason;
          }),
        );
      }
    }
  }
  await Promise.all(jobs);
  ctx.io.debug(`workflow: preflight of ${jobs.length} action(s) in ${(performance.now() - preflightStarted).toFixed(1)} ms`);
  rows.sort((a, b) => a.step - b.step);
  const rejected = rows.filter((r) => r.decision === "reject");
  const asks = rows.filter((r) => r.decision === "approval-required" || r.decision === "confirm");

  if (input.dryRun) {
    const exitCode = rejected.length ? EXIT.DENIED : EXIT.OK;
    return { record: { ...record, status: rejected.length ? "refused" : "ok", exitCode }, exitCode, report, preview: rows };
  }

  const audit = ctx.tryUse("audit");
  const history = ctx.tryUse("history");
  const event = (fields: Partial<AuditInput> & { server: string }): AuditInput => ({
    runId,
    actor: `${user} (workflow ${wf.name})`,
    action: "approval",
    phase: "event",
    exitCode: null,
    args: {},
    ...fields,
  });
  const saveRecord = async (r: RunRecord) => {
    if (!history) return;
    const t = performance.now();
    try {
      await history.record({
        mode: "workflow",
        text: `workflow ${r.workflow} ${r.status} exit=${r.exitCode ?? "-"} cron=${r.cron ? 1 : 0} run ${r.runId}`,
        runId: r.runId,
        durationMs: r.durationMs,
        workflow: r.workflow,
        run: r,
      });
    } catch (error) {
      ctx.io.warn(`workflow: the run record could not be saved: ${(error as Error).message}`);
    }
    ctx.io.debug(`workflow: run record (${r.status}) saved in ${(performance.now() - t).toFixed(1)} ms`);
  };
  const finishRecord = async (status: RunRecord["status"], exitCode: number): Promise<RunOutcome> => {
    const ended = new Date();
    record.status = status;
    record.exitCode = exitCode;
    record.endedAt = ended.toISOString();
    record.durationMs = ended.getTime() - started.getTime();
    await saveRecord(record);
    return { record, exitCode, report };
  };

  // ---- Refusals before step 1: nothing runs, only the refusal is recorded.
  if (rejected.length || (asks.length && !input.yes && !interactive)) {
    const list = rejected.length ? rejected : asks;
    for (const r of list) {
      await audit?.append(
        event({
          server: r.host,
          decision: r.decision === "confirm" ? "approval-required" : (r.decision as Verdict["decision"]),
          rule: r.rule,
          approver: rejected.length ? undefined : `refused:${input.cron ? "cron" : "no-tty"}`,
          args: { command: r.what, kind: r.kind, workflow: wf.name, step: r.step + 1 },
        }),
      ).catch(() => undefined);
    }
    for (const r of list) say(`step ${r.step + 1} (${r.name}) on ${r.host}: ${r.decision === "reject" ? `rejected by ${r.rule}: ${r.reason}` : r.decision === "confirm" ? "asks for confirmation" : `needs approval (${r.rule}: ${r.reason})`}`);
    for (const st of record.steps) st.hosts = (hostsOf.get(st.index) ?? []).map((host) => ({ host, status: "skipped", exitCode: null, durationMs: 0, attempts: 0 }));
    const outcome = await finishRecord("refused", EXIT.DENIED);
    const why = rejected.length
      ? `the policy rejects step ${rejected[0].step + 1} (${rejected[0].name}) on ${rejected[0].host} (${rejected[0].rule}: ${rejected[0].reason})`
      : `${asks.length} step action(s) need approval or confirmation and there is no terminal to ask on${input.cron ? " (--cron)" : ""}`;
    throw Object.assign(
      new OpstermError("E_WORKFLOW_REFUSED", `Workflow "${wf.name}" refused before step 1: ${why}; nothing was run`, {
        exitCode: EXIT.DENIED,
        hint: rejected.length ? "A rejected step never runs, --yes or not; change the step or your policy rules" : "Run it from a terminal, or pass --yes to approve its steps in advance",
      }),
      { outcome },
    );
  }

  // The "running" record (what a crashed run leaves behind) is written while step 1 starts: off the
  // critical path, and awaited before the final record so the two stay in order.
  const startRecord = saveRecord(structuredClone(record));

  // ---- The steps.
  let failed = false;
  let stopped = false;
  let refused = false;
  let ioFailure = false;
  const dropped = new Set<string>();
  const cleanup = new AbortController();
  const interrupted = () => ctx.signal.aborted;

  for (const st of wf.steps) {
    const stepRecord = record.steps[st.index];
    const all = hostsOf.get(st.index)!;
    const skipAll = (status: HostStatus, hosts = all) => {
      for (const host of hosts) if (!stepRecord.hosts.some((h) => h.host === host)) stepRecord.hosts.push({ host, status, exitCode: null, durationMs: 0, attempts: 0 });
    };
    const cleanupStep = st.always;
    if ((stopped || interrupted()) && !cleanupStep) {
      skipAll(interrupted() ? "interrupted" : "skipped");
      continue;
    }
    let hosts = plannedHosts(st);
    if (!cleanupStep) {
      const gone = hosts.filter((h) => dropped.has(h));
      skipAll("dropped", gone);
      hosts = hosts.filter((h) => !dropped.has(h));
    }
    if (st.when && dependsOnRun(st.when) && !evaluateWhen(st.when, { ...baseScope, "run.failed": String(failed || refused || interrupted()) })) hosts = [];
    if (hosts.length === 0) {
      skipAll("skipped");
      continue;
    }
    const signal = cleanupStep && interrupted() ? cleanup.signal : ctx.signal;
    say(`${s.bold(`[${st.index + 1}/${wf.steps.length}]`)} ${st.name}${hosts[0] === LOCAL ? "" : s.dim(` → ${hosts.join(", ")}`)}`);

    // confirm: asked once for the step (a `confirm:` step, or `confirm: true` on an action).
    let confirmedBy: string | undefined;
    const question = st.confirm ?? (st.action.type === "confirm" ? st.action.message : undefined);
    if (question !== undefined) {
      const text = render(question, { ...baseScope, "run.failed": String(failed) }, false);
      let approver: string | undefined;
      if (input.yes) approver = "flag:--yes";
      else {
        try {
          if (ctx.prompt.interactive && !input.cron && (await ctx.prompt.confirm(`${text}`, { default: false, what: `Step ${st.index + 1}` }))) approver = `tty:${user}`;
        } catch {
          approver = undefined;
        }
      }
      await audit?.append(event({ server: hosts[0] === LOCAL ? LOCAL : hosts.join(","), decision: "approval-required", rule: "workflow.confirm", approver: approver ?? "refused:user", args: { command: text, kind: "confirm", workflow: wf.name, step: st.index + 1 } })).catch(() => undefined);
      if (!approver) {
        say(`  ${s.yellow("not confirmed")}: the workflow stops here`);
        refused = true;
        stopped = true;
        for (const host of hosts) stepRecord.hosts.push({ host, status: "refused", exitCode: null, durationMs: 0, attempts: 0 });
        skipAll("skipped");
        continue;
      }
      confirmedBy = approver;
      if (st.action.type === "confirm") {
        stepRecord.hosts.push({ host: LOCAL, status: "ok", exitCode: 0, durationMs: 0, attempts: 1 });
        continue;
      }
    }

    // Approval: preApproved with --yes (or a confirmed step); one question per step at a terminal.
    let asked: Promise<ApprovalAnswer> | undefined;
    const stepApprover: Approver = {
      approve: ({ verdict }) =>
        (asked ??= (async () => {
          ctx.io.err(`${ctx.io.errStyle.yellow("approval required")} ${ctx.io.errStyle.dim(verdict.rule + ":")} ${verdict.reason}`);
          ctx.io.err(`step ${st.index + 1}: ${st.name}${hosts[0] === LOCAL ? "" : ` (hosts: ${hosts.join(", ")})`}`);
          try {
            const yes = !input.cron && (await ctx.prompt.confirm(hosts.length > 1 ? `Run it on all ${hosts.length} hosts?` : "Run it?", { default: false, what: `Step ${st.index + 1}` }));
            return yes ? { approved: true, approver: `tty:${user}` } : { approved: false, by: "user", message: "Not approved at the prompt" };
          } catch (error) {
            return { approved: false, by: "no-tty", message: (error as Error).message };
          }
        })()),
    };
    const preApproved = input.yes ? "flag:--yes" : confirmedBy;
    const parallel = st.parallel ?? wf.parallel ?? DEFAULT_PARALLEL;
    const stream = !quiet && hosts.length === 1;

    const results = await mapLimit(hosts, parallel, async (host): Promise<HostRecord> => {
      const scope = scopeFor(host, failed);
      const t0 = Date.now();
      let attempts = 0;
      let last: ActionResult | undefined;
      let status: HostStatus = "failed";
      let timedOut = false;
      const runOnce = async (request: ActionRequest, timeoutMs: number): Promise<ActionResult> => {
        const attempt = new AbortController();
        timedOut = false;
        const onAbort = () => attempt.abort(signal.reason);
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
        // File transfers have no deadline of their own: abort them a little after the step's timeout.
        const timer = setTimeout(() => {
          timedOut = true;
          attempt.abort(new Error("timeout"));
        }, timeoutMs + 2000);
        try {
          return await ctx.actions.run(request, {
            preApproved,
            approver: stepApprover,
            signal: attempt.signal,
            io: {
              timeoutMs,
              maxCapture: CAPTURE,
              onStdout: stream ? (c) => void ctx.io.stdout.write(c) : undefined,
              onStderr: stream ? (c) => void ctx.io.stderr.write(c) : undefined,
            },
          });
        } finally {
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
        }
      };
      const a = st.action;
      for (;;) {
        attempts++;
        if (a.type === "wait" && !a.until) {
          await sleep(a.seconds! * 1000, signal);
          status = signal.aborted ? "interrupted" : "ok";
          break;
        }
        const [request] = requestsFor(st, host, scope);
        if (a.type === "wait" && a.until) {
          // Poll until the command succeeds, each poll an action of its own.
          const deadline = Date.now() + a.timeoutMs;
          for (;;) {
            last = await runOnce(request, Math.min(st.timeoutMs, Math.max(1000, deadline - Date.now())));
            if (last.exitCode === 0 || !last.attempted || signal.aborted || Date.now() + a.intervalMs > deadline) break;
            await sleep(a.intervalMs, signal);
          }
        } else last = await runOnce(request, st.timeoutMs);
        status = timedOut && !signal.aborted ? "timeout" : statusOf(last, signal);
        if (status === "ok" || status === "refused" || status === "interrupted" || attempts > st.retries) break;
        const pause = st.backoffMs * 2 ** (attempts - 1);
        say(`  ${s.yellow("retry")} ${attempts}/${st.retries} on ${host} in ${(pause / 1000).toFixed(1)} s (${last.error?.message ?? `exit ${last.exitCode}`})`);
        await sleep(pause, signal);
        if (signal.aborted) {
          status = "interrupted";
          break;
        }
      }
      const code = last ? exitCodeFor(last) : 0;
      if (last && (last.error?.code === "E_AUDIT_WRITE" || last.error?.code === "E_AUDIT_MISSING" || last.auditStatus === "partial" || code === EXIT.IO)) ioFailure = true;
      const rec: HostRecord = { host, status, exitCode: last ? last.exitCode : status === "ok" ? 0 : null, durationMs: Date.now() - t0, attempts, auditSeq: last?.auditSeq };
      if (status !== "ok" && last?.error) rec.error = `${last.error.code}: ${last.error.message}`;
      if (status !== "ok" && !last?.error && last) rec.error = `exit ${last.exitCode}`;
      if (status === "timeout") rec.error = `E_WORKFLOW_TIMEOUT: the step did not finish within ${st.timeoutMs / 1000} s`;
      const mark = status === "ok" ? s.green("ok") : status === "refused" ? s.yellow("refused") : s.red(status);
      say(`  ${mark} ${host}${rec.exitCode !== null && rec.exitCode !== 0 ? ` exit ${rec.exitCode}` : ""} ${s.dim(`(${(rec.durationMs / 1000).toFixed(1)} s${attempts > 1 ? `, ${attempts} attempts` : ""})`)}${rec.error && status !== "ok" ? ` ${rec.error}` : ""}`);
      if (!stream && last) {
        const out = [last.stdout, last.stderr].filter((t): t is string => Boolean(t && t.trim())).join("\n");
        if (out) {
          const prefix = hosts.length > 1 ? `${host}: ` : "";
          const lines = out.replace(/\n$/, "").split("\n");
          for (const line of lines.length > 200 ? [...lines.slice(0, 20), `… ${lines.length - 40} lines …`, ...lines.slice(-20)] : lines) say(`    ${prefix}${line}`);
        }
      }
      return rec;
    });
    stepRecord.hosts.push(...results);
    skipAll("skipped");
    const bad = results.filter((r) => r.status !== "ok");
    if (bad.some((r) => r.status === "refused")) {
      refused = true;
      stopped = true;
    }
    if (bad.length && st.onError === "stop" && !cleanupStep) {
      failed = true;
      for (const r of bad) dropped.add(r.host);
      // Nobody left to go on with: the run stops (a local step, or every host failed).
      if (bad.length === results.length) stopped = true;
    } else if (bad.length && cleanupStep) failed = true;
    if (st.waitAfterMs && !stopped && !interrupted()) await sleep(st.waitAfterMs, ctx.signal);
  }

  const status: RunRecord["status"] = interrupted() ? "interrupted" : refused ? "refused" : failed ? "failed" : "ok";
  const exitCode = ioFailure ? EXIT.IO : status === "interrupted" ? EXIT.INTERRUPTED : status === "refused" ? EXIT.DENIED : status === "failed" ? EXIT.FAILURE : EXIT.OK;
  await startRecord;
  say(`${status === "ok" ? s.green("done") : s.red(status)}: workflow ${wf.name} ${s.dim(`(run ${runId}, ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s)`)}`);
  return finishRecord(status, exitCode);
}

function statusOf(r: ActionResult, signal: AbortSignal): HostStatus {
  if (r.error && REFUSAL.has(r.error.code)) return "refused";
  if (r.error?.code === "E_EXEC_TIMEOUT") return "timeout";
  if (r.error?.code === "E_INTERRUPTED" || signal.aborted) return r.exitCode === 0 ? "ok" : "interrupted";
  return r.attempted && r.completed && r.exitCode === 0 ? "ok" : "failed";
}
