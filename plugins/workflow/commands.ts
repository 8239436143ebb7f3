/**
 * `opsterm run NAME` and `opsterm workflow list|show|validate|runs|log|cron`. The runner, the
 * yaml package and the history store load inside the actions, never for `--help`.
 */
import { defineCommand, EXIT, isOpstermError, UsageError, type CommandContext, type CommandSpec } from "../../src/kernel/index.ts";
import { parseLimit } from "../../src/lib/args.ts";
import type { RunOutcome, PreviewRow } from "./runner.ts";
import type { RunRecord, WorkflowDef } from "./types.ts";

const lazy = {
  load: () => import("./load.ts"),
  runner: () => import("./runner.ts"),
  records: () => import("./records.ts"),
};

// eslint-disable-next-line no-control-regex
const safe = (t: string) => t.replace(/[\x00-\x08\x0b-\x1f\x7f\x9b]/g, (c) => (c === "\x1b" ? "␛" : "?"));

/** Loads a workflow and checks that every server and variable it names exists (78 otherwise). */
async function prepare(ctx: CommandContext, name: string): Promise<WorkflowDef> {
  const { loadWorkflow } = await lazy.load();
  const wf = await loadWorkflow(ctx.paths, name);
  await checkRefs(ctx, wf);
  return wf;
}

async function checkRefs(ctx: CommandContext, wf: WorkflowDef): Promise<void> {
  const { checkReferences } = await lazy.load();
  const specs = [wf.targets, ...wf.steps.map((s) => s.targets)].filter((t): t is string => t !== undefined && !t.includes("{{"));
  const problems = new Map<string, string>();
  if (specs.length) {
    const inventory = ctx.use("inventory");
    for (const spec of new Set(specs)) {
      try {
        await inventory.resolveTargets(spec);
      } catch (error) {
        if (!isOpstermError(error) || error.exitCode !== EXIT.USAGE) throw error;
        problems.set(spec, error.message);
      }
    }
  }
  checkReferences(wf, (spec) => problems.get(spec));
}

const run = defineCommand({
  name: "run",
  description: "Run a workflow (workflows.yaml or workflows/NAME.yaml), every step through the policy gate",
  usage: "<name>",
  options: [
    { flags: "--var <name=value>", description: "Set a workflow variable (repeatable)" },
    { flags: "-y, --yes", description: "Approve approval-required and confirm steps in advance (rejected steps never run)" },
    { flags: "--dry-run", description: "Show every step on every host with the policy decision; run nothing" },
    { flags: "--cron", description: "Unattended: run lock, silent on success, report on stderr on failure, notify pings" },
    { flags: "--resume <run>", description: "Re-run a failed run from its failed step, on the hosts that failed" },
  ],
  examples: ["opsterm run deploy-full", "opsterm run deploy --var version=1.4.2 --dry-run", "opsterm run backup --cron --yes", "opsterm run deploy --resume 3f2a9c1b"],
  async action(args, ctx) {
    const name = String(args.name);
    const { parseVarFlags, resolveVars } = await lazy.load();
    const given = parseVarFlags(args.var);
    const cron = Boolean(args.cron);
    const dryRun = Boolean(args.dryRun);
    let notifyUrl: string | undefined;
    let release: (() => void) | undefined;
    const report: string[] = [];
    const configNotify = async () => {
      const v = (await ctx.config()).get("workflow.notify");
      return typeof v === "string" && v ? v : undefined;
    };
    let exitCode: number = EXIT.OK;
    let failure: unknown;
    let outcome: RunOutcome | undefined;
    try {
      const wf = await prepare(ctx, name);
      notifyUrl = wf.notify ?? (await configNotify());
      let resume: RunRecord | undefined;
      if (args.resume !== undefined) {
        resume = await (await lazy.records()).getRun(ctx, String(args.resume));
        if (resume.workflow !== name) throw new UsageError(`Run ${resume.runId} is a run of "${resume.workflow}", not "${name}"`, { code: "E_WORKFLOW_RESUME" });
        if (resume.status === "ok") throw new UsageError(`Run ${resume.runId} succeeded: there is nothing to resume`, { code: "E_WORKFLOW_RESUME" });
        if (resume.steps.length !== wf.steps.length) throw new UsageError(`Workflow "${name}" has changed since run ${resume.runId} (${resume.steps.length} steps then, ${wf.steps.length} now)`, { code: "E_WORKFLOW_RESUME", hint: "Run it from the start" });
      }
      const vars = resolveVars(wf, { ...(resume?.vars ?? {}), ...given });
      if (cron && !dryRun) {
        const { acquireRunLock } = await import("./run-lock.ts");
        release = await acquireRunLock(ctx.paths.dataDir, name, ctx.runId);
        if (notifyUrl) await (await import("./notify.ts")).ping(notifyUrl, "start", undefined, (t) => ctx.io.warn(t));
      }
      const { runWorkflow } = await lazy.runner();
      outcome = await runWorkflow(ctx, { wf, vars, yes: Boolean(args.yes), dryRun, cron, json: ctx.json, resume });
      exitCode = outcome.exitCode;
      report.push(...outcome.report);
      if (outcome.preview) printPreview(ctx, wf, outcome.preview, outcome.exitCode);
      else if (ctx.json) ctx.io.out(JSON.stringify(outcome.record));
    } catch (error) {
      failure = error;
      outcome = (error as { outcome?: RunOutcome }).outcome;
      if (outcome) report.push(...outcome.report);
      exitCode = isOpstermError(error) ? error.exitCode : EXIT.FAILURE;
      if (ctx.json && outcome) ctx.io.out(JSON.stringify(outcome.record));
    } finally {
      release?.();
    }
    if (cron && !dryRun) {
      // The report goes to cron's mail and to the monitor: known secrets and token formats are
      // masked first, as in history and the audit log.
      const { createRedactor } = await import("../../src/lib/redact.ts");
      const redactor = createRedactor({ knownSecrets: (await ctx.hooks.call("secretValues").catch(() => undefined)) ?? [] });
      const clean = report.map((line) => redactor.redact(line).text);
      // cronic: nothing on success; on failure the whole report on stderr.
      if (exitCode !== EXIT.OK) {
        for (const line of clean) ctx.io.err(line);
      }
      notifyUrl ??= await configNotify().catch(() => undefined);
      if (notifyUrl && !(isOpstermError(failure) && failure.code === "E_WORKFLOW_LOCKED")) {
        const body = [...clean, failure ? `error: ${redactor.redact((failure as Error).message).text}` : ""].filter(Boolean).join("\n");
        await (await import("./notify.ts")).ping(notifyUrl, exitCode, body, (t) => ctx.io.warn(t));
      }
    }
    if (failure) throw failure;
    return exitCode;
  },
});

function printPreview(ctx: CommandContext, wf: WorkflowDef, rows: PreviewRow[], exitCode: number): void {
  if (ctx.json) {
    ctx.io.out(JSON.stringify({ workflow: wf.name, dryRun: true, refused: exitCode === EXIT.DENIED, steps: rows.map((r) => ({ ...r, step: r.step + 1 })) }));
    return;
  }
  const s = ctx.io.style;
  const hostWidth = Math.min(24, Math.max(4, ...rows.map((r) => r.host.length)));
  // One write: 500 rows (10 steps on 50 hosts) written line by line cost more than computing them.
  const lines = rows.map((r) => {
    const decision = r.decision === "auto-allow" ? s.green(r.decision) : r.decision === "reject" ? s.red(r.decision) : r.decision === "skip" ? s.dim(r.decision) : s.yellow(r.decision);
    return `${String(r.step + 1).padStart(3)}  ${r.host.padEnd(hostWidth)}  ${decision.padEnd(17 + (decision.length - r.decision.length))}  ${s.dim(r.rule)}  ${safe(r.what)}`;
  });
  ctx.io.out(lines.join("\n"));
  const rejected = rows.filter((r) => r.decision === "reject");
  const asks = rows.filter((r) => r.decision === "approval-required" || r.decision === "confirm");
  if (rejected.length) ctx.io.err(`refused: ${rejected.length} step action(s) are rejected by the policy, so the workflow would not start`);
  else if (asks.length) ctx.io.err(`${asks.length} step action(s) ask for approval: run from a terminal, or with --yes`);
}

const list = defineCommand({
  name: "workflow list",
  groupDescription: "Workflows: list, show, validate, past runs, cron lines (opsterm run NAME runs one)",
  description: "List the workflows (global and trusted workspace)",
  async action(_args, ctx) {
    const { loadWorkflows } = await lazy.load();
    const all = [...(await loadWorkflows(ctx.paths)).values()];
    if (ctx.json) {
      ctx.io.out(JSON.stringify({ workflows: all.map((w) => ({ name: w.name, desc: w.desc ?? null, steps: w.steps.length, scope: w.source.scope, path: w.source.path, format: w.source.format })) }));
      return;
    }
    if (all.length === 0) {
      ctx.io.err(`No workflows yet: write ${ctx.paths.configDir}/workflows.yaml or ${ctx.paths.configDir}/workflows/NAME.yaml ("opsterm help workflows")`);
      return;
    }
    const width = Math.max(...all.map((w) => w.name.length));
    for (const w of all) ctx.io.out(`${ctx.io.style.bold(w.name.padEnd(width))}  ${String(w.steps.length).padStart(2)} steps  ${ctx.io.style.dim(w.source.scope)}  ${safe(w.desc ?? "")}`);
  },
});

const show = defineCommand({
  name: "workflow show",
  description: "Show a workflow's steps, variables and targets",
  usage: "<name>",
  async action(args, ctx) {
    const { loadWorkflow, describeAction } = await lazy.load();
    const wf = await loadWorkflow(ctx.paths, String(args.name));
    if (ctx.json) {
      ctx.io.out(JSON.stringify(wf));
      return;
    }
    const s = ctx.io.style;
    ctx.io.out(`${s.bold(wf.name)}${wf.desc ? ` — ${safe(wf.desc)}` : ""}`);
    ctx.io.out(s.dim(`${wf.at} (${wf.source.format === "original" ? "workflows.yaml" : "one file"}, ${wf.source.scope})`));
    for (const [k, v] of Object.entries(wf.vars)) ctx.io.out(`  var ${k}${v.default !== undefined ? ` = ${safe(v.default)}` : " (required)"}${v.desc ? s.dim(`  ${safe(v.desc)}`) : ""}`);
    if (wf.targets) ctx.io.out(`  targets ${wf.targets}`);
    if (wf.notify) ctx.io.out(`  notify ${wf.notify}`);
    for (const st of wf.steps) {
      const flags = [st.targets ? `on ${st.targets}` : "", st.when ? `when ${st.when}` : "", st.retries ? `retries ${st.retries}` : "", st.onError === "continue" ? "on_error continue" : "", st.always ? "always" : "", st.confirm ? "confirm" : "", st.waitAfterMs ? `then wait ${st.waitAfterMs / 1000} s` : ""].filter(Boolean);
      ctx.io.out(`  ${String(st.index + 1).padStart(2)}. ${s.cyan(st.action.type)} ${safe(describeAction(st.action))}${flags.length ? s.dim(`  (${flags.join(", ")})`) : ""}`);
    }
  },
});

const validate = defineCommand({
  name: "workflow validate",
  description: "Check workflow files strictly (file:line:col): 65 for a bad file, 78 for a bad reference",
  usage: "[name]",
  async action(args, ctx) {
    const { loadWorkflows, loadWorkflow } = await lazy.load();
    const all = args.name === undefined ? [...(await loadWorkflows(ctx.paths)).values()] : [await loadWorkflow(ctx.paths, String(args.name))];
    for (const wf of all) await checkRefs(ctx, wf);
    if (ctx.json) ctx.io.out(JSON.stringify({ ok: true, workflows: all.map((w) => ({ name: w.name, steps: w.steps.length, path: w.source.path })) }));
    else ctx.io.out(`${ctx.io.style.green("ok")}: ${all.length} workflow(s) valid${all.length ? ` (${all.map((w) => w.name).join(", ")})` : ""}`);
  },
});

const runs = defineCommand({
  name: "workflow runs",
  description: "List past workflow runs (newest first)",
  usage: "[name]",
  options: [{ flags: "-n, --limit <n>", description: "Show at most n runs", default: 20 }],
  async action(args, ctx) {
    const { listRuns } = await lazy.records();
    const found = await listRuns(ctx, { limit: parseLimit(args.limit), workflow: args.name === undefined ? undefined : String(args.name) });
    if (ctx.json) {
      ctx.io.out(JSON.stringify({ runs: found }));
      return;
    }
    if (found.length === 0) {
      ctx.io.err("No workflow runs yet.");
      return;
    }
    const s = ctx.io.style;
    for (const r of found) {
      const status = r.status === "ok" ? s.green(r.status) : r.status === "running" ? s.yellow(r.status) : s.red(r.status);
      ctx.io.out(`${r.runId}  ${s.dim(r.at.replace("T", " ").slice(0, 19))}  ${r.workflow}  ${status}${r.exitCode !== null ? ` exit ${r.exitCode}` : ""}${r.durationMs !== undefined ? s.dim(` ${(r.durationMs / 1000).toFixed(1)} s`) : ""}${r.cron ? s.dim(" cron") : ""}`);
    }
  },
});

const log = defineCommand({
  name: "workflow log",
  description: "Show one run: every step on every host with status, exit code, attempts and duration",
  usage: "<run>",
  async action(args, ctx) {
    const { getRun } = await lazy.records();
    const r = await getRun(ctx, String(args.run));
    if (ctx.json) {
      ctx.io.out(JSON.stringify(r));
      return;
    }
    const s = ctx.io.style;
    ctx.io.out(`${s.bold(r.workflow)} run ${r.runId}${r.resumedFrom ? s.dim(` (resumes ${r.resumedFrom})`) : ""}`);
    ctx.io.out(`  ${r.status}${r.exitCode !== null ? ` exit ${r.exitCode}` : ""}, started ${r.startedAt}${r.endedAt ? `, ended ${r.endedAt}` : ""}${r.cron ? ", cron" : ""}`);
    for (const [k, v] of Object.entries(r.vars)) ctx.io.out(s.dim(`  var ${k}=${safe(v)}`));
    for (const st of r.steps) {
      ctx.io.out(`  ${String(st.index + 1).padStart(2)}. ${safe(st.name)} ${s.dim(`(${st.kind})`)}`);
      for (const h of st.hosts) {
        const mark = h.status === "ok" ? s.green(h.status) : h.status === "skipped" || h.status === "dropped" ? s.dim(h.status) : s.red(h.status);
        ctx.io.out(`      ${h.host.padEnd(16)} ${mark}${h.exitCode !== null ? ` exit ${h.exitCode}` : ""}${h.attempts > 1 ? ` after ${h.attempts} attempts` : ""} ${s.dim(`${(h.durationMs / 1000).toFixed(1)} s`)}${h.error ? s.dim(`  ${safe(h.error)}`) : ""}`);
      }
    }
  },
});

const cron = defineCommand({
  name: "workflow cron",
  description: "Print the crontab line that runs a workflow unattended (--install adds it to your crontab)",
  usage: "<name> <schedule>",
  options: [{ flags: "--install", description: "Add the line to your crontab (replaces this workflow's earlier line; idempotent)" }],
  examples: ['opsterm workflow cron backup "30 2 * * *"', 'opsterm workflow cron health "*/5 * * * *" --install'],
  async action(args, ctx) {
    const name = String(args.name);
    await prepare(ctx, name);
    const { checkSchedule, cronLine, installLine } = await import("./cron.ts");
    const schedule = checkSchedule(String(args.schedule));
    const { isAbsolute, resolve } = await import("node:path");
    const { isSingleExecutable } = await import("../../src/kernel/runtime.ts");
    const exec = ctx.runtime.execPath;
    // The single binary is the whole program; under a dev runtime it is node plus the entry script.
    const script = process.argv[1];
    const command = isSingleExecutable() || !script ? [exec] : [exec, ...process.execArgv.filter((a) => !a.startsWith("--inspect")), isAbsolute(script) ? script : resolve(script)];
    const env = { ...ctx.env, OPSTERM_HOME: ctx.env.OPSTERM_HOME ? resolve(ctx.runtime.cwd(), ctx.env.OPSTERM_HOME) : undefined };
    const line = cronLine({ name, schedule, command, cwd: ctx.runtime.cwd(), env });
    if (args.install) {
      const changed = installLine(name, line, ctx.env);
      if (ctx.json) ctx.io.out(JSON.stringify({ line, installed: true, changed }));
      else {
        ctx.io.out(line);
        ctx.io.err(changed ? `added to your crontab (crontab -l shows it)` : "already in your crontab: nothing changed");
      }
      return;
    }
    if (ctx.json) ctx.io.out(JSON.stringify({ line, installed: false }));
    else {
      ctx.io.out(line);
      ctx.io.err(`Add it with: opsterm workflow cron ${name} "${schedule}" --install (or crontab -e). Steps that ask need --yes in the line.`);
    }
  },
});

export const workflowCommands: CommandSpec[] = [run, list, show, validate, runs, log, cron];
